//! One loaded plugin: its compiled module, its `Store`, its exports.
//!
//! Each plugin has its own `Store` (own memory, own values), so one plugin
//! cannot read another's memory. A call takes the `Store` out of the plugin
//! for its duration, so no borrow is held while wasm or Lua runs; a call
//! that arrives while the `Store` is out is a re-entrant one and goes
//! through the waiting host import's `Caller` (see [`crate::reentry`]).
//! A call that traps poisons the instance: when the outermost call returns
//! the `Store` is dropped and the next call instantiates afresh.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use wasmtime::{AsContextMut, InstancePre, Store};

use crate::bounded;
use crate::cache;
use crate::error::{Error, Kind, Result};
use crate::files;
use crate::limits::Limits;
use crate::panics;
use crate::raw::Slots;
use crate::reentry;
use crate::runtime::Runtime;
use crate::stack;
use crate::state::{
    Abi, ExportFn, FunctionSpec, Guest, GuestIo, HostState, MAX_DEPTH, Packed, Payload, Reply, Shape, call_checked,
    read_bytes,
};

/// How the plugin's code was obtained, and how long it took.
#[derive(Clone, Copy, Debug)]
pub struct Compiled {
    pub outcome: cache::Outcome,
    pub ms: f64,
}

/// How a call on the FFI fast path went.
#[derive(Debug)]
pub(crate) enum FfiOutcome {
    Ok,
    /// Done, but the plugin printed something: show it (regular path).
    OkShowOutput,
    Error(Error),
    /// Not for the fast path: call through the regular one.
    Fallback,
}

/// What to call in a plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Function `n` of the plugin's `functionality` list.
    Listed(usize),
    /// Any other export (callbacks), with the shape its type has.
    Named(FunctionSpec),
}

/// Calls slower than the plugin's `slow_call` threshold: how many, and the
/// slowest (function and milliseconds), for `plugins()` and `:checkhealth`.
#[derive(Clone, Debug, Default)]
pub struct SlowCalls {
    pub count: u64,
    pub slowest: Option<(String, u64)>,
}

enum Slot {
    /// Instantiated and idle.
    Ready(Box<Store<HostState>>),
    /// A call is running (the `Store` is on that call's stack).
    InUse,
    /// Not instantiated (after a trap): the next call instantiates.
    Empty,
}

pub struct Plugin {
    pub name: Arc<str>,
    pub path: PathBuf,
    pub abi: Abi,
    pub functions: Vec<FunctionSpec>,
    pub compiled: Compiled,
    pub limits: Limits,
    /// The imports that reach into Neovim (API functions, Lua), sorted.
    pub imports: Vec<String>,
    /// Calls that timed out in a row.
    timeouts: Cell<u32>,
    /// Why calls are refused (too many timeouts), if they are.
    disabled: RefCell<Option<String>>,
    slow: RefCell<SlowCalls>,
    /// The linked module; `None` once retired.
    pre: RefCell<Option<InstancePre<HostState>>>,
    /// Unique per loaded plugin: a reload gives the new one another key.
    pub key: u64,
    slot: RefCell<Slot>,
    /// Where the running outermost call entered (for re-entrant calls).
    entry_sp: Cell<usize>,
    /// Replaced by a reload or `setup()`: see [`Plugin::retire`].
    retired: Cell<bool>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("name", &self.name).field("path", &self.path).finish_non_exhaustive()
    }
}

impl Plugin {
    /// Reads, compiles, links and instantiates `path`, then asks it for its
    /// function list (`functionality`, or `wasm_nvim_functions` for the
    /// fast ABI) and checks that every function it lists is exported with
    /// the shape the list implies.
    pub fn load(rt: &Runtime, name: &str, path: &Path, limits: Limits) -> Result<Plugin> {
        let key = rt.new_key();
        let loaded = stack::enter(|| Self::load_with_key(rt, name, path, key, limits)).and_then(|loaded| loaded);
        if loaded.is_err() {
            // What it registered with callbacks before failing goes too.
            rt.release(key);
        }
        loaded
    }

