//! The call vocabulary: which ABI a plugin speaks, the shape of each
//! function it lists, the export looked up for it, what a call passes in
//! and what it gets back. Plain data, shared by loading, calling and the
//! workers.

use wasmtime::{AsContextMut, Func, FuncType, Instance, TypedFunc, ValRaw, ValType};

use crate::error::{Error, Result};
use crate::raw::{MAX_PARAMS, Num, Numbers};

/// Which ABI a plugin speaks, decided by its exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// The seed README's: values by id, JSON.
    Seed,
    /// The msgpack ABI (`wasm_nvim_abi() == 1`): msgpack in guest memory.
    Msgpack,
}

impl Abi {
    pub fn as_str(self) -> &'static str {
        match self {
            Abi::Seed => "seed (JSON)",
            Abi::Msgpack => "msgpack",
        }
    }
}

/// How an export is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Seed ABI: `()`, `(id)`, `() -> id` or `(id) -> id`.
    Seed { takes_arg: bool, returns: bool },
    /// Msgpack ABI: `(ptr, len) -> packed`, a msgpack array of the arguments
    /// in, a msgpack value (or an error text) out.
    Msgpack,
    /// Plain numbers in and out, no encoding (`"raw": true`): the wasm
    /// type's parameters, at most one result.
    Raw { params: Vec<Num>, result: Option<Num> },
}

impl Shape {
    /// The shape a raw export's wasm type gives, if it is all numbers.
    pub fn raw(ty: &FuncType) -> Option<Shape> {
        let params: Option<Vec<Num>> = ty.params().map(|t| Num::of(&t)).collect();
        let results: Option<Vec<Num>> = ty.results().map(|t| Num::of(&t)).collect();
        let (params, results) = (params?, results?);
        (results.len() <= 1 && params.len() <= MAX_PARAMS)
            .then(|| Shape::Raw { params, result: results.first().copied() })
    }

    /// The seed shape a wasm type has, if it has one.
    pub fn seed(ty: &FuncType) -> Option<Shape> {
        let i32s = |v: &[ValType]| v.len() <= 1 && v.iter().all(|t| matches!(t, ValType::I32));
        let params: Vec<ValType> = ty.params().collect();
        let results: Vec<ValType> = ty.results().collect();
        (i32s(&params) && i32s(&results))
            .then_some(Shape::Seed { takes_arg: params.len() == 1, returns: results.len() == 1 })
    }

    /// The msgpack shape, if the wasm type is `(i32, i32) -> i64`.
    pub fn msgpack(ty: &FuncType) -> Option<Shape> {
        let params: Vec<ValType> = ty.params().collect();
        let results: Vec<ValType> = ty.results().collect();
        (matches!(params[..], [ValType::I32, ValType::I32]) && matches!(results[..], [ValType::I64]))
            .then_some(Shape::Msgpack)
    }

    /// How `plugins()` and errors describe it.
    pub fn describe(&self) -> String {
        match self {
            Shape::Seed { takes_arg, returns } => {
                format!("{}{}", if *takes_arg { "(i32)" } else { "()" }, if *returns { " -> i32" } else { "" })
            }
            Shape::Msgpack => "(ptr: i32, len: i32) -> i64".into(),
            Shape::Raw { params, result } => {
                let ps: Vec<&str> = params.iter().map(|p| p.as_str()).collect();
                format!("({}){}", ps.join(", "), result.map(|r| format!(" -> {}", r.as_str())).unwrap_or_default())
            }
        }
    }
}

/// A function a plugin lists, and how to call it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSpec {
    pub name: String,
    pub shape: Shape,
    /// What the SDK wrote about it in the function list: its parameters
    /// and result (`(first: i64, last: i64) -> Result<usize>`), and the
    /// first line of its doc comment.
    pub signature: Option<String>,
    pub doc: Option<String>,
}

