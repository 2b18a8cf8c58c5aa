//! The log format both engines share: checksummed frames (v1 and v2), the
//! chunk header, the metadata blob, buffered frame reading, and the one
//! rule that tells a write a crash cut short from damaged durable bytes.
//! The chunk FIFO ([`crate::fifo`]) and the record log
//! ([`crate::records::LogTable`]) both store their data this way; the byte
//! layout is in `FORMAT.md`.

pub(crate) mod audit;
pub(crate) mod chunk;
pub(crate) mod damage;
pub(crate) mod frame;
pub(crate) mod meta;
pub(crate) mod reader;
