//! The Lua value codec: Lua values to and from JSON (the seed ABI) and
//! MessagePack (the msgpack ABI, Neovim's own encoding).
//!
//! The rules live here once, for both formats. Encoding, [`write_value`] (write.rs)
//! walks a value on the Lua stack (the raw C API: no mlua values in
//! between, so a 100,000-line buffer crosses in milliseconds) and hands its
//! parts to a [`Writer`] — [`json::JsonWriter`] or
//! [`msgpack::MsgpackWriter`]. Decoding, a reader ([`json::read`],
//! [`msgpack::Parser`]) hands the parts of the bytes to a [`Sink`];
//! [`LuaSink`] builds the Lua value from them (read.rs). A format only decides how
//! the parts look as bytes and which of them it cannot carry.
//!
//! Rules (`:help wasm_nvim-values`, `:help wasm_nvim-msgpack`):
//! - `nil` and `vim.NIL` encode as null. A top-level null decodes to `nil`;
//!   a null inside an array or map decodes to `vim.NIL`, so arrays keep
//!   their length.
//! - A table whose keys are exactly `1..n` is an array; any other table is
//!   a map (a JSON object). Keys must be strings or numbers. JSON object
//!   keys are strings: number keys are written as text, and a table with
//!   both `[1]` and `["1"]` is an error, not a silently lost entry.
//! - An empty table is an empty array, unless it is `vim.empty_dict()`
//!   (Neovim's empty-dict metatable), which is an empty map. An empty map
//!   decodes to `vim.empty_dict()`, so it round-trips, and the Neovim API
//!   treats it as a Dictionary.
//! - A number that is an integer in i64 range is written as an integer
//!   (`3`, not `3.0`; -0 as 0); other numbers as floats. JSON has no NaN or
//!   infinities: an error; msgpack carries them. LuaJIT numbers are
//!   doubles: integers beyond 2^53 lose precision.
//! - Strings: JSON is text, so a string (or key) that is not valid UTF-8
//!   is an error; msgpack writes valid UTF-8 as `str` and anything else as
//!   `bin`, and both decode to Lua strings, so no byte is lost.
//! - Functions, userdata (other than `vim.NIL`), threads and cdata cannot
//!   be encoded: an error.
//! - Nesting deeper than [`MAX_NESTING`] (or a table that contains itself)
//!   is an error, not a stack overflow, both ways.
//! - Every encoding error says where the value was, Lua-style:
//!   `(at [2].name)` is the field `name` of the second element.
//! - Decoding with callbacks (the arguments of `nvim_*`), a map of exactly
//!   one entry `{"__wasm_callback": "<export>"}` becomes a Lua function
//!   calling that export (see `nvim/callbacks.rs`).
//! - msgpack only: extension types 0, 1, 2 (Neovim's Buffer, Window,
//!   Tabpage) decode to the handle number; API results of those types are
//!   written as them ([`msgpack::write_result`]).

pub mod json;
pub mod msgpack;
mod read;
mod write;

pub use read::{Callbacks, LuaSink, Sink, callback_names, read};
pub use write::{Key, Number, Path, Writer, type_name, write_value};

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};
use mlua::{AnyUserData, Lua, Table, Value};

use crate::error::{Error, Result};
use crate::protected::{protected, registry_ref};

/// Deepest nesting of arrays and maps encoded or decoded. (Calls nesting
/// into a plugin have their own, unrelated limit.)
pub const MAX_NESTING: usize = 128;

/// The key of a callback map, `{"__wasm_callback": "<export>"}` (part of
/// the ABI: `wasm_nvim_abi`).
pub use wasm_nvim_abi::CALLBACK_KEY;

/// The two encodings values cross the host/plugin boundary in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The seed ABI's.
    Json,
    /// The msgpack ABI's (and Neovim's own).
    Msgpack,
}

/// The codec of one Lua state: it holds Neovim's sentinels, `vim.NIL` and
/// `vim.empty_dict()`'s metatable, as registry references for the code on
/// the Lua stack. Outside Neovim both are absent: then only `nil` is null
/// and no table is an empty dict.
#[derive(Debug, Clone, Copy)]
pub struct Codec {
    /// `getmetatable(vim.empty_dict())`, or `LUA_NOREF`.
    empty_dict_mt: c_int,
    /// `vim.NIL`, or `LUA_NOREF`.
    nil: c_int,
    /// `vim.NIL`'s address, to recognise it (0 when absent).
    nil_ptr: usize,
}

impl Codec {
    pub fn new(lua: &Lua, empty_dict_mt: Option<Table>, nil: Option<AnyUserData>) -> Result<Self> {
        Ok(Codec {
            empty_dict_mt: registry_ref(lua, empty_dict_mt.map_or(Value::Nil, Value::Table))?,
            nil_ptr: nil.as_ref().map_or(0, |u| u.to_pointer() as usize),
            nil: registry_ref(lua, nil.map_or(Value::Nil, Value::UserData))?,
        })
    }