    /// Loads `path` under an existing plugin's `key`, so its callbacks reach
    /// the new code (a reload). Nothing is released when this fails.
    pub fn load_with_key(rt: &Runtime, name: &str, path: &Path, key: u64, limits: Limits) -> Result<Plugin> {
        let bytes = files::read_regular(path, limits.module_bytes).map_err(|e| match e {
            files::Refused::TooLarge { .. } => Error::load(format!(
                "{e}, more than its limit of {} MiB (setup({{ limits = {{ module_mb = ... }} }}))",
                limits.module_bytes >> 20
            )),
            e => Error::load(e.to_string()),
        })?;
        if !bytes.starts_with(b"\0asm") {
            return Err(Error::load("not a WebAssembly module (no \\0asm header)"));
        }
        let defined = crate::wasmfile::defined_functions(&bytes)?;
        if defined > limits.module_functions {
            return Err(Error::load(format!(
                "the module defines {defined} functions, more than its limit of {} (compiling it would freeze Neovim; \
                 setup({{ limits = {{ module_functions = ... }} }}))",
                limits.module_functions
            )));
        }
        let wasm = rt.wasm_for(&limits)?;
        let started = std::time::Instant::now();
        let (module, outcome) = cache::load(rt.cache_dir().as_deref(), &wasm.engine, &bytes)?;
        let compiled = Compiled { outcome, ms: started.elapsed().as_secs_f64() * 1e3 };
        let linker = crate::abi::link(&wasm.linker, &module, &rt.nvim, name, &limits.allow)?;
        let imports = crate::abi::neovim_imports(&module, &rt.nvim);
        let pre = linker.instantiate_pre(&module).map_err(|e| Error::load(format!("cannot link: {e:#}")))?;
        let name: Arc<str> = name.into();
        let mut store = instantiate(rt, &pre, &name, key, &limits)?;
        let abi = detect_abi(&mut store)?;
        let listed = list_functions(&mut store, abi, &pre, &bytes);
        rt.show_output(store.data_mut().take_output());
        store.data_mut().values.clear();
        let functions = listed?;
        let plugin = Plugin {
            name,
            path: path.to_owned(),
            abi,
            functions,
            compiled,
            limits,
            imports,
            timeouts: Cell::new(0),
            disabled: RefCell::new(None),
            slow: RefCell::new(SlowCalls::default()),
            pre: RefCell::new(Some(pre)),
            key,
            slot: RefCell::new(Slot::Empty),
            entry_sp: Cell::new(0),
            retired: Cell::new(false),
        };
        plugin.resolve_exports(&mut store)?;
        *plugin.slot.borrow_mut() = Slot::Ready(Box::new(store));
        Ok(plugin)
    }

    /// Whether a call into it is on the stack (then it cannot be replaced).
    pub fn is_running(&self) -> bool {
        matches!(*self.slot.borrow(), Slot::InUse)
    }

    fn resolve_exports(&self, store: &mut Store<HostState>) -> Result<()> {
        let instance = store.data().instance.ok_or_else(|| Error::internal("no instance"))?;
        let exports =
            self.functions.iter().map(|f| ExportFn::lookup(&instance, &mut *store, f)).collect::<Result<Vec<_>>>()?;
        if let Some(guest) = store.data_mut().guest.as_mut() {
            guest.exports = exports;
        }
        Ok(())
    }

    /// The export `name` as a callback target: a listed function, or any
    /// other exported function with the shape of the plugin's ABI.
    pub fn target(&self, name: &str) -> Result<Target> {
        if let Some(index) = self.functions.iter().position(|f| f.name == name) {
            return Ok(Target::Listed(index));
        }
        let ty =
            self.pre.borrow().as_ref().and_then(|pre| pre.module().get_export(name)).and_then(|e| e.func().cloned());
        let shape = ty.and_then(|ty| match self.abi {
            Abi::Seed => Shape::seed(&ty),
            Abi::Msgpack => Shape::packed(&ty),
        });
        let want = match self.abi {
            Abi::Seed => "(), (i32), () -> i32 or (i32) -> i32",
            Abi::Msgpack => "(ptr: i32, len: i32) -> i64",
        };
        shape
            .map(|shape| Target::Named(FunctionSpec { name: name.to_string(), shape, signature: None, doc: None }))
            .ok_or_else(|| Error::abi(format!("'{name}' is not an exported function of shape {want}")))
    }

    /// The linked, type-checked module: workers instantiate it in stores
    /// of their own.
    /// An error once the plugin was replaced (retired).
    pub fn instance_pre(&self) -> Result<InstancePre<HostState>> {
        self.pre.borrow().clone().ok_or_else(|| self.retired_error())
    }

    /// The shape of a call target.
    pub fn spec<'a>(&'a self, target: &'a Target) -> Option<&'a FunctionSpec> {
        match target {
            Target::Listed(index) => self.functions.get(*index),
            Target::Named(spec) => Some(spec),
        }
    }

