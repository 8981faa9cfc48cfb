//! Raw exports: plain numbers in and out, no encoding — the fastest way to
//! call a plugin function that computes on numbers. Arguments travel in a
//! fixed array of `ValRaw` slots (no allocation) and the export is called
//! unchecked: its type was checked once, when the plugin was loaded.

use wasmtime::{ValRaw, ValType};

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
