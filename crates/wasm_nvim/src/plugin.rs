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

use serde::Deserialize;
use wasmtime::{AsContextMut, InstancePre, Store};

use crate::cache;
use crate::error::{Error, Kind, Result};
use crate::limits::Limits;
use crate::panics;
use crate::reentry;
use crate::runtime::Runtime;
use crate::state::{ExportFn, Guest, HostState, MAX_DEPTH};

/// A function a plugin declares in its `functionality` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSpec {
    pub name: String,
    /// `params` is not `"void"`: the export takes one value id.
    pub takes_arg: bool,
    /// `returns` is not `"void"`: the export returns one value id.
    pub returns: bool,
}

/// How the plugin's code was obtained, and how long it took.
#[derive(Clone, Copy, Debug)]
pub struct Compiled {
    pub outcome: cache::Outcome,
    pub ms: f64,
}

/// What to call in a plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Function `n` of the plugin's `functionality` list.
    Listed(usize),
    /// Any other export (callbacks), with the shape its type has.
    Named(FunctionSpec),
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
    pub functions: Vec<FunctionSpec>,
    pub compiled: Compiled,
    pub limits: Limits,
    /// Calls that timed out in a row.
    timeouts: Cell<u32>,
    /// Why calls are refused (too many timeouts), if they are.
    disabled: RefCell<Option<String>>,
    pre: InstancePre<HostState>,
    /// Unique per loaded plugin: a reload gives the new one another key.
    pub key: u64,
    slot: RefCell<Slot>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").field("name", &self.name).field("path", &self.path).finish_non_exhaustive()
    }
}

impl Plugin {
    /// Reads, compiles, links and instantiates `path`, then asks it for its
    /// `functionality` and checks that every function it lists is exported
    /// with the declared shape.
    pub fn load(rt: &Runtime, name: &str, path: &Path, limits: Limits) -> Result<Plugin> {
        let key = rt.new_key();
        let loaded = Self::load_with_key(rt, name, path, key, limits);
        if loaded.is_err() {
            // What it registered with callbacks before failing goes too.
            rt.release(key);
        }
        loaded
    }

    fn load_with_key(rt: &Runtime, name: &str, path: &Path, key: u64, limits: Limits) -> Result<Plugin> {
        let bytes = std::fs::read(path).map_err(|e| Error::load(format!("cannot read: {e}")))?;
        if !bytes.starts_with(b"\0asm") {
            return Err(Error::load("not a WebAssembly module (no \\0asm header)"));
        }
        let wasm = rt.wasm_for(&limits)?;
        let started = std::time::Instant::now();
        let (module, outcome) = cache::load(rt.cache_dir().as_deref(), &wasm.engine, &bytes)?;
        let compiled = Compiled { outcome, ms: started.elapsed().as_secs_f64() * 1e3 };
        let pre = wasm.linker.instantiate_pre(&module).map_err(|e| Error::load(format!("cannot link: {e:#}")))?;
        let name: Arc<str> = name.into();
        let mut store = instantiate(rt, &pre, &name, key, &limits)?;
        let functionality = store.data().guest()?.functionality.clone();
        let listed = invoke(&mut store, &ExportFn::Ret(functionality), None)
            .map_err(|e| e.context("functionality"));
        rt.show_output(store.data().take_output());
        store.data_mut().values.clear();
        let json = listed?.ok_or_else(|| Error::internal("functionality returned nothing"))?;
        let functions = parse_functionality(&json).map_err(|e| e.context("functionality"))?;
        let plugin = Plugin {
            name,
            path: path.to_owned(),
            functions,
            compiled,
            limits,
            timeouts: Cell::new(0),
            disabled: RefCell::new(None),
            pre,
            key,
            slot: RefCell::new(Slot::Empty),
        };
        plugin.resolve_exports(&mut store)?;
        *plugin.slot.borrow_mut() = Slot::Ready(Box::new(store));
        Ok(plugin)
    }

    fn resolve_exports(&self, store: &mut Store<HostState>) -> Result<()> {
        let instance = store.data().instance.ok_or_else(|| Error::internal("no instance"))?;
        let exports = self
            .functions
            .iter()
            .map(|f| ExportFn::lookup(&instance, &mut *store, &f.name, f.takes_arg, f.returns))
            .collect::<Result<Vec<_>>>()?;
        if let Some(guest) = store.data_mut().guest.as_mut() {
            guest.exports = exports;
        }
        Ok(())
    }

