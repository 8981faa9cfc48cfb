//! The per-thread host: what every plugin shares on Neovim's main thread.
//! It owns the Neovim side (`nvim`), the current setup, the
//! journal, what plugins registered, the module table, and the way a
//! callback reaches its plugin. The plugins themselves are the registry's
//! (registry.rs), which sits above: nothing here knows a `Plugin`.
//!
//! It is created once when Neovim first `require`s the library and lives as
//! long as the process: it is leaked on purpose, because Neovim may close
//! its Lua state before thread-local destructors run, and dropping Lua
//! handles after that would touch freed memory.

mod journal;
mod resources;
mod setup;

use std::cell::{Cell, OnceCell, Ref, RefCell};

use mlua::{Lua, Table};

pub use setup::Setup;

use crate::error::{Error, Result};
use crate::key::PluginKey;
use crate::nvim::Nvim;
use crate::nvim::callbacks::Dispatch;

pub struct Host {
    pub nvim: Nvim,
    /// A `setup()` has started (explicitly, or on first access to a
    /// plugin): reading a plugin does not run one with defaults again.
    setup_started: Cell<bool>,
    setup: RefCell<Setup>,
    next_key: Cell<u64>,
    resources: RefCell<resources::Resources>,
    /// The table `require("wasm_nvim")` returned, where plugins appear.
    module: RefCell<Option<Table>>,
    /// How a callback's Lua function reaches its plugin (set by `module`).
    dispatch: OnceCell<Dispatch>,
    /// Recent plugin output, errors and warnings, for `:Wasm log`.
    journal: RefCell<journal::Journal>,
    /// A notification is being shown (see `journal.rs`).
    notifying: Cell<bool>,
}

/// The wasmtime this library is built with (pinned in Cargo.toml).
pub const WASMTIME_VERSION: &str = "48.0.8";

thread_local! {
    static HOST: OnceCell<&'static Host> = const { OnceCell::new() };
}

/// The host of this thread; an error when the library was not loaded
/// through `require` on it.
pub fn get() -> Result<&'static Host> {
    HOST.with(|r| r.get().copied()).ok_or_else(|| Error::internal("wasm_nvim used before luaopen"))
}

/// Creates the host on first use; later `require`s reuse it.
pub fn init(lua: &Lua) -> Result<&'static Host> {
    if let Ok(host) = get() {
        return Ok(host);
    }
    let host: &'static Host = Box::leak(Box::new(Host::new(lua)?));
    HOST.with(|r| r.set(host).ok());
    get()
}

impl Host {
    fn new(lua: &Lua) -> Result<Self> {
        Ok(Host {
            nvim: Nvim::new(lua)?,
            setup_started: Cell::new(false),
            setup: RefCell::new(Setup::default()),
            next_key: Cell::new(1),
            resources: RefCell::new(resources::Resources::default()),
            module: RefCell::new(None),
            dispatch: OnceCell::new(),
            journal: RefCell::new(journal::Journal::default()),
            notifying: Cell::new(false),
        })
    }

    /// The current setup (hold it briefly: `setup()` replaces it).
    pub fn setup(&self) -> Ref<'_, Setup> {
        self.setup.borrow()
    }

    /// Puts a new setup in place of the current one, whole.
    pub fn replace_setup(&self, setup: Setup) {
        *self.setup.borrow_mut() = setup;
    }

    /// Marks that a `setup()` has started.
    pub fn start_setup(&self) {
        self.setup_started.set(true);
    }

    pub fn is_set_up(&self) -> bool {
        self.setup_started.get()
    }

    /// A key no other loaded plugin has.
    pub fn new_key(&self) -> PluginKey {
        let key = self.next_key.get();
        self.next_key.set(key + 1);
        PluginKey(key)
    }

    /// The module table, once `require` made it.
    pub fn module(&self) -> Option<Table> {
        self.module.borrow().clone()
    }

    pub fn set_module(&self, table: Table) {
        *self.module.borrow_mut() = Some(table);
    }

    /// How callbacks reach their plugin; set once, by the module table.
    pub fn set_dispatch(&self, dispatch: Dispatch) {
        let _ = self.dispatch.set(dispatch);
    }

    pub fn dispatch(&self) -> Option<Dispatch> {
        self.dispatch.get().copied()
    }
}
