//! `pq`: the persist-queue command line, the operator's tool.
//!
//! One address for every backend (a directory, an SQLite file, a
//! `postgresql://` or `mysql://` URL; `--kind` / `--name` where a place
//! holds several queues): `ls`, `stat`, `peek`, `list`, `dump` to see
//! inside (`--json` on each), `put` / `get` / `ack` / `nack` on every kind,
//! `compact`, `clear-acked`, `purge` to maintain, `copy` between any two
//! backends, `verify` and `repair`, and `bench`. Exit codes: 0 done, 1
//! error, 2 bad usage, 3 the queue had nothing to give (`get`, `peek`),
//! 4 `verify` found damage.

mod address;
mod baseline;
mod bench;
mod bench_depth;
mod bench_lease;
#[cfg(feature = "servers")]
mod bench_server;
mod bench_sqlite;
#[cfg(feature = "wasi")]
mod bench_wasi;
mod chart;
mod checkup;
mod compare;
mod dead;
mod import;
mod inspect;
mod item;
mod maintenance;
mod measure;
mod opened;
mod progress;
mod report;
mod transfer;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use persist_queue::Durability;

use crate::address::{At, KindArg};
use crate::inspect::StatusArg;
use crate::item::CodecArg;
use crate::opened::Opened;
use crate::transfer::Settle;

#[derive(Parser)]
#[command(name = "pq", version, about = "persist-queue: see inside, fix and move durable queues")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum DurabilityArg {
    Buffered,
    Synced,
}

impl From<DurabilityArg> for Durability {
    fn from(d: DurabilityArg) -> Durability {
        match d {
            DurabilityArg::Buffered => Durability::Buffered,
            DurabilityArg::Synced => Durability::Synced,
        }
    }
}

/// How `dump` writes.
#[derive(Clone, Copy, ValueEnum)]
enum DumpFormat {
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Ndjson,
}

