//! Lua <-> JSON in Rust, with no `vim.fn.json_*` or `vim.json` round trips.
//!
//! Encoding walks Lua values through serde (`LuaSer` implements `Serialize`),
//! decoding builds Lua values straight from a serde `Deserializer`
//! (`LuaSeed`), so the same code serves any serde format.
//!
//! Rules (also in `:help wasm_nvim-values`):
//! - `nil` and `vim.NIL` encode as `null`. A top-level `null` decodes to
//!   `nil`; a `null` inside an array or object decodes to `vim.NIL`, so
//!   arrays keep their length.
//! - A table whose keys are exactly `1..n` is an array; any other table is
//!   an object whose number keys become strings. Other key types are an error.
//! - An empty table is `[]`, unless it is `vim.empty_dict()` (Neovim's
//!   empty-dict metatable), which is `{}`. `{}` decodes to
//!   `vim.empty_dict()`, so it round-trips, and the Neovim API treats it as
//!   a Dictionary.
//! - Integral numbers encode without a fraction (`3`, not `3.0`); other
//!   finite numbers as floats; NaN and infinities are an error. LuaJIT
//!   numbers are doubles: integers beyond 2^53 lose precision.
//! - JSON strings are UTF-8, so a Lua string that is not valid UTF-8 is an
//!   error naming where it was (the binary-safe ABI carries raw bytes).
//! - Functions, userdata, threads cannot be encoded: an error.
//! - Nesting deeper than [`MAX_DEPTH`] (or a table that contains itself) is
//!   an error, not a stack overflow.

use std::fmt;

use mlua::{AnyUserData, Function, Lua, Table, Value};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::error::{Error, Result};

/// Deepest nesting encoded or decoded.
pub const MAX_DEPTH: usize = 128;

/// What the conversion needs from the running Neovim.
#[derive(Clone, Debug, Default)]
pub struct Conv {
    /// `getmetatable(vim.empty_dict())`, when running inside Neovim.
    pub empty_dict_mt: Option<Table>,
    /// `vim.NIL` (a userdata in Neovim); mlua's null lightuserdata otherwise.
    pub nil: Option<AnyUserData>,
}

impl Conv {
    /// Encodes a Lua value as JSON bytes.
    pub fn to_json(&self, value: &Value) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64);
        LuaSer { value, conv: self, path: &Path::Root }
            .serialize(&mut serde_json::Serializer::new(&mut out))
            .map_err(|e| Error::value(e.to_string()))?;
        Ok(out)
    }

    /// Encodes several Lua values as one JSON array (a callback's arguments).
    pub fn to_json_array(&self, values: &[Value]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64);
        let fail = |e: serde_json::Error| Error::value(e.to_string());
        let mut ser = serde_json::Serializer::new(&mut out);
        let mut seq = ser.serialize_seq(Some(values.len())).map_err(fail)?;
        for (i, value) in values.iter().enumerate() {
            let path = Path::Index(&Path::Root, i + 1);
            seq.serialize_element(&LuaSer { value, conv: self, path: &path }).map_err(fail)?;
        }
        SerializeSeq::end(seq).map_err(fail)?;
        Ok(out)
    }

    /// Decodes JSON bytes into a Lua value.
    pub fn from_json(&self, lua: &Lua, bytes: &[u8]) -> Result<Value> {
        self.from_json_with(lua, bytes, None)
    }

    /// Decodes JSON bytes; each `{"__wasm_callback": "<name>"}` object
    /// becomes the function `callbacks(name)` makes (see `callbacks.rs`).
    pub fn from_json_with(&self, lua: &Lua, bytes: &[u8], callbacks: Option<&MakeCallback<'_>>) -> Result<Value> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let value = LuaSeed { lua, conv: self, top: true, callbacks }
            .deserialize(&mut de)
            .map_err(|e| Error::value(format!("invalid JSON: {e}")))?;
        de.end().map_err(|e| Error::value(format!("invalid JSON: {e}")))?;
        Ok(value)
    }

    pub fn is_nil(&self, ud: &AnyUserData) -> bool {
        self.nil.as_ref() == Some(ud)
    }

    /// What a JSON `null` inside an array or object becomes.
    pub fn nested_null(&self) -> Value {
        self.nil.clone().map_or(Value::NULL, Value::UserData)
    }

    pub fn is_empty_dict(&self, table: &Table) -> bool {
        match (&self.empty_dict_mt, table.metatable()) {
            (Some(want), Some(mt)) => want == &mt,
            _ => false,
        }
    }
}