    /// Calls `target` with an encoded argument; returns the encoded result.
    pub fn call(&self, rt: &Runtime, target: &Target, arg: Payload) -> Result<Reply> {
        if let Some(why) = self.disabled.borrow().as_ref() {
            return Err(Error::limit(why.clone()));
        }
        if matches!(*self.slot.borrow(), Slot::InUse) {
            // re-entrant: stays on the stack (and budget) of the waiting call
            if !stack::reentry_fits(self.entry_sp.get()) {
                return Err(Error::limit(
                    "call stack exhausted: re-entered from deeper than the plugin's wasm stack (plugins nested through Lua)",
                ));
            }
            return reentry::with_waiting(self.key, |caller| invoke_export(caller, target, arg))
                .unwrap_or_else(|| Err(Error::internal("the plugin is busy and no host import is waiting on Lua")));
        }
        stack::enter(|| self.call_fresh(rt, target, arg)).and_then(|reply| reply)
    }

    /// A call that enters the plugin's `Store` afresh (not re-entrant).
    fn call_fresh(&self, rt: &Runtime, target: &Target, arg: Payload) -> Result<Reply> {
        self.entry_sp.set(stack::here());
        let taken = std::mem::replace(&mut *self.slot.borrow_mut(), Slot::InUse);
        let mut store = match taken {
            Slot::Ready(store) => store,
            Slot::InUse => return Err(Error::internal("the plugin is busy")),
            Slot::Empty => match self.reinstantiate(rt) {
                Ok(store) => Box::new(store),
                Err(e) => {
                    *self.slot.borrow_mut() = Slot::Empty;
                    return Err(e);
                }
            },
        };
        let result = invoke_export(&mut *store, target, arg);
        let (elapsed, wasm) = (store.data().budget.elapsed(), store.data().budget.used());
        let output = store.data_mut().take_output();
        store.data_mut().values.clear();
        let poisoned = store.data().poisoned;
        let timed_out = store.data().timed_out;
        *self.slot.borrow_mut() = if poisoned || self.retired.get() { Slot::Empty } else { Slot::Ready(store) };
        rt.show_output(output);
        self.count_timeout(rt, timed_out);
        self.note_duration(target, elapsed, wasm);
        if poisoned {
            rt.log(|| format!("{}: instance dropped after a failed call; the next call starts afresh", self.name));
        }
        result
    }

    /// Records an outermost call slower than the `slow_call` threshold in
    /// `:Wasm log` and the plugin's [`SlowCalls`], so the user can see
    /// which plugin makes the editor sluggish.
    /// (The journal is plain Rust: this may run on the FFI path.)
    pub(crate) fn note_duration(&self, target: &Target, elapsed: Duration, wasm: Duration) {
        if self.limits.slow_call.is_none_or(|slow| elapsed < slow) {
            return;
        }
        let Ok(rt) = crate::runtime::get() else { return };
        let function = self.spec(target).map_or("?", |f| f.name.as_str());
        let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        rt.journal(
            &self.name,
            "slow call",
            &format!("{}.{function} took {ms} ms ({} ms in wasm)", self.name, wasm.as_millis()),
        );
        let mut slow = self.slow.borrow_mut();
        slow.count += 1;
        if slow.slowest.as_ref().is_none_or(|(_, worst)| ms > *worst) {
            slow.slowest = Some((function.to_string(), ms));
        }
    }

    /// The calls slower than the threshold so far.
    pub fn slow_calls(&self) -> SlowCalls {
        self.slow.borrow().clone()
    }

    /// Lets go of the instance and the compiled code as soon as the plugin
    /// is replaced (reload, `setup()`), instead of when Lua's garbage
    /// collector frees the last function referring to it: each instance
    /// holds a 4 GiB address-space reservation and several mappings, and
    /// 2000 reloads between two full GCs once exhausted the process's
    /// mappings. A call running now finishes; its `Store` is dropped when
    /// it returns. Functions kept from before call the new plugin
    /// (`module.rs`).
    pub fn retire(&self) {
        self.retired.set(true);
        *self.pre.borrow_mut() = None;
        if let Ok(mut slot) = self.slot.try_borrow_mut()
            && matches!(*slot, Slot::Ready(_))
        {
            *slot = Slot::Empty;
        }
    }

    pub fn is_retired(&self) -> bool {
        self.retired.get()
    }

    fn retired_error(&self) -> Error {
        Error::load(format!("plugin '{}' was reloaded; this is a function of the old one", self.name))
    }

    /// The timeout policy: after `max_timeouts` calls in a row time out,
    /// the plugin is disabled until the next `setup()`.
    fn count_timeout(&self, rt: &Runtime, timed_out: bool) {
        if let Some(warning) = self.note_timeout(timed_out) {
            rt.warn(&warning);
        }
    }

