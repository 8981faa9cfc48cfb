//! Lua <-> MessagePack, the encoding of the fast ABI (and Neovim's own).
//!
//! Written directly on rmp's primitives rather than through serde: the
//! fast ABI needs what serde's data model hides — binary strings and
//! extension types — and it is the hot path.
//!
//! Rules (`:help wasm_nvim-msgpack`), as for JSON except:
//! - Strings are bytes: valid UTF-8 is written as `str`, anything else as
//!   `bin`; both decode to Lua strings, so no byte is lost.
//! - Floats are IEEE doubles: NaN and infinities pass.
//! - Extension types 0, 1, 2 (Neovim's Buffer, Window, Tabpage) decode to
//!   the handle number; API results of those types are written as them.

use mlua::{Lua, Table, Value};
use rmp::Marker;

use crate::convert::{CALLBACK_KEY, Conv, MAX_DEPTH, MakeCallback, Shape, classify};
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

fn write_err<E: std::fmt::Display>(e: E) -> Error {
    Error::value(format!("msgpack: {e}"))
}

/// Appends the msgpack of `value` to `out`.
pub fn encode(conv: &Conv, value: &Value, out: &mut Vec<u8>) -> Result<()> {
    encode_at(conv, value, out, 0)
}

/// Appends a msgpack array of `values` (a call's arguments) to `out`.
pub fn encode_array(conv: &Conv, values: &[Value], out: &mut Vec<u8>) -> Result<()> {
    rmp::encode::write_array_len(out, len32(values.len())?).map_err(write_err)?;
    values.iter().try_for_each(|v| encode_at(conv, v, out, 1))
}

/// Appends an API result: handles of `handle` type (or arrays of them, per
/// the API's return type) as extension types, anything else as usual.
pub fn encode_result(conv: &Conv, value: &Value, handle: Option<(Handle, bool)>, out: &mut Vec<u8>) -> Result<()> {
    match (handle, value) {
        (Some((h, false)), Value::Integer(n)) => write_handle(h, *n, out),
        (Some((h, true)), Value::Table(t)) => {
            let items: Vec<i64> = t.sequence_values::<i64>().collect::<mlua::Result<_>>()?;
            rmp::encode::write_array_len(out, len32(items.len())?).map_err(write_err)?;
            items.into_iter().try_for_each(|n| write_handle(h, n, out))
        }
        _ => encode(conv, value, out),
    }
}

fn write_handle(h: Handle, n: i64, out: &mut Vec<u8>) -> Result<()> {
    let mut payload = Vec::with_capacity(9);
    rmp::encode::write_sint(&mut payload, n).map_err(write_err)?;
    rmp::encode::write_ext_meta(out, len32(payload.len())?, h as i8).map_err(write_err)?;
    out.extend_from_slice(&payload);
    Ok(())
}

fn len32(n: usize) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::value("msgpack: more than 2^32 elements"))
}

fn encode_at(conv: &Conv, value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    match value {
        Value::Nil => rmp::encode::write_nil(out).map_err(write_err),
        Value::LightUserData(p) if p.0.is_null() => rmp::encode::write_nil(out).map_err(write_err),
        Value::UserData(ud) if conv.is_nil(ud) => rmp::encode::write_nil(out).map_err(write_err),
        Value::Boolean(b) => rmp::encode::write_bool(out, *b).map_err(write_err),
        Value::Integer(i) => rmp::encode::write_sint(out, *i).map(drop).map_err(write_err),
        Value::Number(n) => rmp::encode::write_f64(out, *n).map_err(write_err),
        Value::String(s) => {
            let bytes = s.as_bytes();
            if std::str::from_utf8(&bytes).is_ok() {
                rmp::encode::write_str_len(out, len32(bytes.len())?).map_err(write_err)?;
            } else {
                rmp::encode::write_bin_len(out, len32(bytes.len())?).map_err(write_err)?;
            }
            out.extend_from_slice(&bytes);
            Ok(())
        }
        Value::Table(t) => encode_table(conv, t, out, depth),
        other => Err(Error::value(format!("cannot encode a {}", other.type_name()))),
    }
}

