//! One loaded plugin: its compiled module, its `Store`, its exports.
//!
//! Each plugin has its own `Store` (own memory, own values), so one plugin
//! cannot read another's memory. A call takes the `Store` out of the plugin
//! for its duration, so no borrow is held while wasm or Lua runs; a call
//! that arrives while the `Store` is out is a re-entrant one and goes
//! through the waiting host import's `Caller` (see [`crate::reentry`]).
//! A call that traps poisons the instance: when the outermost call returns
//! the `Store` is dropped and the next call instantiates afresh.
//!
//! The rules of the call itself are `call/mod.rs`'s; what is the
//! plugin's is here: the `Store`'s slot, slow calls, timeouts in a row
//! (which disable it), and retiring it when it is replaced.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mlua::{Lua, Value};
use wasmtime::{AsContextMut, InstancePre, Store};

use crate::cache;
use crate::call::{self, Call, Fault, invoke_export};
use crate::error::{Error, Result};
use crate::files;
use crate::host::Host;
use crate::key::PluginKey;
use crate::limits::Limits;
use crate::raw::Numbers;
use crate::reentry;
use crate::shape::{Abi, ExportFn, FunctionSpec, Payload, Reply, Shape, Target};
use crate::stack;
use crate::state::HostState;

mod engines;
mod functions;

pub use functions::{FUNCTIONS_SECTION, Listed, MAX_FUNCTIONS, MAX_NAME, parse_functionality};

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

/// What [`Plugin::ended`] decided.
struct Ended {
    /// The `Store` is kept for the next call.
    keep: bool,
    /// The plugin was disabled by this call: the warning to show.
    disabled: Option<String>,
}

/// Calls slower than the plugin's `slow_call` threshold: how many, and the
/// slowest (function and milliseconds), for `plugins()` and `:checkhealth`.
#[derive(Clone, Debug, Default)]
pub struct SlowCalls {
    pub count: u64,
    pub slowest: Option<(String, u64)>,
}

