//! The Lua-facing module table: `setup`, `reload`, `plugins`, `version`,
//! and one table per loaded plugin holding its functions.
//!
//! Functions raise plain string errors of the form
//! `wasm_nvim: <plugin>.<function>: <what went wrong>`.

use std::rc::Rc;

use mlua::{Function, Lua, MultiValue, Table, Value};

use crate::codec::Format;
use crate::error::{Error, Result};
use crate::ffi::{self, FfiFn};
use crate::lifecycle;
use crate::panics;
use crate::plugin::{Plugin, Target};
use crate::raw;
use crate::raw::Num;
use crate::registry::State;
use crate::runtime::{self, Runtime};
use crate::state::{Payload, Reply, Shape};

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
    let rt = runtime::init(lua).map_err(|e| mlua::Error::RuntimeError(format!("wasm_nvim: {e}")))?;
    let module = lua.create_table()?;
    module.set("version", env!("CARGO_PKG_VERSION"))?;
    let setup = lua.create_function(move |lua, opts: Value| {
        let done = panics::catch(|| lifecycle::setup(rt, lua, opts)).and_then(|r| r);
        pair(lua, done.map(|()| Value::Nil).map_err(|e| format!("wasm_nvim.setup: {e}")))
    })?;
    module.set("setup", rt.nvim.wrap(setup).map_err(into_lua)?)?;
    let reload = lua.create_function(move |lua, name: Option<String>| {
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
            plugins_info(rt, lua)
        })?,
    )?;
    crate::workers::lua::install(rt, lua, &module).map_err(into_lua)?;
    module.set("_status", lua.create_function(move |lua, ()| status(rt, lua))?)?;
    module.set("_log", lua.create_function(move |_, ()| Ok(rt.journal_entries()))?)?;
    if std::env::var_os("WASM_NVIM_TEST_HOOKS").is_some() {
        // For the specs: the fast ABI's msgpack reader on any bytes.
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
    *rt.module.borrow_mut() = Some(module.clone());
    rt.nvim.check_version(env!("CARGO_PKG_VERSION"));
    Ok(module)
}

/// Runs `setup()` with defaults if nobody has yet.
fn ensure_setup(rt: &'static Runtime, lua: &Lua) {
    if !rt.set_up.get()
        && let Err(e) = lifecycle::setup(rt, lua, Value::Nil)
    {
        rt.warn(&format!("wasm_nvim.setup: {e}"));
    }
}

fn into_lua(e: Error) -> mlua::Error {
    mlua::Error::RuntimeError(format!("wasm_nvim: {e}"))
}

/// What a raw function returns to the Lua wrapper that raises string errors.
fn pair(lua: &Lua, result: std::result::Result<Value, String>) -> mlua::Result<(bool, Value)> {
    match result {
        Ok(v) => Ok((true, v)),
        Err(msg) => Ok((false, Value::String(lua.create_string(msg)?))),
    }
}

/// `{ <function> = callable, ... }` for one plugin.
pub fn plugin_table(rt: &'static Runtime, lua: &Lua, plugin: &Rc<Plugin>) -> Result<Table> {
    let table = lua.create_table_with_capacity(0, plugin.functions.len())?;
    for (index, spec) in plugin.functions.iter().enumerate() {
        let p = Rc::clone(plugin);
        let raw = lua.create_function(move |lua, args: MultiValue| {
            let result = panics::catch(|| {
                let (plugin, index) = current(rt, lua, &p, index)?;
                call(rt, lua, &plugin, &Target::Listed(index), args.as_slices().0, false)
            })
            .and_then(|r| r);
            pair(
                lua,
                result.map_err(|e| {
                    let e = crate::bounded::compact_nested(&e.to_string());
                    rt.journal(&p.name, &p.functions[index].name, &e);
                    format!("wasm_nvim: {}.{}: {e}", p.name, p.functions[index].name)
                }),
            )
        })?;
        let regular = rt.nvim.wrap(raw)?;
        let function = match &spec.shape {
            Shape::Raw { params, result } if params.len() <= 4 => {
                ffi_function(rt, lua, plugin, index, params, *result, &regular)?.unwrap_or(regular)
            }
            _ => regular,
        };
        table.raw_set(spec.name.as_str(), function)?;
    }
    Ok(table)
}

/// The plugin and function a function made for function `index` of
/// `plugin` calls: that one, or, once it was replaced by a reload or
/// `setup()`, the function of that name in the plugin loaded under its
/// name now (a function kept from before a reload keeps working).
fn current(rt: &'static Runtime, lua: &Lua, plugin: &Rc<Plugin>, index: usize) -> Result<(Rc<Plugin>, usize)> {
    if !plugin.is_retired() {
        return Ok((Rc::clone(plugin), index));
    }
    let function = plugin.functions.get(index).map(|f| f.name.as_str()).unwrap_or_default();
    lifecycle::load(rt, lua, &plugin.name)?;
    let now =
        rt.plugin(&plugin.name).ok_or_else(|| Error::load(format!("plugin '{}' is no longer loaded", plugin.name)))?;
    let index = now
        .functions
        .iter()
        .position(|f| f.name == function)
        .ok_or_else(|| Error::load(format!("'{function}' is no longer a function of plugin '{}'", plugin.name)))?;
    Ok((now, index))
}

