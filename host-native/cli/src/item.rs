//! Items on the command line: JSON text in, JSON (or hex) out, through the
//! serializer a queue stores its items with.

use clap::ValueEnum;
use persist_queue::{Cbor, Codec, Json, MessagePack};
use serde_json::{Value, json};

/// A serializer, by the name a queue records (`json`, `msgpack`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum CodecArg {
    /// JSON text.
    Json,
    /// MessagePack.
    Msgpack,
    /// CBOR.
    Cbor,
    /// postcard: not self-describing, so shown as hex.
    Postcard,
    /// Raw bytes: shown as a string when UTF-8, hex otherwise.
    Raw,
}

impl CodecArg {
    /// The serializer of that stored name (`None`: unknown, or none
    /// recorded).
    pub(crate) fn from_name(name: &str) -> Option<CodecArg> {
        match name {
            "json" => Some(CodecArg::Json),
            "msgpack" => Some(CodecArg::Msgpack),
            "cbor" => Some(CodecArg::Cbor),
            "postcard" => Some(CodecArg::Postcard),
            "raw" => Some(CodecArg::Raw),
            _ => None,
        }
    }

    /// Its stored name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            CodecArg::Json => "json",
            CodecArg::Msgpack => "msgpack",
            CodecArg::Cbor => "cbor",
            CodecArg::Postcard => "postcard",
            CodecArg::Raw => "raw",
        }
    }

    /// Encodes a value as this serializer stores it.
    pub(crate) fn encode(self, value: &Value) -> Result<Vec<u8>, String> {
        match self {
            CodecArg::Json => Json.encode(value).map_err(|e| e.to_string()),
            CodecArg::Msgpack => MessagePack.encode(value).map_err(|e| e.to_string()),
            CodecArg::Cbor => Cbor.encode(value).map_err(|e| e.to_string()),
            CodecArg::Raw => match value {
                Value::String(s) => Ok(s.clone().into_bytes()),
                other => Ok(other.to_string().into_bytes()),
            },
            CodecArg::Postcard => {
                Err("postcard items are typed: pq cannot write them (postcard is not self-describing)".into())
            }
        }
    }

    /// Decodes stored bytes into a value, if they decode.
    pub(crate) fn decode(self, bytes: &[u8]) -> Option<Value> {
        match self {
            CodecArg::Json => Json.decode(bytes).ok(),
            CodecArg::Msgpack => MessagePack.decode(bytes).ok(),
            CodecArg::Cbor => Cbor.decode(bytes).ok(),
            CodecArg::Raw => std::str::from_utf8(bytes).ok().map(|s| Value::String(s.to_string())),
            CodecArg::Postcard => None,
        }
    }
}

/// An item's value as shown: `{"item": value}` when it decodes, else
/// `{"hex": "..."}`, merged into `fields`.
pub(crate) fn shown(codec: CodecArg, bytes: &[u8], mut fields: serde_json::Map<String, Value>) -> Value {
    match codec.decode(bytes) {
        Some(v) => fields.insert("item".into(), v),
        None => fields.insert("hex".into(), Value::String(hex(bytes))),
    };
    Value::Object(fields)
}

/// The item alone, for plain output: its JSON, or `hex:` and its bytes.
pub(crate) fn plain(codec: CodecArg, bytes: &[u8]) -> String {
    match codec.decode(bytes) {
        Some(v) => v.to_string(),
        None => format!("hex:{}", hex(bytes)),
    }
}

/// Lowercase hex digits of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `text` starts as a JSON document would (an object, array,
/// string or number), so that failing to parse it is an error rather than
/// a bare word.
fn starts_like_json(text: &str) -> bool {
    matches!(text.trim_start().chars().next(), Some('{' | '[' | '"' | '-' | '0'..='9'))
}

/// An item typed on the command line: JSON, or (`as_text`, or a bare word
/// such as `hello`) a string. Text that starts like JSON and does not parse
/// is an error naming the line and column, never stored as a string.
pub(crate) fn parse(text: &str, as_text: bool) -> Result<Value, String> {
    if as_text {
        return Ok(Value::String(text.to_string()));
    }
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        // serde_json's message ends with the line and column.
        Err(e) if starts_like_json(text) => Err(format!("not JSON: {e} (--text stores it as a string)")),
        Err(_) => Ok(Value::String(text.to_string())),
    }
}

/// An object of `pairs`, for JSON output.
pub(crate) fn fields(
    pairs: impl IntoIterator<Item = (&'static str, Value)>,
) -> serde_json::Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// `null` for `None`.
pub(crate) fn opt(v: Option<u64>) -> Value {
    v.map_or(Value::Null, |n| json!(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_json_is_an_error_and_bare_words_are_strings() {
        assert_eq!(parse("hello", false), Ok(json!("hello")));
        assert_eq!(parse("{\"a\":1}", false), Ok(json!({"a": 1})));
        let e = parse("{bad json", false).expect_err("broken JSON");
        assert!(e.contains("line 1 column 2"), "{e}");
        assert_eq!(parse("{bad json", true), Ok(json!("{bad json")));
        assert!(parse("12abc", false).is_err());
    }

    #[test]
    fn every_codec_round_trips_a_value_or_shows_hex() {
        let v = json!({"job": [1, "two"]});
        for c in [CodecArg::Json, CodecArg::Msgpack, CodecArg::Cbor] {
            assert_eq!(c.decode(&c.encode(&v).expect("encodes")), Some(v.clone()), "{c:?}");
        }
        assert_eq!(plain(CodecArg::Postcard, &[1, 0xab]), "hex:01ab");
        assert_eq!(plain(CodecArg::Raw, b"text"), "\"text\"");
    }
}
