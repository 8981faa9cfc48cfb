//! The Lua-facing module table: `setup`, `plugins`, `version`, and one
//! table per loaded plugin holding its functions.
//!
//! Functions raise plain string errors of the form
//! `wasm_nvim: <plugin>.<function>: <what went wrong>`.

use std::rc::Rc;
use std::time::Instant;

use mlua::{Function, Lua, MultiValue, Table, Value};

use crate::error::{Error, Result};
use crate::ffi::{self, FfiFn};
use crate::raw::Num;
use crate::options::Options;
use crate::panics;
use crate::plugin::{Plugin, Target};
use crate::raw;
use crate::state::{Payload, Reply, Shape};
use crate::registry::{self, Found};
use crate::runtime::{self, Runtime};

/// Builds the table `require("wasm_nvim")` returns.
pub fn build(lua: &Lua) -> mlua::Result<Table> {
    crate::panics::install_hook();
    let rt = runtime::init(lua).map_err(|e| mlua::Error::RuntimeError(format!("wasm_nvim: {e}")))?;
    let module = lua.create_table()?;
    module.set("version", env!("CARGO_PKG_VERSION"))?;
    let this = module.clone();
    let setup_fn = lua.create_function(move |lua, opts: Value| {
        let done = panics::catch(|| setup(rt, lua, &this, opts)).and_then(|r| r).map(|()| Value::Nil);
        pair(lua, done.map_err(|e| format!("wasm_nvim.setup: {e}")))
    })?;
    module.set("setup", rt.nvim.wrap(setup_fn).map_err(into_lua)?)?;
    module.set("plugins", lua.create_function(move |lua, ()| plugins_info(rt, lua))?)?;
    // An empty Rust function: the benchmark's baseline for call overhead.
    module.set("_noop", lua.create_function(|_, ()| Ok(()))?)?;
    // Reading a plugin before anyone called setup() runs it with defaults,
    // so a plugin's own Lua files can use `require("wasm_nvim").<name>`.
    let meta = lua.create_table()?;
    meta.set(
        "__index",
        lua.create_function(move |lua, (this, key): (Table, Value)| {
            if !rt.set_up.get()
                && let Err(e) = setup(rt, lua, &this, Value::Nil)
            {
                rt.warn(&format!("wasm_nvim.setup: {e}"));
            }
            this.raw_get::<Value>(key)
        })?,
    )?;
    module.set_metatable(Some(meta))?;
    Ok(module)
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

/// Finds every `wasm/*.wasm` on the runtimepath, loads each into its own
/// `Store` and exposes it as `module[<stem>]`. A file that fails to load is
/// skipped with a warning naming it; the others load. Calling it again
/// reloads everything.
fn setup(rt: &'static Runtime, lua: &Lua, module: &Table, opts: Value) -> Result<()> {
    rt.set_up.set(true);
    let mut warnings = Vec::new();
    let opts = Options::parse(opts, &mut warnings)?;
    for w in warnings {
        rt.warn(&format!("wasm_nvim.setup: {w}"));
    }
    rt.debug.set(opts.debug);
    rt.set_cache_dir(if opts.cache { Some(rt.nvim.cache_dir()?) } else { None });
    let data_root = rt.nvim.data_root()?;
    let files = rt.nvim.runtime_wasm_files()?;
    rt.log(|| format!("found {} wasm file(s) on the runtimepath", files.len()));
    let mut loaded: Vec<Rc<Plugin>> = Vec::new();
    for found in registry::discover(&files) {
        match found {
            Found::Load(c) if !opts.plugin(&c.name).enabled => {
                rt.log(|| format!("skipping '{}': disabled in setup()", c.name));
            }
            Found::Load(c) => {
                let started = Instant::now();
                match Plugin::load(rt, &c.name, &c.path, opts.limits_for(&c.name, &data_root)) {
                    Ok(plugin) => {
                        rt.log(|| {
                            let names: Vec<&str> = plugin.functions.iter().map(|f| f.name.as_str()).collect();
                            format!(
                                "loaded '{}' from {} in {:.1} ms ({} in {:.1} ms): {}",
                                c.name,
                                c.path.display(),
                                started.elapsed().as_secs_f64() * 1e3,
                                plugin.compiled.outcome.as_str(),
                                plugin.compiled.ms,
                                names.join(", ")
                            )
                        });
                        loaded.push(Rc::new(plugin));
                    }
                    Err(e) => rt.warn(&format!("wasm_nvim: skipping plugin '{}' ({}): {e}", c.name, c.path.display())),
                }
            }
            Found::Shadowed { path, by } => {
                rt.log(|| format!("skipping {}: same name as {}, which comes first on the runtimepath", path.display(), by.display()))
            }
            Found::BadName { path, why } => rt.warn(&format!("wasm_nvim: skipping {}: {why}", path.display())),
        }
    }
    let previous = rt.registry.borrow().all();
    for old in previous {
        module.raw_set(&*old.name, Value::Nil)?;
    }
    for plugin in &loaded {
        module.raw_set(&*plugin.name, plugin_table(rt, lua, plugin)?)?;
    }
    let unloaded = rt.registry.borrow_mut().replace(loaded);
    for old in unloaded {
        rt.release(old.key);
    }
    Ok(())
}

/// `{ <function> = callable, ... }` for one plugin.
fn plugin_table(rt: &'static Runtime, lua: &Lua, plugin: &Rc<Plugin>) -> Result<Table> {
    let table = lua.create_table_with_capacity(0, plugin.functions.len())?;
    for (index, spec) in plugin.functions.iter().enumerate() {
        let p = Rc::clone(plugin);
        let raw = lua.create_function(move |lua, args: MultiValue| {
            let target = Target::Listed(index);
            let result = panics::catch(|| call(rt, lua, &p, &target, args.as_slices().0, false)).and_then(|r| r);
            pair(lua, result.map_err(|e| format!("wasm_nvim: {}.{}: {e}", p.name, p.functions[index].name)))
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
pub fn call(rt: &Runtime, lua: &Lua, plugin: &Plugin, target: &Target, args: &[Value], as_callback: bool) -> Result<Value> {
    let spec = plugin.spec(target).ok_or_else(|| Error::internal("unknown function"))?;
    let conv = &rt.nvim.conv;
    let payload = match &spec.shape {
        Shape::Seed { takes_arg: false, .. } => Payload::None,
        Shape::Seed { .. } => {
            let json = if as_callback { conv.to_json_array(args) } else { conv.to_json(args.first().unwrap_or(&Value::Nil)) };
            Payload::Bytes(json.map_err(|e| e.context("argument"))?)
        }
        Shape::Packed => {
            let mut bytes = Vec::new();
            if !args.is_empty() {
                rt.nvim.msgpack_encode(args, true, &mut bytes).map_err(|e| e.context("argument"))?;
            }
            Payload::Bytes(bytes)
        }
        Shape::Raw { params, result } => Payload::Numbers(raw::args(params, args)?, *result),
    };
    match plugin.call(rt, target, payload)? {
        Reply::None => Ok(Value::Nil),
        Reply::Bytes(bytes) => match spec.shape {
            Shape::Seed { .. } => conv.from_json(lua, &bytes),
            _ => rt.nvim.msgpack_decode(&bytes, None),
        }
        .map_err(|e| e.context("result")),
        Reply::Number(slots) => Ok(match &spec.shape {
            Shape::Raw { result, .. } => raw::result(*result, &slots),
            _ => Value::Nil,
        }),
    }
}

/// `plugins()`: `{ { name, path, functions = { { name, params, returns } } } }`.
fn plugins_info(rt: &Runtime, lua: &Lua) -> mlua::Result<Table> {
    let list = lua.create_table()?;
    for plugin in rt.registry.borrow().all() {
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
            entry.set("type", f.shape.describe())?;
            functions.raw_push(entry)?;
        }
        let info = lua.create_table()?;
        info.set("name", &*plugin.name)?;
        info.set("abi", plugin.abi.as_str())?;
        info.set("compiled", plugin.compiled.outcome.as_str())?;
        info.set("compile_ms", plugin.compiled.ms)?;
        info.set("path", plugin.path.to_string_lossy().as_ref())?;
        info.set("functions", functions)?;
        list.raw_push(info)?;
    }
    Ok(list)
}
