//! Workers: plugin functions that run off the editor's thread.
//!
//! ```lua
//! local wasm = require("wasm_nvim")
//! local w = wasm.worker("finder")                  -- an instance of its own
//! w:call("load", { paths })                        -- state stays in the worker
//! local job = w:call("query", { "src main", 50 }, function(err, result) ... end,
//!   { on_progress = function(value) ... end })
//! job:cancel()                                     -- a newer query came
//! wasm.spawn("finder", "match", { list, "x" }, on_done)  -- one job, fresh instance
//! ```
//!
//! A worker is a separate instance (its own `Store`) of the plugin's
//! compiled module; its jobs run one at a time on a small thread pool
//! ([`pool`]). Arguments are encoded on the editor's thread, results are
//! decoded there and handed to the callback from the main loop (a timer
//! polls while jobs are out; the editor never waits for a job). A job
//! cannot use Lua or the Neovim API: those imports fail with an error
//! saying why. Jobs have their own deadline (`workers.timeout_ms`, 60 s by
//! default: nothing freezes while they run) and memory cap; a trap drops
//! the worker's instance, not the pool. Reloading a plugin closes its
//! workers; exiting Neovim interrupts every job and waits for the threads.

pub mod instance;
pub mod pool;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pool::Pool;

use crate::key::PluginKey;

/// A job's deadline unless `setup({ workers = { timeout_ms = ... } })`
/// says: longer than a call on the editor's thread, since nothing freezes
/// while a job runs, but a runaway job still ends.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// `setup({ workers = { ... } })` as given; `None` keeps the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Threads in the pool (default: one per core, at most 8).
    pub threads: Option<usize>,
    /// A job's deadline (wasm time); 0: none.
    pub timeout_ms: Option<u64>,
    /// A worker instance's memory cap (default: the plugin's).
    pub memory_mb: Option<u64>,
}

impl Config {
    pub fn job_timeout(&self) -> Option<Duration> {
        match self.timeout_ms {
            Some(0) => None,
            Some(ms) => Some(Duration::from_millis(ms)),
            None => Some(DEFAULT_JOB_TIMEOUT),
        }
    }

    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(pool::default_size)
    }
}

static POOL: OnceLock<Arc<Pool>> = OnceLock::new();

/// API function names, for errors raised on worker threads (where the
/// editor's runtime cannot be reached).
static API_NAMES: OnceLock<Vec<String>> = OnceLock::new();

/// The pool, started on first use.
pub fn pool(threads: usize, api_names: impl FnOnce() -> Vec<String>) -> &'static Arc<Pool> {
    let _ = API_NAMES.get_or_init(api_names);
    let pool = POOL.get_or_init(|| Arc::new(Pool::new(threads)));
    pool.set_size(threads);
    pool
}

/// The pool, if a job ever ran.
pub fn pool_if_running() -> Option<&'static Arc<Pool>> {
    POOL.get()
}

/// The name of API function `index`, from any thread.
pub fn api_name(index: usize) -> Option<String> {
    API_NAMES.get().and_then(|names| names.get(index).cloned())
}

/// The plugin loaded with `key` is gone (reloaded, removed by `setup()`):
/// its workers close and their jobs end.
pub fn release(key: PluginKey) {
    if let Some(pool) = pool_if_running() {
        pool.release(key, "the plugin was reloaded");
    }
}
