//! Lua <-> MessagePack, the encoding of the fast ABI (and Neovim's own),
//! done on the Lua stack with the raw C API: no mlua values in between, so
//! a 100,000-line buffer crosses in milliseconds.
//!
//! Rules (`:help wasm_nvim-msgpack`), as for JSON except:
//! - Strings are bytes: valid UTF-8 is written as `str`, anything else as
//!   `bin`; both decode to Lua strings, so no byte is lost.
//! - Floats are IEEE doubles: NaN and infinities pass.
//! - Extension types 0, 1, 2 (Neovim's Buffer, Window, Tabpage) decode to
//!   the handle number; API results of those types are written as them.
//! - A `{"__wasm_callback": "<export>"}` map becomes a Lua function, where
//!   the caller allows callbacks (`nvim_*` arguments).
//!
//! The parser is written once, over a [`Sink`]: [`LuaSink`] builds values on
//! the Lua stack, [`Callbacks`] only collects callback names (their Lua
//! functions are made first and handed to the decoder on the stack).

use std::ffi::{c_char, c_int};

use mlua::ffi::{self, lua_State};
use rmp::Marker;

use crate::convert::{CALLBACK_KEY, MAX_DEPTH};
use crate::error::{Error, Result};

/// Neovim's msgpack extension types for handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handle {
    Buffer = 0,
    Window = 1,
    Tabpage = 2,
}

impl Handle {
    /// The handle type of an API type name (`"Buffer"`), if it is one.
    pub fn of_type(name: &str) -> Option<Handle> {
        match name {
            "Buffer" => Some(Handle::Buffer),
            "Window" => Some(Handle::Window),
            "Tabpage" => Some(Handle::Tabpage),
            _ => None,
        }
    }
}

/// What the raw code needs from Neovim, as registry references.
#[derive(Debug, Clone, Copy)]
pub struct Refs {
    /// `getmetatable(vim.empty_dict())`, or `LUA_NOREF`.
    pub empty_dict_mt: c_int,
    /// `vim.NIL`, or `LUA_NOREF`.
    pub nil: c_int,
    /// `vim.NIL`'s address, to recognise it.
    pub nil_ptr: usize,
}

// ---- encoding: the Lua value at a stack index -> msgpack -------------------

fn write_err<E: std::fmt::Display>(e: E) -> String {
    format!("msgpack: {e}")
}

fn len32(n: usize) -> std::result::Result<u32, String> {
    u32::try_from(n).map_err(|_| "more than 2^32 elements".to_string())
}

fn write_handle(h: Handle, n: i64, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    let mut payload = Vec::with_capacity(9);
    rmp::encode::write_sint(&mut payload, n).map_err(write_err)?;
    rmp::encode::write_ext_meta(out, len32(payload.len())?, h as i8).map_err(write_err)?;
    out.extend_from_slice(&payload);
    Ok(())
}

/// Appends the msgpack of the value at `idx`. With `handle`, an integer (or
/// an array of them) is written as that handle type (an API result).
///
/// # Safety
/// `l` is a valid Lua state and `idx` a valid absolute index in it.
pub unsafe fn encode(
    l: *mut lua_State,
    refs: &Refs,
    idx: c_int,
    handle: Option<(Handle, bool)>,
    out: &mut Vec<u8>,
) -> std::result::Result<(), String> {
    // SAFETY: forwarded from the caller.
    unsafe {
        match (handle, ffi::lua_type(l, idx)) {
            (Some((h, false)), ffi::LUA_TNUMBER) => write_handle(h, ffi::lua_tonumber(l, idx) as i64, out),
            (Some((h, true)), ffi::LUA_TTABLE) => {
                let n = ffi::lua_objlen(l, idx);
                rmp::encode::write_array_len(out, len32(n)?).map_err(write_err)?;
                for i in 1..=n {
                    ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
                    let h_n = ffi::lua_tonumber(l, -1) as i64;
                    ffi::lua_settop(l, -2);
                    write_handle(h, h_n, out)?;
                }
                Ok(())
            }
            _ => encode_at(l, refs, idx, out, 0),
        }
    }
}

