//! The Lua value codec: Lua values to and from JSON (the seed ABI) and
//! MessagePack (the msgpack ABI, Neovim's own encoding).
//!
//! The rules live here once, for both formats. Encoding, [`write_value`]
//! walks a value on the Lua stack (the raw C API: no mlua values in
//! between, so a 100,000-line buffer crosses in milliseconds) and hands its
//! parts to a [`Writer`] — [`json::JsonWriter`] or
//! [`msgpack::MsgpackWriter`]. Decoding, a reader ([`json::read`],
//! [`msgpack::Parser`]) hands the parts of the bytes to a [`Sink`];
//! [`LuaSink`] builds the Lua value from them. A format only decides how
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

use std::ffi::{c_char, c_int};
use std::fmt;
use std::sync::LazyLock;

use memchr::memmem::Finder;

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

// ---- encoding: a Lua value -> a Writer -----------------------------------------

/// A Lua number as it is written: an integer when it is one in i64 range
/// (-0 included), else a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Integer(i64),
    Float(f64),
}

impl Number {
    #[inline]
    pub fn of(n: f64) -> Number {
        // ±2^63 are exact as doubles; in between, a double without a
        // fraction converts to i64 and back unchanged (`fract()` would cost
        // a libm call).
        if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) && (n as i64) as f64 == n {
            Number::Integer(n as i64)
        } else {
            Number::Float(n)
        }
    }
}

/// What a number key is called in a path and, in JSON, as a key.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Integer(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// Receives a Lua value's parts in order, and writes them in its format.
/// An `Err` says what the format cannot carry; the walker adds where.
pub trait Writer {
    /// How the format's errors name a map key: "an object key".
    const KEY: &'static str;
    /// The format writes keys as text, so a number key and a string key may
    /// collide: the walker tells [`Writer::map_start`] when a map has both.
    const TEXT_KEYS: bool;
    fn nil(&mut self) -> std::result::Result<(), String>;
    fn boolean(&mut self, b: bool) -> std::result::Result<(), String>;
    fn number(&mut self, n: Number) -> std::result::Result<(), String>;
    fn string(&mut self, bytes: &[u8]) -> std::result::Result<(), String>;
    fn array_start(&mut self, len: usize) -> std::result::Result<(), String>;
    /// Before each element of an array.
    fn element(&mut self, first: bool);
    fn array_end(&mut self);
    /// `mixed`: the map has number and string keys (only told when
    /// [`Writer::TEXT_KEYS`]).
    fn map_start(&mut self, count: usize, mixed: bool) -> std::result::Result<(), String>;
    /// A key (its value follows).
    fn key_string(&mut self, bytes: &[u8], first: bool) -> std::result::Result<(), String>;
    fn key_number(&mut self, n: Number, first: bool) -> std::result::Result<(), String>;
    fn map_end(&mut self);
}

/// Where in the value being encoded the walker is, built on the native
/// stack and only turned into text for an error.
pub enum Path<'a> {
    Root,
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, Key<'a>),
}

/// A map key in a [`Path`].
pub enum Key<'a> {
    Text(&'a [u8]),
    Number(Number),
}

impl Path<'_> {
    /// `what`, followed by where it is (nothing at the top).
    pub fn locate(&self, what: impl fmt::Display) -> String {
        match self {
            Path::Root => what.to_string(),
            path => format!("{what} (at {path})"),
        }
    }
}

/// Lua-style: `[2].name` is the field `name` of the second element.
impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
            Path::Key(p, k) => {
                if !matches!(p, Path::Root) {
                    write!(f, "{p}.")?;
                }
                match k {
                    Key::Text(bytes) => f.write_str(&String::from_utf8_lossy(bytes)),
                    Key::Number(n) => write!(f, "{n}"),
                }
            }
        }
    }
}

/// The bytes of the string at `idx`.
///
/// # Safety
/// `idx` is a valid index holding a string (not a number: converting one
/// in place would confuse `lua_next`); the slice lives as long as the
/// string stays on the stack.
unsafe fn string_at<'a>(l: *mut lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    // SAFETY: per the contract; Lua strings are immutable.
    unsafe {
        let ptr = ffi::lua_tolstring(l, idx, &mut len);
        std::slice::from_raw_parts(ptr.cast::<u8>(), len)
    }
}

