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

use pool::Pool;

use crate::key::PluginKey;

static POOL: OnceLock<Arc<Pool>> = OnceLock::new();

/// The pool, started on first use.
pub fn pool(threads: usize, api_names: impl FnOnce() -> Vec<String>) -> &'static Arc<Pool> {
    crate::abi::remember_api_names(api_names);
    let pool = POOL.get_or_init(|| Arc::new(Pool::new(threads)));
    pool.set_size(threads);
    pool
}

/// The pool, if a job ever ran.
pub fn pool_if_running() -> Option<&'static Arc<Pool>> {
    POOL.get()
}

/// The plugin loaded with `key` is gone (reloaded, removed by `setup()`):
/// its workers close and their jobs end.
pub fn release(key: PluginKey) {
    if let Some(pool) = pool_if_running() {
        pool.release(key, "the plugin was reloaded");
    }
}