    /// Whether the userdata at `idx` is `vim.NIL`.
    ///
    /// # Safety
    /// `l` is valid and `idx` a valid index in it.
    unsafe fn is_nil(&self, l: *mut lua_State, idx: c_int) -> bool {
        // SAFETY: per the contract.
        self.nil_ptr != 0 && unsafe { ffi::lua_touserdata(l, idx) } as usize == self.nil_ptr
    }

    /// Whether the table at `idx` has `vim.empty_dict()`'s metatable.
    ///
    /// # Safety
    /// `l` is valid, `idx` a valid index in it, with room for 2 pushes.
    unsafe fn is_empty_dict(&self, l: *mut lua_State, idx: c_int) -> bool {
        // SAFETY: per the contract; pushes at most 2, pops them.
        unsafe {
            if self.empty_dict_mt == ffi::LUA_NOREF || ffi::lua_getmetatable(l, idx) == 0 {
                return false;
            }
            ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, self.empty_dict_mt as ffi::lua_Integer);
            let same = ffi::lua_rawequal(l, -1, -2) != 0;
            ffi::lua_settop(l, -3);
            same
        }
    }
}

// ---- mlua values <-> bytes ---------------------------------------------------------

/// mlua values to and from bytes, through the Lua stack of `lua` (the
/// state the codec was made in).
impl Codec {
    /// Encodes one Lua value.
    pub fn encode(&self, lua: &Lua, format: Format, value: &Value) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64);
        self.encode_into(lua, format, std::slice::from_ref(value), false, &mut out)?;
        Ok(out)
    }

    /// Encodes Lua values as one array (a call's arguments): errors say
    /// `(at [2])` for the second.
    pub fn encode_array(&self, lua: &Lua, format: Format, values: &[Value]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64);
        self.encode_into(lua, format, values, true, &mut out)?;
        Ok(out)
    }

    /// Appends an API function's result as msgpack; `handle`: its handle
    /// type, if any (see [`msgpack::write_result`]).
    pub fn encode_result(
        &self,
        lua: &Lua,
        value: &Value,
        handle: Option<(msgpack::Handle, bool)>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        lua.exec_raw_lua(|raw| {
            // SAFETY: the value is pushed, encoded and popped.
            unsafe {
                protected(raw.state(), |l| -> Result<()> {
                    if ffi::lua_checkstack(l, 4) == 0 {
                        return Err(Error::value("Lua stack overflow"));
                    }
                    raw.push_value(value)?;
                    let top = ffi::lua_gettop(l);
                    let r = msgpack::write_result(l, self, top, handle, out);
                    ffi::lua_settop(l, top - 1);
                    r.map_err(Error::value)
                })?
            }
        })
    }

    fn encode_into(
        &self,
        lua: &Lua,
        format: Format,
        values: &[Value],
        as_array: bool,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        match format {
            Format::Json => self.write_all(lua, values, as_array, &mut json::JsonWriter::new(out)),
            Format::Msgpack => self.write_all(lua, values, as_array, &mut msgpack::MsgpackWriter::new(out)),
        }
    }

    fn write_all<W: Writer>(&self, lua: &Lua, values: &[Value], as_array: bool, w: &mut W) -> Result<()> {
        if values.iter().all(is_plain) {
            return write_list(values, as_array, w, |value, w, path, _| write_plain(value, w, path));
        }
        lua.exec_raw_lua(|raw| {
            // SAFETY: each value is pushed, encoded and popped.
            unsafe {
                protected(raw.state(), |l| -> Result<()> {
                    if ffi::lua_checkstack(l, 4) == 0 {
                        return Err(Error::value("Lua stack overflow"));
                    }
                    write_list(values, as_array, w, |value, w, path, depth| {
                        raw.push_value(value).map_err(|e| crate::error::lua_message(&e))?;
                        let top = ffi::lua_gettop(l);
                        let r = write_value(l, self, top, w, path, depth);
                        ffi::lua_settop(l, top - 1);
                        r
                    })
                })?
            }
        })
    }

    /// Decodes one value of `format`.
    pub fn decode(&self, lua: &Lua, format: Format, bytes: &[u8]) -> Result<Value> {
        self.decode_with(lua, format, bytes, &[])
    }

    /// Decodes one value of `format`; with `functions` (the callbacks of
    /// its callback maps, in the order of [`callback_names`]), those maps
    /// become the functions.
    pub fn decode_with(&self, lua: &Lua, format: Format, bytes: &[u8], functions: &[Value]) -> Result<Value> {
        if !starts_container(format, bytes) {
            // (then it cannot hold a callback map either)
            let mut sink = PlainSink { lua, value: Value::Nil };
            read(format, bytes, &mut sink, false).map_err(Error::value)?;
            return Ok(sink.value);
        }
        lua.exec_raw_lua(|raw| {
            // SAFETY: the callback functions are pushed first, the value
            // above them; it is popped into a `Value`, then the functions.
            unsafe {
                protected(raw.state(), |l| -> Result<Value> {
                    let room = c_int::try_from(functions.len()).map_or(c_int::MAX, |n| n.saturating_add(4));
                    if ffi::lua_checkstack(l, room) == 0 {
                        return Err(Error::value("Lua stack overflow"));
                    }
                    let base = ffi::lua_gettop(l);
                    for f in functions {
                        raw.push_value(f)?;
                    }
                    let mut sink = LuaSink::new(l, self, base + 1);
                    let value = match read(format, bytes, &mut sink, !functions.is_empty()) {
                        Ok(()) => Ok(raw.pop_value()),
                        Err(e) => Err(Error::value(e)),
                    };
                    ffi::lua_settop(l, base);
                    value
                })?
            }
        })
    }
}