/// Writes the Lua value at stack index `idx` (`depth` tables deep, at
/// `path`) with `w`. The error says what and where.
///
/// # Safety
/// `l` is a valid Lua state and `idx` a valid absolute index in it.
pub unsafe fn write_value<W: Writer>(
    l: *mut lua_State,
    c: &Codec,
    idx: c_int,
    w: &mut W,
    path: &Path,
    depth: usize,
) -> std::result::Result<(), String> {
    // SAFETY: `idx` is a valid absolute index (callers push before recursing).
    let done = unsafe {
        match ffi::lua_type(l, idx) {
            ffi::LUA_TNIL => w.nil(),
            ffi::LUA_TBOOLEAN => w.boolean(ffi::lua_toboolean(l, idx) != 0),
            ffi::LUA_TNUMBER => w.number(Number::of(ffi::lua_tonumber(l, idx))),
            ffi::LUA_TSTRING => w.string(string_at(l, idx)),
            ffi::LUA_TTABLE => return write_table(l, c, idx, w, path, depth),
            ffi::LUA_TUSERDATA if c.is_nil(l, idx) => w.nil(),
            // mlua's null
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, idx).is_null() => w.nil(),
            t => Err(format!("cannot encode a {}", lua_type_name(t))),
        }
    };
    done.map_err(|what| path.locate(what))
}

unsafe fn write_table<W: Writer>(
    l: *mut lua_State,
    c: &Codec,
    idx: c_int,
    w: &mut W,
    path: &Path,
    depth: usize,
) -> std::result::Result<(), String> {
    if depth >= MAX_NESTING {
        return Err(path.locate(format_args!("nested deeper than {MAX_NESTING} (a table that contains itself?)")));
    }
    // SAFETY: `idx` is a valid absolute index; the stack grows by at most
    // 3 per level, checked.
    unsafe {
        if ffi::lua_checkstack(l, 4) == 0 {
            return Err(path.locate("Lua stack overflow"));
        }
        // One pass over the keys decides array or map. Values are not kept:
        // each would hold a stack slot, and a large table runs out of them.
        let len = ffi::lua_objlen(l, idx);
        let (mut count, mut number_keys, mut is_array) = (0usize, 0usize, true);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, idx) != 0 {
            // (a key's type is only needed while the table may be an array,
            // or when the format counts number keys)
            if (is_array || W::TEXT_KEYS) && ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
                number_keys += 1;
                if is_array {
                    let k = ffi::lua_tonumber(l, -2);
                    is_array = k >= 1.0 && k <= len as f64 && (k as usize) as f64 == k;
                }
            } else {
                is_array = false;
            }
            count += 1;
            ffi::lua_settop(l, -2);
        }
        is_array &= count == len;
        if count == 0 && c.is_empty_dict(l, idx) {
            is_array = false;
        }
        if is_array {
            w.array_start(len).map_err(|e| path.locate(e))?;
            for i in 1..=len {
                ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
                w.element(i == 1);
                let r = write_value(l, c, ffi::lua_gettop(l), w, &Path::Index(path, i), depth + 1);
                ffi::lua_settop(l, -2);
                r?;
            }
            w.array_end();
            return Ok(());
        }
        w.map_start(count, number_keys > 0 && number_keys < count).map_err(|e| path.locate(e))?;
        let mut first = true;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, idx) != 0 {
            let top = ffi::lua_gettop(l);
            let r = write_entry(l, c, top, w, path, depth, first);
            first = false;
            if r.is_err() {
                ffi::lua_settop(l, top - 2);
                return r;
            }
            ffi::lua_settop(l, top - 1);
        }
        w.map_end();
        Ok(())
    }
}

/// Writes the key at `top - 1` and the value at `top` of a map at `path`.
unsafe fn write_entry<W: Writer>(
    l: *mut lua_State,
    c: &Codec,
    top: c_int,
    w: &mut W,
    path: &Path,
    depth: usize,
    first: bool,
) -> std::result::Result<(), String> {
    // SAFETY: the key and value are at `top - 1` and `top`.
    unsafe {
        let key = match ffi::lua_type(l, top - 1) {
            ffi::LUA_TSTRING => {
                let text = string_at(l, top - 1);
                w.key_string(text, first).map_err(|e| path.locate(e))?;
                Key::Text(text)
            }
            ffi::LUA_TNUMBER => {
                let n = Number::of(ffi::lua_tonumber(l, top - 1));
                w.key_number(n, first).map_err(|e| path.locate(e))?;
                Key::Number(n)
            }
            t => return Err(path.locate(format_args!("cannot use a {} as {}", lua_type_name(t), W::KEY))),
        };
        write_value(l, c, top, w, &Path::Key(path, key), depth + 1)
    }
}