    /// The export `name` as a callback target: a listed function, or any
    /// other exported function whose type has one of the seed shapes.
    pub fn target(&self, name: &str) -> Result<Target> {
        if let Some(index) = self.functions.iter().position(|f| f.name == name) {
            return Ok(Target::Listed(index));
        }
        let shape = self.pre.module().get_export(name).and_then(|e| e.func().cloned()).and_then(|ty| {
            let params: Vec<_> = ty.params().collect();
            let results: Vec<_> = ty.results().collect();
            let is_i32 = |v: &[wasmtime::ValType]| v.iter().all(|t| matches!(t, wasmtime::ValType::I32));
            (params.len() <= 1 && results.len() <= 1 && is_i32(&params) && is_i32(&results))
                .then(|| FunctionSpec { name: name.to_string(), takes_arg: params.len() == 1, returns: results.len() == 1 })
        });
        shape.map(Target::Named).ok_or_else(|| {
            Error::abi(format!("'{name}' is not an exported function of shape (), (i32), () -> i32 or (i32) -> i32"))
        })
    }

    /// The shape of a call target.
    pub fn spec<'a>(&'a self, target: &'a Target) -> Option<&'a FunctionSpec> {
        match target {
            Target::Listed(index) => self.functions.get(*index),
            Target::Named(spec) => Some(spec),
        }
    }

    /// Calls `target` with an encoded argument; returns the encoded result.
    pub fn call(&self, rt: &Runtime, target: &Target, arg: Option<Vec<u8>>) -> Result<Option<Vec<u8>>> {
        if let Some(why) = self.disabled.borrow().as_ref() {
            return Err(Error::limit(why.clone()));
        }
        let taken = std::mem::replace(&mut *self.slot.borrow_mut(), Slot::InUse);
        let mut store = match taken {
            Slot::Ready(store) => store,
            Slot::InUse => {
                return reentry::with_waiting(self.key, |caller| invoke_export(caller, target, arg)).unwrap_or_else(|| {
                    Err(Error::internal("the plugin is busy and no host import is waiting on Lua"))
                });
            }
            Slot::Empty => match self.reinstantiate(rt) {
                Ok(store) => Box::new(store),
                Err(e) => {
                    *self.slot.borrow_mut() = Slot::Empty;
                    return Err(e);
                }
            },
        };
        let result = invoke_export(&mut *store, target, arg);
        let output = store.data().take_output();
        store.data_mut().values.clear();
        let poisoned = store.data().poisoned;
        let timed_out = store.data().timed_out;
        *self.slot.borrow_mut() = if poisoned { Slot::Empty } else { Slot::Ready(store) };
        rt.show_output(output);
        self.count_timeout(rt, timed_out);
        if poisoned {
            rt.log(|| format!("{}: instance dropped after a failed call; the next call starts afresh", self.name));
        }
        result
    }

    /// The timeout policy: after `max_timeouts` calls in a row time out,
    /// the plugin is disabled until the next `setup()`.
    fn count_timeout(&self, rt: &Runtime, timed_out: bool) {
        if !timed_out {
            self.timeouts.set(0);
            return;
        }
        let n = self.timeouts.get() + 1;
        self.timeouts.set(n);
        let max = self.limits.max_timeouts;
        if max > 0 && n >= max {
            let why = format!(
                "disabled: {n} calls in a row timed out; fix the plugin or raise its limits, then run :lua require('wasm_nvim').setup()"
            );
            rt.warn(&format!("wasm_nvim: plugin '{}' {why}", self.name));
            *self.disabled.borrow_mut() = Some(why);
        }
    }

    fn reinstantiate(&self, rt: &Runtime) -> Result<Store<HostState>> {
        rt.log(|| format!("{}: instantiating afresh", self.name));
        let mut store = instantiate(rt, &self.pre, &self.name, self.key, &self.limits)?;
        self.resolve_exports(&mut store)?;
        Ok(store)
    }
}

/// A new `Store` with the module instantiated, the seed exports resolved and
/// the WASI reactor initializer (`_initialize`) run if there is one.
fn instantiate(rt: &Runtime, pre: &InstancePre<HostState>, name: &Arc<str>, key: u64, limits: &Limits) -> Result<Store<HostState>> {
    let mut store = Store::new(pre.module().engine(), HostState::new(name.clone(), key, limits)?);
    store.limiter(|state| &mut state.limiter);
    store.epoch_deadline_callback(|mut ctx| ctx.data_mut().check_deadline());
    // Start functions and `_initialize` run under the same deadline.
    store.set_epoch_deadline(1);
    store.data_mut().budget.restart();
    let instance = panics::catch(|| pre.instantiate(&mut store))?
        .map_err(|e| Error::from_wasm(e).context("instantiating"))?;
    let guest = Guest::resolve(&instance, &mut store)?;
    store.data_mut().guest = Some(guest);
    store.data_mut().instance = Some(instance);
    if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
        let run = panics::catch(|| init.call(&mut store, ()))?;
        rt.show_output(store.data().take_output());
        run.map_err(|e| Error::from_wasm(e).context("_initialize"))?;
    }
    Ok(store)
}

