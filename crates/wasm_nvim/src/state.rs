//! What a host import sees of its plugin: the data of the plugin's `Store`.
//!
//! It must be `Send` (wasmtime-wasi's linker requires it), so it holds no
//! Lua handles; those live in the thread-local [`crate::runtime::Runtime`].

use std::sync::Arc;

use wasmtime::{AsContext, AsContextMut, Func, FuncType, Instance, Memory, TypedFunc, UpdateDeadline, ValRaw, ValType};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::error::{Error, Result};
use crate::limits::{Budget, Limiter, Limits};
use crate::output::Capture;
use crate::raw::{MAX_PARAMS, Num, Slots};
use crate::values::Values;

/// Deepest nesting of calls into one plugin (plugin -> Lua -> same plugin ...).
pub const MAX_DEPTH: u32 = 100;

/// Most bytes of output shown per outermost call (`:messages`).
pub const MAX_SHOWN: usize = 64 * 1024;

/// The data of one plugin's `Store`.
pub struct HostState {
    /// The plugin's name, for error messages.
    pub plugin: Arc<str>,
    /// Identifies the plugin instance for re-entrant calls.
    pub key: u64,
    pub values: Values,
    pub wasi: WasiP1Ctx,
    pub stdout: Capture,
    pub stderr: Capture,
    /// The guest's exports, looked up once; `None` until instantiated.
    pub guest: Option<Guest>,
    pub instance: Option<Instance>,
    /// Calls into this store currently on the stack.
    pub depth: u32,
    /// A call trapped: the instance may be inconsistent and is replaced by a
    /// fresh one when the outermost call returns.
    pub poisoned: bool,
    pub limits: Limits,
    pub limiter: Limiter,
    /// Wasm time of the current outermost call.
    pub budget: Budget,
    /// The current outermost call ran out of time.
    pub timed_out: bool,
    /// A message the guest gave `set_error` during the current call.
    pub error: Option<String>,
    /// What the guest said when it panicked (`nvim.panic`), before trapping.
    pub panic: Option<String>,
    /// A raw export is running: it may not run Lua.
    pub raw_call: bool,
    /// Reused for encoding results, to spare an allocation per call.
    pub scratch: Vec<u8>,
    /// Set while this store runs a job on a worker thread: Lua and the
    /// Neovim API are refused, progress goes to the job.
    pub job: Option<Arc<crate::workers::job::Control>>,
    /// Output bytes shown during the current outermost call.
    pub shown: usize,
    /// Where the plugin's WASI monotonic clock starts (see `abi::sleep`).
    pub clock_base: std::time::Instant,
}

impl HostState {
    pub fn new(plugin: Arc<str>, key: u64, limits: &Limits) -> Result<Self> {
        let stdout = Capture::default();
        let stderr = Capture::default();
        // What plugins need to print, and nothing else: no environment, no
        // arguments, no files unless the user gave the plugin a data directory.
        let mut wasi = WasiCtxBuilder::new();
        let clock_base = std::time::Instant::now();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_blocking_current_thread(true)
            .monotonic_clock(crate::abi::sleep::Monotonic(clock_base));
        if let Some(dir) = &limits.data_dir {
            std::fs::create_dir_all(dir).map_err(|e| Error::load(format!("data directory {}: {e}", dir.display())))?;
            wasi.preopened_dir(dir, "/data", FsPerms::ReadWrite)
                .map_err(|e| Error::load(format!("data directory {}: {e:#}", dir.display())))?;
        }
        Ok(HostState {
            plugin,
            key,
            values: Values::default(),
            wasi: wasi.build_p1(),
            stdout,
            stderr,
            guest: None,
            instance: None,
            depth: 0,
            poisoned: false,
            limiter: Limiter { memory: limits.memory, table_elements: limits.table_elements },
            limits: limits.clone(),
            budget: Budget::default(),
            timed_out: false,
            error: None,
            panic: None,
            raw_call: false,
            scratch: Vec::new(),
            job: None,
            shown: 0,
            clock_base,
        })
    }

    /// The epoch deadline callback: called every tick while wasm runs.
    pub fn check_deadline(&mut self) -> wasmtime::Result<UpdateDeadline> {
        match self.limits.timeout {
            Some(limit) if self.budget.used() >= limit => {
                self.timed_out = true;
                Err(wasmtime::Error::new(Error::limit(format!(
                    "timeout: the call ran for more than {} ms of wasm time (setup({{ limits = {{ timeout_ms = ... }} }}))",
                    limit.as_millis()
                ))))
            }
            _ => Ok(UpdateDeadline::Continue(1)),
        }
    }

