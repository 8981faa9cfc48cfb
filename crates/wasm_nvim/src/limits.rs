//! Per-plugin limits: how long a call may run, how much memory and table
//! space a plugin may take, and what it may touch through WASI.
//!
//! Time is enforced with wasmtime's epoch interruption (cheaper than fuel:
//! a load and compare at loop headers and function entries, instead of a
//! counter update per basic block): a thread ticks the engine's epoch every
//! [`TICK`]; at each tick a running plugin's deadline callback checks how
//! much *wasm* time its call has used. Time spent in Neovim on the plugin's
//! behalf (API calls, Lua, the user answering `vim.fn.input`) does not count.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::ResourceLimiter;

use crate::error::Error;
use crate::permissions::Permissions;

/// How often the epoch ticks, i.e. the resolution of deadlines.
pub const TICK: Duration = Duration::from_millis(10);

/// The default deadline: wasm time one call may use.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default threshold past which a call is recorded as slow: a pause
/// the user notices while typing.
pub const DEFAULT_SLOW_CALL: Duration = Duration::from_millis(100);

/// What one plugin may use. `setup({ limits = ..., plugins = { name = ... } })`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wasm time one call (with everything it calls back into) may use;
    /// `None`: unlimited, and compiled without deadline checks.
    pub timeout: Option<Duration>,
    /// Most bytes of linear memory.
    pub memory: usize,
    /// Most elements of a table (function pointers).
    pub table_elements: usize,
    /// Calls that time out in a row before the plugin is disabled; 0: never.
    pub max_timeouts: u32,
    /// A read-write directory the plugin sees as `/data` (WASI).
    pub data_dir: Option<PathBuf>,
    /// Calls that take longer than this (wall time, everything included)
    /// are recorded as slow; `None`: not recorded.
    pub slow_call: Option<Duration>,
    /// What the plugin may reach in Neovim (the API, Lua).
    pub allow: Permissions,
    /// Largest `.wasm` file loaded: compiling is the one step no deadline
    /// covers (a few MB of code can take seconds).
    pub module_bytes: u64,
    /// Most functions a module may define: compile time grows with them
    /// (about 0.15 ms each on one core here), and compiling cannot be
    /// interrupted.
    pub module_functions: u32,
}

/// The default of [`Limits::module_bytes`].
pub const DEFAULT_MODULE_MB: u64 = 32;
/// The default of [`Limits::module_functions`].
pub const DEFAULT_MODULE_FUNCTIONS: u32 = 50_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            // Long enough for honest heavy work on the editor's thread
            // (formatting a large file, searching a big project, the seed's
            // 5-second benchmark), short enough that a runaway loop ends.
            timeout: Some(DEFAULT_TIMEOUT),
            memory: 256 << 20,
            table_elements: 100_000,
            max_timeouts: 3,
            data_dir: None,
            slow_call: Some(DEFAULT_SLOW_CALL),
            allow: Permissions::default(),
            module_bytes: DEFAULT_MODULE_MB << 20,
            module_functions: DEFAULT_MODULE_FUNCTIONS,
        }
    }
}

/// Ticks since the library loaded, counted by the epoch thread: a clock
/// that costs one atomic load to read (calls are measured in nanoseconds;
/// `Instant::now()` would be a good part of one).
static TICKS: AtomicU64 = AtomicU64::new(0);

/// Called by the epoch thread at each tick: the ticks of real time since
/// the first call, not the count of calls. On a loaded machine the thread
/// oversleeps, and counting its wake-ups would undercount time (a 1.5 s
/// call measured as 1.2 s).
pub fn tick() {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(std::time::Instant::now);
    let ticks = start.elapsed().as_nanos() / TICK.as_nanos().max(1);
    TICKS.fetch_max(u64::try_from(ticks).unwrap_or(u64::MAX), Ordering::Relaxed);
}

fn now() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// The tick clock, for measuring host work in ticks.
pub fn ticks() -> u64 {
    now()
}

