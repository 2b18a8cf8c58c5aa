//! `pq import-persist-queue`: reads a queue written by Python's
//! persist-queue 1.x (a file `Queue` directory, or an SQLite database with
//! queues of any of its kinds; pickle, JSON, MessagePack or CBOR items) and
//! writes an equivalent queue on any backend: same items in the same
//! order, priorities and ack states kept.
//!
//! The formats read here are persist-queue's (documented in its source and
//! in `shared/reference/persist-queue-spec.md` §2), not ours: `info` plus
//! `qNNNNN` chunk files of serializer records, and tables `<prefix>_<name>`
//! with columns `_id`, `data`, `timestamp` (+ `priority`, `status`).

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use persist_queue::{Durability, QueueKind, Status};
use serde_json::{Value, json};

use crate::address::{At, KindArg, Place};
use crate::item::hex;
use crate::opened::Opened;
use crate::transfer::{Row, write_rows};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// persist-queue's serializers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Serializer {
    /// Found from the bytes (pickle's protocol byte, else JSON, MessagePack, CBOR).
    Auto,
    /// `persistqueue.serializers.pickle` (the default; protocol 4).
    Pickle,
    /// `persistqueue.serializers.json`.
    Json,
    /// `persistqueue.serializers.msgpack`.
    Msgpack,
    /// `persistqueue.serializers.cbor2`.
    Cbor,
}

impl Serializer {
    /// The serializer of `sample` (a record or the `info` file), when auto.
    fn resolve(self, sample: &[u8]) -> Serializer {
        if self != Serializer::Auto {
            return self;
        }
        let body = strip_len(sample);
        if sample.first() == Some(&0x80) {
            Serializer::Pickle
        } else if serde_json::from_slice::<serde::de::IgnoredAny>(sample.trim_ascii_end()).is_ok() {
            Serializer::Json
        } else if whole_msgpack(body) {
            Serializer::Msgpack
        } else {
            Serializer::Cbor
        }
    }

    fn name(self) -> &'static str {
        match self {
            Serializer::Auto => "auto",
            Serializer::Pickle => "pickle",
            Serializer::Json => "json",
            Serializer::Msgpack => "msgpack",
            Serializer::Cbor => "cbor",
        }
    }

    /// One record (an SQL `data` blob: no length prefix) as JSON.
    fn decode(self, bytes: &[u8]) -> Result<Value, String> {
        match self {
            Serializer::Pickle => {
                let v = serde_pickle::value_from_slice(bytes, serde_pickle::DeOptions::new())
                    .map_err(|e| format!("pickle: {e} (only plain data converts: objects stay Python's)"))?;
                pickle_json(v)
            }
            Serializer::Json => serde_json::from_slice(bytes).map_err(|e| format!("json: {e}")),
            Serializer::Msgpack => rmp_serde::from_slice(bytes).map_err(|e| format!("msgpack: {e}")),
            Serializer::Cbor => ciborium::from_reader(bytes).map_err(|e| format!("cbor: {e}")),
            Serializer::Auto => self.resolve(bytes).decode(bytes),
        }
    }

    /// The length of the record at the start of `data` in a file `Queue`'s
    /// chunk (its stream framing), and its payload.
    fn framed(self, data: &[u8]) -> Result<(usize, std::ops::Range<usize>), String> {
        match self {
            Serializer::Json => {
                let end = data.iter().position(|&b| b == b'\n').ok_or("a JSON record without its newline")?;
                Ok((end + 1, 0..end))
            }
            Serializer::Msgpack | Serializer::Cbor => {
                let len = data.get(..4).ok_or("a record cut inside its length")?;
                let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
                if data.len() < 4 + len {
                    return Err("a record cut short".into());
                }
                Ok((4 + len, 4..4 + len))
            }
            Serializer::Pickle => {
                let len = pickle_len(data).ok_or("a pickle whose frames do not end in STOP")?;
                Ok((len, 0..len))
            }
            Serializer::Auto => self.resolve(data).framed(data),
        }
    }
}