/// A raw function's LuaJIT FFI fast path, falling back to `regular`.
fn ffi_function(
    rt: &'static Runtime,
    lua: &Lua,
    plugin: &Rc<Plugin>,
    index: usize,
    params: &[Num],
    result: Option<Num>,
    regular: &Function,
) -> Result<Option<Function>> {
    let Some(path) = ffi::library_path() else { return Ok(None) };
    let p = Rc::clone(plugin);
    let flush = lua.create_function(move |_, ()| {
        p.show_pending_output(rt);
        Ok(())
    })?;
    let handle = FfiFn::handle(Rc::clone(plugin), index, params.to_vec(), result);
    let wrapped = rt.nvim.ffi_wrap(&path, handle, params.len(), result.is_some(), regular, flush);
    if !matches!(wrapped, Ok(Some(_))) {
        // SAFETY: the handle was made just above and no Lua holds it.
        unsafe { ffi::wasm_nvim_ffi_free(handle as *mut FfiFn) };
    }
    wrapped
}

/// Encodes the arguments as the target's shape wants them, calls, decodes
/// the result. Seed functions take the first argument, or, as callbacks,
/// all of them as one JSON array; fast-ABI functions take all of them as a
/// msgpack array; raw functions take numbers.
pub fn call(
    rt: &Runtime,
    lua: &Lua,
    plugin: &Plugin,
    target: &Target,
    args: &[Value],
    as_callback: bool,
) -> Result<Value> {
    let spec = plugin.spec(target).ok_or_else(|| Error::internal("unknown function"))?;
    let codec = &rt.nvim.codec;
    let payload = match &spec.shape {
        Shape::Seed { takes_arg: false, .. } => Payload::None,
        Shape::Seed { .. } => {
            let json = if as_callback {
                codec.encode_array(lua, Format::Json, args)
            } else {
                codec.encode(lua, Format::Json, args.first().unwrap_or(&Value::Nil))
            };
            Payload::Bytes(json.map_err(|e| e.context("argument"))?)
        }
        Shape::Packed => {
            let mut bytes = Vec::new();
            if !args.is_empty() {
                bytes = codec.encode_array(lua, Format::Msgpack, args).map_err(|e| e.context("argument"))?;
            }
            Payload::Bytes(bytes)
        }
        Shape::Raw { params, result } => Payload::Numbers(Box::new(raw::args(params, args)?), *result),
    };
    match plugin.call(rt, target, payload)? {
        Reply::None => Ok(Value::Nil),
        Reply::Bytes(bytes) => match spec.shape {
            Shape::Seed { .. } => codec.decode(lua, Format::Json, &bytes),
            _ => codec.decode(lua, Format::Msgpack, &bytes),
        }
        .map_err(|e| e.context("result")),
        Reply::Number(slots) => Ok(match &spec.shape {
            Shape::Raw { result, .. } => raw::result(*result, &slots),
            _ => Value::Nil,
        }),
    }
}

/// `plugins()`: one table per plugin on the runtimepath: `name`, `path`,
/// `state` ("loaded", "not loaded", "failed"), `error`, and for loaded
/// ones `abi`, `compiled`, `compile_ms`, `load_ms`, `disabled`,
/// `slow_calls` (count) and `slowest` (`{ name, ms }`) of the calls
/// slower than `slow_ms`, `imports` (the API functions and Lua imports it
/// uses), `allow` (what it may use), and `functions`
/// (`{ name, params, returns, type }`).
fn plugins_info(rt: &Runtime, lua: &Lua) -> mlua::Result<Table> {
    let list = lua.create_table()?;
    let entries = rt.registry.borrow().entries().to_vec();
    for entry in entries {
        let info = lua.create_table()?;
        info.set("name", entry.name.as_str())?;
        info.set("path", entry.path.to_string_lossy().as_ref())?;
        info.set("load_ms", entry.load_ms)?;
        info.set("timeout_ms", entry.limits.timeout.map(|t| t.as_millis() as u64))?;
        info.set("memory_mb", entry.limits.memory >> 20)?;
        info.set("data_dir", entry.limits.data_dir.as_ref().map(|d| d.to_string_lossy().into_owned()))?;
        match &entry.state {
            State::Pending | State::Loading => info.set("state", "not loaded")?,
            State::Failed(e) => {
                info.set("state", "failed")?;
                info.set("error", e.to_string())?;
            }
            State::Loaded(plugin) => {
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
                        Shape::Packed => (true, true),
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
fn status(rt: &Runtime, lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("version", env!("CARGO_PKG_VERSION"))?;
    t.set("wasmtime", runtime::WASMTIME_VERSION)?;
    t.set("library", crate::ffi::library_path())?;
    t.set("set_up", rt.set_up.get())?;
    t.set("stacks_made", crate::stack::stacks_made())?;
    let nvim = lua.create_table()?;
    nvim.set("version", rt.nvim.version.text.as_str())?;
    nvim.set("api_level", rt.nvim.version.api_level)?;
    t.set("nvim", nvim)?;
    let opts = rt.options.borrow();
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
    t.set("shadowed", rt.shadowed.borrow().clone())?;
    t.set("default_timeout_ms", limits.timeout.map(|d| d.as_millis() as u64))?;
    if let Some(dir) = rt.cache_dir() {
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