    /// Takes what the guest printed since the last time, if anything
    /// (checked first with two atomic loads: this runs on every call),
    /// cut so that one outermost call shows at most [`MAX_SHOWN`] bytes:
    /// showing is work Neovim does for the plugin, and a flood of it froze
    /// the editor for seconds per MiB.
    pub fn take_output(&mut self) -> Option<Output> {
        if !self.stdout.has_output() && !self.stderr.has_output() {
            return None;
        }
        let (stdout, stderr) = (self.stdout.drain(), self.stderr.drain());
        let stdout = stdout.and_then(|t| self.within_shown(t));
        let stderr = stderr.and_then(|t| self.within_shown(t));
        (stdout.is_some() || stderr.is_some()).then(|| Output { plugin: self.plugin.clone(), stdout, stderr })
    }

    fn within_shown(&mut self, text: String) -> Option<String> {
        let left = MAX_SHOWN.saturating_sub(self.shown);
        if left == 0 {
            return None; // the note was shown with the text that reached the cap
        }
        self.shown += text.len().min(left);
        if text.len() <= left {
            return Some(text);
        }
        let mut end = left;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Some(format!(
            "{}\n[... output of this call cut: at most {} KiB is shown per call]",
            &text[..end],
            MAX_SHOWN >> 10
        ))
    }

    /// At the start of an outermost call.
    pub fn start_call(&mut self) {
        self.budget.restart();
        self.timed_out = false;
        self.shown = 0;
    }

    pub fn guest(&self) -> Result<&Guest> {
        self.guest.as_ref().ok_or_else(|| Error::abi("the plugin called the host before it was fully instantiated"))
    }
}

/// Text a plugin printed, taken out of its `Store` to be shown.
#[derive(Debug)]
pub struct Output {
    pub plugin: Arc<str>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
}

/// Which ABI a plugin speaks, decided by its exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// The seed README's: values by id, JSON.
    Seed,
    /// The fast ABI (`wasm_nvim_abi() == 1`): msgpack in guest memory.
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
    /// Fast ABI: `(ptr, len) -> packed`, a msgpack array of the arguments
    /// in, a msgpack value (or an error text) out.
    Packed,
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

    /// The packed shape, if the wasm type is `(i32, i32) -> i64`.
    pub fn packed(ty: &FuncType) -> Option<Shape> {
        let params: Vec<ValType> = ty.params().collect();
        let results: Vec<ValType> = ty.results().collect();
        (matches!(params[..], [ValType::I32, ValType::I32]) && matches!(results[..], [ValType::I64]))
            .then_some(Shape::Packed)
    }

    /// How `plugins()` and errors describe it.
    pub fn describe(&self) -> String {
        match self {
            Shape::Seed { takes_arg, returns } => {
                format!("{}{}", if *takes_arg { "(i32)" } else { "()" }, if *returns { " -> i32" } else { "" })
            }
            Shape::Packed => "(ptr: i32, len: i32) -> i64".into(),
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
    Packed(Func),
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
            Shape::Packed => instance.get_typed_func::<(u32, u32), u64>(&mut store, name).map(f).map(ExportFn::Packed),
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
    /// JSON (seed) or msgpack (fast ABI) bytes.
    Bytes(Vec<u8>),
    /// The arguments of a raw export (its result comes back in slot 0).
    /// Boxed: the slots are large and this path is the rare one (raw
    /// calls normally take the FFI path), so the common variants stay small.
    Numbers(Box<Slots>, Option<Num>),
}

/// What an export gave back.
#[derive(Debug)]
pub enum Reply {
    None,
    Bytes(Vec<u8>),
    /// A raw export's result, if it has one.
    Number(Box<Slots>),
}

/// The guest's side of the contract, looked up once per instance.
#[derive(Clone)]
pub struct Guest {
    pub io: GuestIo,
    /// In the order of the plugin's function list.
    pub exports: Vec<ExportFn>,
}

/// What the host needs to move bytes in and out of the guest (`Copy`).
#[derive(Clone, Copy)]
pub struct GuestIo {
    pub memory: Memory,
    /// `alloc(size: i32) -> i32`, type checked.
    alloc: Func,
    /// `dealloc(ptr: i32, size: i32)`, type checked.
    dealloc: Func,
}

impl Guest {
    /// Resolves `memory`, `alloc` and `dealloc`, with the name of whatever
    /// is missing or has the wrong type.
    pub fn resolve(instance: &Instance, mut store: impl AsContextMut) -> Result<Self> {
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| Error::load("missing export 'memory' (the plugin must export its linear memory)"))?;
        let alloc = *instance
            .get_typed_func::<u32, u32>(&mut store, "alloc")
            .map_err(|e| export_type_error(e, "alloc", "(size: i32) -> i32"))?
            .func();
        let dealloc = *instance
            .get_typed_func::<(u32, u32), ()>(&mut store, "dealloc")
            .map_err(|e| export_type_error(e, "dealloc", "(ptr: i32, size: i32)"))?
            .func();
        Ok(Guest { io: GuestIo { memory, alloc, dealloc }, exports: Vec::new() })
    }
}

