//! Raw exports: plain numbers in and out, no encoding — the fastest way to
//! call a plugin function that computes on numbers. Arguments travel in a
//! fixed array of `ValRaw` slots (no allocation) and the export is called
//! unchecked: its type was checked once, when the plugin was loaded.

use mlua::Value;
use wasmtime::{ValRaw, ValType};

use crate::error::{Error, Result};

/// Most parameters a raw export may have.
pub const MAX_PARAMS: usize = 8;

/// A wasm number type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Num {
    I32,
    I64,
    F32,
    F64,
}

impl Num {
    pub fn of(ty: &ValType) -> Option<Num> {
        match ty {
            ValType::I32 => Some(Num::I32),
            ValType::I64 => Some(Num::I64),
            ValType::F32 => Some(Num::F32),
            ValType::F64 => Some(Num::F64),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Num::I32 => "i32",
            Num::I64 => "i64",
            Num::F32 => "f32",
            Num::F64 => "f64",
        }
    }

    /// A Lua number as this type; `None` if it does not fit (an integer
    /// type given a fraction or an out-of-range value).
    pub fn from_f64(self, n: f64) -> Option<ValRaw> {
        let integer = |min: f64, max: f64| (n.fract() == 0.0 && n >= min && n <= max).then_some(n);
        Some(match self {
            // i32 takes signed or unsigned 32-bit values (wasm does not say which).
            Num::I32 => ValRaw::i32(integer(f64::from(i32::MIN), f64::from(u32::MAX))? as i64 as u32 as i32),
            Num::I64 => ValRaw::i64(integer(-(2f64.powi(63)), 2f64.powi(63) - 1024.0)? as i64),
            Num::F32 => ValRaw::f32((n as f32).to_bits()),
            Num::F64 => ValRaw::f64(n.to_bits()),
        })
    }

    /// A result slot as a Lua number.
    pub fn to_f64(self, v: ValRaw) -> f64 {
        match self {
            Num::I32 => f64::from(v.get_i32()),
            Num::I64 => v.get_i64() as f64,
            Num::F32 => f64::from(f32::from_bits(v.get_f32())),
            Num::F64 => f64::from_bits(v.get_f64()),
        }
    }

    fn to_lua(self, v: ValRaw) -> Value {
        match self {
            Num::I32 => Value::Integer(i64::from(v.get_i32())),
            Num::I64 => Value::Integer(v.get_i64()),
            _ => Value::Number(self.to_f64(v)),
        }
    }
}

/// The parameters (then the result) of one raw call.
#[derive(Clone, Copy, Debug)]
pub struct Numbers {
    pub values: [ValRaw; MAX_PARAMS],
}

impl Numbers {
    pub fn new() -> Self {
        Numbers { values: [ValRaw::i64(0); MAX_PARAMS] }
    }
}

impl Default for Numbers {
    fn default() -> Self {
        Self::new()
    }
}

/// Converts Lua arguments to the export's parameter types.
pub fn args(params: &[Num], args: &[Value]) -> Result<Numbers> {
    if args.len() != params.len() {
        return Err(Error::value(format!("expects {} number argument(s), got {}", params.len(), args.len())));
    }
    let mut slots = Numbers::new();
    for (i, (ty, v)) in params.iter().zip(args).enumerate() {
        let n = match v {
            Value::Integer(i) => *i as f64,
            Value::Number(n) => *n,
            other => {
                return Err(Error::value(format!("expected a number, got {}", crate::convert::type_name(other)))
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
pub fn result(ty: Option<Num>, slots: &Numbers) -> Value {
    ty.map_or(Value::Nil, |t| t.to_lua(slots.values[0]))
}
