//! A call's Lua arguments and result, encoded as the function's shape
//! wants them: seed functions take their first argument (or, as
//! callbacks, all of them as one JSON array) and return JSON; msgpack-ABI
//! functions take all of them as a msgpack array and return msgpack; raw
//! functions take and return plain numbers.

use mlua::{Lua, Value};

use crate::codec::Format;
use crate::error::Error;
use crate::error::Result;
use crate::nvim::Nvim;
use crate::raw::{Num, Numbers};
use crate::shape::{FunctionSpec, Payload, Reply, Shape};

/// Encodes `args` for a call of `spec`.
pub fn encode(nvim: &Nvim, spec: &FunctionSpec, args: &[Value], as_callback: bool) -> Result<Payload> {
    Ok(match &spec.shape {
        Shape::Seed { takes_arg: false, .. } => Payload::None,
        Shape::Seed { .. } => {
            let (codec, lua) = (&nvim.codec, &nvim.lua);
            let json = if as_callback {
                codec.encode_array(lua, Format::Json, args)
            } else {
                codec.encode(lua, Format::Json, args.first().unwrap_or(&Value::Nil))
            };
            Payload::Bytes(json.map_err(|e| e.context("argument"))?)
        }
        Shape::Msgpack => {
            let mut bytes = Vec::new();
            if !args.is_empty() {
                bytes = nvim.codec.encode_array(&nvim.lua, Format::Msgpack, args).map_err(|e| e.context("argument"))?;
            }
            Payload::Bytes(bytes)
        }
        Shape::Raw { params, result } => Payload::Numbers(Box::new(raw_args(params, args)?), *result),
    })
}

/// Decodes what a call of `spec` returned.
pub fn decode(nvim: &Nvim, lua: &Lua, spec: &FunctionSpec, reply: Reply) -> Result<Value> {
    match reply {
        Reply::None => Ok(Value::Nil),
        Reply::Bytes(bytes) => match spec.shape {
            Shape::Seed { .. } => nvim.codec.decode(lua, Format::Json, &bytes),
            _ => nvim.codec.decode(lua, Format::Msgpack, &bytes),
        }
        .map_err(|e| e.context("result")),
        Reply::Number(numbers) => Ok(match &spec.shape {
            Shape::Raw { result, .. } => raw_result(*result, &numbers),
            _ => Value::Nil,
        }),
    }
}

/// Converts Lua arguments to the export's parameter types.
fn raw_args(params: &[Num], args: &[Value]) -> Result<Numbers> {
    if args.len() != params.len() {
        return Err(Error::value(format!("expects {} number argument(s), got {}", params.len(), args.len())));
    }
    let mut slots = Numbers::new();
    for (i, (ty, v)) in params.iter().zip(args).enumerate() {
        let n = match v {
            Value::Integer(i) => *i as f64,
            Value::Number(n) => *n,
            other => {
                return Err(Error::value(format!("expected a number, got {}", crate::codec::type_name(other)))
                    .context(format!("argument {}", i + 1)));
            }
        };
        slots.values[i] = ty.from_f64(n).ok_or_else(|| {
            Error::value(format!("{n} does not fit an {}", ty.as_str())).context(format!("argument {}", i + 1))
        })?;
    }
    Ok(slots)
}

/// The result slot as a Lua value (nil when the export returns nothing).
fn raw_result(ty: Option<Num>, slots: &Numbers) -> Value {
    ty.map_or(Value::Nil, |t| num_to_lua(t, slots.values[0]))
}

fn num_to_lua(ty: Num, v: wasmtime::ValRaw) -> Value {
    match ty {
        Num::I32 => Value::Integer(i64::from(v.get_i32())),
        Num::I64 => Value::Integer(v.get_i64()),
        _ => Value::Number(ty.to_f64(v)),
    }
}
