//! The Lua-facing module table: `setup`, `reload`, `plugins`, `version`,
//! and one table per loaded plugin holding its functions.
//!
//! Functions raise plain string errors of the form
//! `wasm_nvim: <plugin>.<function>: <what went wrong>`.

use mlua::{Lua, Table, Value};

use crate::codec::Format;
use crate::error::Error;
use crate::host::{self, Host};
use crate::lifecycle;
use crate::nvim::wrap_result as pair;
use crate::panics;

mod report;
pub mod workers;

/// The oldest Neovim the suite runs on (scripts/test.sh: stable 0.11.4).
pub const MIN_NVIM: &str = "0.11";

/// Refuses an older Neovim with a message saying what to do, before
/// anything that might need a newer one runs.
fn check_nvim(lua: &Lua) -> mlua::Result<()> {
    let check = format!(
        "local v = vim.fn.api_info().version
         return vim.fn.has('nvim-{MIN_NVIM}') == 1, ('%d.%d.%d'):format(v.major, v.minor, v.patch)"
    );
    let (supported, running): (bool, String) = lua.load(check).set_name("=wasm_nvim").eval()?;
    if supported {
        return Ok(());
    }
    Err(mlua::Error::RuntimeError(format!(
        "wasm_nvim needs Neovim {MIN_NVIM} or newer; this is Neovim {running}. Update Neovim: https://github.com/neovim/neovim/releases"
    )))
}

/// Builds the table `require("wasm_nvim")` returns.
pub fn build(lua: &Lua) -> mlua::Result<Table> {
    check_nvim(lua)?;
    crate::panics::install_hook();
    let rt = host::init(lua).map_err(|e| mlua::Error::RuntimeError(format!("wasm_nvim: {e}")))?;
    let module = lua.create_table()?;
    module.set("version", env!("CARGO_PKG_VERSION"))?;
    let setup = lua.create_function(move |lua, opts: Value| {
        let done = panics::catch(|| lifecycle::setup(rt, lua, opts)).and_then(|r| r);
        pair(lua, done.map(|()| Value::Nil).map_err(|e| format!("wasm_nvim.setup: {e}")))
    })?;
    module.set("setup", rt.nvim.wrap(setup).map_err(into_lua)?)?;
    // Arguments are taken as any value and checked here, so a wrong one is
    // an error naming the function, like every other failure.
    let reload = lua.create_function(move |lua, name: Value| {
        let name = match &name {
            Value::Nil => None,
            Value::String(s) => Some(s.to_string_lossy()),
            other => {
                let got = other.type_name();
                return pair(
                    lua,
                    Err(format!("wasm_nvim.reload: expected a plugin name (a string) or nothing, got a {got}")),
                );
            }
        };
        ensure_setup(rt, lua);
        let done = panics::catch(|| lifecycle::reload(rt, lua, name.as_deref())).and_then(|r| r);
        pair(lua, done.map(|()| Value::Nil).map_err(|e| format!("wasm_nvim.reload: {e}")))
    })?;
    module.set("reload", rt.nvim.wrap(reload).map_err(into_lua)?)?;
    module.set(
        "plugins",
        lua.create_function(move |lua, ()| {
            ensure_setup(rt, lua);
            if let Err(e) = lifecycle::discover_added(rt) {
                rt.warn(&format!("wasm_nvim: {e}"));
            }
            report::plugins_info(lua)
        })?,
    )?;
    workers::install(rt, lua, &module).map_err(into_lua)?;
    module.set("_status", lua.create_function(move |lua, ()| report::status(rt, lua))?)?;
    module.set("_log", lua.create_function(move |_, ()| Ok(rt.journal_entries()))?)?;
    if std::env::var_os("WASM_NVIM_TEST_HOOKS").is_some() {
        // For the specs: the msgpack ABI's msgpack reader on any bytes.
        let decode = lua.create_function(move |lua, bytes: mlua::LuaString| {
            let decoded =
                panics::catch(|| rt.nvim.codec.decode(lua, Format::Msgpack, &bytes.as_bytes())).and_then(|r| r);
            pair(lua, decoded.map_err(|e| e.to_string()))
        })?;
        module.set("_msgpack_decode", rt.nvim.wrap(decode).map_err(into_lua)?)?;
    }
    // An empty Rust function: the benchmark's baseline for call overhead.
    module.set("_noop", lua.create_function(|_, ()| Ok(()))?)?;
    // Plugins load when first read (`lazy`, the default); reading one
    // before anyone called setup() runs it with defaults, so a plugin's own
    // Lua files can use `require("wasm_nvim").<name>`.
    let index = lua.create_function(move |lua, (this, key): (Table, Value)| {
        ensure_setup(rt, lua);
        let Value::String(name) = &key else { return pair(lua, Ok(Value::Nil)) };
        let name = name.to_string_lossy();
        match panics::catch(|| lifecycle::load(rt, lua, &name)).and_then(|r| r) {
            Ok(Some(table)) => pair(lua, Ok(Value::Table(table))),
            Ok(None) => pair(lua, Ok(this.raw_get(key)?)),
            Err(e) => pair(lua, Err(format!("wasm_nvim: {e}"))),
        }
    })?;
    let meta = lua.create_table()?;
    meta.set("__index", rt.nvim.wrap(index).map_err(into_lua)?)?;
    module.set_metatable(Some(meta))?;
    rt.set_module(module.clone());
    rt.set_dispatch(crate::dispatch::DISPATCH);
    rt.nvim.check_version(env!("CARGO_PKG_VERSION"));
    Ok(module)
}

/// Runs `setup()` with defaults if nobody has yet.
fn ensure_setup(rt: &'static Host, lua: &Lua) {
    if !rt.is_set_up()
        && let Err(e) = lifecycle::setup(rt, lua, Value::Nil)
    {
        rt.warn(&format!("wasm_nvim.setup: {e}"));
    }
}

pub(crate) fn into_lua(e: Error) -> mlua::Error {
    mlua::Error::RuntimeError(format!("wasm_nvim: {e}"))
}
