//! Plugin exports as Lua functions, wherever Neovim takes one.
//!
//! Inside the JSON arguments of any `nvim_*` import, the object
//! `{"__wasm_callback": "<export>"}` becomes a Lua function. Called (by an
//! autocmd, a user command, a keymap, `nvim_buf_attach`, a timer ...), it
//! calls that export of the same plugin with all its arguments as one JSON
//! array, and returns the export's result converted to Lua (so `true` from
//! an autocmd callback deletes the autocmd, as in Lua).
//!
//! A callback holds the plugin's key and the export's name, not the
//! plugin. `reload()` (`:Wasm reload`) gives the new version the old key,
//! so every callback re-binds by export name to the new code; one whose
//! export is gone is dropped with a notice (autocmds, user commands and
//! keymaps are deleted, a buffer attachment or timer answers `true`).
//! After `setup()` again, or once the plugin is unloaded, the key is gone:
//! what the plugin registered with a callback (autocmds, user commands,
//! keymaps) is deleted, and a callback that still fires (a buffer
//! attachment, a timer) returns `true` — which detaches an
//! `nvim_buf_attach` — and does nothing else.
//!
//! A callback never raises: events have no caller to catch an error, so a
//! failure is reported with `vim.notify` at ERROR level, naming plugin and
//! export, and the autocmd or keymap stays in place for the next time. The
//! report is scheduled: shown while an API call runs (`nvim_set_current_buf`
//! firing `BufEnter`), an error message would fail that call.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use mlua::{Function, Lua, MultiValue, Value};

use crate::module;
use crate::nvim::Level;
use crate::panics;
use crate::runtime;

/// Makes the callbacks of one `nvim_*` call's arguments.
#[derive(Debug)]
pub struct Maker {
    pub key: u64,
    pub plugin: Arc<str>,
    made: Cell<usize>,
    /// The exports the callbacks call (what a reload checks still exist).
    exports: RefCell<Vec<String>>,
}

impl Maker {
    pub fn new(key: u64, plugin: Arc<str>) -> Self {
        Maker { key, plugin, made: Cell::new(0), exports: RefCell::new(Vec::new()) }
    }

    /// How many callbacks the arguments held.
    pub fn made(&self) -> usize {
        self.made.get()
    }

    /// The exports of the callbacks made so far.
    pub fn exports(&self) -> Vec<String> {
        self.exports.borrow().clone()
    }

    /// The Lua function calling export `export`; checks that the export
    /// exists with a usable shape when the plugin is already registered.
    pub fn make(&self, lua: &Lua, export: &str) -> mlua::Result<Function> {
        if let Ok(rt) = runtime::get()
            && let Some(plugin) = rt.plugin_by_key(self.key)
        {
            plugin.target(export).map_err(|e| mlua::Error::RuntimeError(format!("callback: {e}")))?;
        }
        self.made.set(self.made.get() + 1);
        if !self.exports.borrow().iter().any(|e| e == export) {
            self.exports.borrow_mut().push(export.to_string());
        }
        let (key, plugin, export) = (self.key, self.plugin.clone(), export.to_string());
        lua.create_function(move |lua, args: MultiValue| Ok(invoke(lua, key, &plugin, &export, args)))
    }
}

fn invoke(lua: &Lua, key: u64, plugin_name: &str, export: &str, args: MultiValue) -> Value {
    let Ok(rt) = runtime::get() else { return Value::Nil };
    let Some(plugin) = rt.plugin_by_key(key) else {
        rt.log(|| format!("{plugin_name}.{export}: callback of an unloaded plugin, returning true (remove me)"));
        return Value::Boolean(true);
    };
    let Ok(target) = plugin.target(export) else {
        // reloaded into a version without this export
        rt.journal(plugin_name, "callback dropped", &format!("'{export}' is no longer exported; answering true"));
        return Value::Boolean(true);
    };
    let result = panics::catch(|| module::call(rt, lua, &plugin, &target, &args.into_vec(), true)).and_then(|r| r);
    result.unwrap_or_else(|e| {
        let message = crate::bounded::compact_nested(&format!("wasm_nvim: {plugin_name}.{export} (callback): {e}"));
        let _ = rt.nvim.notify_later(&message, Level::Error);
        Value::Nil
    })
}

/// Something a plugin registered with a callback, deleted when it unloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Autocmd(i64),
    Command { buffer: Option<i64>, name: String },
    Keymap { buffer: Option<i64>, mode: String, lhs: String },
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::Autocmd(id) => write!(f, "autocmd {id}"),
            Resource::Command { name, .. } => write!(f, "user command :{name}"),
            Resource::Keymap { mode, lhs, .. } => write!(f, "{mode}-mode keymap {lhs}"),
        }
    }
}

/// A registration and the exports its callbacks call.
#[derive(Debug, Clone)]
pub struct Tracked {
    pub resource: Resource,
    pub exports: Vec<String>,
}

/// What an `nvim_*` call that received callbacks registered, if it is one
/// of the registering API functions. `buffer` 0 must already be resolved.
pub fn registered(api: &str, args: &[Value], result: &Value) -> Option<Resource> {
    let int = |v: Option<&Value>| match v {
        Some(Value::Integer(i)) => Some(*i),
        _ => None,
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.to_str().ok().map(|s| s.to_string()),
        _ => None,
    };
    match api {
        "nvim_create_autocmd" => int(Some(result)).map(Resource::Autocmd),
        "nvim_create_user_command" => Some(Resource::Command { buffer: None, name: text(args.first())? }),
        "nvim_buf_create_user_command" => {
            Some(Resource::Command { buffer: Some(int(args.first())?), name: text(args.get(1))? })
        }
        "nvim_set_keymap" => {
            Some(Resource::Keymap { buffer: None, mode: text(args.first())?, lhs: text(args.get(1))? })
        }
        "nvim_buf_set_keymap" => Some(Resource::Keymap {
            buffer: Some(int(args.first())?),
            mode: text(args.get(1))?,
            lhs: text(args.get(2))?,
        }),
        _ => None,
    }
}
