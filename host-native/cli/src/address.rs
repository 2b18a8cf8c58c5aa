//! One address for every backend: a directory (the file `Queue`, or
//! plain-files record queues in its subdirectories), an SQLite file, or a
//! `postgresql://` / `mysql://` URL; `--kind` and `--name` pick a queue
//! where the place holds several.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use persist_queue::{AnyQueue, Durability, QueueKind, RecordBuilder, StoredQueue};

/// What a command works on: where, and which queue there.
#[derive(Args, Clone, Debug)]
pub(crate) struct At {
    /// A directory, an SQLite file (`*.db`, `*.sqlite`, `*.sqlite3`, or any
    /// existing file), or a `postgresql://` / `mysql://` URL.
    pub(crate) location: String,
    /// The queue's name, where the location holds several.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The queue's kind, where the location holds several (or to create).
    #[arg(long, value_enum)]
    pub(crate) kind: Option<KindArg>,
}

/// A queue kind on the command line: the file `Queue`, or a record kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum KindArg {
    /// The chunk FIFO `Queue` (a directory of its own).
    File,
    /// `FifoQueue`.
    Fifo,
    /// `FiloQueue`.
    Filo,
    /// `PriorityQueue`.
    Priority,
    /// `UniqueQueue`.
    Unique,
    /// `AckQueue`.
    Ack,
    /// `AckQueue`, newest first.
    AckFilo,
    /// `AckQueue`, unique items.
    AckUnique,
}

impl KindArg {
    /// The record kind (`None`: the file `Queue`).
    pub(crate) fn record_kind(self) -> Option<QueueKind> {
        match self {
            KindArg::File => None,
            KindArg::Fifo => Some(QueueKind::Fifo),
            KindArg::Filo => Some(QueueKind::Filo),
            KindArg::Priority => Some(QueueKind::Priority),
            KindArg::Unique => Some(QueueKind::Unique),
            KindArg::Ack => Some(QueueKind::Ack),
            KindArg::AckFilo => Some(QueueKind::AckFilo),
            KindArg::AckUnique => Some(QueueKind::AckUnique),
        }
    }

    /// The command line's name for a record kind.
    pub(crate) fn of(kind: QueueKind) -> KindArg {
        match kind {
            QueueKind::Fifo => KindArg::Fifo,
            QueueKind::Filo => KindArg::Filo,
            QueueKind::Priority => KindArg::Priority,
            QueueKind::Unique => KindArg::Unique,
            QueueKind::Ack => KindArg::Ack,
            QueueKind::AckFilo => KindArg::AckFilo,
            QueueKind::AckUnique => KindArg::AckUnique,
        }
    }

    /// Its name on the command line.
    pub(crate) fn label(self) -> &'static str {
        self.record_kind().map_or("file", QueueKind::label)
    }

    /// Whether items are settled one by one (`ack`, `nack`).
    pub(crate) fn acks(self) -> bool {
        self.record_kind().is_some_and(|k| k.kind().keep_done)
    }
}

/// The kinds of place an address names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// A directory: a file `Queue` (its `meta` file at the top) and
    /// plain-files record queues (one subdirectory each).
    Dir(PathBuf),
    /// An SQLite database file.
    Sqlite(PathBuf),
    /// A database server URL.
    Server(String),
}

impl Place {
    /// Reads an address: a URL by its scheme, an existing file or a path
    /// ending in `.db`, `.sqlite` or `.sqlite3` as SQLite, else a directory.
    pub(crate) fn parse(text: &str) -> Place {
        if text.contains("://") {
            return Place::Server(text.to_string());
        }
        let path = PathBuf::from(text);
        let sqlite_name =
            matches!(path.extension().and_then(|e| e.to_str()), Some("db" | "sqlite" | "sqlite3"));
        if path.is_file() || (!path.exists() && sqlite_name) { Place::Sqlite(path) } else { Place::Dir(path) }
    }

    /// The kind a new queue gets here when `--kind` is not given.
    fn default_kind(&self) -> KindArg {
        match self {
            Place::Dir(_) => KindArg::File,
            Place::Sqlite(_) | Place::Server(_) => KindArg::Ack,
        }
    }