impl GuestIo {
    /// Calls the guest's `alloc`.
    pub fn alloc(&self, ctx: impl AsContextMut, size: u32) -> wasmtime::Result<u32> {
        // SAFETY: `alloc` was checked to be `(i32) -> i32` and belongs to
        // this guest's store, which `ctx` is.
        Ok(unsafe { call_checked(self.alloc, ctx, &[size], 1)? }.get_i32() as u32)
    }

    /// Calls the guest's `dealloc`.
    pub fn dealloc(&self, ctx: impl AsContextMut, ptr: u32, size: u32) -> wasmtime::Result<()> {
        // SAFETY: `dealloc` was checked to be `(i32, i32)`, as above.
        unsafe { call_checked(self.dealloc, ctx, &[ptr, size], 0) }.map(drop)
    }

    /// Copies `bytes` into memory the guest allocates for them (`None` for
    /// no bytes): the guest owns it from then on.
    pub fn give(&self, mut store: impl AsContextMut<Data = HostState>, bytes: &[u8]) -> Result<u32> {
        if bytes.is_empty() {
            return Ok(0);
        }
        let len = u32::try_from(bytes.len()).map_err(|_| Error::limit("a value of 4 GiB or more"))?;
        let ptr = self.alloc(&mut store, len).map_err(|e| Error::from_wasm(e).context("alloc"))?;
        if ptr == 0 {
            return Err(Error::abi(format!("alloc({len}) returned 0")));
        }
        write_bytes(&mut store, self.memory, ptr, bytes)?;
        Ok(ptr)
    }
}

fn export_type_error(e: wasmtime::Error, name: &str, ty: &str) -> Error {
    Error::load(format!("export '{name}' must be a function {ty}: {e:#}"))
}

/// `ptr | len << 32 | error << 63`: how fast-ABI functions return a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packed {
    pub ptr: u32,
    pub len: u32,
    /// The buffer holds an error message (UTF-8 text), not a value.
    pub error: bool,
}

impl Packed {
    pub fn from_u64(v: u64) -> Self {
        Packed { ptr: v as u32, len: ((v >> 32) & 0x7fff_ffff) as u32, error: v >> 63 == 1 }
    }

    pub fn to_u64(self) -> u64 {
        u64::from(self.ptr) | (u64::from(self.len & 0x7fff_ffff) << 32) | (u64::from(self.error) << 63)
    }
}

/// Copies `len` bytes at `ptr` out of guest memory, bounds checked.
pub fn read_bytes(store: impl AsContext<Data = HostState>, memory: Memory, ptr: u32, len: u32) -> Result<Vec<u8>> {
    let data = memory.data(&store);
    let start = ptr as usize;
    start
        .checked_add(len as usize)
        .and_then(|end| data.get(start..end))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| Error::abi(format!("range {ptr}+{len} is outside the plugin's memory ({} bytes)", data.len())))
}

/// Copies `bytes` into guest memory at `ptr`, bounds checked.
pub fn write_bytes(store: impl AsContextMut<Data = HostState>, memory: Memory, ptr: u32, bytes: &[u8]) -> Result<()> {
    let mut store = store;
    let data = memory.data_mut(&mut store);
    let size = data.len();
    let start = ptr as usize;
    start
        .checked_add(bytes.len())
        .and_then(|end| data.get_mut(start..end))
        .map(|dst| dst.copy_from_slice(bytes))
        .ok_or_else(|| {
            Error::abi(format!(
                "alloc returned {ptr}, but {ptr}+{} is outside the plugin's memory ({size} bytes)",
                bytes.len()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_shows_at_most_max_shown_bytes_of_output() {
        let mut state = HostState::new(Arc::from("p"), 1, &Limits::default()).unwrap();
        state.start_call();
        let (mut shown, mut notes) = (0, 0);
        for _ in 0..3 {
            state.stdout.append("y".repeat(40 * 1024).as_bytes());
            if let Some(out) = state.take_output() {
                let text = out.stdout.unwrap_or_default();
                shown += text.matches('y').count();
                notes += text.matches("output of this call cut").count();
            }
        }
        assert_eq!(shown, MAX_SHOWN);
        assert_eq!(notes, 1);
        state.start_call();
        state.stdout.append(b"again");
        assert_eq!(state.take_output().and_then(|o| o.stdout).as_deref(), Some("again"), "a new call shows again");
    }

    #[test]
    fn packed_round_trips() {
        for p in [
            Packed { ptr: 0, len: 0, error: false },
            Packed { ptr: u32::MAX, len: 0x7fff_ffff, error: true },
            Packed { ptr: 1024, len: 5, error: false },
        ] {
            assert_eq!(Packed::from_u64(p.to_u64()), p);
        }
    }
}
