//! How a callback reaches its plugin: by key, through the registry, so a
//! callback made before a reload calls the new code (see
//! `nvim/callbacks.rs` for what callbacks are and how they are made).
//!
//! A callback never raises: events have no caller to catch an error, so a
//! failure is reported with `vim.notify` at ERROR level, naming plugin and
//! export, and the autocmd or keymap stays in place for the next time. The
//! report is scheduled: shown while an API call runs (`nvim_set_current_buf`
//! firing `BufEnter`), an error message would fail that call.

use mlua::{Lua, MultiValue, Value};

use crate::error::Result;
use crate::host;
use crate::key::PluginKey;
use crate::nvim::Level;
use crate::nvim::callbacks::Dispatch;
use crate::panics;
use crate::registry;

/// What the host hands to every callback maker.
pub const DISPATCH: Dispatch = Dispatch { check, call };

/// A loaded plugin `key` must export `export` with a shape callbacks call.
fn check(key: PluginKey, export: &str) -> Result<()> {
    match registry::by_key(key) {
        Some(plugin) => plugin.target(export).map(drop),
        None => Ok(()), // still loading: checked when called
    }
}

fn call(lua: &Lua, key: PluginKey, plugin_name: &str, export: &str, args: MultiValue) -> Value {
    let Ok(rt) = host::get() else { return Value::Nil };
    let Some(plugin) = registry::by_key(key) else {
        rt.log(|| format!("{plugin_name}.{export}: callback of an unloaded plugin, returning true (remove me)"));
        return Value::Boolean(true);
    };
    let Ok(target) = plugin.target(export) else {
        // reloaded into a version without this export
        rt.journal(plugin_name, "callback dropped", &format!("'{export}' is no longer exported; answering true"));
        return Value::Boolean(true);
    };
    let result = panics::catch(|| plugin.call_lua(rt, lua, &target, &args.into_vec(), true)).and_then(|r| r);
    result.unwrap_or_else(|e| {
        let message = crate::bounded::compact_nested(&format!("wasm_nvim: {plugin_name}.{export} (callback): {e}"));
        let _ = rt.nvim.notify_later(&message, Level::Error);
        Value::Nil
    })
}