    /// Counts a call's outcome; returns the warning to show (without
    /// showing it: the FFI path cannot run Lua) when it disables the plugin.
    pub(crate) fn note_timeout(&self, timed_out: bool) -> Option<String> {
        if !timed_out {
            self.timeouts.set(0);
            return None;
        }
        let n = self.timeouts.get() + 1;
        self.timeouts.set(n);
        let max = self.limits.max_timeouts;
        if max > 0 && n >= max {
            let why = format!(
                "disabled: {n} calls in a row timed out; fix the plugin or raise its limits, then run :lua require('wasm_nvim').setup()"
            );
            *self.disabled.borrow_mut() = Some(why.clone());
            return Some(format!("wasm_nvim: plugin '{}' {why}", self.name));
        }
        None
    }

    /// Why calls are refused, if the plugin was disabled (timeouts).
    pub fn disabled_reason(&self) -> Option<String> {
        self.disabled.borrow().clone()
    }

    /// Shows what the plugin printed during FFI calls (which cannot run Lua).
    pub fn show_pending_output(&self, rt: &Runtime) {
        let output = match &mut *self.slot.borrow_mut() {
            Slot::Ready(store) => store.data_mut().take_output(),
            _ => return,
        };
        rt.show_output(output);
    }

    /// The LuaJIT FFI fast path for raw functions: a call with no Lua in
    /// it at all, or `Fallback` whenever anything needs the regular path
    /// (an instance to create, a re-entrant call, a disabled plugin, output
    /// to show). `args` are already converted to the parameter types.
    pub(crate) fn call_ffi(&self, index: usize, slots: &mut Slots) -> FfiOutcome {
        if self.timeouts.get() > 0 {
            // counting towards (or at) the disable limit: the regular path
            // reports it
            return FfiOutcome::Fallback;
        }
        if stack::nested() >= stack::MAX_NESTED {
            return FfiOutcome::Fallback; // the regular path says why
        }
        let Ok(mut slot) = self.slot.try_borrow_mut() else { return FfiOutcome::Fallback };
        let Slot::Ready(store) = &mut *slot else { return FfiOutcome::Fallback };
        let func = match store.data().guest.as_ref().and_then(|g| g.exports.get(index)) {
            Some(ExportFn::Raw(f)) => *f,
            _ => return FfiOutcome::Fallback,
        };
        let state = store.data_mut();
        if state.depth != 0 {
            return FfiOutcome::Fallback;
        }
        state.start_call();
        state.depth = 1;
        state.raw_call = true;
        store.set_epoch_deadline(1);
        // SAFETY: as in `call_shape`: the type was checked against the raw
        // shape at load, `slots` holds values of those types, and `func`
        // belongs to this store. While it runs no Lua can (`raw_call`), so
        // nothing can reach this plugin's slot, which stays borrowed.
        let entered = stack::enter(|| unsafe {
            func.call_unchecked(&mut **store, &mut slots.values[..] as *mut [wasmtime::ValRaw])
        });
        let state = store.data_mut();
        state.depth = 0;
        state.raw_call = false;
        let (elapsed, wasm) = (state.budget.elapsed(), state.budget.used());
        let timed_out = state.timed_out;
        let output = state.stdout.has_output() || state.stderr.has_output();
        let panicked = state.panic.take();
        let refused = state.error.take();
        let outcome = match entered {
            Err(e) => {
                *slot = Slot::Empty;
                FfiOutcome::Error(e)
            }
            Ok(Ok(())) => match refused {
                Some(message) => FfiOutcome::Error(Error::new(Kind::Plugin, message)),
                None if output => FfiOutcome::OkShowOutput,
                None => FfiOutcome::Ok,
            },
            Ok(Err(trap)) => {
                *slot = Slot::Empty;
                FfiOutcome::Error(trap_error(Error::from_wasm(trap), panicked))
            }
        };
        drop(slot);
        self.note_duration(&Target::Listed(index), elapsed, wasm);
        match (self.note_timeout(timed_out), outcome) {
            (Some(warning), FfiOutcome::Error(e)) => FfiOutcome::Error(e.context(warning)),
            (_, outcome) => outcome,
        }
    }

    fn reinstantiate(&self, rt: &Runtime) -> Result<Store<HostState>> {
        rt.log(|| format!("{}: instantiating afresh", self.name));
        let pre = self.pre.borrow().clone().ok_or_else(|| self.retired_error())?;
        let mut store = instantiate(rt, &pre, &self.name, self.key, &self.limits)?;
        self.resolve_exports(&mut store)?;
        Ok(store)
    }
}