fn lua_type_name(t: c_int) -> &'static str {
    match t {
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TUSERDATA => "userdata",
        ffi::LUA_TLIGHTUSERDATA => "light userdata",
        ffi::LUA_TTHREAD => "thread",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TNIL => "nil",
        10 => "cdata (a LuaJIT FFI value)",
        _ => "value of this type",
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

// ---- decoding: a reader -> a Sink ------------------------------------------------

/// Receives a decoded value's parts in order (from [`json::read`] or
/// [`msgpack::Parser`]).
pub trait Sink {
    /// `nested`: inside an array or map.
    fn nil(&mut self, nested: bool) -> std::result::Result<(), String>;
    fn boolean(&mut self, b: bool) -> std::result::Result<(), String>;
    fn int(&mut self, i: i64) -> std::result::Result<(), String>;
    fn float(&mut self, f: f64) -> std::result::Result<(), String>;
    fn bytes(&mut self, b: &[u8]) -> std::result::Result<(), String>;
    /// `n`: the element count, or 0 when the format does not say.
    fn array_start(&mut self, n: usize) -> std::result::Result<(), String>;
    /// After the value of element `i` (1-based).
    fn array_item(&mut self, i: usize) -> std::result::Result<(), String>;
    /// `n`: the entry count, or 0 when the format does not say.
    fn map_start(&mut self, n: usize) -> std::result::Result<(), String>;
    /// After a key and its value.
    fn map_entry(&mut self) -> std::result::Result<(), String>;
    /// `n`: how many entries the map had.
    fn map_end(&mut self, n: usize) -> std::result::Result<(), String>;
    /// A callback map, `{"__wasm_callback": name}` (only when the reader
    /// was asked for callbacks).
    fn callback(&mut self, name: &[u8]) -> std::result::Result<(), String>;
}

/// Reads one value of `format` from all of `bytes` into `sink`.
pub fn read(format: Format, bytes: &[u8], sink: &mut impl Sink, callbacks: bool) -> std::result::Result<(), String> {
    match format {
        Format::Json => json::read(bytes, sink, callbacks),
        Format::Msgpack => msgpack::read(bytes, sink, callbacks),
    }
}

/// Collects the export names of callback maps, in order.
#[derive(Default)]
pub struct Callbacks(pub Vec<String>);

impl Sink for Callbacks {
    fn nil(&mut self, _: bool) -> std::result::Result<(), String> {
        Ok(())
    }
    fn boolean(&mut self, _: bool) -> std::result::Result<(), String> {
        Ok(())
    }
    fn int(&mut self, _: i64) -> std::result::Result<(), String> {
        Ok(())
    }
    fn float(&mut self, _: f64) -> std::result::Result<(), String> {
        Ok(())
    }
    fn bytes(&mut self, _: &[u8]) -> std::result::Result<(), String> {
        Ok(())
    }
    fn array_start(&mut self, _: usize) -> std::result::Result<(), String> {
        Ok(())
    }
    fn array_item(&mut self, _: usize) -> std::result::Result<(), String> {
        Ok(())
    }
    fn map_start(&mut self, _: usize) -> std::result::Result<(), String> {
        Ok(())
    }
    fn map_entry(&mut self) -> std::result::Result<(), String> {
        Ok(())
    }
    fn map_end(&mut self, _: usize) -> std::result::Result<(), String> {
        Ok(())
    }
    fn callback(&mut self, name: &[u8]) -> std::result::Result<(), String> {
        self.0.push(String::from_utf8_lossy(name).into_owned());
        Ok(())
    }
}

/// The export names of the callback maps in `bytes`, in order (none
/// without the key's text in them, which is checked first).
#[inline]
pub fn callback_names(format: Format, bytes: &[u8]) -> Result<Vec<String>> {
    // Most calls have no callback: this runs on every API call, so the
    // searchers are made once.
    static KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(CALLBACK_KEY));
    static ESCAPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("\\u"));
    if bytes.len() < CALLBACK_KEY.len() {
        return Ok(Vec::new());
    }
    // a JSON string may spell the key with escapes
    if KEY.find(bytes).is_none() && (format == Format::Msgpack || ESCAPE.find(bytes).is_none()) {
        return Ok(Vec::new());
    }
    let mut names = Callbacks::default();
    read(format, bytes, &mut names, true).map_err(Error::value)?;
    Ok(names.0)
}

/// Builds values on a Lua stack. Callback functions were pushed before, at
/// `callbacks_at`, `callbacks_at + 1`, ... in the order they appear.
pub struct LuaSink<'a> {
    l: *mut lua_State,
    c: &'a Codec,
    callbacks_at: c_int,
    next_callback: c_int,
}