fn encode_table(conv: &Conv, t: &Table, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    if depth >= MAX_DEPTH {
        return Err(Error::value(format!("nested deeper than {MAX_DEPTH} (a table that contains itself?)")));
    }
    match classify(conv, t)? {
        Shape::Array(len) => {
            rmp::encode::write_array_len(out, len32(len)?).map_err(write_err)?;
            for i in 1..=len {
                encode_at(conv, &t.raw_get::<Value>(i)?, out, depth + 1)?;
            }
        }
        Shape::Map(count) => {
            rmp::encode::write_map_len(out, len32(count)?).map_err(write_err)?;
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                match k {
                    Value::String(_) | Value::Integer(_) | Value::Number(_) => encode_at(conv, &k, out, depth + 1)?,
                    other => return Err(Error::value(format!("cannot use a {} as a map key", other.type_name()))),
                }
                encode_at(conv, &v, out, depth + 1)?;
            }
        }
    }
    Ok(())
}

/// Decodes one msgpack value; the input must hold exactly that value.
pub fn decode(lua: &Lua, conv: &Conv, bytes: &[u8], callbacks: Option<&MakeCallback<'_>>) -> Result<Value> {
    if bytes.is_empty() {
        return Ok(Value::Nil);
    }
    let mut d = Decoder { lua, conv, callbacks, input: bytes, pos: 0 };
    let value = d.value(0)?;
    if d.pos != bytes.len() {
        return Err(d.fail(format!("{} bytes after the value", bytes.len() - d.pos)));
    }
    // A top-level nil is Lua nil, a nested one vim.NIL (as for JSON).
    Ok(if matches!(value, Value::UserData(ref u) if conv.is_nil(u)) { Value::Nil } else { value })
}

/// Decodes a msgpack array into its elements (a call's arguments).
pub fn decode_args(lua: &Lua, conv: &Conv, bytes: &[u8], callbacks: Option<&MakeCallback<'_>>) -> Result<Vec<Value>> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut d = Decoder { lua, conv, callbacks, input: bytes, pos: 0 };
    let marker = d.marker()?;
    let n = match marker {
        Marker::FixArray(n) => n as usize,
        Marker::Array16 => d.uint(2)? as usize,
        Marker::Array32 => d.uint(4)? as usize,
        other => return Err(d.fail(format!("arguments must be an array, got {other:?}"))),
    };
    let mut out = Vec::with_capacity(n.min(d.remaining()));
    for _ in 0..n {
        out.push(d.value(1)?);
    }
    if d.pos != bytes.len() {
        return Err(d.fail(format!("{} bytes after the arguments", bytes.len() - d.pos)));
    }
    Ok(out)
}