/// Where a plugin's `Store` is between and during calls.
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
    pub limits: Arc<Limits>,
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
    pub key: PluginKey,
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
    /// msgpack ABI) and checks that every function it lists is exported with
    /// the shape the list implies.
    pub fn load(rt: &Host, name: &str, path: &Path, limits: Arc<Limits>) -> Result<Plugin> {
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
    pub fn load_with_key(rt: &Host, name: &str, path: &Path, key: PluginKey, limits: Arc<Limits>) -> Result<Plugin> {
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
        let wasm = engines::for_limits(&limits)?;
        let started = std::time::Instant::now();
        let (module, outcome) = cache::load(rt.setup().cache_dir.as_deref(), &wasm.engine, &bytes)?;
        let compiled = Compiled { outcome, ms: started.elapsed().as_secs_f64() * 1e3 };
        let linker = crate::abi::link(&wasm.linker, &module, &rt.nvim, name, &limits.allow)?;
        let imports = crate::abi::neovim_imports(&module, &rt.nvim);
        let pre = linker.instantiate_pre(&module).map_err(|e| Error::load(format!("cannot link: {e:#}")))?;
        let name: Arc<str> = name.into();
        let mut store = instantiate(rt, &pre, &name, key, &limits)?;
        let abi = functions::detect_abi(&mut store)?;
        let listed = functions::list_functions(&mut store, abi, &pre, &bytes);
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
            Abi::Msgpack => Shape::msgpack(&ty),
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

    /// Calls `target` with Lua arguments, encoded for its shape
    /// (`as_callback`: a seed function gets all of them as one array).
    pub fn call_lua(&self, rt: &Host, lua: &Lua, target: &Target, args: &[Value], as_callback: bool) -> Result<Value> {
        let spec = self.spec(target).ok_or_else(|| Error::internal("unknown function"))?;
        let payload = call::args::encode(&rt.nvim, spec, args, as_callback)?;
        let reply = self.call(rt, target, payload)?;
        call::args::decode(&rt.nvim, lua, spec, reply)
    }

    /// Calls `target` with an encoded argument; returns the encoded result.
    pub fn call(&self, rt: &Host, target: &Target, arg: Payload) -> Result<Reply> {
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
    fn call_fresh(&self, rt: &Host, target: &Target, arg: Payload) -> Result<Reply> {
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
        let output = store.data_mut().take_output();
        store.data_mut().values.clear();
        let ended = self.ended(target, store.data());
        *self.slot.borrow_mut() = if ended.keep { Slot::Ready(store) } else { Slot::Empty };
        rt.show_output(output);
        if let Some(warning) = ended.disabled {
            rt.warn(&warning);
        }
        if !ended.keep {
            rt.log(|| format!("{}: instance dropped after a failed call; the next call starts afresh", self.name));
        }
        result
    }

    /// What the plugin makes of an outermost call that returned, on every
    /// path: a slow call is recorded, timeouts in a row are counted (the
    /// plugin is disabled at `max_timeouts`), and the `Store` is kept
    /// unless the call poisoned it or the plugin was retired meanwhile.
    fn ended(&self, target: &Target, state: &HostState) -> Ended {
        self.note_duration(target, state.budget.elapsed(), state.budget.used());
        Ended { keep: !state.poisoned && !self.retired.get(), disabled: self.note_timeout(state.timed_out) }
    }

    /// Records an outermost call slower than the `slow_call` threshold in
    /// `:Wasm log` and the plugin's [`SlowCalls`], so the user can see
    /// which plugin makes the editor sluggish.
    /// (The journal is plain Rust: this may run on the FFI path.)
    fn note_duration(&self, target: &Target, elapsed: Duration, wasm: Duration) {
        if self.limits.slow_call.is_none_or(|slow| elapsed < slow) {
            return;
        }
        let Ok(rt) = crate::host::get() else { return };
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
    /// (`lifecycle/table.rs`).
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
    /// the plugin is disabled until the next `setup()`. Returns the warning
    /// to show (without showing it: the FFI path cannot run Lua) when it
    /// disables the plugin.
    fn note_timeout(&self, timed_out: bool) -> Option<String> {
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
    pub fn show_pending_output(&self, rt: &Host) {
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
    pub(crate) fn call_ffi(&self, index: usize, numbers: &mut Numbers) -> FfiOutcome {
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
        if store.data().depth != 0 {
            return FfiOutcome::Fallback;
        }
        let mut ctx = store.as_context_mut();
        let ran = Call::enter(&mut ctx).map(|call| {
            ctx.data_mut().raw_call = true;
            // SAFETY: as in `call::call_shape`: the type was checked against
            // the raw shape at load, `numbers` holds values of those types,
            // and `func` belongs to this store. While it runs no Lua can
            // (`raw_call`), so nothing can reach this plugin's slot, which
            // stays borrowed.
            let ran = stack::enter(|| unsafe {
                func.call_unchecked(&mut ctx, &mut numbers.values[..] as *mut [wasmtime::ValRaw])
            });
            ctx.data_mut().raw_call = false;
            let ran = ran.map(|called| called.map_err(|trap| Fault::Trap(Error::from_wasm(trap))));
            call.leave(&mut ctx, ran)
        });
        let printed = ctx.data().stdout.has_output() || ctx.data().stderr.has_output();
        let ended = self.ended(&Target::Listed(index), ctx.data());
        if !ended.keep {
            *slot = Slot::Empty;
        }
        drop(slot);
        match (ran.and_then(|r| r), ended.disabled) {
            (Err(e), Some(warning)) => FfiOutcome::Error(e.context(warning)),
            (Err(e), None) => FfiOutcome::Error(e),
            (Ok(()), _) if printed => FfiOutcome::OkShowOutput,
            (Ok(()), _) => FfiOutcome::Ok,
        }
    }

    fn reinstantiate(&self, rt: &Host) -> Result<Store<HostState>> {
        rt.log(|| format!("{}: instantiating afresh", self.name));
        let pre = self.pre.borrow().clone().ok_or_else(|| self.retired_error())?;
        let mut store = instantiate(rt, &pre, &self.name, self.key, &self.limits)?;
        self.resolve_exports(&mut store)?;
        Ok(store)
    }
}

/// A new `Store` with the module instantiated and its `_initialize` run;
/// what that printed is shown (also when it failed).
fn instantiate(
    rt: &Host,
    pre: &InstancePre<HostState>,
    name: &Arc<str>,
    key: PluginKey,
    limits: &Arc<Limits>,
) -> Result<Store<HostState>> {
    let mut store = crate::state::instantiate(pre, name, key, limits)?;
    let initialized = crate::state::initialize(&mut store);
    rt.show_output(store.data_mut().take_output());
    initialized.map(|()| store)
}