/// A new `Store` with the module instantiated, the seed exports resolved and
/// the WASI reactor initializer (`_initialize`) run if there is one.
fn instantiate(
    rt: &Runtime,
    pre: &InstancePre<HostState>,
    name: &Arc<str>,
    key: u64,
    limits: &Limits,
) -> Result<Store<HostState>> {
    let mut store = Store::new(pre.module().engine(), HostState::new(name.clone(), key, limits)?);
    store.limiter(|state| &mut state.limiter);
    store.epoch_deadline_callback(|mut ctx| ctx.data_mut().check_deadline());
    // Start functions and `_initialize` run under the same deadline.
    store.set_epoch_deadline(1);
    store.data_mut().start_call();
    let instance =
        panics::catch(|| pre.instantiate(&mut store))?.map_err(|e| Error::from_wasm(e).context("instantiating"))?;
    let guest = Guest::resolve(&instance, &mut store)?;
    store.data_mut().guest = Some(guest);
    store.data_mut().instance = Some(instance);
    if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
        let run = panics::catch(|| init.call(&mut store, ()))?;
        rt.show_output(store.data_mut().take_output());
        run.map_err(|e| Error::from_wasm(e).context("_initialize"))?;
    }
    Ok(store)
}

pub(crate) fn invoke_export(
    mut ctx: impl AsContextMut<Data = HostState>,
    target: &Target,
    arg: Payload,
) -> Result<Reply> {
    let mut ctx = ctx.as_context_mut();
    let func = match target {
        Target::Listed(index) => {
            let func = ctx.data().guest()?.exports.get(*index).copied();
            func.ok_or_else(|| Error::internal(format!("no export #{index}")))?
        }
        Target::Named(spec) => {
            let instance = ctx.data().instance.ok_or_else(|| Error::internal("no instance"))?;
            ExportFn::lookup(&instance, &mut ctx, spec)?
        }
    };
    invoke(ctx, &func, arg)
}

/// Calls an export under the call rules: nesting limit, wasm-time budget
/// and deadline, panics caught, a trap or panic poisons the instance, and
/// a `set_error` message (or a fast-ABI error result) fails the call
/// without poisoning it.
fn invoke(mut ctx: impl AsContextMut<Data = HostState>, func: &ExportFn, arg: Payload) -> Result<Reply> {
    let mut ctx = ctx.as_context_mut();
    let state = ctx.data_mut();
    if state.depth >= MAX_DEPTH {
        return Err(Error::limit(format!("calls nested deeper than {MAX_DEPTH} into one plugin")));
    }
    let outermost = state.depth == 0;
    if outermost {
        state.start_call();
    } else {
        // Lua called back into wasm: from here it is wasm time again.
        state.budget.leave_host();
    }
    state.depth += 1;
    if outermost {
        // A store's deadline must be set before each call (else it traps).
        ctx.set_epoch_deadline(1);
    }
    let outcome = panics::catch(|| call_shape(&mut ctx, func, arg));
    let state = ctx.data_mut();
    state.depth -= 1;
    if !outermost {
        state.budget.enter_host();
    }
    let refused = state.error.take();
    let panicked = state.panic.take();
    let reply = match outcome {
        Ok(Ok(reply)) => reply,
        Ok(Err(Fault::Guest(e))) => return Err(e),
        Ok(Err(Fault::Trap(e))) | Err(e) => {
            state.poisoned = true;
            return Err(trap_error(e, panicked));
        }
    };
    match refused {
        Some(message) => Err(Error::new(Kind::Plugin, message)),
        None => Ok(reply),
    }
}

/// A trap's error, led by the panic message the plugin sent before it
/// trapped (`nvim.panic`), if it sent one.
fn trap_error(e: Error, panicked: Option<String>) -> Error {
    match panicked {
        Some(message) => Error::new(Kind::Trap, format!("the plugin panicked: {message}\n{e}")),
        None => e,
    }
}

/// Why a call failed: the guest said so (its state is fine), or it trapped.
enum Fault {
    Guest(Error),
    Trap(Error),
}

impl From<Error> for Fault {
    fn from(e: Error) -> Self {
        Fault::Trap(e)
    }
}