    /// The queues the place holds (none if it does not exist). Changes
    /// nothing.
    pub(crate) fn queues(&self) -> Result<Vec<Listed>, String> {
        let listed = |found: Vec<StoredQueue>| {
            found.into_iter().map(|q| Listed { kind: KindArg::of(q.kind), name: q.name }).collect::<Vec<_>>()
        };
        match self {
            Place::Dir(dir) => {
                let mut out = Vec::new();
                if dir.join("meta").is_file() {
                    out.push(Listed { kind: KindArg::File, name: "default".into() });
                }
                if dir.is_dir() {
                    out.extend(listed(persist_queue::queues_in_dir(dir).map_err(|e| e.to_string())?));
                }
                Ok(out)
            }
            Place::Sqlite(file) if !file.exists() => Ok(Vec::new()),
            Place::Sqlite(file) => {
                Ok(listed(persist_queue::queues_in_sqlite(file).map_err(|e| e.to_string())?))
            }
            Place::Server(url) => {
                Ok(listed(persist_queue::queues_on_server(url.as_str()).map_err(|e| e.to_string())?))
            }
        }
    }

    /// The builder of the record queue `kind` / `name` here. It never
    /// resumes in-flight items: a tool must not take items live consumers
    /// hold.
    pub(crate) fn records(
        &self,
        kind: QueueKind,
        name: &str,
        durability: Durability,
    ) -> RecordBuilder<AnyQueue> {
        let builder = match self {
            Place::Dir(dir) => RecordBuilder::<AnyQueue>::files(dir),
            Place::Sqlite(file) => {
                let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                RecordBuilder::<AnyQueue>::sqlite(dir).db_file_name(name)
            }
            Place::Server(url) => RecordBuilder::<AnyQueue>::server(url.as_str()),
        };
        builder.kind(kind).name(name).durability(durability).auto_resume(false)
    }

    /// The directory of the file `Queue` here, if the place is a directory.
    pub(crate) fn dir(&self) -> Option<&Path> {
        match self {
            Place::Dir(d) => Some(d),
            _ => None,
        }
    }
}

/// A queue a place holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Listed {
    /// Its kind.
    pub(crate) kind: KindArg,
    /// Its name.
    pub(crate) name: String,
}

impl At {
    /// The place and the one queue the address names there. With `create`,
    /// a queue not found is the one to create (`--kind`, or the place's
    /// default kind; `--name`, or `default`); without, it is an error.
    pub(crate) fn select(&self, create: bool) -> Result<(Place, Listed), String> {
        let place = Place::parse(&self.location);
        let found = place.queues()?;
        let name = self.name.as_ref().map(|n| n.to_ascii_lowercase());
        let matching: Vec<&Listed> = found
            .iter()
            .filter(|q| self.kind.is_none_or(|k| k == q.kind) && name.as_ref().is_none_or(|n| *n == q.name))
            .collect();
        match matching.as_slice() {
            [one] => Ok((place.clone(), (*one).clone())),
            [] if create => {
                let kind = self.kind.unwrap_or_else(|| place.default_kind());
                if kind == KindArg::File && place.dir().is_none() {
                    return Err(format!("{}: a file Queue lives in a directory", self.location));
                }
                let listed = Listed { kind, name: self.name.clone().unwrap_or_else(|| "default".into()) };
                Ok((place, listed))
            }
            [] => Err(format!(
                "no queue{} in {} (`pq ls {}` lists what it holds)",
                self.described(),
                self.location,
                self.location
            )),
            several => Err(format!(
                "{} holds several queues{}: {}; pick one with --kind and --name",
                self.location,
                self.described(),
                several
                    .iter()
                    .map(|q| format!("{} {}", q.kind.label(), q.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    fn described(&self) -> String {
        let mut s = String::new();
        if let Some(k) = self.kind {
            s.push_str(&format!(" of kind {}", k.label()));
        }
        if let Some(n) = &self.name {
            s.push_str(&format!(" named {n}"));
        }
        s
    }
}
