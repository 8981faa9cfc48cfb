//! JSON, the seed ABI's encoding: how the codec's parts look as JSON text,
//! and a reader that hands JSON's parts to a [`Sink`].
//!
//! Both sides use serde_json's own pieces (its number formatting and string
//! escaping, its parser), so the text is what `serde_json` writes and reads.
//! JSON cannot carry NaN, infinities or bytes that are not UTF-8 (errors),
//! and its object keys are text: number keys are written as text, and a
//! table holding both `[1]` and `["1"]` is an error.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::ser::{CompactFormatter, Formatter};

use super::{CALLBACK_KEY, MAX_NESTING, Number, Sink, Writer};

// ---- writing -------------------------------------------------------------------

/// Writes the walker's parts as compact JSON.
pub struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Per open map: the keys written so far, for the maps whose number
    /// and string keys might collide.
    seen: Vec<Option<HashSet<String>>>,
}

impl<'a> JsonWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        JsonWriter { out, seen: Vec::new() }
    }

    fn text(&mut self, text: &str) {
        // Writing to a Vec cannot fail.
        let _ = serde::Serializer::serialize_str(&mut serde_json::Serializer::new(&mut *self.out), text);
    }

    fn key(&mut self, key: &str, first: bool) -> Result<(), String> {
        if let Some(Some(seen)) = self.seen.last_mut()
            && !seen.insert(key.to_string())
        {
            return Err(format!(
                "the table has the key '{key}' twice, as a number and as a string (JSON object keys are strings)"
            ));
        }
        if !first {
            self.out.push(b',');
        }
        self.text(key);
        self.out.push(b':');
        Ok(())
    }
}

impl Writer for JsonWriter<'_> {
    const KEY: &'static str = "an object key";
    const TEXT_KEYS: bool = true;

    #[inline]
    fn nil(&mut self) -> Result<(), String> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    #[inline]
    fn boolean(&mut self, b: bool) -> Result<(), String> {
        self.out.extend_from_slice(if b { b"true" } else { b"false" });
        Ok(())
    }

    #[inline]
    fn number(&mut self, n: Number) -> Result<(), String> {
        // Writing to a Vec cannot fail.
        let _ = match n {
            Number::Integer(i) => CompactFormatter.write_i64(self.out, i),
            Number::Float(f) if f.is_finite() => CompactFormatter.write_f64(self.out, f),
            Number::Float(f) => return Err(format!("{f} has no JSON form")),
        };
        Ok(())
    }

    #[inline]
    fn string(&mut self, bytes: &[u8]) -> Result<(), String> {
        let text =
            std::str::from_utf8(bytes).map_err(|_| "string is not valid UTF-8 (JSON carries text only)".to_string())?;
        self.text(text);
        Ok(())
    }

    #[inline]
    fn array_start(&mut self, _len: usize) -> Result<(), String> {
        self.out.push(b'[');
        Ok(())
    }

    #[inline]
    fn element(&mut self, first: bool) {
        if !first {
            self.out.push(b',');
        }
    }

    #[inline]
    fn array_end(&mut self) {
        self.out.push(b']');
    }

    #[inline]
    fn map_start(&mut self, _count: usize, mixed: bool) -> Result<(), String> {
        self.seen.push(mixed.then(HashSet::new));
        self.out.push(b'{');
        Ok(())
    }

    #[inline]
    fn key_string(&mut self, bytes: &[u8], first: bool) -> Result<(), String> {
        let key = std::str::from_utf8(bytes).map_err(|_| "table key is not valid UTF-8".to_string())?;
        self.key(key, first)
    }

    #[inline]
    fn key_number(&mut self, n: Number, first: bool) -> Result<(), String> {
        self.key(&n.to_string(), first)
    }

    #[inline]
    fn map_end(&mut self) {
        self.seen.pop();
        self.out.push(b'}');
    }
}

// ---- reading -------------------------------------------------------------------

/// Reads one JSON value (and nothing after it) from `bytes` into `sink`.
/// With `callbacks`, objects `{"__wasm_callback": "<name>"}` are callbacks.
pub fn read(bytes: &[u8], sink: &mut impl Sink, callbacks: bool) -> Result<(), String> {
    let invalid = |e: serde_json::Error| format!("invalid JSON: {e}");
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Node { sink, depth: 0, callbacks }.deserialize(&mut de).map_err(invalid)?;
    de.end().map_err(invalid)
}

/// One JSON value, `depth` arrays and objects deep, into `sink`.
struct Node<'s, S> {
    sink: &'s mut S,
    depth: usize,
    callbacks: bool,
}

impl<S> Node<'_, S> {
    fn child(&mut self) -> Node<'_, S> {
        Node { sink: &mut *self.sink, depth: self.depth + 1, callbacks: self.callbacks }
    }
}

