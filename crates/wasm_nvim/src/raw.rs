//! Raw exports: plain numbers in and out, no encoding — the fastest way to
//! call a plugin function that computes on numbers.

use mlua::Value;
use wasmtime::{Val, ValType};

use crate::error::{Error, Result};

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
}

/// Converts Lua arguments to the export's parameter types.
pub fn args(params: &[Num], args: &[Value]) -> Result<Vec<Val>> {
    if args.len() != params.len() {
        return Err(Error::value(format!("expects {} number argument(s), got {}", params.len(), args.len())));
    }
    params.iter().zip(args).enumerate().map(|(i, (ty, v))| arg(ty, v).map_err(|e| e.context(format!("argument {}", i + 1)))).collect()
}

fn arg(ty: &Num, v: &Value) -> Result<Val> {
    let number = match v {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        other => return Err(Error::value(format!("expected a number, got {}", other.type_name()))),
    };
    let integer = |min: f64, max: f64| -> Result<i64> {
        if number.fract() == 0.0 && number >= min && number <= max {
            Ok(number as i64)
        } else {
            Err(Error::value(format!("{number} is not an integer in [{min}, {max}]")))
        }
    };
    Ok(match ty {
        // i32 takes signed or unsigned 32-bit values (wasm does not say which).
        Num::I32 => Val::I32(integer(f64::from(i32::MIN), f64::from(u32::MAX))? as u32 as i32),
        Num::I64 => Val::I64(match v {
            Value::Integer(i) => *i,
            _ => integer(-(2f64.powi(63)), 2f64.powi(63))?,
        }),
        Num::F32 => Val::F32((number as f32).to_bits()),
        Num::F64 => Val::F64(number.to_bits()),
    })
}

/// The export's result as a Lua number.
pub fn result(v: Val) -> Value {
    match v {
        Val::I32(i) => Value::Integer(i64::from(i)),
        Val::I64(i) => Value::Integer(i),
        Val::F32(bits) => Value::Number(f64::from(f32::from_bits(bits))),
        Val::F64(bits) => Value::Number(f64::from_bits(bits)),
        _ => Value::Nil,
    }
}
