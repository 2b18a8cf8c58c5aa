//! Serializers: how items become bytes. The name of the one a queue was
//! created with is stored in it and checked on every open.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Turns items of type `T` into bytes and back.
pub trait Codec<T>: Clone + Send + Sync + 'static {
    /// Stable name, stored in the queue (`postcard`, `json`, ...).
    const NAME: &'static str;
    /// Encodes one item.
    fn encode(&self, item: &T) -> Result<Vec<u8>>;
    /// Decodes one item.
    fn decode(&self, bytes: &[u8]) -> Result<T>;
}

fn ser_err(codec: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Serialization { codec, message: e.to_string() }
}

/// [postcard](https://docs.rs/postcard): compact, not self-describing. The
/// default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Postcard;

impl<T: Serialize + DeserializeOwned> Codec<T> for Postcard {
    const NAME: &'static str = "postcard";
    fn encode(&self, item: &T) -> Result<Vec<u8>> {
        postcard::to_stdvec(item).map_err(|e| ser_err("postcard", e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        match postcard::take_from_bytes(bytes) {
            Ok((v, [])) => Ok(v),
            Ok((_, rest)) => {
                Err(ser_err("postcard", format!("{} trailing bytes: not this type", rest.len())))
            }
            Err(e) => Err(ser_err("postcard", e)),
        }
    }
}

/// JSON (serde_json), one document per item.
#[cfg(feature = "json")]
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

#[cfg(feature = "json")]
impl<T: Serialize + DeserializeOwned> Codec<T> for Json {
    const NAME: &'static str = "json";
    fn encode(&self, item: &T) -> Result<Vec<u8>> {
        serde_json::to_vec(item).map_err(|e| ser_err("json", e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|e| ser_err("json", e))
    }
}

/// MessagePack (rmp-serde), structs as maps (like Python's msgpack).
#[cfg(feature = "msgpack")]
#[derive(Clone, Copy, Debug, Default)]
pub struct MessagePack;

#[cfg(feature = "msgpack")]
impl<T: Serialize + DeserializeOwned> Codec<T> for MessagePack {
    const NAME: &'static str = "msgpack";
    fn encode(&self, item: &T) -> Result<Vec<u8>> {
        rmp_serde::to_vec_named(item).map_err(|e| ser_err("msgpack", e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        rmp_serde::from_slice(bytes).map_err(|e| ser_err("msgpack", e))
    }
}

/// CBOR (ciborium).
#[cfg(feature = "cbor")]
#[derive(Clone, Copy, Debug, Default)]
pub struct Cbor;

#[cfg(feature = "cbor")]
impl<T: Serialize + DeserializeOwned> Codec<T> for Cbor {
    const NAME: &'static str = "cbor";
    fn encode(&self, item: &T) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        ciborium::into_writer(item, &mut out).map_err(|e| ser_err("cbor", e))?;
        Ok(out)
    }
    fn decode(&self, bytes: &[u8]) -> Result<T> {
        ciborium::from_reader(bytes).map_err(|e| ser_err("cbor", e))
    }
}

/// Raw bytes, stored as they are (`Queue<Vec<u8>, Raw>`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Raw;

impl Codec<Vec<u8>> for Raw {
    const NAME: &'static str = "raw";
    fn encode(&self, item: &Vec<u8>) -> Result<Vec<u8>> {
        Ok(item.clone())
    }
    fn decode(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        Ok(bytes.to_vec())
    }
}