/// A MessagePack / CBOR file record without its 4-byte length (for
/// telling serializers apart).
fn strip_len(sample: &[u8]) -> &[u8] {
    match sample.get(..4) {
        Some(l) if u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize + 4 == sample.len() => &sample[4..],
        _ => sample,
    }
}

/// Whether `bytes` are one MessagePack value, wholly.
fn whole_msgpack(bytes: &[u8]) -> bool {
    use serde::Deserialize;
    let mut cursor = std::io::Cursor::new(bytes);
    let mut de = rmp_serde::Deserializer::new(&mut cursor);
    serde::de::IgnoredAny::deserialize(&mut de).is_ok() && cursor.position() == bytes.len() as u64
}

/// The length of one protocol-4/5 pickle at the start of `data`: its
/// `PROTO` opcode, then `FRAME`s (opcode 0x95, an 8-byte length) until one
/// ends with `STOP` (`.`), as Python's pickler frames every dump of 4
/// bytes or more; a smaller one is unframed, and ends at the first `STOP`
/// after which its bytes decode.
fn pickle_len(data: &[u8]) -> Option<usize> {
    if data.first() != Some(&0x80) || !matches!(data.get(1), Some(4 | 5)) {
        return None;
    }
    if data.get(2) != Some(&0x95) {
        return (3..data.len().min(16))
            .find(|&i| {
                data[i] == b'.'
                    && serde_pickle::value_from_slice(&data[..=i], serde_pickle::DeOptions::new()).is_ok()
            })
            .map(|i| i + 1);
    }
    let mut at = 2usize;
    while data.get(at) == Some(&0x95) {
        let len = u64::from_le_bytes(data.get(at + 1..at + 9)?.try_into().ok()?);
        at = at.checked_add(9)?.checked_add(usize::try_from(len).ok()?)?;
        if at > data.len() {
            return None;
        }
        if data[at - 1] == b'.' {
            return Some(at);
        }
    }
    None
}