#[derive(Subcommand)]
enum Command {
    /// Benchmark the queues against this machine's own raw baselines,
    /// measured in the same run.
    Bench(bench::BenchArgs),
    /// List the queues a location holds, with their counts.
    Ls {
        /// A directory, an SQLite file, or a server URL.
        location: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Kind, counts by status, item ages, bytes on disk, format.
    Stat {
        #[command(flatten)]
        at: At,
        /// The serializer of a record queue's items (default json).
        #[arg(long, value_enum)]
        codec: Option<CodecArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the next items without taking them.
    Peek {
        #[command(flatten)]
        at: At,
        /// How many.
        #[arg(short = 'n', long, default_value_t = 1)]
        count: usize,
        /// The serializer of a record queue's items (default json).
        #[arg(long, value_enum)]
        codec: Option<CodecArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List stored items (every status, or one) without changing them.
    List {
        #[command(flatten)]
        at: At,
        /// Only items of this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// The serializer of a record queue's items (default json).
        #[arg(long, value_enum)]
        codec: Option<CodecArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write every stored item, with its id, status and priority.
    Dump {
        #[command(flatten)]
        at: At,
        /// One JSON array, or one object per line.
        #[arg(long, value_enum, default_value = "ndjson")]
        format: DumpFormat,
        /// The serializer of a record queue's items (default json).
        #[arg(long, value_enum)]
        codec: Option<CodecArg>,
    },
    /// Put items (JSON values; none given or `-`: one per line of stdin).
    Put {
        #[command(flatten)]
        at: At,
        /// Items, each a JSON value (a bare word is a string).
        items: Vec<String>,
        /// Store each item as a string, JSON or not.
        #[arg(long)]
        text: bool,
        /// The priority (priority queues: lower first).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        priority: i64,
        /// When the put is durable.
        #[arg(long, value_enum, default_value = "synced")]
        durability: DurabilityArg,
        /// The serializer (a new queue's; a record queue's items).
        #[arg(long, value_enum)]
        codec: Option<CodecArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Take items: the file Queue confirms them, an ack queue holds them
    /// in flight for `ack` / `nack`, other record queues delete them.
    Get {
        #[command(flatten)]
        at: At,
        /// How many.
        #[arg(short = 'n', long, default_value_t = 1)]
        count: u32,
        /// Wait up to this many seconds for an item.
        #[arg(long, default_value_t = 0.0)]
        wait: f64,
        /// The serializer of a record queue's items (default json).
        #[arg(long, value_enum)]
        codec: Option<CodecArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Mark in-flight items of an ack queue done (or failed, `--failed`).
    Ack {
        #[command(flatten)]
        at: At,
        /// Their ids.
        #[arg(required = true)]
        ids: Vec<u64>,
        /// Failed for good instead: never delivered again.
        #[arg(long)]
        failed: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give in-flight items of an ack queue back: ready again.
    Nack {
        #[command(flatten)]
        at: At,
        /// Their ids.
        #[arg(required = true)]
        ids: Vec<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print how many items wait in the queue.
    Len {
        #[command(flatten)]
        at: At,
    },
    /// Walk every record and checksum; report each problem with its file
    /// and offset (exit code 4 when anything is damaged).
    Verify {
        #[command(flatten)]
        at: At,
        /// Also decode every item of a record queue with this serializer
        /// (SQLite and servers keep no checksum of an item's bytes).
        #[arg(long, value_enum)]
        codec: Option<CodecArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move what cannot be read aside (into `corrupted/`, never deleted)
    /// and leave a queue that opens and delivers every readable item in
    /// order. A dry run unless `--apply`.
    Repair {
        #[command(flatten)]
        at: At,
        /// Change the queue (default: only say what would be done).
        #[arg(long)]
        apply: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Give unused space back to the filesystem, online.
    Compact {
        #[command(flatten)]
        at: At,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete acked items, newest first, keeping the newest N.
    ClearAcked {
        #[command(flatten)]
        at: At,
        /// Acked items to keep.
        #[arg(long, default_value_t = 0)]
        keep_latest: u64,
        /// Failed items too.
        #[arg(long)]
        failed: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete every item, in flight and done ones included.
    Purge {
        #[command(flatten)]
        at: At,
        /// Yes, delete them.
        #[arg(long, required = true)]
        yes: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A record queue's dead letters: items failed for good, or out of
    /// attempts.
    Dead {
        #[command(subcommand)]
        action: DeadAction,
    },
    /// Copy every item to another queue on any backend, in id order, with
    /// priorities and ack states; the source is not changed.
    Copy {
        #[command(flatten)]
        src: At,
        /// Where to: a directory, an SQLite file, or a server URL.
        dst: String,
        /// The destination queue's name (default: the source's).
        #[arg(long)]
        to_name: Option<String>,
        /// The destination queue's kind (default: the source's).
        #[arg(long, value_enum)]
        to_kind: Option<KindArg>,
        /// The serializer of the source's items (record queues; default json).
        #[arg(long, value_enum)]
        codec: Option<CodecArg>,
        /// Add to a destination that already holds items.
        #[arg(long)]
        append: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import a queue written by Python's persist-queue 1.x (a file `Queue`
    /// directory, or an SQLite database of any of its kinds) into any
    /// backend: same items, same order, priorities and ack states.
    ImportPersistQueue {
        /// The persist-queue directory (file `Queue`, or holding `data.db`)
        /// or SQLite file.
        path: std::path::PathBuf,
        /// Where to: every queue keeps its kind and name (`--kind` /
        /// `--name` import only those).
        #[command(flatten)]
        dst: At,
        /// Its serializer (default: found from the bytes).
        #[arg(long, value_enum, default_value = "auto")]
        serializer: import::Serializer,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Used by `pq bench`: opens the `AckQueue::files` in DIR (buffered),
    /// gets and acks up to 10,000 items, puts them back, and prints its reopen
    /// time, memory per item and get + ack rate.
    #[command(hide = true)]
    FilesDepth {
        /// The queue directory.
        dir: std::path::PathBuf,
    },
    /// Used by `pq bench`: gets and acks items of a server-backed ack queue
    /// until it is empty.
    #[cfg(feature = "servers")]
    #[command(hide = true)]
    ServerConsume {
        /// Server URL.
        url: String,
        /// Queue name.
        name: String,
    },
}

#[derive(Subcommand)]
enum DeadAction {
    /// List them (exit code 3: none).
    List {
        #[command(flatten)]
        at: At,
        /// The serializer of the items (default json).
        #[arg(long, value_enum)]
        codec: Option<CodecArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put them back in the queue, ready, their attempts from 0 (no ids:
    /// every one).
    Requeue {
        #[command(flatten)]
        at: At,
        /// Their ids (none: all).
        ids: Vec<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete every dead letter.
    Purge {
        #[command(flatten)]
        at: At,
        /// Yes, delete them.
        #[arg(long, required = true)]
        yes: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// How a command ended well.
enum Outcome {
    /// It did what it was asked.
    Done,
    /// The queue had nothing to give (`get`, `peek`): exit code 3.
    Empty,
    /// `verify` found damage: exit code 4.
    Damaged,
}

impl From<()> for Outcome {
    fn from((): ()) -> Outcome {
        Outcome::Done
    }
}

/// `Empty` when nothing was given.
fn given(any: bool) -> Outcome {
    if any { Outcome::Done } else { Outcome::Empty }
}

/// Opens an existing queue for reading.
fn existing(at: &At, codec: Option<CodecArg>) -> Result<Opened, String> {
    Opened::open(at, codec, Durability::Synced, false)
}

fn dispatch(cli: Cli) -> Result<Outcome, String> {
    let done = match cli.command {
        Command::Bench(args) => bench::measure(&args),
        #[cfg(feature = "servers")]
        Command::ServerConsume { url, name } => bench_server::consume(&url, &name),
        Command::FilesDepth { dir } => bench_depth::measure(&dir),
        Command::Ls { location, json } => inspect::ls(&location, json),
        Command::Stat { at, codec, json } => inspect::stat(&at, &existing(&at, codec)?, json),
        Command::Peek { at, count, codec, json } => {
            let q = existing(&at, codec)?;
            let items = inspect::listing(&q, Some(StatusArg::Ready), count.max(1))?;
            inspect::print_items(&q, &items, json);
            return Ok(given(!items.is_empty()));
        }
        Command::List { at, status, codec, json } => {
            let q = existing(&at, codec)?;
            inspect::print_listing(&q, &inspect::listing(&q, status, 0)?, json);
            Ok(())
        }
        Command::Dump { at, format, codec } => {
            let q = existing(&at, codec)?;
            let items = inspect::listing(&q, None, 0)?;
            match format {
                DumpFormat::Json => inspect::print_listing(&q, &items, true),
                DumpFormat::Ndjson => {
                    for l in &items {
                        println!("{}", l.json(&q));
                    }
                }
            }
            Ok(())
        }
        Command::Put { at, items, text, priority, durability, codec, json } => {
            // Read and check every item before opening (or creating) anything.
            let values = transfer::values(&items, text)?;
            let q = Opened::open(&at, codec, durability.into(), true)?;
            transfer::put(&q, values, priority, json)
        }
        Command::Get { at, count, wait, codec, json } => {
            return transfer::get(&existing(&at, codec)?, count.max(1), wait, json).map(given);
        }
        Command::Ack { at, ids, failed, json } => {
            let how = if failed { Settle::Fail } else { Settle::Ack };
            transfer::settle(&existing(&at, None)?, &ids, how, json)
        }
        Command::Nack { at, ids, json } => transfer::settle(&existing(&at, None)?, &ids, Settle::Nack, json),
        Command::Len { at } => {
            println!("{}", inspect::counts(&existing(&at, None)?)?[0]);
            Ok(())
        }
        Command::Verify { at, codec, json } => {
            return Ok(if checkup::verify(&at, codec, json)? { Outcome::Done } else { Outcome::Damaged });
        }
        Command::Repair { at, apply, json } => checkup::repair(&at, apply, json),
        Command::Compact { at, json } => maintenance::compact(&existing(&at, None)?, json),
        Command::ClearAcked { at, keep_latest, failed, json } => {
            maintenance::clear_acked(&existing(&at, None)?, keep_latest, failed, json)
        }
        Command::Purge { at, yes: _, json } => maintenance::purge(&existing(&at, None)?, json),
        Command::Dead { action } => match action {
            DeadAction::List { at, codec, json } => {
                return dead::list(&existing(&at, codec)?, json).map(given);
            }
            DeadAction::Requeue { at, ids, json } => dead::requeue(&existing(&at, None)?, &ids, json),
            DeadAction::Purge { at, yes: _, json } => dead::purge(&existing(&at, None)?, json),
        },
        Command::ImportPersistQueue { path, dst, serializer, json } => {
            import::import(&path, &dst, serializer, json)
        }
        Command::Copy { src, dst, to_name, to_kind, codec, append, json } => {
            let dst = At { location: dst, name: to_name, kind: to_kind };
            transfer::copy(&src, &dst, codec, append, json)
        }
    };
    done.map(Outcome::from)
}

fn main() -> ExitCode {
    match dispatch(Cli::parse()) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Empty) => {
            eprintln!("pq: queue is empty");
            ExitCode::from(3)
        }
        Ok(Outcome::Damaged) => ExitCode::from(4),
        Err(e) => {
            eprintln!("pq: {e}");
            ExitCode::FAILURE
        }
    }
}
