//! What a host import sees of its plugin: the data of the plugin's `Store`.
//!
//! It must be `Send` (wasmtime-wasi's linker requires it), so it holds no
//! Lua handles; those live in the thread-local [`crate::runtime::Runtime`].

use std::sync::Arc;

use wasmtime::{AsContext, AsContextMut, Instance, Memory, TypedFunc, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi::p1::WasiP1Ctx;

use crate::error::{Error, Result};
use crate::limits::{Budget, Limiter, Limits};
use crate::output::Capture;
use crate::values::Values;

/// Deepest nesting of calls into one plugin (plugin -> Lua -> same plugin ...).
pub const MAX_DEPTH: u32 = 100;

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
}

impl HostState {
    pub fn new(plugin: Arc<str>, key: u64, limits: &Limits) -> Result<Self> {
        let stdout = Capture::default();
        let stderr = Capture::default();
        // What plugins need to print, and nothing else: no environment, no
        // arguments, no files unless the user gave the plugin a data directory.
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(stdout.clone()).stderr(stderr.clone()).allow_blocking_current_thread(true);
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

    /// Takes what the guest printed since the last time.
    pub fn take_output(&self) -> Output {
        Output { stdout: self.stdout.drain(), stderr: self.stderr.drain() }
    }

    pub fn guest(&self) -> Result<&Guest> {
        self.guest.as_ref().ok_or_else(|| Error::abi("the plugin called the host before it was fully instantiated"))
    }
}

/// Text a plugin printed, taken out of its `Store` to be shown.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: Option<String>,
    pub stderr: Option<String>,
}

/// An export of the shapes the seed ABI allows.
#[derive(Clone)]
pub enum ExportFn {
    Unit(TypedFunc<(), ()>),
    Arg(TypedFunc<u32, ()>),
    Ret(TypedFunc<(), u32>),
    ArgRet(TypedFunc<u32, u32>),
}

impl ExportFn {
    /// Looks up export `name` with the shape `functionality` declared.
    pub fn lookup(instance: &Instance, store: impl AsContextMut, name: &str, takes_arg: bool, returns: bool) -> Result<Self> {
        let mut store = store;
        let found = match (takes_arg, returns) {
            (false, false) => instance.get_typed_func(&mut store, name).map(ExportFn::Unit),
            (true, false) => instance.get_typed_func(&mut store, name).map(ExportFn::Arg),
            (false, true) => instance.get_typed_func(&mut store, name).map(ExportFn::Ret),
            (true, true) => instance.get_typed_func(&mut store, name).map(ExportFn::ArgRet),
        };
        found.map_err(|e| {
            let want = match (takes_arg, returns) {
                (false, false) => "()",
                (true, false) => "(i32)",
                (false, true) => "() -> i32",
                (true, true) => "(i32) -> i32",
            };
            Error::load(format!("export '{name}' must have type {want} as `functionality` declares: {e:#}"))
        })
    }

    /// Calls it; the argument id is passed only to shapes that take one.
    pub fn call(&self, store: impl AsContextMut<Data = HostState>, arg: Option<u32>) -> wasmtime::Result<Option<u32>> {
        let arg = arg.unwrap_or(0);
        match self {
            ExportFn::Unit(f) => f.call(store, ()).map(|()| None),
            ExportFn::Arg(f) => f.call(store, arg).map(|()| None),
            ExportFn::Ret(f) => f.call(store, ()).map(Some),
            ExportFn::ArgRet(f) => f.call(store, arg).map(Some),
        }
    }
}

/// The guest's side of the seed contract, looked up once per instance.
#[derive(Clone)]
pub struct Guest {
    pub memory: Memory,
    pub alloc: TypedFunc<u32, u32>,
    pub dealloc: TypedFunc<(u32, u32), ()>,
    pub functionality: TypedFunc<(), u32>,
    /// In the order of the plugin's `functionality` list.
    pub exports: Vec<ExportFn>,
}

impl Guest {
    /// Resolves `memory`, `alloc`, `dealloc` and `functionality`, with the
    /// name of whatever is missing or has the wrong type.
    pub fn resolve(instance: &Instance, mut store: impl AsContextMut) -> Result<Self> {
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| Error::load("missing export 'memory' (the plugin must export its linear memory)"))?;
        let typed = |e: wasmtime::Error, name: &str, ty: &str| Error::load(format!("export '{name}' must be a function {ty}: {e:#}"));
        let alloc = instance
            .get_typed_func(&mut store, "alloc")
            .map_err(|e| typed(e, "alloc", "(size: i32) -> i32"))?;
        let dealloc = instance
            .get_typed_func(&mut store, "dealloc")
            .map_err(|e| typed(e, "dealloc", "(ptr: i32, size: i32)"))?;
        let functionality = instance
            .get_typed_func(&mut store, "functionality")
            .map_err(|e| typed(e, "functionality", "() -> i32"))?;
        Ok(Guest { memory, alloc, dealloc, functionality, exports: Vec::new() })
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
        .ok_or_else(|| {
            Error::abi(format!(
                "range {ptr}+{len} is outside the plugin's memory ({} bytes)",
                data.len()
            ))
        })
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