unsafe fn encode_at(
    l: *mut lua_State,
    refs: &Refs,
    idx: c_int,
    out: &mut Vec<u8>,
    depth: usize,
) -> std::result::Result<(), String> {
    // SAFETY: `idx` is a valid absolute index (callers push before recursing).
    unsafe {
        match ffi::lua_type(l, idx) {
            ffi::LUA_TNIL => rmp::encode::write_nil(out).map_err(write_err),
            ffi::LUA_TBOOLEAN => rmp::encode::write_bool(out, ffi::lua_toboolean(l, idx) != 0).map_err(write_err),
            ffi::LUA_TNUMBER => {
                let n = ffi::lua_tonumber(l, idx);
                if n.fract() == 0.0 && n.abs() < 9.2e18 {
                    rmp::encode::write_sint(out, n as i64).map(drop).map_err(write_err)
                } else {
                    rmp::encode::write_f64(out, n).map_err(write_err)
                }
            }
            ffi::LUA_TSTRING => {
                let mut len = 0usize;
                let ptr = ffi::lua_tolstring(l, idx, &mut len);
                let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len);
                if std::str::from_utf8(bytes).is_ok() {
                    rmp::encode::write_str_len(out, len32(len)?).map_err(write_err)?;
                } else {
                    rmp::encode::write_bin_len(out, len32(len)?).map_err(write_err)?;
                }
                out.extend_from_slice(bytes);
                Ok(())
            }
            ffi::LUA_TTABLE => encode_table(l, refs, idx, out, depth),
            ffi::LUA_TUSERDATA if ffi::lua_touserdata(l, idx) as usize == refs.nil_ptr && refs.nil_ptr != 0 => {
                rmp::encode::write_nil(out).map_err(write_err)
            }
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, idx).is_null() => {
                rmp::encode::write_nil(out).map_err(write_err)
            }
            t => Err(format!("cannot encode a {}", type_name(t))),
        }
    }
}

fn type_name(t: c_int) -> &'static str {
    match t {
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TUSERDATA => "userdata",
        ffi::LUA_TLIGHTUSERDATA => "light userdata",
        ffi::LUA_TTHREAD => "thread",
        10 => "cdata (a LuaJIT FFI value)",
        _ => "value of this type",
    }
}

unsafe fn encode_table(
    l: *mut lua_State,
    refs: &Refs,
    idx: c_int,
    out: &mut Vec<u8>,
    depth: usize,
) -> std::result::Result<(), String> {
    if depth >= MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} (a table that contains itself?)"));
    }
    // SAFETY: `idx` is a valid absolute index; the stack grows by at most
    // 3 per level, checked.
    unsafe {
        if ffi::lua_checkstack(l, 4) == 0 {
            return Err("Lua stack overflow".into());
        }
        let len = ffi::lua_objlen(l, idx);
        let (mut count, mut is_array) = (0usize, true);
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, idx) != 0 {
            if is_array {
                is_array = ffi::lua_type(l, -2) == ffi::LUA_TNUMBER && {
                    let k = ffi::lua_tonumber(l, -2);
                    k.fract() == 0.0 && k >= 1.0 && k <= len as f64
                };
            }
            count += 1;
            ffi::lua_settop(l, -2);
        }
        is_array &= count == len;
        if count == 0 && is_empty_dict(l, refs, idx) {
            is_array = false;
        }
        if is_array {
            rmp::encode::write_array_len(out, len32(len)?).map_err(write_err)?;
            for i in 1..=len {
                ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
                let r = encode_at(l, refs, ffi::lua_gettop(l), out, depth + 1);
                ffi::lua_settop(l, -2);
                r?;
            }
            return Ok(());
        }
        rmp::encode::write_map_len(out, len32(count)?).map_err(write_err)?;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, idx) != 0 {
            let top = ffi::lua_gettop(l);
            let key = match ffi::lua_type(l, top - 1) {
                ffi::LUA_TSTRING | ffi::LUA_TNUMBER => encode_at(l, refs, top - 1, out, depth + 1),
                t => Err(format!("cannot use a {} as a map key", type_name(t))),
            };
            let value = key.and_then(|()| encode_at(l, refs, top, out, depth + 1));
            ffi::lua_settop(l, -2);
            if let Err(e) = value {
                ffi::lua_settop(l, -2);
                return Err(e);
            }
        }
        Ok(())
    }
}

unsafe fn is_empty_dict(l: *mut lua_State, refs: &Refs, idx: c_int) -> bool {
    // SAFETY: `idx` is valid; pushes at most 2, pops them.
    unsafe {
        if refs.empty_dict_mt == ffi::LUA_NOREF || ffi::lua_getmetatable(l, idx) == 0 {
            return false;
        }
        ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, refs.empty_dict_mt as ffi::lua_Integer);
        let same = ffi::lua_rawequal(l, -1, -2) != 0;
        ffi::lua_settop(l, -3);
        same
    }
}

// ---- decoding: msgpack -> a Sink ---------------------------------------------