/// Writes `values`, or an array of them, calling `one(value, writer, path,
/// depth)` for each.
fn write_list<W: Writer>(
    values: &[Value],
    as_array: bool,
    w: &mut W,
    mut one: impl FnMut(&Value, &mut W, &Path, usize) -> std::result::Result<(), String>,
) -> Result<()> {
    if !as_array {
        return values.iter().try_for_each(|value| one(value, w, &Path::Root, 0)).map_err(Error::value);
    }
    w.array_start(values.len()).map_err(Error::value)?;
    for (i, value) in values.iter().enumerate() {
        w.element(i == 0);
        one(value, w, &Path::Index(&Path::Root, i + 1), 1).map_err(Error::value)?;
    }
    w.array_end();
    Ok(())
}

// ---- plain values: no Lua stack needed -----------------------------------------------
//
// A call's arguments and results are often one number or string. Those need
// no walk, and entering the Lua stack in protected mode would cost more
// than the rest of the encoding, so they take a short cut with the same
// rules: [`write_plain`] instead of [`write_value`], [`PlainSink`] instead
// of [`LuaSink`] (for a top-level value that is not an array or map).

/// Written without the Lua stack: not a table, not a userdata (which may be
/// `vim.NIL`), not a value that cannot be encoded (the walker says why).
fn is_plain(value: &Value) -> bool {
    matches!(value, Value::Nil | Value::Boolean(_) | Value::Integer(_) | Value::Number(_) | Value::String(_))
}

fn write_plain<W: Writer>(value: &Value, w: &mut W, path: &Path) -> std::result::Result<(), String> {
    match value {
        Value::Nil => w.nil(),
        Value::Boolean(b) => w.boolean(*b),
        Value::Integer(i) => w.number(Number::of(*i as f64)),
        Value::Number(n) => w.number(Number::of(*n)),
        Value::String(text) => w.string(&text.as_bytes()),
        _ => Err("not a plain value".into()),
    }
    .map_err(|what| path.locate(what))
}

/// Whether `bytes` hold an array or map (else a scalar, or something
/// invalid the reader will say more about).
fn starts_container(format: Format, bytes: &[u8]) -> bool {
    match format {
        Format::Json => matches!(bytes.iter().find(|b| !b.is_ascii_whitespace()), Some(b'[' | b'{')),
        Format::Msgpack => matches!(bytes.first(), Some(0x80..=0x9f | 0xdc..=0xdf)),
    }
}

/// Builds a top-level scalar as an mlua value.
struct PlainSink<'a> {
    lua: &'a Lua,
    value: Value,
}

impl PlainSink<'_> {
    fn set(&mut self, value: Value) -> std::result::Result<(), String> {
        self.value = value;
        Ok(())
    }
}

impl Sink for PlainSink<'_> {
    fn nil(&mut self, _nested: bool) -> std::result::Result<(), String> {
        self.set(Value::Nil)
    }
    fn boolean(&mut self, b: bool) -> std::result::Result<(), String> {
        self.set(Value::Boolean(b))
    }
    fn int(&mut self, i: i64) -> std::result::Result<(), String> {
        self.set(Value::Integer(i))
    }
    fn float(&mut self, f: f64) -> std::result::Result<(), String> {
        self.set(Value::Number(f))
    }
    fn bytes(&mut self, b: &[u8]) -> std::result::Result<(), String> {
        let text = self.lua.create_string(b).map_err(|e| crate::error::lua_message(&e))?;
        self.set(Value::String(text))
    }
    fn array_start(&mut self, _: usize) -> std::result::Result<(), String> {
        Err("an array where a plain value was expected".into())
    }
    fn array_item(&mut self, _: usize) -> std::result::Result<(), String> {
        Err("an array where a plain value was expected".into())
    }
    fn map_start(&mut self, _: usize) -> std::result::Result<(), String> {
        Err("a map where a plain value was expected".into())
    }
    fn map_entry(&mut self) -> std::result::Result<(), String> {
        Err("a map where a plain value was expected".into())
    }
    fn map_end(&mut self, _: usize) -> std::result::Result<(), String> {
        Err("a map where a plain value was expected".into())
    }
    fn callback(&mut self, _: &[u8]) -> std::result::Result<(), String> {
        Err("a map where a plain value was expected".into())
    }
}