fn fail<E: de::Error>(what: String) -> E {
    E::custom(what)
}

impl<'de, S: Sink> DeserializeSeed<'de> for Node<'_, S> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // serde_json stops at its own recursion limit first; this keeps the
        // codec's limit should that change.
        if self.depth > MAX_NESTING {
            return Err(fail(format!("nested deeper than {MAX_NESTING}")));
        }
        d.deserialize_any(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for Node<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.sink.nil(self.depth > 0).map_err(fail)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.sink.boolean(v).map_err(fail)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.sink.int(v).map_err(fail)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(i) => self.sink.int(i),
            Err(_) => self.sink.float(v as f64),
        }
        .map_err(fail)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.sink.float(v).map_err(fail)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.sink.bytes(v.as_bytes()).map_err(fail)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.sink.array_start(seq.size_hint().unwrap_or(0)).map_err(fail)?;
        let mut i = 0;
        while seq.next_element_seed(self.child())?.is_some() {
            i += 1;
            self.sink.array_item(i).map_err(fail)?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut n = 0;
        if self.callbacks {
            let Some(read) = self.first_entry(&mut map)? else {
                return Ok(()); // a callback
            };
            n = read;
        } else {
            self.sink.map_start(map.size_hint().unwrap_or(0)).map_err(fail)?;
        }
        while map.next_key_seed(self.child())?.is_some() {
            map.next_value_seed(self.child())?;
            self.sink.map_entry().map_err(fail)?;
            n += 1;
        }
        self.sink.map_end(n).map_err(fail)
    }
}

impl<'de, S: Sink> Node<'_, S> {
    /// With callbacks: reads an object's first entry (or two) to see
    /// whether the object is `{"__wasm_callback": "<name>"}`. A callback is
    /// handed to the sink whole (`None`); anything else is started as a map
    /// and the entries read so far handed on (`Some(how many)`).
    fn first_entry<A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<Option<usize>, A::Error> {
        let Some(key) = map.next_key_seed(Text)? else {
            self.sink.map_start(0).map_err(fail)?;
            return Ok(Some(0));
        };
        if key != CALLBACK_KEY {
            self.sink.map_start(0).map_err(fail)?;
            self.sink.bytes(key.as_bytes()).map_err(fail)?;
            map.next_value_seed(self.child())?;
            self.sink.map_entry().map_err(fail)?;
            return Ok(Some(1));
        }
        let Some(name) = map.next_value_seed(NameOr(self.child()))? else {
            // not a name: the entry was handed on as it was read
            self.sink.map_entry().map_err(fail)?;
            return Ok(Some(1));
        };
        let Some(second) = map.next_key_seed(Text)? else {
            self.sink.callback(name.as_bytes()).map_err(fail)?;
            return Ok(None);
        };
        self.sink.map_start(0).map_err(fail)?;
        self.sink.bytes(CALLBACK_KEY.as_bytes()).map_err(fail)?;
        self.sink.bytes(name.as_bytes()).map_err(fail)?;
        self.sink.map_entry().map_err(fail)?;
        self.sink.bytes(second.as_bytes()).map_err(fail)?;
        map.next_value_seed(self.child())?;
        self.sink.map_entry().map_err(fail)?;
        Ok(Some(2))
    }
}

/// An object key as text (JSON keys are strings), borrowed when it can be.
struct Text;

impl<'de> DeserializeSeed<'de> for Text {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// The value under a `"__wasm_callback"` key: a string is kept back (the
/// object may be a callback); anything else means the object is a plain
/// one, so it is started, with that key, and the value handed on.
struct NameOr<'n, S>(Node<'n, S>);

impl<S: Sink> NameOr<'_, S> {
    fn plain<E: de::Error>(&mut self) -> Result<(), E> {
        self.0.sink.map_start(0).map_err(fail)?;
        self.0.sink.bytes(CALLBACK_KEY.as_bytes()).map_err(fail)
    }
}

impl<'de, S: Sink> DeserializeSeed<'de> for NameOr<'_, S> {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for NameOr<'_, S> {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<Self::Value, E> {
        self.plain()?;
        self.0.visit_unit().map(|()| None)
    }

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<Self::Value, E> {
        self.plain()?;
        self.0.visit_bool(v).map(|()| None)
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<Self::Value, E> {
        self.plain()?;
        self.0.visit_i64(v).map(|()| None)
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<Self::Value, E> {
        self.plain()?;
        self.0.visit_u64(v).map(|()| None)
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<Self::Value, E> {
        self.plain()?;
        self.0.visit_f64(v).map(|()| None)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, seq: A) -> Result<Self::Value, A::Error> {
        self.plain()?;
        self.0.visit_seq(seq).map(|()| None)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, map: A) -> Result<Self::Value, A::Error> {
        self.plain()?;
        self.0.visit_map(map).map(|()| None)
    }
}
