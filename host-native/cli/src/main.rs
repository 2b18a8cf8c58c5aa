//! `pq`: the persist-queue command line.
//!
//! `pq bench [COUNT]` runs the benchmark; `pq put|get|len|peek DIR` work on
//! a filesystem queue whose items are JSON values.

mod baseline;
mod bench;
mod bench_server;
mod bench_sqlite;
mod bench_wasi;
mod measure;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use persist_queue::{Durability, Json, Queue, QueueBuilder};
use serde_json::Value;

#[derive(Parser)]
#[command(name = "pq", version, about = "persist-queue: durable queues on disk")]
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

#[derive(Subcommand)]
enum Command {
    /// Benchmark the filesystem queue against this machine's own raw-disk
    /// baselines, measured in the same run.
    Bench(bench::BenchArgs),
    /// Append JSON items to the queue in DIR (created if missing).
    Put {
        /// Queue directory.
        dir: PathBuf,
        /// Items, each a JSON value (a bare word is taken as a string).
        #[arg(required = true)]
        items: Vec<String>,
        /// When the put is durable.
        #[arg(long, value_enum, default_value = "synced")]
        durability: DurabilityArg,
    },
    /// Take the next item (and confirm it), printing it as JSON.
    Get {
        /// Queue directory.
        dir: PathBuf,
        /// Wait up to this many seconds for an item.
        #[arg(long, default_value_t = 0.0)]
        wait: f64,
    },
    /// Print the next item without taking it.
    Peek {
        /// Queue directory.
        dir: PathBuf,
    },
    /// Print how many items wait in the queue.
    Len {
        /// Queue directory.
        dir: PathBuf,
    },
    /// Used by `pq bench`: gets and acks items of a server-backed ack queue
    /// until it is empty.
    #[command(hide = true)]
    ServerConsume {
        /// Server URL.
        url: String,
        /// Queue name.
        name: String,
    },
}

fn open(dir: &PathBuf, durability: Durability) -> Result<Queue<Value, Json>, String> {
    QueueBuilder::new(dir).codec(Json).durability(durability).open().map_err(|e| e.to_string())
}

/// Opens an existing queue only: reading commands never create one.
fn open_existing(dir: &PathBuf, durability: Durability) -> Result<Queue<Value, Json>, String> {
    if !dir.join("meta").is_file() {
        return Err(format!("no queue in {}", dir.display()));
    }
    open(dir, durability)
}

fn parse_item(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn dispatch(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Bench(args) => bench::measure(&args),
        Command::ServerConsume { url, name } => bench_server::consume(&url, &name),
        Command::Put { dir, items, durability } => {
            let q = open(&dir, durability.into())?;
            let values: Vec<Value> = items.iter().map(|t| parse_item(t)).collect();
            q.put_many(&values).map_err(|e| e.to_string())?;
            println!("{}", q.len());
            Ok(())
        }
        Command::Get { dir, wait } => {
            let q = open_existing(&dir, Durability::Synced)?;
            let item = if wait > 0.0 {
                q.get_timeout(std::time::Duration::from_secs_f64(wait))
            } else {
                q.try_get()
            };
            match item {
                Ok(v) => {
                    q.task_done().map_err(|e| e.to_string())?;
                    println!("{v}");
                    Ok(())
                }
                Err(persist_queue::Error::Empty) => Err("queue is empty".into()),
                Err(e) => Err(e.to_string()),
            }
        }
        Command::Peek { dir } => {
            let q = open_existing(&dir, Durability::Buffered)?;
            match q.peek().map_err(|e| e.to_string())? {
                Some(v) => {
                    println!("{v}");
                    Ok(())
                }
                None => Err("queue is empty".into()),
            }
        }
        Command::Len { dir } => {
            let q = open_existing(&dir, Durability::Buffered)?;
            println!("{}", q.len());
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match dispatch(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pq: {e}");
            ExitCode::FAILURE
        }
    }
}
