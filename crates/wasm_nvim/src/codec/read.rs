//! Decoding: a reader (JSON or msgpack) feeds a [`Sink`]; [`LuaSink`]
//! builds the Lua values, [`Callbacks`] only collects callback names.

use std::ffi::{c_char, c_int};
use std::sync::LazyLock;

use memchr::memmem::Finder;
use mlua::ffi::{self, lua_State};

use super::{CALLBACK_KEY, Codec, Format, json, msgpack};
use crate::error::{Error, Result};

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