/// Moves the argument in, calls, moves the result out, per shape.
fn call_shape(
    ctx: &mut wasmtime::StoreContextMut<'_, HostState>,
    func: &ExportFn,
    arg: Payload,
) -> Result<Reply, Fault> {
    let trap = |e: wasmtime::Error| Fault::Trap(Error::from_wasm(e));
    let seed_arg = |ctx: &mut wasmtime::StoreContextMut<'_, HostState>, arg: Payload| -> Result<u32> {
        match arg {
            Payload::Bytes(bytes) => ctx.data_mut().values.insert(bytes),
            _ => Err(Error::internal("a seed function needs its argument as bytes")),
        }
    };
    let seed_result = |ctx: &mut wasmtime::StoreContextMut<'_, HostState>, id: u32| -> Result<Reply> {
        ctx.data_mut().values.take(id).map(Reply::Bytes).map_err(|e| e.context("returned id"))
    };
    // SAFETY (each `call_checked`): `ExportFn::lookup` checked the
    // export's type for its variant, which is the signature used here, and
    // the function belongs to this store.
    match *func {
        ExportFn::Unit(f) => unsafe { call_checked(f, &mut *ctx, &[], 0) }.map(|_| Reply::None).map_err(trap),
        ExportFn::Arg(f) => {
            let id = seed_arg(ctx, arg)?;
            unsafe { call_checked(f, &mut *ctx, &[id], 0) }.map(|_| Reply::None).map_err(trap)
        }
        ExportFn::Ret(f) => {
            let id = unsafe { call_checked(f, &mut *ctx, &[], 1) }.map_err(trap)?.get_i32() as u32;
            Ok(seed_result(ctx, id)?)
        }
        ExportFn::ArgRet(f) => {
            let id = seed_arg(ctx, arg)?;
            let id = unsafe { call_checked(f, &mut *ctx, &[id], 1) }.map_err(trap)?.get_i32() as u32;
            Ok(seed_result(ctx, id)?)
        }
        ExportFn::Packed(f) => {
            let bytes = match arg {
                Payload::Bytes(bytes) => bytes,
                _ => return Err(Fault::Trap(Error::internal("a packed function needs its arguments as bytes"))),
            };
            let guest = ctx.data().guest()?.io;
            let ptr = guest.give(&mut *ctx, &bytes)?;
            let raw = unsafe { call_checked(f, &mut *ctx, &[ptr, bytes.len() as u32], 1) }.map_err(trap)?;
            let packed = Packed::from_u64(raw.get_i64() as u64);
            let out = take_packed(ctx, &guest, packed).map_err(|e| e.context("result"))?;
            if packed.error {
                return Err(Fault::Guest(Error::new(
                    Kind::Plugin,
                    bounded::truncate_lossy(&out, bounded::MAX_PLUGIN_MESSAGE),
                )));
            }
            Ok(if out.is_empty() { Reply::None } else { Reply::Bytes(out) })
        }
        ExportFn::Raw(f) => {
            // A raw function must not reach Lua (`run_lua` refuses), so
            // the FFI fast path can call it from inside LuaJIT's FFI.
            ctx.data_mut().raw_call = true;
            let mut slots = match arg {
                Payload::Numbers(slots, _) => slots,
                Payload::None => Box::new(Slots::new()),
                Payload::Bytes(_) => return Err(Fault::Trap(Error::internal("a raw function needs numbers"))),
            };
            // SAFETY: the export's type was checked against its
            // `Shape::Raw` at load (at most MAX_PARAMS params, at most one
            // result, all numbers), the slots hold values of those types
            // (`raw::args`), and `f` belongs to this store.
            let called = unsafe { f.call_unchecked(&mut *ctx, &mut slots.values[..] as *mut [wasmtime::ValRaw]) };
            ctx.data_mut().raw_call = false;
            called.map_err(trap)?;
            Ok(Reply::Number(slots))
        }
    }
}

/// Copies a buffer a packed function returned out of guest memory and hands
/// it back to the guest's `dealloc`.
pub fn take_packed(
    ctx: &mut wasmtime::StoreContextMut<'_, HostState>,
    guest: &GuestIo,
    packed: Packed,
) -> Result<Vec<u8>> {
    if packed.len == 0 {
        return Ok(Vec::new());
    }
    let bytes = read_bytes(&*ctx, guest.memory, packed.ptr, packed.len)?;
    guest.dealloc(&mut *ctx, packed.ptr, packed.len).map_err(|e| Error::from_wasm(e).context("dealloc"))?;
    Ok(bytes)
}

