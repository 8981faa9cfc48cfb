//! The per-thread host: the engines and their `Linker`s (WASI and the fixed
//! imports of both ABIs), the Lua side, the loaded plugins.
//!
//! It is created once when Neovim first `require`s the library and lives as
//! long as the process: it is leaked on purpose, because Neovim may close its
//! Lua state before thread-local destructors run, and dropping Lua handles
//! after that would touch freed memory.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;

use mlua::{Lua, Table};
use wasmtime::{Config, Engine, Linker};

use crate::abi;
use crate::bounded;
use crate::callbacks::{Maker, Tracked};
use crate::error::{Error, Result};
use crate::limits::{self, Limits, TICK};
use crate::nvim::{Level, Nvim};
use crate::options::Options;
use crate::plugin::Plugin;
use crate::registry::Registry;
use crate::state::{HostState, Output};

/// An engine and the linker of the fixed host imports for it (the API
/// is linked per plugin: [`abi::link`]).
pub struct Wasm {
    pub engine: Engine,
    pub linker: Linker<HostState>,
}

pub struct Runtime {
    pub nvim: Nvim,
    /// Compiles with deadline checks (epoch interruption): every plugin
    /// with a timeout.
    metered: Wasm,
    /// Compiles without them, at full speed: plugins the user trusts with
    /// `timeout_ms = 0`. Made on first use.
    unmetered: OnceCell<Wasm>,
    pub registry: RefCell<Registry>,
    pub debug: Cell<bool>,
    /// `setup()` has run (explicitly, or on first access to a plugin).
    pub set_up: Cell<bool>,
    /// Where compiled modules are kept; `None`: not kept (`cache = false`).
    cache_dir: RefCell<Option<PathBuf>>,
    next_key: Cell<u64>,
    /// What each plugin (by key) registered with callbacks.
    resources: RefCell<HashMap<u64, Vec<Tracked>>>,
    /// The options of the last `setup()`, for plugins loaded later.
    pub options: RefCell<Options>,
    /// ... as the user gave them, for `reload()`.
    pub last_opts: RefCell<mlua::Value>,
    /// The table `require("wasm_nvim")` returned, where plugins appear.
    pub module: RefCell<Option<Table>>,
    /// Recent plugin output, errors and warnings, for `:Wasm log`.
    journal: RefCell<Journal>,
    /// A notification is being shown: one raised while it runs (a
    /// `vim.notify` replacement that calls wasm_nvim, which logs) goes to
    /// the journal only, instead of recursing without end.
    notifying: Cell<bool>,
    /// Warnings about files skipped because another has their name, for
    /// `:checkhealth`.
    pub shadowed: RefCell<Vec<String>>,
}

/// Entries kept for `:Wasm log`.
const JOURNAL_SIZE: usize = 500;
/// Bytes kept of one entry: enough for any message worth reading.
const JOURNAL_ENTRY_BYTES: usize = 4096;
/// Bytes kept in all: the oldest entries go first.
const JOURNAL_BYTES: usize = 1 << 20;

/// The `:Wasm log` entries, bounded in number and in bytes.
#[derive(Default)]
struct Journal {
    entries: VecDeque<String>,
    bytes: usize,
}

impl Journal {
    fn push(&mut self, entry: String) {
        self.bytes += entry.len();
        self.entries.push_back(entry);
        while self.entries.len() > JOURNAL_SIZE || self.bytes > JOURNAL_BYTES {
            let Some(old) = self.entries.pop_front() else { break };
            self.bytes -= old.len();
        }
    }
}

/// The wasmtime this library is built with (pinned in Cargo.toml).
pub const WASMTIME_VERSION: &str = "48.0.8";

thread_local! {
    static RUNTIME: OnceCell<&'static Runtime> = const { OnceCell::new() };
}

/// The runtime of this thread; an error when the library was not loaded
/// through `require` on it.
pub fn get() -> Result<&'static Runtime> {
    RUNTIME.with(|r| r.get().copied()).ok_or_else(|| Error::internal("wasm_nvim runtime used before luaopen"))
}

/// Creates the runtime on first use; later `require`s reuse it.
pub fn init(lua: &Lua) -> Result<&'static Runtime> {
    if let Ok(rt) = get() {
        return Ok(rt);
    }
    let rt: &'static Runtime = Box::leak(Box::new(Runtime::new(lua)?));
    RUNTIME.with(|r| r.set(rt).ok());
    get()
}

/// Ticks the engine's epoch every [`TICK`], for deadlines. The thread only
/// bumps an atomic counter; it lives as long as the process.
fn start_ticker(engine: &Engine) -> Result<()> {
    let engine = engine.clone();
    std::thread::Builder::new()
        .name("wasm_nvim-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                limits::tick();
                engine.increment_epoch();
            }
        })
        .map(drop)
        .map_err(|e| Error::internal(format!("cannot start the deadline thread: {e}")))
}

impl Wasm {
    fn new(deadlines: bool) -> Result<Self> {
        let mut config = Config::new();
        config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(32));
        // Deep recursion in a guest is a trap; stack.rs makes sure the real
        // stack has this much (and a margin) wherever a store is entered.
        config.max_wasm_stack(crate::stack::WASM_STACK);
        config.epoch_interruption(deadlines);
        // Compiling cannot be interrupted, so use every core for it (a
        // module near the `module_functions` cap takes seconds on one).
        // Costs about 180 KB of library (rayon); its threads idle otherwise.
        config.parallel_compilation(true);
        let engine = Engine::new(&config).map_err(|e| Error::internal(format!("wasmtime engine: {e:#}")))?;
        let linker = abi::linker(&engine)?;
        Ok(Wasm { engine, linker })
    }
}

