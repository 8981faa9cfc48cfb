//! What a host import sees of its plugin: the data of the plugin's `Store`.
//!
//! It must be `Send` (wasmtime-wasi's linker requires it), so it holds no
//! Lua handles; those live in the thread-local [`crate::host::Host`].

use std::sync::Arc;

use std::time::Instant;

use wasmtime::{Instance, InstancePre, Store, UpdateDeadline};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::error::{Error, Result};
use crate::guest::Guest;
use crate::key::PluginKey;
use crate::limits::{Budget, Limiter, Limits};
use crate::output::{Capture, Output, Shown};
use crate::panics;
use crate::values::Values;

/// The data of one plugin's `Store`.
pub struct HostState {
    /// The plugin's name, for error messages.
    pub plugin: Arc<str>,
    /// Identifies the plugin instance for re-entrant calls.
    pub key: PluginKey,
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
    pub limits: Arc<Limits>,
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
    pub job: Option<Arc<crate::job::Control>>,
    /// Output shown during the current outermost call.
    pub shown: Shown,
    /// Where the plugin's WASI monotonic clock starts (see `abi::sleep`).
    pub clock_base: Instant,
}

impl HostState {
    pub fn new(plugin: Arc<str>, key: PluginKey, limits: &Arc<Limits>) -> Result<Self> {
        let stdout = Capture::default();
        let stderr = Capture::default();
        // What plugins need to print, and nothing else: no environment, no
        // arguments, no files unless the user gave the plugin a data directory.
        let mut wasi = WasiCtxBuilder::new();
        let clock_base = Instant::now();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_blocking_current_thread(true)
            .monotonic_clock(Monotonic(clock_base));
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
            limits: Arc::clone(limits),
            budget: Budget::default(),
            timed_out: false,
            error: None,
            panic: None,
            raw_call: false,
            scratch: Vec::new(),
            job: None,
            shown: Shown::default(),
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
    /// (checked first with two atomic loads: this runs on every call), cut
    /// to what one outermost call may show ([`Shown`]).
    pub fn take_output(&mut self) -> Option<Output> {
        if !self.stdout.has_output() && !self.stderr.has_output() {
            return None;
        }
        let (stdout, stderr) = (self.stdout.drain(), self.stderr.drain());
        let stdout = stdout.and_then(|t| self.shown.cut(t));
        let stderr = stderr.and_then(|t| self.shown.cut(t));
        (stdout.is_some() || stderr.is_some()).then(|| Output { plugin: self.plugin.clone(), stdout, stderr })
    }

    /// At the start of an outermost call.
    pub fn start_call(&mut self) {
        self.budget.restart();
        self.timed_out = false;
        self.shown = Shown::default();
    }

    pub fn guest(&self) -> Result<&Guest> {
        self.guest.as_ref().ok_or_else(|| Error::abi("the plugin called the host before it was fully instantiated"))
    }
}

/// A new `Store` of `pre` with its limits, its deadline and the guest's
/// exports resolved; `_initialize` not run yet ([`initialize`]). The
/// deadline tick also interrupts a worker's job cancelled past its grace.
pub fn instantiate(
    pre: &InstancePre<HostState>,
    name: &Arc<str>,
    key: PluginKey,
    limits: &Arc<Limits>,
) -> Result<Store<HostState>> {
    let mut store = Store::new(pre.module().engine(), HostState::new(name.clone(), key, limits)?);
    store.limiter(|state| &mut state.limiter);
    store.epoch_deadline_callback(|mut ctx| {
        if let Some(e) = ctx.data().job.as_ref().and_then(|job| job.interrupt()) {
            return Err(wasmtime::Error::new(e));
        }
        ctx.data_mut().check_deadline()
    });
    // Start functions and `_initialize` run under the same deadline.
    store.set_epoch_deadline(1);
    store.data_mut().start_call();
    let instance =
        panics::catch(|| pre.instantiate(&mut store))?.map_err(|e| Error::from_wasm(e).context("instantiating"))?;
    let guest = Guest::resolve(&instance, &mut store)?;
    store.data_mut().guest = Some(guest);
    store.data_mut().instance = Some(instance);
    Ok(store)
}

/// Runs the WASI reactor initializer (`_initialize`), if the module has one.
pub fn initialize(store: &mut Store<HostState>) -> Result<()> {
    let Some(instance) = store.data().instance else { return Ok(()) };
    let Ok(init) = instance.get_typed_func::<(), ()>(&mut *store, wasm_nvim_abi::INITIALIZE_EXPORT) else {
        return Ok(());
    };
    panics::catch(|| init.call(&mut *store, ()))?.map_err(|e| Error::from_wasm(e).context("_initialize"))
}

/// The plugin's WASI monotonic clock: time since its store was made, so
/// absolute monotonic waits can be turned into durations (`abi::sleep`).
pub struct Monotonic(pub Instant);

impl wasmtime_wasi::HostMonotonicClock for Monotonic {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::PluginKey;

    #[test]
    fn a_call_shows_at_most_max_shown_bytes_of_output() {
        let mut state = HostState::new(Arc::from("p"), PluginKey(1), &Arc::new(Limits::default())).unwrap();
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
        assert_eq!(shown, crate::output::MAX_SHOWN);
        assert_eq!(notes, 1);
        state.start_call();
        state.stdout.append(b"again");
        assert_eq!(state.take_output().and_then(|o| o.stdout).as_deref(), Some("again"), "a new call shows again");
    }
}