/// Wasm time used by the outermost call into a store and what it called,
/// in ticks.
#[derive(Debug, Default)]
pub struct Budget {
    started: u64,
    /// Ticks spent in the host (Lua, the Neovim API) so far.
    host: u64,
    /// When the host import now running started, if one is.
    host_since: Option<u64>,
}

impl Budget {
    /// At the start of an outermost call.
    pub fn restart(&mut self) {
        *self = Budget { started: now(), host: 0, host_since: None };
    }

    /// Wasm stops running: a host import runs Lua.
    pub fn enter_host(&mut self) {
        self.host_since = Some(now());
    }

    /// Wasm runs again: the import returned, or Lua called back into wasm.
    pub fn leave_host(&mut self) {
        if let Some(since) = self.host_since.take() {
            self.host += now().saturating_sub(since);
        }
    }

    /// Wall time since the outermost call started, host time included
    /// (what the user waited), to a tick's resolution.
    pub fn elapsed(&self) -> Duration {
        TICK * u32::try_from(now().saturating_sub(self.started)).unwrap_or(u32::MAX)
    }

    /// Counts `ticks` of host time as the plugin's own (work done for it,
    /// like showing its output).
    pub fn charge(&mut self, ticks: u64) {
        self.host = self.host.saturating_sub(ticks);
    }

    /// Wasm time used so far.
    pub fn used(&self) -> Duration {
        let now = now();
        let host_now = self.host_since.map_or(0, |s| now.saturating_sub(s));
        let ticks = now.saturating_sub(self.started).saturating_sub(self.host + host_now);
        TICK * u32::try_from(ticks).unwrap_or(u32::MAX)
    }
}

/// The `ResourceLimiter` of one plugin's store.
#[derive(Debug)]
pub struct Limiter {
    pub memory: usize,
    pub table_elements: usize,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory {
            // An error (a trap) rather than `Ok(false)` (memory.grow returns
            // -1): most guests abort on allocation failure with a message
            // that does not say why; this one does.
            return Err(wasmtime::Error::new(Error::limit(format!(
                "memory: the plugin needs {} MiB (has {} MiB), its limit is {} MiB \
                 (setup({{ limits = {{ memory_mb = ... }} }}))",
                desired.div_ceil(1 << 20),
                current >> 20,
                self.memory >> 20
            ))));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            return Err(wasmtime::Error::new(Error::limit(format!(
                "table: the plugin needs {desired} elements, its limit is {}",
                self.table_elements
            ))));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        4
    }

    fn memories(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves the clock by one tick (`tick()` follows real time).
    fn tick() {
        TICKS.fetch_add(1, Ordering::Relaxed);
    }

    #[test]
    fn host_time_does_not_count() {
        let mut b = Budget::default();
        b.restart();
        let start = b.used();
        b.enter_host();
        (0..3).for_each(|_| tick());
        assert_eq!(b.used(), start, "ticks in the host do not count");
        b.leave_host();
        assert_eq!(b.used(), start);
        (0..2).for_each(|_| tick());
        assert_eq!(b.used(), start + TICK * 2);
        // host work done for the plugin (showing its output) is charged to it
        // (in this test, not another: the tick counter is shared)
        b.enter_host();
        (0..5).for_each(|_| tick());
        b.leave_host();
        b.charge(2);
        assert_eq!(b.used(), start + TICK * 4);
    }

    #[test]
    fn memory_cap_is_an_error_naming_sizes() {
        let mut l = Limiter { memory: 1 << 20, table_elements: 10 };
        assert!(l.memory_growing(0, 1 << 20, None).is_ok_and(|ok| ok));
        let err = l.memory_growing(1 << 20, 3 << 20, None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("needs 3 MiB") && err.contains("limit is 1 MiB"), "{err}");
        assert!(l.table_growing(0, 11, None).is_err());
    }
}
