//! Encoding: one walker over a Lua value on the Lua stack, writing it
//! through a [`Writer`] (JSON or msgpack) under the rules in `mod.rs`.

use std::ffi::c_int;
use std::fmt;

use mlua::Value;
use mlua::ffi::{self, lua_State};

use super::{Codec, MAX_NESTING};

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
