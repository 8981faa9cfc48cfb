//! The host ABIs a plugin can be written against, and the linking of a
//! plugin's imports.
//!
//! The fixed imports (WASI, the seed ABI's values and Lua, the msgpack ABI's
//! `lua`/`panic`/`has`/`version`) are in one linker per engine. The API
//! functions are linked per plugin, by what the plugin declares, because
//! the running Neovim may be older or newer than the one the plugin was
//! written for:
//!
//! - a function this Neovim has, declared with the type its metadata
//!   implies, is bound as is;
//! - a seed import declared without a result for a function that returns
//!   one drops the result; one declared with a result for a function that
//!   returns nothing gets an id holding JSON `null` (0.12 made `nvim_echo`
//!   return a value; the seed's tutorial declares it void);
//! - a function this Neovim does not have is bound to a stub: the plugin
//!   loads, and only calling it fails, saying which Neovim it needs;
//! - any other mismatch is a load error naming the import, the declared
//!   type and the type this Neovim's API implies.
//!
//! What the user's `allow` withholds (see `permissions.rs`) is linked to a
//! stub too, whose calls fail naming the permission.

pub mod jobs;
pub mod msgpack;
pub mod seed;
pub mod sleep;

use std::collections::HashSet;

use wasmtime::{Engine, ExternType, FuncType, Linker, Module, ValType};

use crate::api_levels;
use crate::error::{Error, Result};
use crate::host;
use crate::limits;
use crate::nvim::Nvim;
use crate::permissions::Permissions;
use crate::reentry;
use crate::state::HostState;

/// Most distinct API imports one plugin may have: the API has a few
/// hundred functions; each import costs a host function, so a module made
/// of a hundred thousand made-up `nvim_*` names is refused at once.
pub const MAX_API_IMPORTS: usize = 4096;

/// Builds the linker of the fixed imports: WASI preview 1, the seed ABI's
/// (`"host"`) and the msgpack ABI's (`"nvim"`). [`link`] adds the API.
pub fn linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    let internal = |e: wasmtime::Error| Error::internal(format!("defining host imports: {e:#}"));
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi).map_err(internal)?;
    sleep::define(&mut linker).map_err(internal)?;
    seed::define(&mut linker).map_err(internal)?;
    msgpack::define(&mut linker).map_err(internal)?;
    crate::abi::jobs::define(&mut linker).map_err(internal)?;
    Ok(linker)
}

/// The linker for plugin `plugin`: `base` plus each API function `module`
/// imports, bound by the rules above, and stubs for what `allow` withholds.
pub fn link(
    base: &Linker<HostState>,
    module: &Module,
    nvim: &Nvim,
    plugin: &str,
    allow: &Permissions,
) -> Result<Linker<HostState>> {
    let mut linker = base.clone();
    let internal = |e: wasmtime::Error| Error::internal(format!("defining an API import: {e:#}"));
    if let Some(denied) = allow.deny_lua(plugin) {
        linker.allow_shadowing(true);
        seed::withhold_lua(&mut linker, &denied).map_err(internal)?;
        msgpack::withhold_lua(&mut linker, &denied).map_err(internal)?;
        linker.allow_shadowing(false);
    }
    let mut linked = HashSet::new();
    for import in module.imports() {
        let (abi, name) = (import.module(), import.name());
        let ExternType::Func(declared) = import.ty() else { continue };
        if (abi != seed::MODULE && abi != msgpack::MODULE)
            || !(nvim.api_index(name).is_some() || api_levels::is_api_name(name))
        {
            continue; // a fixed import, or one no host has: the linker says so
        }
        if !linked.insert((abi, name)) {
            continue; // imported twice: one definition serves (wasmtime checks the types)
        }
        if linked.len() > MAX_API_IMPORTS {
            return Err(Error::load(format!("imports more than {MAX_API_IMPORTS} API functions")));
        }
        let mismatch = |implied: &str| {
            Error::load(format!("import {abi}::{name} is declared {} but {implied}", signature(&declared)))
        };
        let index = nvim.api_index(name);
        let denied = allow.deny_api(plugin, name);
        if abi == msgpack::MODULE {
            if !msgpack::is_api_type(&declared) {
                return Err(mismatch("the msgpack ABI's API imports are (i32, i32) -> i64"));
            }
            match (index, denied) {
                (_, Some(denied)) => msgpack::define_unavailable(&mut linker, name, denied),
                (Some(index), None) => msgpack::define_api(&mut linker, index, name),
                (None, None) => {
                    msgpack::define_unavailable(&mut linker, name, api_levels::missing(name, &nvim.version))
                }
            }
            .map_err(internal)?;
            continue;
        }
        let api = index.and_then(|i| nvim.api.get(i).map(|f| (i, f)));
        match (api, seed::api_shape(&declared)) {
            (Some((index, f)), Some((takes_args, returns))) if takes_args == f.takes_args => match denied {
                Some(why) => seed::define_unavailable(&mut linker, name, declared.clone(), why),
                None => seed::define_api(&mut linker, index, name, takes_args, returns),
            }
            .map_err(internal)?,
            (Some((_, f)), _) => {
                let implied = seed::implied_type(f.takes_args, f.returns);
                return Err(mismatch(&format!("the API of Neovim {} implies {implied}", nvim.version.text)));
            }
            (None, Some(_)) => {
                let why = denied.unwrap_or_else(|| api_levels::missing(name, &nvim.version));
                seed::define_unavailable(&mut linker, name, declared.clone(), why).map_err(internal)?;
            }
            (None, None) => {
                return Err(mismatch("a seed-ABI API import takes () or (i32) and returns nothing or i32"));
            }
        }
    }
    Ok(linker)
}

