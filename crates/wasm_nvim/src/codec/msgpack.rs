//! MessagePack, the msgpack ABI's encoding (and Neovim's own): how the
//! codec's parts look as msgpack, and a bounds-checked reader ([`Parser`])
//! that hands msgpack's parts to a [`Sink`].
//!
//! msgpack carries what JSON cannot: bytes (valid UTF-8 is written as
//! `str`, anything else as `bin`; both read as Lua strings), NaN and
//! infinities, and Neovim's handle extension types 0, 1, 2 (Buffer,
//! Window, Tabpage), read as the handle number.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};
use rmp::Marker;

use super::{CALLBACK_KEY, Codec, MAX_NESTING, Number, Path, Sink, Writer, write_value};

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

// ---- writing -------------------------------------------------------------------

fn write_err<E: std::fmt::Display>(e: E) -> String {
    format!("msgpack: {e}")
}

fn len32(n: usize) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| "more than 2^32 elements".to_string())
}

/// Writes the walker's parts as msgpack.
pub struct MsgpackWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> MsgpackWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        MsgpackWriter { out }
    }

    fn handle(&mut self, h: Handle, n: i64) -> Result<(), String> {
        let mut payload = Vec::with_capacity(9);
        rmp::encode::write_sint(&mut payload, n).map_err(write_err)?;
        rmp::encode::write_ext_meta(self.out, len32(payload.len())?, h as i8).map_err(write_err)?;
        self.out.extend_from_slice(&payload);
        Ok(())
    }
}

impl Writer for MsgpackWriter<'_> {
    const KEY: &'static str = "a map key";
    const TEXT_KEYS: bool = false;

    #[inline]
    fn nil(&mut self) -> Result<(), String> {
        rmp::encode::write_nil(self.out).map_err(write_err)
    }

    #[inline]
    fn boolean(&mut self, b: bool) -> Result<(), String> {
        rmp::encode::write_bool(self.out, b).map_err(write_err)
    }

    #[inline]
    fn number(&mut self, n: Number) -> Result<(), String> {
        match n {
            Number::Integer(i) => rmp::encode::write_sint(self.out, i).map(drop).map_err(write_err),
            Number::Float(f) => rmp::encode::write_f64(self.out, f).map_err(write_err),
        }
    }

    #[inline]
    fn string(&mut self, bytes: &[u8]) -> Result<(), String> {
        if std::str::from_utf8(bytes).is_ok() {
            rmp::encode::write_str_len(self.out, len32(bytes.len())?).map_err(write_err)?;
        } else {
            rmp::encode::write_bin_len(self.out, len32(bytes.len())?).map_err(write_err)?;
        }
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    #[inline]
    fn array_start(&mut self, len: usize) -> Result<(), String> {
        rmp::encode::write_array_len(self.out, len32(len)?).map(drop).map_err(write_err)
    }

    #[inline]
    fn element(&mut self, _first: bool) {}

    #[inline]
    fn array_end(&mut self) {}

    #[inline]
    fn map_start(&mut self, count: usize, _mixed: bool) -> Result<(), String> {
        rmp::encode::write_map_len(self.out, len32(count)?).map(drop).map_err(write_err)
    }

    #[inline]
    fn key_string(&mut self, bytes: &[u8], _first: bool) -> Result<(), String> {
        self.string(bytes)
    }

    #[inline]
    fn key_number(&mut self, n: Number, _first: bool) -> Result<(), String> {
        self.number(n)
    }

    #[inline]
    fn map_end(&mut self) {}
}

/// Appends an API function's result, the value at `idx`, to `out`. With
/// `handle`, an integer (or, `(_, true)`, an array of them) is written as
/// that handle type; anything else as the codec writes any value.
///
/// # Safety
/// `l` is a valid Lua state and `idx` a valid absolute index in it.
pub unsafe fn write_result(
    l: *mut lua_State,
    c: &Codec,
    idx: c_int,
    handle: Option<(Handle, bool)>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mut w = MsgpackWriter::new(out);
    // SAFETY: forwarded from the caller.
    unsafe {
        match (handle, ffi::lua_type(l, idx)) {
            (Some((h, false)), ffi::LUA_TNUMBER) => w.handle(h, ffi::lua_tonumber(l, idx) as i64),
            (Some((h, true)), ffi::LUA_TTABLE) => {
                let n = ffi::lua_objlen(l, idx);
                w.array_start(n)?;
                for i in 1..=n {
                    ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
                    let h_n = ffi::lua_tonumber(l, -1) as i64;
                    ffi::lua_settop(l, -2);
                    w.handle(h, h_n)?;
                }
                Ok(())
            }
            _ => write_value(l, c, idx, &mut w, &Path::Root, 0),
        }
    }
}

// ---- reading -------------------------------------------------------------------

/// Reads one msgpack value (and nothing after it) from `bytes` into
/// `sink`; no bytes at all are `nil`. With `callbacks`, maps
/// `{"__wasm_callback": "<name>"}` are callbacks.
pub fn read(bytes: &[u8], sink: &mut impl Sink, callbacks: bool) -> Result<(), String> {
    if bytes.is_empty() {
        return sink.nil(false);
    }
    let mut p = Parser::new(bytes, callbacks);
    p.value(sink, 0)?;
    if p.at_end() { Ok(()) } else { Err("bytes after the value".into()) }
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

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let input: &'a [u8] = self.input;
        let end = self.pos.checked_add(n).filter(|&e| e <= input.len());
        let Some(end) = end else {
            return Err(self.fail(format!("{n} more bytes expected, {} left", self.remaining())));
        };
        let slice = &input[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn marker(&mut self) -> Result<Marker, String> {
        Ok(Marker::from_u8(self.take(1)?[0]))
    }

    fn uint(&mut self, n: usize) -> Result<u64, String> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn int(&mut self, n: usize) -> Result<i64, String> {
        let u = self.uint(n)?;
        let shift = 64 - 8 * n as u32;
        Ok(((u << shift) as i64) >> shift)
    }

    /// Reads an array header; the number of elements.
    pub fn array_len(&mut self) -> Result<usize, String> {
        match self.marker()? {
            Marker::FixArray(n) => Ok(n as usize),
            Marker::Array16 => Ok(self.uint(2)? as usize),
            Marker::Array32 => Ok(self.uint(4)? as usize),
            other => Err(self.fail(format!("arguments must be an array, got {other:?}"))),
        }
    }

    /// The string at `pos` and the position after it, if there is one.
    fn str_at(&self, pos: usize) -> Option<(&'a [u8], usize)> {
        let input: &'a [u8] = self.input;
        let be = |bytes: &[u8]| bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        let (len, start) = match Marker::from_u8(*input.get(pos)?) {
            Marker::FixStr(n) => (n as usize, pos + 1),
            Marker::Str8 => (be(input.get(pos + 1..pos + 2)?), pos + 2),
            Marker::Str16 => (be(input.get(pos + 1..pos + 3)?), pos + 3),
            Marker::Str32 => (be(input.get(pos + 1..pos + 5)?), pos + 5),
            _ => return None,
        };
        let end = start.checked_add(len)?;
        Some((input.get(start..end)?, end))
    }

    /// Parses one value, `depth` arrays and maps deep, into `sink`.
    pub fn value(&mut self, sink: &mut impl Sink, depth: usize) -> Result<(), String> {
        if depth > MAX_NESTING {
            return Err(self.fail(format!("nested deeper than {MAX_NESTING}")));
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
    fn ext(&mut self, n: usize, sink: &mut impl Sink) -> Result<(), String> {
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
