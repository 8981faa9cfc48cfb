//! A loaded plugin's Lua table: one Lua function per listed function,
//! raising `wasm_nvim: <plugin>.<function>: <what went wrong>`; raw
//! functions get a LuaJIT FFI wrapper when LuaJIT can call this library
//! directly (ffi.rs). A function kept from before a reload or `setup()`
//! calls the function of that name in the plugin loaded now.

use std::rc::Rc;

use mlua::{Function, Lua, MultiValue, Table};

use crate::error::{Error, Result};
use crate::ffi::{self, FfiFn};
use crate::host::Host;
use crate::nvim::wrap_result as pair;
use crate::panics;
use crate::plugin::Plugin;
use crate::raw::Num;
use crate::registry;
use crate::shape::{Shape, Target};

/// `{ <function> = callable, ... }` for one plugin.
pub fn plugin_table(rt: &'static Host, lua: &Lua, plugin: &Rc<Plugin>) -> Result<Table> {
    let table = lua.create_table_with_capacity(0, plugin.functions.len())?;
    for (index, spec) in plugin.functions.iter().enumerate() {
        let p = Rc::clone(plugin);
        let unwrapped = lua.create_function(move |lua, args: MultiValue| {
            let result = panics::catch(|| {
                let (plugin, index) = current(rt, lua, &p, index)?;
                plugin.call_lua(rt, lua, &Target::Listed(index), args.as_slices().0, false)
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
        let regular = rt.nvim.wrap(unwrapped)?;
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
fn current(rt: &'static Host, lua: &Lua, plugin: &Rc<Plugin>, index: usize) -> Result<(Rc<Plugin>, usize)> {
    if !plugin.is_retired() {
        return Ok((Rc::clone(plugin), index));
    }
    let function = plugin.functions.get(index).map(|f| f.name.as_str()).unwrap_or_default();
    super::load(rt, lua, &plugin.name)?;
    let now = registry::plugin(&plugin.name)
        .ok_or_else(|| Error::load(format!("plugin '{}' is no longer loaded", plugin.name)))?;
    let index = now
        .functions
        .iter()
        .position(|f| f.name == function)
        .ok_or_else(|| Error::load(format!("'{function}' is no longer a function of plugin '{}'", plugin.name)))?;
    Ok((now, index))
}

/// A raw function's LuaJIT FFI fast path, falling back to `regular`.
fn ffi_function(
    rt: &'static Host,
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