/// The imports of `module` that reach into Neovim (the API, and Lua), by
/// name, sorted: what `:Wasm info` shows beside what the plugin may use.
pub fn neovim_imports(module: &Module, nvim: &Nvim) -> Vec<String> {
    let mut names: Vec<String> = module
        .imports()
        .filter(|i| i.module() == seed::MODULE || i.module() == msgpack::MODULE)
        .map(|i| i.name())
        .filter(|name| {
            [wasm_nvim_abi::LUA_IMPORT, wasm_nvim_abi::LUA_EXEC_IMPORT, wasm_nvim_abi::LUA_EVAL_IMPORT].contains(name)
                || nvim.api_index(name).is_some()
                || api_levels::is_api_name(name)
        })
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// API function names, for errors raised on worker threads (where the
/// editor's host cannot be reached).
static API_NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Keeps the API's function names for [`api_name`] (once).
pub fn remember_api_names(names: impl FnOnce() -> Vec<String>) {
    let _ = API_NAMES.get_or_init(names);
}

/// The name of API function `index` on a worker thread.
pub fn worker_api_name(index: usize) -> Option<String> {
    API_NAMES.get().and_then(|names| names.get(index).cloned())
}

/// `(i32, i32) -> i64`, as the wasm text format would say it.
pub fn signature(ty: &FuncType) -> String {
    let list = |types: &mut dyn Iterator<Item = ValType>| types.map(|t| t.to_string()).collect::<Vec<_>>().join(", ");
    let params = list(&mut ty.params());
    let results: Vec<String> = ty.results().map(|t| t.to_string()).collect();
    match results.len() {
        0 => format!("({params})"),
        1 => format!("({params}) -> {}", results.join("")),
        _ => format!("({params}) -> ({})", results.join(", ")),
    }
}

/// Runs Lua for the guest: first shows the output the guest has printed so
/// far (so it appears in order), and publishes the caller so Lua may call
/// back into this plugin.
pub(crate) fn run_lua<R>(
    caller: &mut wasmtime::Caller<'_, HostState>,
    f: impl FnOnce(&'static crate::host::Host) -> Result<R>,
) -> Result<R> {
    if caller.data().raw_call {
        return Err(Error::abi(
            "a raw function cannot call into Neovim (Lua or the API); export it without `raw` to do that",
        ));
    }
    if let Some(job) = &caller.data().job {
        return Err(job.refuse_neovim());
    }
    let rt = host::get()?;
    let output = caller.data_mut().take_output();
    caller.data_mut().budget.enter_host();
    let (result, showing) = reentry::while_waiting(caller, || {
        // Showing output is work done for the plugin: it counts as its own
        // time, unlike the Lua it asked for.
        let started = limits::ticks();
        rt.show_output(output);
        let showing = limits::ticks().saturating_sub(started);
        (f(rt), showing)
    });
    caller.data_mut().budget.leave_host();
    caller.data_mut().budget.charge(showing);
    result
}
