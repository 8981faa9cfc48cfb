//! A call's Lua arguments and result, encoded as the function's shape
//! wants them: seed functions take their first argument (or, as
//! callbacks, all of them as one JSON array) and return JSON; msgpack-ABI
//! functions take all of them as a msgpack array and return msgpack; raw
//! functions take and return plain numbers.

use mlua::{Lua, Value};

use crate::error::Result;
use crate::nvim::Nvim;
use crate::raw;
use crate::shape::{FunctionSpec, Payload, Reply, Shape};

/// Encodes `args` for a call of `spec`.
pub fn encode(nvim: &Nvim, spec: &FunctionSpec, args: &[Value], as_callback: bool) -> Result<Payload> {
    Ok(match &spec.shape {
        Shape::Seed { takes_arg: false, .. } => Payload::None,
        Shape::Seed { .. } => {
            let conv = &nvim.conv;
            let json =
                if as_callback { conv.to_json_array(args) } else { conv.to_json(args.first().unwrap_or(&Value::Nil)) };
            Payload::Bytes(json.map_err(|e| e.context("argument"))?)
        }
        Shape::Msgpack => {
            let mut bytes = Vec::new();
            if !args.is_empty() {
                nvim.msgpack_encode(args, true, &mut bytes).map_err(|e| e.context("argument"))?;
            }
            Payload::Bytes(bytes)
        }
        Shape::Raw { params, result } => Payload::Numbers(Box::new(raw::args(params, args)?), *result),
    })
}

/// Decodes what a call of `spec` returned.
pub fn decode(nvim: &Nvim, lua: &Lua, spec: &FunctionSpec, reply: Reply) -> Result<Value> {
    match reply {
        Reply::None => Ok(Value::Nil),
        Reply::Bytes(bytes) => match spec.shape {
            Shape::Seed { .. } => nvim.conv.from_json(lua, &bytes),
            _ => nvim.msgpack_decode(&bytes),
        }
        .map_err(|e| e.context("result")),
        Reply::Number(numbers) => Ok(match &spec.shape {
            Shape::Raw { result, .. } => raw::result(*result, &numbers),
            _ => Value::Nil,
        }),
    }
}
