//! `plugins()` and `_status()`: what `:Wasm info` and `:checkhealth
//! wasm_nvim` show about each plugin and about the host.

use mlua::{Lua, Table};

use crate::host::{self, Host};
use crate::registry::{self, LoadState};
use crate::shape::Shape;

/// `plugins()`: one table per plugin on the runtimepath: `name`, `path`,
/// `state` ("loaded", "not loaded", "failed"), `error`, and for loaded
/// ones `abi`, `compiled`, `compile_ms`, `load_ms`, `disabled`,
/// `slow_calls` (count) and `slowest` (`{ name, ms }`) of the calls
/// slower than `slow_ms`, `imports` (the API functions and Lua imports it
/// uses), `allow` (what it may use), and `functions`
/// (`{ name, params, returns, type }`).
pub fn plugins_info(lua: &Lua) -> mlua::Result<Table> {
    let list = lua.create_table()?;
    let entries = registry::with(|r| r.entries().to_vec());
    for entry in entries {
        let info = lua.create_table()?;
        info.set("name", entry.name.as_str())?;
        info.set("path", entry.path.to_string_lossy().as_ref())?;
        info.set("load_ms", entry.load_ms)?;
        info.set("timeout_ms", entry.limits.timeout.map(|t| t.as_millis() as u64))?;
        info.set("memory_mb", entry.limits.memory >> 20)?;
        info.set("data_dir", entry.limits.data_dir.as_ref().map(|d| d.to_string_lossy().into_owned()))?;
        match &entry.state {
            LoadState::Pending | LoadState::Loading => info.set("state", "not loaded")?,
            LoadState::Failed(e) => {
                info.set("state", "failed")?;
                info.set("error", e.to_string())?;
            }
            LoadState::Loaded(plugin) => {
                info.set("state", "loaded")?;
                info.set("abi", plugin.abi.as_str())?;
                info.set("compiled", plugin.compiled.outcome.as_str())?;
                info.set("compile_ms", plugin.compiled.ms)?;
                info.set("disabled", plugin.disabled_reason())?;
                info.set("imports", plugin.imports.clone())?;
                info.set("allow", plugin.limits.allow.describe())?;
                let slow = plugin.slow_calls();
                info.set("slow_calls", slow.count)?;
                if let Some((function, ms)) = slow.slowest {
                    let slowest = lua.create_table()?;
                    slowest.set("name", function)?;
                    slowest.set("ms", ms)?;
                    info.set("slowest", slowest)?;
                }
                let functions = lua.create_table()?;
                for f in &plugin.functions {
                    let entry = lua.create_table()?;
                    entry.set("name", f.name.as_str())?;
                    let (params, returns) = match &f.shape {
                        Shape::Seed { takes_arg, returns } => (*takes_arg, *returns),
                        Shape::Msgpack => (true, true),
                        Shape::Raw { params, result } => (!params.is_empty(), result.is_some()),
                    };
                    entry.set("params", params)?;
                    entry.set("returns", returns)?;
                    entry.set("type", f.signature.clone().unwrap_or_else(|| f.shape.describe()))?;
                    entry.set("doc", f.doc.clone())?;
                    functions.raw_push(entry)?;
                }
                info.set("functions", functions)?;
            }
        }
        list.raw_push(info)?;
    }
    Ok(list)
}

/// `_status()`: what `:checkhealth wasm_nvim` reports besides the plugins.
pub fn status(rt: &Host, lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("version", env!("CARGO_PKG_VERSION"))?;
    t.set("wasmtime", host::WASMTIME_VERSION)?;
    t.set("library", crate::ffi::library_path())?;
    t.set("set_up", rt.is_set_up())?;
    t.set("stacks_made", crate::stack::stacks_made())?;
    let nvim = lua.create_table()?;
    nvim.set("version", rt.nvim.version.text.as_str())?;
    nvim.set("api_level", rt.nvim.version.api_level)?;
    t.set("nvim", nvim)?;
    let setup = rt.setup();
    let opts = &setup.options;
    t.set("lazy", opts.lazy)?;
    t.set("debug", opts.debug)?;
    let limits = crate::limits::Limits::default();
    let global = opts.global_limits();
    t.set("timeout_ms", global.timeout.map(|d| d.as_millis() as u64))?;
    t.set("memory_mb", global.memory >> 20)?;
    t.set("max_timeouts", global.max_timeouts)?;
    t.set("slow_ms", global.slow_call.map(|d| d.as_millis() as u64))?;
    t.set("module_mb", global.module_bytes >> 20)?;
    t.set("module_functions", global.module_functions)?;
    t.set("shadowed", registry::with(|r| r.shadowed.clone()))?;
    t.set("default_timeout_ms", limits.timeout.map(|d| d.as_millis() as u64))?;
    if let Some(dir) = setup.cache_dir.clone() {
        t.set("cache_dir", dir.to_string_lossy().as_ref())?;
        let (mut files, mut bytes) = (0u64, 0u64);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "cwasm") {
                files += 1;
                bytes += entry.metadata().map_or(0, |m| m.len());
            }
        }
        t.set("cache_entries", files)?;
        t.set("cache_bytes", bytes)?;
    }
    Ok(t)
}