/// Receives a msgpack value's parts in order.
pub trait Sink {
    /// `nested`: inside an array or map.
    fn nil(&mut self, nested: bool) -> std::result::Result<(), String>;
    fn boolean(&mut self, b: bool) -> std::result::Result<(), String>;
    fn int(&mut self, i: i64) -> std::result::Result<(), String>;
    fn float(&mut self, f: f64) -> std::result::Result<(), String>;
    fn bytes(&mut self, b: &[u8]) -> std::result::Result<(), String>;
    fn array_start(&mut self, n: usize) -> std::result::Result<(), String>;
    /// After the value of element `i` (1-based).
    fn array_item(&mut self, i: usize) -> std::result::Result<(), String>;
    fn map_start(&mut self, n: usize) -> std::result::Result<(), String>;
    /// After a key and its value.
    fn map_entry(&mut self) -> std::result::Result<(), String>;
    fn map_end(&mut self, n: usize) -> std::result::Result<(), String>;
    fn callback(&mut self, name: &[u8]) -> std::result::Result<(), String>;
}

/// A msgpack reader over a byte slice.
pub struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    /// Maps of one `__wasm_callback` entry are callbacks.
    callbacks: bool,
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a [u8], callbacks: bool) -> Self {
        Parser { input, pos: 0, callbacks }
    }

    fn fail(&self, what: impl std::fmt::Display) -> String {
        format!("invalid msgpack at byte {}: {what}", self.pos)
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.input.len()
    }

    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let input: &'a [u8] = self.input;
        let end = self.pos.checked_add(n).filter(|&e| e <= input.len());
        let Some(end) = end else {
            return Err(self.fail(format!("{n} more bytes expected, {} left", self.remaining())));
        };
        let slice = &input[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn marker(&mut self) -> std::result::Result<Marker, String> {
        Ok(Marker::from_u8(self.take(1)?[0]))
    }

    fn uint(&mut self, n: usize) -> std::result::Result<u64, String> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn int(&mut self, n: usize) -> std::result::Result<i64, String> {
        let u = self.uint(n)?;
        let shift = 64 - 8 * n as u32;
        Ok(((u << shift) as i64) >> shift)
    }

    /// Reads an array header; the number of elements.
    pub fn array_len(&mut self) -> std::result::Result<usize, String> {
        match self.marker()? {
            Marker::FixArray(n) => Ok(n as usize),
            Marker::Array16 => Ok(self.uint(2)? as usize),
            Marker::Array32 => Ok(self.uint(4)? as usize),
            other => Err(self.fail(format!("arguments must be an array, got {other:?}"))),
        }
    }

    fn str_at(&self, pos: usize) -> Option<(&'a [u8], usize)> {
        let input: &'a [u8] = self.input;
        let (len, start) = match Marker::from_u8(*input.get(pos)?) {
            Marker::FixStr(n) => (n as usize, pos + 1),
            Marker::Str8 => (*input.get(pos + 1)? as usize, pos + 2),
            _ => return None,
        };
        Some((input.get(start..start + len)?, start + len))
    }

    /// Parses one value into `sink`.
    pub fn value(&mut self, sink: &mut impl Sink, depth: usize) -> std::result::Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(self.fail(format!("nested deeper than {MAX_DEPTH}")));
        }
        let marker = self.marker()?;
        match marker {
            Marker::Null => sink.nil(depth > 0),
            Marker::True => sink.boolean(true),
            Marker::False => sink.boolean(false),
            Marker::FixPos(n) => sink.int(i64::from(n)),
            Marker::FixNeg(n) => sink.int(i64::from(n)),
            Marker::U8 => sink.int(self.uint(1)? as i64),
            Marker::U16 => sink.int(self.uint(2)? as i64),
            Marker::U32 => sink.int(self.uint(4)? as i64),
            Marker::U64 => {
                let u = self.uint(8)?;
                match i64::try_from(u) {
                    Ok(i) => sink.int(i),
                    Err(_) => sink.float(u as f64),
                }
            }
            Marker::I8 => sink.int(self.int(1)?),
            Marker::I16 => sink.int(self.int(2)?),
            Marker::I32 => sink.int(self.int(4)?),
            Marker::I64 => sink.int(self.int(8)?),
            Marker::F32 => sink.float(f64::from(f32::from_bits(self.uint(4)? as u32))),
            Marker::F64 => sink.float(f64::from_bits(self.uint(8)?)),
            Marker::FixStr(n) => {
                let b = self.take(n as usize)?;
                sink.bytes(b)
            }
            Marker::Str8 | Marker::Bin8 | Marker::Str16 | Marker::Bin16 | Marker::Str32 | Marker::Bin32 => {
                let width = match marker {
                    Marker::Str8 | Marker::Bin8 => 1,
                    Marker::Str16 | Marker::Bin16 => 2,
                    _ => 4,
                };
                let n = self.uint(width)? as usize;
                let b = self.take(n)?;
                sink.bytes(b)
            }
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => {
                let n = match marker {
                    Marker::FixArray(n) => n as usize,
                    Marker::Array16 => self.uint(2)? as usize,
                    _ => self.uint(4)? as usize,
                };
                // Each element takes a byte at least: a length beyond the
                // input is an error before anything is allocated for it.
                if n > self.remaining() {
                    return Err(self.fail(format!("array of {n} elements in {} bytes", self.remaining())));
                }
                sink.array_start(n)?;
                for i in 1..=n {
                    self.value(sink, depth + 1)?;
                    sink.array_item(i)?;
                }
                Ok(())
            }
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => {
                let n = match marker {
                    Marker::FixMap(n) => n as usize,
                    Marker::Map16 => self.uint(2)? as usize,
                    _ => self.uint(4)? as usize,
                };
                if n > self.remaining() / 2 {
                    return Err(self.fail(format!("map of {n} entries in {} bytes", self.remaining())));
                }
                if n == 1
                    && self.callbacks
                    && let Some((key, after)) = self.str_at(self.pos)
                    && key == CALLBACK_KEY.as_bytes()
                    && let Some((name, end)) = self.str_at(after)
                {
                    self.pos = end;
                    return sink.callback(name);
                }
                sink.map_start(n)?;
                for _ in 0..n {
                    self.value(sink, depth + 1)?;
                    self.value(sink, depth + 1)?;
                    sink.map_entry()?;
                }
                sink.map_end(n)
            }
            Marker::FixExt1 | Marker::FixExt2 | Marker::FixExt4 | Marker::FixExt8 | Marker::FixExt16 => {
                let n = match marker {
                    Marker::FixExt1 => 1,
                    Marker::FixExt2 => 2,
                    Marker::FixExt4 => 4,
                    Marker::FixExt8 => 8,
                    _ => 16,
                };
                self.ext(n, sink)
            }
            Marker::Ext8 | Marker::Ext16 | Marker::Ext32 => {
                let width = match marker {
                    Marker::Ext8 => 1,
                    Marker::Ext16 => 2,
                    _ => 4,
                };
                let n = self.uint(width)? as usize;
                self.ext(n, sink)
            }
            Marker::Reserved => Err(self.fail("reserved marker 0xc1")),
        }
    }

    /// Neovim's handles (extension types 0, 1, 2) are their number.
    fn ext(&mut self, n: usize, sink: &mut impl Sink) -> std::result::Result<(), String> {
        let ty = self.take(1)?[0] as i8;
        let payload = self.take(n)?;
        if !(0..=2).contains(&ty) {
            return Err(self.fail(format!("unsupported extension type {ty}")));
        }
        let mut rd = payload;
        let handle: i64 =
            rmp::decode::read_int(&mut rd).map_err(|_| self.fail("a handle extension must hold an integer"))?;
        sink.int(handle)
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

/// Builds values on a Lua stack. Callback functions were pushed before, at
/// `callbacks_at`, `callbacks_at + 1`, ... in the order they appear.
pub struct LuaSink<'a> {
    pub l: *mut lua_State,
    pub refs: &'a Refs,
    pub callbacks_at: c_int,
    pub next_callback: c_int,
}