/// An export, looked up once per instance with its type checked, then
/// called without checks (`Func` is `Copy`; a `TypedFunc` would clone its
/// registered type on every copy, a measurable cost per call).
#[derive(Clone, Copy)]
pub enum ExportFn {
    /// `()`
    Unit(Func),
    /// `(i32)`
    Arg(Func),
    /// `() -> i32`
    Ret(Func),
    /// `(i32) -> i32`
    ArgRet(Func),
    /// `(i32, i32) -> i64`
    Msgpack(Func),
    /// numbers, checked against `Shape::Raw`
    Raw(Func),
}

/// Calls `f` with `args` (i32s); returns slot 0 afterwards.
///
/// # Safety
/// `f` belongs to the store of `ctx` and its type was checked to take
/// `args.len()` i32 parameters and return `results` (at most 1) values.
pub unsafe fn call_checked(f: Func, ctx: impl AsContextMut, args: &[u32], results: usize) -> wasmtime::Result<ValRaw> {
    let mut slots = [ValRaw::i64(0); 2];
    for (slot, a) in slots.iter_mut().zip(args) {
        *slot = ValRaw::i32(*a as i32);
    }
    let n = args.len().max(results);
    // SAFETY: per this function's contract.
    unsafe { f.call_unchecked(ctx, &mut slots[..n] as *mut [ValRaw])? };
    Ok(slots[0])
}

impl ExportFn {
    /// Looks up export `name`, checking it has `shape`.
    pub fn lookup(instance: &Instance, store: impl AsContextMut, spec: &FunctionSpec) -> Result<Self> {
        let mut store = store;
        let name = spec.name.as_str();
        fn f<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(t: TypedFunc<P, R>) -> Func {
            *t.func()
        }
        let found = match &spec.shape {
            Shape::Seed { takes_arg: false, returns: false } => {
                instance.get_typed_func::<(), ()>(&mut store, name).map(f).map(ExportFn::Unit)
            }
            Shape::Seed { takes_arg: true, returns: false } => {
                instance.get_typed_func::<u32, ()>(&mut store, name).map(f).map(ExportFn::Arg)
            }
            Shape::Seed { takes_arg: false, returns: true } => {
                instance.get_typed_func::<(), u32>(&mut store, name).map(f).map(ExportFn::Ret)
            }
            Shape::Seed { takes_arg: true, returns: true } => {
                instance.get_typed_func::<u32, u32>(&mut store, name).map(f).map(ExportFn::ArgRet)
            }
            Shape::Msgpack => {
                instance.get_typed_func::<(u32, u32), u64>(&mut store, name).map(f).map(ExportFn::Msgpack)
            }
            Shape::Raw { .. } => instance
                .get_func(&mut store, name)
                .filter(|func| Shape::raw(&func.ty(&store)).as_ref() == Some(&spec.shape))
                .map(ExportFn::Raw)
                .ok_or_else(|| wasmtime::format_err!("failed to find function export `{name}` of that type")),
        };
        found.map_err(|e| Error::load(format!("export '{name}' must have type {}: {e:#}", spec.shape.describe())))
    }
}

/// What a call passes to an export.
#[derive(Debug)]
pub enum Payload {
    None,
    /// JSON (seed) or msgpack (msgpack ABI) bytes.
    Bytes(Vec<u8>),
    /// The arguments of a raw export (its result comes back in slot 0).
    /// Boxed: the slots are large and this path is the rare one (raw
    /// calls normally take the FFI path), so the common variants stay small.
    Numbers(Box<Numbers>, Option<Num>),
}

/// What an export gave back.
#[derive(Debug)]
pub enum Reply {
    None,
    Bytes(Vec<u8>),
    /// A raw export's result, if it has one.
    Number(Box<Numbers>),
}

/// What to call in a plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Function `n` of the plugin's function list.
    Listed(usize),
    /// Any other export (callbacks), with the shape its type has.
    Named(FunctionSpec),
}