impl<'a> LuaSink<'a> {
    /// A sink pushing onto `l`, which must stay valid while it is used, with
    /// room for a top-level value; callback maps take the functions at
    /// `callbacks_at` onwards (0: there are none).
    pub fn new(l: *mut lua_State, c: &'a Codec, callbacks_at: c_int) -> Self {
        LuaSink { l, c, callbacks_at, next_callback: 0 }
    }

    fn room(&self) -> std::result::Result<(), String> {
        // SAFETY: `l` is a valid state (LuaSink's contract).
        if unsafe { ffi::lua_checkstack(self.l, 4) } == 0 { Err("Lua stack overflow".into()) } else { Ok(()) }
    }
}

/// The pushes below only need a valid state and stack room, which `room`
/// checks for each container (scalars are pushed into containers or at
/// the top level, where the caller made room).
impl Sink for LuaSink<'_> {
    fn nil(&mut self, nested: bool) -> std::result::Result<(), String> {
        // SAFETY: see the impl's comment.
        unsafe {
            if nested && self.c.nil != ffi::LUA_NOREF {
                ffi::lua_rawgeti(self.l, ffi::LUA_REGISTRYINDEX, self.c.nil as ffi::lua_Integer);
            } else {
                ffi::lua_pushnil(self.l);
            }
        }
        Ok(())
    }
    fn boolean(&mut self, b: bool) -> std::result::Result<(), String> {
        // SAFETY: see the impl's comment.
        unsafe { ffi::lua_pushboolean(self.l, c_int::from(b)) };
        Ok(())
    }
    fn int(&mut self, i: i64) -> std::result::Result<(), String> {
        // SAFETY: see the impl's comment.
        unsafe { ffi::lua_pushnumber(self.l, i as f64) };
        Ok(())
    }
    fn float(&mut self, f: f64) -> std::result::Result<(), String> {
        // SAFETY: see the impl's comment.
        unsafe { ffi::lua_pushnumber(self.l, f) };
        Ok(())
    }
    fn bytes(&mut self, b: &[u8]) -> std::result::Result<(), String> {
        // SAFETY: see the impl's comment; `b` is valid for its length.
        unsafe { ffi::lua_pushlstring(self.l, b.as_ptr().cast::<c_char>(), b.len()) };
        Ok(())
    }
    fn array_start(&mut self, n: usize) -> std::result::Result<(), String> {
        self.room()?;
        // SAFETY: see the impl's comment.
        unsafe { ffi::lua_createtable(self.l, c_int::try_from(n).unwrap_or(0), 0) };
        Ok(())
    }
    fn array_item(&mut self, i: usize) -> std::result::Result<(), String> {
        // SAFETY: the table is below the element just pushed.
        unsafe { ffi::lua_rawseti(self.l, -2, i as ffi::lua_Integer) };
        Ok(())
    }
    fn map_start(&mut self, n: usize) -> std::result::Result<(), String> {
        self.room()?;
        // SAFETY: see the impl's comment.
        unsafe { ffi::lua_createtable(self.l, 0, c_int::try_from(n).unwrap_or(0)) };
        Ok(())
    }
    fn map_entry(&mut self) -> std::result::Result<(), String> {
        // SAFETY: table, key, value are the top three.
        unsafe {
            let key_type = ffi::lua_type(self.l, -2);
            if key_type == ffi::LUA_TNIL || (key_type == ffi::LUA_TUSERDATA && self.c.is_nil(self.l, -2)) {
                return Err("nil map key".into());
            }
            ffi::lua_rawset(self.l, -3);
        }
        Ok(())
    }
    fn map_end(&mut self, n: usize) -> std::result::Result<(), String> {
        if n == 0 && self.c.empty_dict_mt != ffi::LUA_NOREF {
            // SAFETY: the new table is on top.
            unsafe {
                ffi::lua_rawgeti(self.l, ffi::LUA_REGISTRYINDEX, self.c.empty_dict_mt as ffi::lua_Integer);
                ffi::lua_setmetatable(self.l, -2);
            }
        }
        Ok(())
    }
    fn callback(&mut self, _name: &[u8]) -> std::result::Result<(), String> {
        // SAFETY: the caller pushed one function per callback map, in order.
        unsafe { ffi::lua_pushvalue(self.l, self.callbacks_at + self.next_callback) };
        self.next_callback += 1;
        Ok(())
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