struct Decoder<'a> {
    lua: &'a Lua,
    conv: &'a Conv,
    callbacks: Option<&'a MakeCallback<'a>>,
    input: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn fail(&self, what: impl std::fmt::Display) -> Error {
        Error::value(format!("invalid msgpack at byte {}: {what}", self.pos))
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let input: &'a [u8] = self.input;
        let end = self.pos.checked_add(n).filter(|&e| e <= input.len());
        let Some(end) = end else { return Err(self.fail(format!("{n} more bytes expected, {} left", self.remaining()))) };
        let slice = &input[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn marker(&mut self) -> Result<Marker> {
        Ok(Marker::from_u8(self.take(1)?[0]))
    }

    fn uint(&mut self, n: usize) -> Result<u64> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn int(&mut self, n: usize) -> Result<i64> {
        let u = self.uint(n)?;
        let shift = 64 - 8 * n as u32;
        Ok(((u << shift) as i64) >> shift)
    }

    fn string(&mut self, n: usize) -> Result<Value> {
        let bytes = self.take(n)?;
        Ok(Value::String(self.lua.create_string(bytes)?))
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(self.fail(format!("nested deeper than {MAX_DEPTH}")));
        }
        let marker = self.marker()?;
        Ok(match marker {
            Marker::Null => self.conv.nested_null(),
            Marker::True => Value::Boolean(true),
            Marker::False => Value::Boolean(false),
            Marker::FixPos(n) => Value::Integer(i64::from(n)),
            Marker::FixNeg(n) => Value::Integer(i64::from(n)),
            Marker::U8 => Value::Integer(self.uint(1)? as i64),
            Marker::U16 => Value::Integer(self.uint(2)? as i64),
            Marker::U32 => Value::Integer(self.uint(4)? as i64),
            Marker::U64 => {
                let u = self.uint(8)?;
                i64::try_from(u).map_or(Value::Number(u as f64), Value::Integer)
            }
            Marker::I8 => Value::Integer(self.int(1)?),
            Marker::I16 => Value::Integer(self.int(2)?),
            Marker::I32 => Value::Integer(self.int(4)?),
            Marker::I64 => Value::Integer(self.int(8)?),
            Marker::F32 => Value::Number(f64::from(f32::from_bits(self.uint(4)? as u32))),
            Marker::F64 => Value::Number(f64::from_bits(self.uint(8)?)),
            Marker::FixStr(n) => self.string(n as usize)?,
            Marker::Str8 | Marker::Bin8 => {
                let n = self.uint(1)? as usize;
                self.string(n)?
            }
            Marker::Str16 | Marker::Bin16 => {
                let n = self.uint(2)? as usize;
                self.string(n)?
            }
            Marker::Str32 | Marker::Bin32 => {
                let n = self.uint(4)? as usize;
                self.string(n)?
            }
            Marker::FixArray(n) => self.array(n as usize, depth)?,
            Marker::Array16 => {
                let n = self.uint(2)? as usize;
                self.array(n, depth)?
            }
            Marker::Array32 => {
                let n = self.uint(4)? as usize;
                self.array(n, depth)?
            }
            Marker::FixMap(n) => self.map(n as usize, depth)?,
            Marker::Map16 => {
                let n = self.uint(2)? as usize;
                self.map(n, depth)?
            }
            Marker::Map32 => {
                let n = self.uint(4)? as usize;
                self.map(n, depth)?
            }
            Marker::FixExt1 => self.ext(1)?,
            Marker::FixExt2 => self.ext(2)?,
            Marker::FixExt4 => self.ext(4)?,
            Marker::FixExt8 => self.ext(8)?,
            Marker::FixExt16 => self.ext(16)?,
            Marker::Ext8 => {
                let n = self.uint(1)? as usize;
                self.ext(n)?
            }
            Marker::Ext16 => {
                let n = self.uint(2)? as usize;
                self.ext(n)?
            }
            Marker::Ext32 => {
                let n = self.uint(4)? as usize;
                self.ext(n)?
            }
            Marker::Reserved => return Err(self.fail("reserved marker 0xc1")),
        })
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Value> {
        // Every element takes at least a byte: a claimed length beyond the
        // input is an error before anything is allocated for it.
        if n > self.remaining() {
            return Err(self.fail(format!("array of {n} elements in {} bytes", self.remaining())));
        }
        let t = self.lua.create_table_with_capacity(n, 0)?;
        for i in 1..=n {
            t.raw_set(i, self.value(depth + 1)?)?;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value> {
        if n > self.remaining() / 2 {
            return Err(self.fail(format!("map of {n} entries in {} bytes", self.remaining())));
        }
        let t = self.lua.create_table_with_capacity(0, n)?;
        for _ in 0..n {
            let k = self.value(depth + 1)?;
            let v = self.value(depth + 1)?;
            if matches!(k, Value::Nil) || matches!(&k, Value::UserData(u) if self.conv.is_nil(u)) {
                return Err(self.fail("nil map key"));
            }
            t.raw_set(k, v)?;
        }
        if n == 0 && let Some(mt) = &self.conv.empty_dict_mt {
            t.set_metatable(Some(mt.clone()))?;
        }
        if n == 1
            && let Some(make) = self.callbacks
            && let Ok(Value::String(name)) = t.raw_get::<Value>(CALLBACK_KEY)
        {
            let name = name.to_str()?.to_string();
            return Ok(Value::Function(make(&name)?));
        }
        Ok(Value::Table(t))
    }

    /// Neovim's handles; other extension types are refused.
    fn ext(&mut self, n: usize) -> Result<Value> {
        let ty = self.take(1)?[0] as i8;
        let payload = self.take(n)?.to_vec();
        if !(0..=2).contains(&ty) {
            return Err(self.fail(format!("unsupported extension type {ty}")));
        }
        let mut inner = Decoder { lua: self.lua, conv: self.conv, callbacks: None, input: &payload, pos: 0 };
        match inner.value(MAX_DEPTH)? {
            Value::Integer(h) => Ok(Value::Integer(h)),
            _ => Err(self.fail("a handle extension must hold an integer")),
        }
    }
}