fn invoke_export(mut ctx: impl AsContextMut<Data = HostState>, target: &Target, arg: Option<Vec<u8>>) -> Result<Option<Vec<u8>>> {
    let mut ctx = ctx.as_context_mut();
    let func = match target {
        Target::Listed(index) => {
            let func = ctx.data().guest()?.exports.get(*index).cloned();
            func.ok_or_else(|| Error::internal(format!("no export #{index}")))?
        }
        Target::Named(spec) => {
            let instance = ctx.data().instance.ok_or_else(|| Error::internal("no instance"))?;
            ExportFn::lookup(&instance, &mut ctx, &spec.name, spec.takes_arg, spec.returns)?
        }
    };
    invoke(ctx, &func, arg)
}

/// Calls an export: stores the argument under a fresh id, calls, takes the
/// returned id. A trap or panic poisons the instance.
fn invoke(mut ctx: impl AsContextMut<Data = HostState>, func: &ExportFn, arg: Option<Vec<u8>>) -> Result<Option<Vec<u8>>> {
    let mut ctx = ctx.as_context_mut();
    let state = ctx.data_mut();
    if state.depth >= MAX_DEPTH {
        return Err(Error::limit(format!("calls nested deeper than {MAX_DEPTH} into one plugin")));
    }
    let arg_id = arg.map(|bytes| state.values.insert(bytes)).transpose()?;
    let outermost = state.depth == 0;
    if outermost {
        state.budget.restart();
        state.timed_out = false;
    } else {
        // Lua called back into wasm: from here it is wasm time again.
        state.budget.leave_host();
    }
    state.depth += 1;
    if outermost {
        // A store's deadline must be set before each call (else it traps).
        ctx.set_epoch_deadline(1);
    }
    let outcome = panics::catch(|| func.call(&mut ctx, arg_id));
    let state = ctx.data_mut();
    state.depth -= 1;
    if !outermost {
        state.budget.enter_host();
    }
    let refused = state.error.take();
    let returned = match outcome {
        Ok(Ok(returned)) => returned,
        Ok(Err(trap)) => {
            state.poisoned = true;
            return Err(Error::from_wasm(trap));
        }
        Err(panic) => {
            state.poisoned = true;
            return Err(panic);
        }
    };
    if let Some(message) = refused {
        return Err(Error::new(Kind::Plugin, message));
    }
    match returned {
        Some(id) => state.values.take(id).map(Some).map_err(|e| e.context("returned id")),
        None => Ok(None),
    }
}

#[derive(Deserialize)]
struct RawSpec {
    name: String,
    #[serde(default)]
    params: serde_json::Value,
    #[serde(default)]
    returns: serde_json::Value,
}

/// `"void"` (or a missing field) means none; any other value means one id.
fn is_void(v: &serde_json::Value) -> bool {
    v.is_null() || v.as_str() == Some("void")
}

/// Parses the JSON array `functionality` returns.
pub fn parse_functionality(json: &[u8]) -> Result<Vec<FunctionSpec>> {
    let raw: Vec<RawSpec> = serde_json::from_slice(json).map_err(|e| {
        Error::load(format!(
            "expected a JSON array of {{\"name\", \"params\", \"returns\"}} objects, got {:?}: {e}",
            String::from_utf8_lossy(&json[..json.len().min(80)])
        ))
    })?;
    let mut out: Vec<FunctionSpec> = Vec::with_capacity(raw.len());
    for spec in raw {
        if spec.name.is_empty() {
            return Err(Error::load("a function has an empty name"));
        }
        if out.iter().any(|f| f.name == spec.name) {
            return Err(Error::load(format!("function '{}' is listed twice", spec.name)));
        }
        out.push(FunctionSpec { takes_arg: !is_void(&spec.params), returns: !is_void(&spec.returns), name: spec.name });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_example() {
        let specs = parse_functionality(br#"[{"name":"hi", "params": "void", "returns": "void"}]"#).unwrap();
        assert_eq!(specs, vec![FunctionSpec { name: "hi".into(), takes_arg: false, returns: false }]);
    }

    #[test]
    fn anything_but_void_means_one_value() {
        let specs =
            parse_functionality(br#"[{"name":"f","params":"string","returns":{"t":1}},{"name":"g"}]"#).unwrap();
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
}