/// The fast ABI is chosen by exporting `wasm_nvim_abi() -> i32` returning 1.
fn detect_abi(store: &mut Store<HostState>) -> Result<Abi> {
    let instance = store.data().instance.ok_or_else(|| Error::internal("no instance"))?;
    let Some(marker) = instance.get_func(&mut *store, "wasm_nvim_abi") else { return Ok(Abi::Seed) };
    let marker = marker
        .typed::<(), u32>(&*store)
        .map_err(|e| Error::load(format!("export 'wasm_nvim_abi' must have type () -> i32: {e:#}")))?;
    match invoke(&mut *store, &ExportFn::Raw(*marker.func()), Payload::None)? {
        Reply::Number(slots) if slots.values[0].get_i32() == 1 => Ok(Abi::Msgpack),
        Reply::Number(slots) => Err(Error::load(format!(
            "wasm_nvim_abi() returned {}; this wasm_nvim speaks version 1",
            slots.values[0].get_i32()
        ))),
        _ => Err(Error::internal("wasm_nvim_abi() gave no result")),
    }
}

/// The name of the custom section a fast-ABI plugin may list its
/// functions in (one JSON object per function, concatenated — what a
/// linker makes of one small section per function).
pub const FUNCTIONS_SECTION: &str = "wasm_nvim_functions";

/// Asks the plugin for its function list, per ABI, and resolves each
/// function's shape.
fn list_functions(
    store: &mut Store<HostState>,
    abi: Abi,
    pre: &InstancePre<HostState>,
    wasm: &[u8],
) -> Result<Vec<FunctionSpec>> {
    let instance = store.data().instance.ok_or_else(|| Error::internal("no instance"))?;
    let section = match abi {
        Abi::Msgpack => crate::wasmfile::custom_section(wasm, FUNCTIONS_SECTION)?,
        Abi::Seed => None,
    };
    let (export, list) = match (abi, section) {
        (Abi::Msgpack, Some(section)) => {
            let mut objects: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&section)
                .into_iter()
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::load(format!("custom section {FUNCTIONS_SECTION}: {e}")))?;
            // The linker concatenates the entries in no useful order; the
            // Rust SDK writes each one's source line: list them as written.
            objects.sort_by_key(|o| o.get("line").and_then(serde_json::Value::as_u64).unwrap_or(u64::MAX));
            (FUNCTIONS_SECTION, serde_json::to_vec(&objects).map(Reply::Bytes).map_err(Error::from))
        }
        (Abi::Seed, _) => {
            let f = instance
                .get_typed_func::<(), u32>(&mut *store, "functionality")
                .map_err(|e| Error::load(format!("export 'functionality' must be a function () -> i32: {e:#}")))?;
            ("functionality", invoke(&mut *store, &ExportFn::Ret(*f.func()), Payload::None))
        }
        (Abi::Msgpack, None) => {
            let f = instance.get_typed_func::<(u32, u32), u64>(&mut *store, "wasm_nvim_functions").map_err(|e| {
                Error::load(format!("export 'wasm_nvim_functions' must be a function (i32, i32) -> i64: {e:#}"))
            })?;
            ("wasm_nvim_functions", invoke(&mut *store, &ExportFn::Packed(*f.func()), Payload::Bytes(Vec::new())))
        }
    };
    let json = match list.map_err(|e| e.context(export))? {
        Reply::Bytes(bytes) => bytes,
        _ => return Err(Error::load(format!("{export} returned nothing"))),
    };
    let raw = parse_functionality(&json).map_err(|e| e.context(export))?;
    raw.into_iter()
        .map(|f| {
            let shape = if f.raw {
                let ty = pre.module().get_export(&f.name).and_then(|e| e.func().cloned());
                ty.as_ref().and_then(Shape::raw).ok_or_else(|| {
                    Error::load(format!(
                        "raw export '{}' must be a function of numbers with at most one result",
                        f.name
                    ))
                })?
            } else {
                match abi {
                    Abi::Seed => Shape::Seed { takes_arg: f.takes_arg, returns: f.returns },
                    Abi::Msgpack => Shape::Packed,
                }
            };
            Ok(FunctionSpec { name: f.name, shape, signature: f.signature, doc: f.doc })
        })
        .collect()
}

#[derive(Deserialize)]
struct RawSpec {
    name: String,
    #[serde(default)]
    params: serde_json::Value,
    #[serde(default)]
    returns: serde_json::Value,
    #[serde(default)]
    raw: bool,
    /// Written by the SDKs: shown by `:Wasm info`, never interpreted.
    #[serde(default)]
    signature: serde_json::Value,
    #[serde(default)]
    doc: serde_json::Value,
}