/// A pickled value as JSON: tuples and sets become arrays, bytes arrays of
/// numbers, dict keys that are not strings their JSON text.
fn pickle_json(v: serde_pickle::Value) -> Result<Value, String> {
    use serde_pickle::Value as P;
    Ok(match v {
        P::None => Value::Null,
        P::Bool(b) => json!(b),
        P::I64(i) => json!(i),
        P::Int(big) => {
            let text = big.to_string();
            serde_json::from_str(&text).map_err(|_| format!("an integer JSON cannot hold: {text}"))?
        }
        P::F64(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or(format!("a float JSON cannot hold: {f}"))?,
        P::Bytes(b) => json!(b),
        P::String(s) => json!(s),
        P::List(items) | P::Tuple(items) => {
            Value::Array(items.into_iter().map(pickle_json).collect::<Result<_, _>>()?)
        }
        P::Set(items) | P::FrozenSet(items) => {
            Value::Array(items.into_iter().map(|h| pickle_json(h.into_value())).collect::<Result<_, _>>()?)
        }
        P::Dict(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match pickle_json(k.into_value())? {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                out.insert(key, pickle_json(v)?);
            }
            Value::Object(out)
        }
    })
}

/// An item that is not plain data: why, and its bytes.
type Rejected = (String, Vec<u8>);

/// One queue found in the source.
struct Source {
    kind: KindArg,
    name: String,
    /// Per item in id order: its source id, and its row or why it is not
    /// plain data (with its bytes).
    items: Vec<(u64, Result<Row, Rejected>)>,
    serializer: Serializer,
}

/// The `info` file's fields of a persist-queue file `Queue`.
fn file_info(dir: &Path, ser: Serializer) -> Result<(Serializer, [u64; 3], [u64; 3], u64), String> {
    let bytes =
        std::fs::read(dir.join("info")).map_err(|e| format!("{}: {e}", dir.join("info").display()))?;
    let ser = ser.resolve(&bytes);
    let record = match ser {
        Serializer::Json => bytes.trim_ascii_end().to_vec(),
        _ => {
            let (_, payload) = ser.framed(&bytes).unwrap_or((bytes.len(), 0..bytes.len()));
            bytes[payload].to_vec()
        }
    };
    let info = ser.decode(&record)?;
    let triple = |k: &str| -> Result<[u64; 3], String> {
        let a = info[k].as_array().ok_or(format!("info has no {k}"))?;
        let n = |i: usize| a.get(i).and_then(Value::as_u64).ok_or(format!("info {k} is not three numbers"));
        Ok([n(0)?, n(1)?, n(2)?])
    };
    Ok((ser, triple("tail")?, triple("head")?, info["size"].as_u64().ok_or("info has no size")?))
}

/// The waiting items of a persist-queue file `Queue` in `dir`: from the
/// saved read position (`tail`) to the write position (`head`), `size` of
/// them. Bytes past `head` were never recorded (persist-queue cuts them).
fn read_file_queue(dir: &Path, ser: Serializer) -> Result<Source, String> {
    let (ser, tail, head, size) = file_info(dir, ser)?;
    let mut items = Vec::new();
    let (mut chunk, mut offset) = (tail[0], tail[2] as usize);
    while (items.len() as u64) < size && chunk <= head[0] {
        let path = dir.join(format!("q{chunk:05}"));
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let end = if chunk == head[0] { (head[2] as usize).min(data.len()) } else { data.len() };
        while offset < end && (items.len() as u64) < size {
            let (len, payload) =
                ser.framed(&data[offset..end]).map_err(|e| format!("{} at {offset}: {e}", path.display()))?;
            let bytes = &data[offset..offset + len];
            let id = items.len() as u64 + 1;
            let row =
                ser.decode(&bytes[payload]).map(|v| (v, 0, Status::Ready)).map_err(|e| (e, bytes.to_vec()));
            items.push((id, row));
            offset += len;
        }
        chunk += 1;
        offset = 0;
    }
    Ok(Source { kind: KindArg::File, name: "default".into(), items, serializer: ser })
}

/// Every queue table of a persist-queue SQLite database.
fn read_sqlite(file: &Path, ser: Serializer) -> Result<Vec<Source>, String> {
    let conn = rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(err)?;
    let mut out = Vec::new();
    for table in persist_queue::queues_in_sqlite(file).map_err(err)? {
        let store = persist_queue::persist_queue_core::records::store_name(table.kind.prefix(), &table.name);
        let keep_done = table.kind.kind().keep_done;
        let priority = if table.kind == QueueKind::Priority { "priority" } else { "0" };
        let status = if keep_done { "status" } else { "1" };
        // `store` is a validated store name (letters, digits, `_`): no user text.
        let sql = format!("SELECT _id, data, {priority}, {status} FROM \"{store}\" ORDER BY _id");
        let mut stmt = conn.prepare(&sql).map_err(|e| format!("{store}: not a persist-queue table ({e})"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let ser = rows.first().map_or(ser, |r| ser.resolve(&r.1));
        let items = rows
            .into_iter()
            .map(|(id, data, prio, code)| {
                let status = u8::try_from(code.unwrap_or(1)).ok().and_then(Status::from_code);
                let row = match (ser.decode(&data), status) {
                    (Ok(v), Some(s)) => Ok((v, prio.unwrap_or(0), s)),
                    (Err(e), _) => Err((e, data)),
                    (Ok(_), None) => Err((format!("unknown status {code:?}"), data)),
                };
                (id as u64, row)
            })
            .collect();
        let kind = KindArg::of(table.kind);
        out.push(Source { kind, name: table.name, items, serializer: ser });
    }
    Ok(out)
}

/// The queues at `path`: a file `Queue` directory (it has `info`), an
/// SQLite file, or a directory holding persist-queue's `data.db`.
fn read_sources(path: &Path, ser: Serializer) -> Result<Vec<Source>, String> {
    if path.join("info").is_file() {
        return Ok(vec![read_file_queue(path, ser)?]);
    }
    let file = if path.is_dir() { path.join("data.db") } else { path.to_path_buf() };
    if !file.is_file() {
        return Err(format!(
            "{}: neither a persist-queue file Queue (no `info`) nor an SQLite database",
            path.display()
        ));
    }
    let found = read_sqlite(&file, ser)?;
    if found.is_empty() {
        return Err(format!("{}: no persist-queue queue tables", file.display()));
    }
    Ok(found)
}

/// Where the bytes of items that do not convert are kept.
fn rejects_dir(dst: &str) -> PathBuf {
    match Place::parse(dst) {
        Place::Server(_) => PathBuf::from("pq-import-rejects"),
        Place::Dir(p) | Place::Sqlite(p) => {
            let mut name = p.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            name.push(".rejects");
            p.with_file_name(name)
        }
    }
}

/// `pq import-persist-queue`: every queue at `path` (or those `dst`'s
/// `--kind` / `--name` pick) into the location `dst`, each under its kind
/// and name. Items that are
/// not plain data are reported one by one and their bytes written to
/// `DST.rejects/`; the rest are imported. The source is only read.
pub(crate) fn import(path: &Path, dst: &At, ser: Serializer, as_json: bool) -> Result<(), String> {
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(path), std::fs::canonicalize(&dst.location))
        && (a == b || (a.is_dir() && b.starts_with(&a)) || b == a.join("data.db"))
    {
        return Err(
            "import into another location than the source: their table and file names are the same".into()
        );
    }
    let sources: Vec<Source> = read_sources(path, ser)?
        .into_iter()
        .filter(|s| dst.kind.is_none_or(|k| k == s.kind))
        .filter(|s| dst.name.as_ref().is_none_or(|n| n.eq_ignore_ascii_case(&s.name)))
        .collect();
    let mut reports = Vec::new();
    let rejects = rejects_dir(&dst.location);
    for src in sources {
        // A file Queue goes to a file Queue in a directory, else to a FIFO.
        let kind = match src.kind {
            KindArg::File if Place::parse(&dst.location).dir().is_none() => KindArg::Fifo,
            k => k,
        };
        let at = At { location: dst.location.clone(), name: Some(src.name.clone()), kind: Some(kind) };
        let to = Opened::open(&at, None, Durability::Synced, true)?;
        if crate::inspect::counts(&to)?.iter().any(|&c| c > 0) {
            return Err(format!(
                "{} already holds {} {}: import into an empty queue",
                dst.location,
                kind.label(),
                src.name
            ));
        }
        let mut rows = Vec::new();
        let mut rejected = Vec::new();
        for (id, item) in src.items {
            match item {
                Ok(row) => rows.push(row),
                Err((why, bytes)) => {
                    std::fs::create_dir_all(&rejects).map_err(err)?;
                    let file =
                        rejects.join(format!("{}-{}-{id}.{}", kind.label(), src.name, src.serializer.name()));
                    std::fs::write(&file, &bytes).map_err(err)?;
                    rejected.push(json!({"id": id, "error": why, "file": file.display().to_string(), "hex": hex(&bytes)}));
                }
            }
        }
        let written = write_rows(&to, &rows, kind.acks())?;
        reports.push(json!({
            "kind": kind.label(), "name": src.name, "serializer": src.serializer.name(),
            "imported": written.stored, "unacked": written.states[0], "acked": written.states[1],
            "failed": written.states[2], "rejected": rejected,
        }));
    }
    if reports.is_empty() {
        return Err(format!("no queue at {} matches --kind / --name", path.display()));
    }
    if as_json {
        println!("{}", Value::Array(reports));
    } else {
        for r in &reports {
            println!(
                "{} {}: {} items imported ({} serializer), {} rejected",
                r["kind"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or(""),
                r["imported"],
                r["serializer"].as_str().unwrap_or(""),
                r["rejected"].as_array().map_or(0, Vec::len)
            );
            for x in r["rejected"].as_array().into_iter().flatten() {
                println!(
                    "  item {}: {} (bytes kept in {})",
                    x["id"],
                    x["error"].as_str().unwrap_or(""),
                    x["file"].as_str().unwrap_or("")
                );
            }
        }
    }
    Ok(())
}