impl Runtime {
    /// The engine a plugin with these limits is compiled for.
    pub fn wasm_for(&self, limits: &Limits) -> Result<&Wasm> {
        if limits.timeout.is_some() {
            return Ok(&self.metered);
        }
        if let Some(wasm) = self.unmetered.get() {
            return Ok(wasm);
        }
        let wasm = Wasm::new(false)?;
        Ok(self.unmetered.get_or_init(|| wasm))
    }

    fn new(lua: &Lua) -> Result<Self> {
        let nvim = Nvim::new(lua)?;
        let metered = Wasm::new(true)?;
        start_ticker(&metered.engine)?;
        Ok(Runtime {
            nvim,
            metered,
            unmetered: OnceCell::new(),
            registry: RefCell::new(Registry::default()),
            debug: Cell::new(false),
            set_up: Cell::new(false),
            cache_dir: RefCell::new(None),
            next_key: Cell::new(1),
            resources: RefCell::new(HashMap::new()),
            options: RefCell::new(Options::default()),
            last_opts: RefCell::new(mlua::Value::Nil),
            module: RefCell::new(None),
            journal: RefCell::new(Journal::default()),
            notifying: Cell::new(false),
            shadowed: RefCell::new(Vec::new()),
        })
    }

    pub fn cache_dir(&self) -> Option<PathBuf> {
        self.cache_dir.borrow().clone()
    }

    pub fn set_cache_dir(&self, dir: Option<PathBuf>) {
        *self.cache_dir.borrow_mut() = dir;
    }

    /// A key no other plugin instance has (for re-entrant call lookup).
    pub fn new_key(&self) -> u64 {
        let key = self.next_key.get();
        self.next_key.set(key + 1);
        key
    }

    /// Notes an event for `:Wasm log` (`plugin`: who, `what`: its kind).
    pub fn journal(&self, plugin: &str, what: &str, text: &str) {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let text = bounded::truncate(text, JOURNAL_ENTRY_BYTES);
        self.journal.borrow_mut().push(format!("{h:02}:{m:02}:{s:02} UTC [{plugin}] {what}: {text}"));
    }

    /// The journal, oldest first.
    pub fn journal_entries(&self) -> Vec<String> {
        self.journal.borrow().entries.iter().cloned().collect()
    }

    /// Runs `f` (which shows a notification) unless one is being shown
    /// already; false when it did not run.
    fn notifying(&self, f: impl FnOnce()) -> bool {
        if self.notifying.replace(true) {
            return false;
        }
        f();
        self.notifying.set(false);
        true
    }

    /// Shows output taken with [`HostState::take_output`] in `:messages`.
    /// Call it with no borrow of the plugin held: it runs Lua (a user's
    /// `nvim_echo` autocmds or hooks may call the plugin again).
    pub fn show_output(&self, output: Option<Output>) {
        let Some(output) = output else { return };
        for (text, highlight) in [(output.stdout, "None"), (output.stderr, "WarningMsg")] {
            if let Some(text) = text {
                self.journal(&output.plugin, if highlight == "None" { "stdout" } else { "stderr" }, &text);
                // Output that cannot be shown must not turn a successful call
                // into a failed one; there is nowhere better to report it.
                let _ = self.nvim.echo(&output.plugin, &text, highlight);
            }
        }
    }

    pub fn warn(&self, msg: &str) {
        self.journal("wasm_nvim", "warning", msg);
        self.notifying(|| drop(self.nvim.notify(msg, Level::Warn)));
    }

    pub fn log(&self, msg: impl FnOnce() -> String) {
        if self.debug.get() {
            let msg = msg();
            if !self.notifying(|| drop(self.nvim.notify(&format!("wasm_nvim: {msg}"), Level::Debug))) {
                self.journal("wasm_nvim", "debug", &msg);
            }
        }
    }

    /// A loaded plugin by name.
    pub fn plugin(&self, name: &str) -> Option<Rc<Plugin>> {
        self.registry.borrow().get(name)
    }

    /// The loaded plugin with this key; `None` once it was unloaded.
    pub fn plugin_by_key(&self, key: u64) -> Option<Rc<Plugin>> {
        self.registry.borrow().by_key(key)
    }

    /// Remembers something a plugin registered with the callbacks `maker` made.
    pub fn track(&self, maker: &Maker, resource: crate::callbacks::Resource) {
        let tracked = Tracked { resource, exports: maker.exports() };
        self.resources.borrow_mut().entry(maker.key).or_default().push(tracked);
    }

    /// Deletes what an unloaded plugin registered with callbacks.
    pub fn release(&self, key: u64) {
        crate::workers::release(key);
        let resources = self.resources.borrow_mut().remove(&key).unwrap_or_default();
        for tracked in &resources {
            self.release_one(tracked);
        }
    }

    fn release_one(&self, tracked: &Tracked) {
        if let Err(e) = self.nvim.release(&tracked.resource) {
            self.log(|| format!("releasing {}: {e}", tracked.resource));
        }
    }

    /// After plugin `key` was reloaded (same key, new code): deletes what
    /// it registered with a callback whose export is gone, saying so; the
    /// rest keeps calling the new code. Returns what was dropped.
    pub fn rebind(&self, key: u64, still_exported: impl Fn(&str) -> bool) -> Vec<String> {
        let mut resources = self.resources.borrow_mut().remove(&key).unwrap_or_default();
        let (kept, gone): (Vec<Tracked>, Vec<Tracked>) =
            resources.drain(..).partition(|t| t.exports.iter().all(|e| still_exported(e)));
        if !kept.is_empty() {
            self.resources.borrow_mut().insert(key, kept);
        }
        gone.iter()
            .map(|t| {
                self.release_one(t);
                format!("{} (its callback '{}' is no longer exported)", t.resource, t.exports.join("', '"))
            })
            .collect()
    }
}
