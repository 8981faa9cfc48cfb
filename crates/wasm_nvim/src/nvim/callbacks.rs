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
//! How a callback reaches its plugin is the caller's business
//! ([`Dispatch`], given by `crate::dispatch`).

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use mlua::{Function, Lua, MultiValue, Value};

use crate::error::Result;
use crate::key::PluginKey;

/// How a callback's Lua function reaches its plugin, given by the layer
/// that knows the plugins (`crate::dispatch`): function pointers, so that
/// this layer, below the plugins, needs none of them.
#[derive(Clone, Copy, Debug)]
pub struct Dispatch {
    /// Checks that plugin `key`, if it is loaded, exports `export` with a
    /// shape a callback can call.
    pub check: fn(key: PluginKey, export: &str) -> Result<()>,
    /// Calls `export` of plugin `key` (named `plugin`) with the callback's
    /// arguments and returns its result; never raises.
    pub call: fn(lua: &Lua, key: PluginKey, plugin: &str, export: &str, args: MultiValue) -> Value,
}

/// Makes the callbacks of one `nvim_*` call's arguments.
#[derive(Debug)]
pub struct Maker {
    pub key: PluginKey,
    pub plugin: Arc<str>,
    dispatch: Option<Dispatch>,
    made: Cell<usize>,
    /// The exports the callbacks call (what a reload checks still exist).
    exports: RefCell<Vec<String>>,
}

impl Maker {
    pub fn new(key: PluginKey, plugin: Arc<str>, dispatch: Option<Dispatch>) -> Self {
        Maker { key, plugin, dispatch, made: Cell::new(0), exports: RefCell::new(Vec::new()) }
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
        let Some(dispatch) = self.dispatch else {
            return Err(mlua::Error::RuntimeError("callback: callbacks are not available here".into()));
        };
        (dispatch.check)(self.key, export).map_err(|e| mlua::Error::RuntimeError(format!("callback: {e}")))?;
        self.made.set(self.made.get() + 1);
        if !self.exports.borrow().iter().any(|e| e == export) {
            self.exports.borrow_mut().push(export.to_string());
        }
        let (key, plugin, export) = (self.key, self.plugin.clone(), export.to_string());
        lua.create_function(move |lua, args: MultiValue| Ok((dispatch.call)(lua, key, &plugin, &export, args)))
    }
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