/// One entry of a function list, before its shape is resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    /// `params` is not `"void"` (seed ABI): the export takes one value id.
    pub takes_arg: bool,
    /// `returns` is not `"void"` (seed ABI): the export returns one value id.
    pub returns: bool,
    /// Called with plain numbers, no encoding.
    pub raw: bool,
    pub signature: Option<String>,
    pub doc: Option<String>,
}

/// A short text field of the list, if it is one (cut at 200 characters).
fn text_field(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(|s| s.chars().take(200).collect())
}

/// `"void"` (or a missing field) means none; any other value means one id.
fn is_void(v: &serde_json::Value) -> bool {
    v.is_null() || v.as_str() == Some("void")
}

/// Most functions a plugin may list (the whole Neovim API is ~200).
pub const MAX_FUNCTIONS: usize = 10_000;
/// Longest function name, in bytes.
pub const MAX_NAME: usize = 1024;

/// Parses the JSON array `functionality` (or `wasm_nvim_functions`) returns.
pub fn parse_functionality(json: &[u8]) -> Result<Vec<Listed>> {
    let raw: Vec<RawSpec> = serde_json::from_slice(json).map_err(|e| {
        Error::load(format!(
            "expected a JSON array of {{\"name\", \"params\", \"returns\"}} objects, got {:?}: {e}",
            String::from_utf8_lossy(&json[..json.len().min(80)])
        ))
    })?;
    if raw.len() > MAX_FUNCTIONS {
        return Err(Error::load(format!("the plugin lists {} functions, more than {MAX_FUNCTIONS}", raw.len())));
    }
    let mut out: Vec<Listed> = Vec::with_capacity(raw.len());
    let mut names = std::collections::HashSet::with_capacity(raw.len());
    for spec in raw {
        if spec.name.is_empty() {
            return Err(Error::load("a function has an empty name"));
        }
        if spec.name.len() > MAX_NAME {
            return Err(Error::load(format!(
                "a function name of {} bytes ({:?}...); names are at most {MAX_NAME} bytes",
                spec.name.len(),
                bounded::truncate(&spec.name, 40)
            )));
        }
        if !names.insert(spec.name.clone()) {
            return Err(Error::load(format!("function '{}' is listed twice", spec.name)));
        }
        out.push(Listed {
            takes_arg: !is_void(&spec.params),
            returns: !is_void(&spec.returns),
            raw: spec.raw,
            signature: text_field(&spec.signature),
            doc: text_field(&spec.doc),
            name: spec.name,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_example() {
        let specs = parse_functionality(br#"[{"name":"hi", "params": "void", "returns": "void"}]"#).unwrap();
        assert_eq!(
            specs,
            vec![Listed {
                name: "hi".into(),
                takes_arg: false,
                returns: false,
                raw: false,
                signature: None,
                doc: None
            }]
        );
    }

    #[test]
    fn anything_but_void_means_one_value() {
        let specs = parse_functionality(br#"[{"name":"f","params":"string","returns":{"t":1}},{"name":"g"}]"#).unwrap();
        assert!(specs[0].takes_arg && specs[0].returns);
        assert!(!specs[1].takes_arg && !specs[1].returns, "missing fields are void");
    }

    #[test]
    fn rejects_malformed_lists() {
        assert!(parse_functionality(b"{\"name\":\"x\"}").is_err());
        assert!(parse_functionality(b"[{\"params\":\"void\"}]").is_err());
        assert!(parse_functionality(b"[{\"name\":\"\"}]").is_err());
        assert!(parse_functionality(b"[{\"name\":\"a\"},{\"name\":\"a\"}]").is_err());
        assert!(parse_functionality(b"[{\"name\":\"a\"").is_err());
    }

    #[test]
    fn long_lists_and_names_are_refused_and_duplicates_found_fast() {
        let list =
            |n: usize| format!("[{}]", (0..n).map(|i| format!(r#"{{"name":"f{i}"}}"#)).collect::<Vec<_>>().join(","));
        assert_eq!(parse_functionality(list(MAX_FUNCTIONS).as_bytes()).map(|l| l.len()).ok(), Some(MAX_FUNCTIONS));
        let err =
            parse_functionality(list(MAX_FUNCTIONS + 1).as_bytes()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("lists 10001 functions, more than 10000"), "{err}");
        let long = format!(r#"[{{"name":"{}"}}]"#, "n".repeat(MAX_NAME + 1));
        assert!(parse_functionality(long.as_bytes()).is_err());
        let mut dup = list(MAX_FUNCTIONS - 1);
        dup.insert_str(dup.len() - 1, r#",{"name":"f0"}"#);
        let err = parse_functionality(dup.as_bytes()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("'f0' is listed twice"), "{err}");
    }
}