/// Where in the value being encoded we are, built on the stack and only
/// turned into text when an error is reported.
enum Path<'a> {
    Root,
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    fn depth(&self) -> usize {
        match self {
            Path::Root => 0,
            Path::Index(p, _) | Path::Key(p, _) => p.depth() + 1,
        }
    }
}

/// Lua-style: `[2].name` is the field `name` of the second element.
impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
            Path::Key(Path::Root, k) => f.write_str(k),
            Path::Key(p, k) => write!(f, "{p}.{k}"),
        }
    }
}

struct LuaSer<'a> {
    value: &'a Value,
    conv: &'a Conv,
    path: &'a Path<'a>,
}

impl LuaSer<'_> {
    fn fail<E: ser::Error>(&self, what: impl fmt::Display) -> E {
        match self.path {
            Path::Root => E::custom(what),
            path => E::custom(format_args!("{what} (at {path})")),
        }
    }
}

impl Serialize for LuaSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self.value {
            Value::Nil => s.serialize_unit(),
            Value::LightUserData(p) if p.0.is_null() => s.serialize_unit(),
            Value::UserData(ud) if self.conv.is_nil(ud) => s.serialize_unit(),
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Integer(i) => s.serialize_i64(*i),
            Value::Number(n) if n.is_finite() => s.serialize_f64(*n),
            Value::Number(n) => Err(self.fail(format_args!("{n} has no JSON form"))),
            Value::String(text) => match text.to_str() {
                Ok(text) => s.serialize_str(&text),
                Err(_) => Err(self.fail("string is not valid UTF-8 (JSON carries text only)")),
            },
            Value::Table(t) => self.table(t, s),
            other => Err(self.fail(format_args!("cannot encode a {}", type_name(other)))),
        }
    }
}

impl LuaSer<'_> {
    fn table<S: Serializer>(&self, t: &Table, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.path.depth() >= MAX_DEPTH {
            return Err(self.fail(format_args!("nested deeper than {MAX_DEPTH} (a table that contains itself?)")));
        }
        let count = match classify(self.conv, t).map_err(|e| self.fail(e))? {
            Shape::Array(len) => {
                let mut seq = s.serialize_seq(Some(len))?;
                for i in 1..=len {
                    let value: Value = t.raw_get(i).map_err(|e| self.fail(e))?;
                    let path = Path::Index(self.path, i);
                    seq.serialize_element(&LuaSer { value: &value, conv: self.conv, path: &path })?;
                }
                return seq.end();
            }
            Shape::Map(count) => count,
        };
        let mut map = s.serialize_map(Some(count))?;
        // `[1]` and `["1"]` are both the key "1" in JSON: an error, not a
        // silently lost entry.
        let mut seen = std::collections::HashSet::with_capacity(count);
        for pair in t.pairs::<Value, Value>() {
            let (k, value) = pair.map_err(|e| self.fail(e))?;
            let key = match &k {
                Value::String(k) => match k.to_str() {
                    Ok(k) => k.to_string(),
                    Err(_) => return Err(self.fail("table key is not valid UTF-8")),
                },
                Value::Integer(i) => i.to_string(),
                Value::Number(n) => n.to_string(),
                other => return Err(self.fail(format_args!("cannot use a {} as an object key", type_name(other)))),
            };
            if !seen.insert(key.clone()) {
                return Err(self.fail(format_args!(
                    "the table has the key '{key}' twice, as a number and as a string (JSON object keys are strings)"
                )));
            }
            let path = Path::Key(self.path, &key);
            map.serialize_entry(&key, &LuaSer { value: &value, conv: self.conv, path: &path })?;
        }
        map.end()
    }
}

