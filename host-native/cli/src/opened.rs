//! An open queue of any kind on any backend, its items as stored bytes.

use std::path::{Path, PathBuf};

use persist_queue::{
    Cbor, Codec, Durability, Json, MessagePack, Postcard, Queue, QueueBuilder, QueueKind, Raw, Records,
};
use serde_json::Value;

use crate::address::{At, KindArg, Listed, Place};
use crate::item::CodecArg;

/// The open queue: the file `Queue` or a record queue, with the serializer
/// its items are shown with.
pub(crate) enum Opened {
    /// The chunk FIFO in `dir`.
    File {
        /// The queue, items as stored bytes.
        queue: Queue<Vec<u8>, Raw>,
        /// The serializer it records.
        codec: CodecArg,
        /// Its directory.
        dir: PathBuf,
    },
    /// A record queue.
    Records {
        /// The queue, items as stored bytes.
        records: Records<Vec<u8>, Raw>,
        /// Its kind.
        kind: QueueKind,
        /// The serializer given with `--codec` (record stores record none).
        codec: CodecArg,
        /// Where it is.
        place: Place,
        /// Its name.
        name: String,
        /// The durability it was opened with (and `put` writes with).
        durability: Durability,
    },
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Creates the file `Queue` in `dir` recording `codec`, if there is none.
pub(crate) fn create_file_queue(dir: &Path, codec: CodecArg, durability: Durability) -> Result<(), String> {
    if dir.join("meta").is_file() {
        return Ok(());
    }
    let b = QueueBuilder::new(dir).durability(durability);
    match codec {
        CodecArg::Json => drop(b.codec(Json).open::<Value>().map_err(err)?),
        CodecArg::Msgpack => drop(b.codec(MessagePack).open::<Value>().map_err(err)?),
        CodecArg::Cbor => drop(b.codec(Cbor).open::<Value>().map_err(err)?),
        CodecArg::Postcard => drop(b.codec(Postcard).open::<Value>().map_err(err)?),
        CodecArg::Raw => drop(b.codec(Raw).open::<Vec<u8>>().map_err(err)?),
    }
    Ok(())
}

impl Opened {
    /// Opens the queue `at` names (creating it only with `create`);
    /// `codec`: the serializer of a record queue's items (default JSON),
    /// and of a new file `Queue`.
    pub(crate) fn open(
        at: &At,
        codec: Option<CodecArg>,
        durability: Durability,
        create: bool,
    ) -> Result<Opened, String> {
        let (place, listed) = at.select(create)?;
        Self::open_listed(&place, &listed, codec, durability, create)
    }

    /// Opens the queue `listed` of `place`.
    pub(crate) fn open_listed(
        place: &Place,
        listed: &Listed,
        codec: Option<CodecArg>,
        durability: Durability,
        create: bool,
    ) -> Result<Opened, String> {
        match listed.kind.record_kind() {
            None => {
                let dir = place.dir().ok_or("a file Queue lives in a directory")?.to_path_buf();
                if create {
                    create_file_queue(&dir, codec.unwrap_or(CodecArg::Json), durability)?;
                } else if !dir.join("meta").is_file() {
                    return Err(format!("no queue in {}", dir.display()));
                }
                let queue = QueueBuilder::new(&dir).durability(durability).open_bytes().map_err(err)?;
                let stored = queue.codec_name();
                let codec = CodecArg::from_name(&stored).unwrap_or(CodecArg::Raw);
                Ok(Opened::File { queue, codec, dir })
            }
            Some(kind) => {
                let records = place
                    .records(kind, &listed.name, durability)
                    .codec(Raw)
                    .open::<Vec<u8>>()
                    .map_err(err)?;
                Ok(Opened::Records {
                    records,
                    kind,
                    codec: codec.unwrap_or(CodecArg::Json),
                    place: place.clone(),
                    name: listed.name.clone(),
                    durability,
                })
            }
        }
    }

    /// The serializer items are shown with.
    pub(crate) fn codec(&self) -> CodecArg {
        match self {
            Opened::File { codec, .. } | Opened::Records { codec, .. } => *codec,
        }
    }

    /// The kind, as the command line names it.
    pub(crate) fn kind(&self) -> KindArg {
        match self {
            Opened::File { .. } => KindArg::File,
            Opened::Records { kind, .. } => KindArg::of(*kind),
        }
    }

    /// Puts values, each with a priority, encoded by the queue's
    /// serializer (a unique queue compares them as the library does): in
    /// one transaction, or (`batch`) one per `batch` values, with a
    /// progress bar. Per value its id (`None`: a duplicate in a unique
    /// queue; the file `Queue` has no ids).
    pub(crate) fn put(
        &self,
        values: &[(Value, i64)],
        batch: Option<usize>,
    ) -> Result<Vec<Option<u64>>, String> {
        let size = batch.unwrap_or(values.len()).max(1);
        let progress = crate::progress::bar(values.len() as u64, "writing");
        let mut ids = Vec::with_capacity(values.len());
        let mut each = |part: &[(Value, i64)], put: &mut PutPart<'_>| {
            ids.extend(put(part)?);
            progress.inc(part.len() as u64);
            Ok::<(), String>(())
        };
        match self {
            Opened::File { queue, codec, .. } => {
                for part in values.chunks(size) {
                    each(part, &mut |part| {
                        let bytes =
                            part.iter().map(|(v, _)| codec.encode(v)).collect::<Result<Vec<_>, _>>()?;
                        queue.put_many(&bytes).map_err(err)?;
                        Ok(vec![None; part.len()])
                    })?;
                }
            }
            Opened::Records { place, kind, name, codec, records, durability } => {
                let b = place.records(*kind, name, *durability);
                match codec {
                    CodecArg::Json => put_typed(b.codec(Json), values, size, &mut each)?,
                    CodecArg::Msgpack => put_typed(b.codec(MessagePack), values, size, &mut each)?,
                    CodecArg::Cbor => put_typed(b.codec(Cbor), values, size, &mut each)?,
                    CodecArg::Raw | CodecArg::Postcard => {
                        for part in values.chunks(size) {
                            each(part, &mut |part| {
                                let bytes = part
                                    .iter()
                                    .map(|(v, p)| codec.encode(v).map(|b| (b, *p)))
                                    .collect::<Result<Vec<_>, _>>()?;
                                records.put_many_prioritized(&bytes).map_err(err)
                            })?;
                        }
                    }
                }
            }
        }
        progress.finish_and_clear();
        Ok(ids)
    }
}

/// Puts one part of the values: their ids.
type PutPart<'a> = dyn FnMut(&[(Value, i64)]) -> Result<Vec<Option<u64>>, String> + 'a;

/// A batch writer: puts one part with the given writer, counts it.
type Each<'a> = dyn FnMut(&[(Value, i64)], &mut PutPart<'_>) -> Result<(), String> + 'a;

/// Puts through one typed handle, `size` values per transaction, so that
/// a unique queue's keys are the library's canonical ones.
fn put_typed<C: Codec<Value>>(
    builder: persist_queue::RecordBuilder<persist_queue::AnyQueue, C>,
    values: &[(Value, i64)],
    size: usize,
    each: &mut Each<'_>,
) -> Result<(), String> {
    let q = builder.open::<Value>().map_err(err)?;
    for part in values.chunks(size) {
        each(part, &mut |part| q.put_many_prioritized(part).map_err(err))?;
    }
    Ok(())
}