impl LuaSink<'_> {
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
            if nested && self.refs.nil != ffi::LUA_NOREF {
                ffi::lua_rawgeti(self.l, ffi::LUA_REGISTRYINDEX, self.refs.nil as ffi::lua_Integer);
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
            let nil_key = key_type == ffi::LUA_TNIL
                || (key_type == ffi::LUA_TUSERDATA && ffi::lua_touserdata(self.l, -2) as usize == self.refs.nil_ptr);
            if nil_key {
                return Err("nil map key".into());
            }
            ffi::lua_rawset(self.l, -3);
        }
        Ok(())
    }
    fn map_end(&mut self, n: usize) -> std::result::Result<(), String> {
        if n == 0 && self.refs.empty_dict_mt != ffi::LUA_NOREF {
            // SAFETY: the new table is on top.
            unsafe {
                ffi::lua_rawgeti(self.l, ffi::LUA_REGISTRYINDEX, self.refs.empty_dict_mt as ffi::lua_Integer);
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

/// The export names of the callback maps in `bytes` (none without the
/// marker's text in it, which is checked first).
pub fn callback_names(bytes: &[u8]) -> Result<Vec<String>> {
    if memchr::memmem::find(bytes, CALLBACK_KEY.as_bytes()).is_none() {
        return Ok(Vec::new());
    }
    let mut p = Parser::new(bytes, true);
    let mut names = Callbacks::default();
    p.value(&mut names, 0).map_err(Error::value)?;
    Ok(names.0)
}