/// A value's Lua type for error messages; mlua calls LuaJIT's FFI values
/// "other".
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Other(..) => "cdata (a LuaJIT FFI value)",
        other => other.type_name(),
    }
}

/// Makes the Lua function for a `{"__wasm_callback": name}` object.
pub type MakeCallback<'a> = dyn Fn(&str) -> mlua::Result<Function> + 'a;

/// The key of a callback object.
pub const CALLBACK_KEY: &str = "__wasm_callback";

/// How a table is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Keys exactly `1..n` (or empty and not `vim.empty_dict()`).
    Array(usize),
    /// Anything else, with this many entries.
    Map(usize),
}

/// Decides array or map in one pass over the keys. Values are not kept:
/// each would hold a Lua stack slot, and a large table runs out of them.
pub fn classify(conv: &Conv, t: &Table) -> mlua::Result<Shape> {
    let len = t.raw_len();
    let mut count = 0usize;
    let mut is_array = true;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        count += 1;
        is_array &= matches!(k, Value::Integer(i) if i >= 1 && (i as usize) <= len);
    }
    is_array &= count == len;
    if count == 0 && conv.is_empty_dict(t) {
        is_array = false;
    }
    Ok(if is_array { Shape::Array(len) } else { Shape::Map(count) })
}

/// Builds a Lua value from any serde data format.
pub struct LuaSeed<'a> {
    pub lua: &'a Lua,
    pub conv: &'a Conv,
    /// At the top level `null` is `nil`; inside containers it is `vim.NIL`.
    pub top: bool,
    pub callbacks: Option<&'a MakeCallback<'a>>,
}

impl<'a> LuaSeed<'a> {
    fn nested(&self) -> LuaSeed<'a> {
        LuaSeed { lua: self.lua, conv: self.conv, top: false, callbacks: self.callbacks }
    }
}

fn lua_err<E: de::Error>(err: mlua::Error) -> E {
    E::custom(crate::error::lua_message(&err))
}

impl<'de> DeserializeSeed<'de> for LuaSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LuaSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<Value, E> {
        Ok(if self.top { Value::Nil } else { self.conv.nested_null() })
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Boolean(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Number(v as f64), Value::Integer))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(Value::Number(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Value, E> {
        self.lua.create_string(v).map(Value::String).map_err(lua_err)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<Value, E> {
        self.lua.create_string(v).map(Value::String).map_err(lua_err)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let t = self.lua.create_table_with_capacity(seq.size_hint().unwrap_or(0), 0).map_err(lua_err)?;
        let mut i = 1;
        while let Some(v) = seq.next_element_seed(self.nested())? {
            t.raw_set(i, v).map_err(lua_err)?;
            i += 1;
        }
        Ok(Value::Table(t))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let t = self.lua.create_table_with_capacity(0, map.size_hint().unwrap_or(0)).map_err(lua_err)?;
        let mut count = 0;
        while let Some(k) = map.next_key_seed(self.nested())? {
            let v = map.next_value_seed(self.nested())?;
            t.raw_set(k, v).map_err(lua_err)?;
            count += 1;
        }
        if count == 0
            && let Some(mt) = &self.conv.empty_dict_mt
        {
            t.set_metatable(Some(mt.clone())).map_err(lua_err)?;
        }
        if count == 1
            && let Some(make) = self.callbacks
            && let Ok(Value::String(name)) = t.raw_get::<Value>(CALLBACK_KEY)
        {
            let name = name.to_str().map_err(lua_err)?;
            return make(&name).map(Value::Function).map_err(lua_err);
        }
        Ok(Value::Table(t))
    }
}
