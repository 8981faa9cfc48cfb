//! The host ABIs a plugin can be written against, and the linking of a
//! plugin's imports.
//!
//! The fixed imports (WASI, the seed ABI's values and Lua, the fast ABI's
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

pub mod fast;
pub mod seed;

use wasmtime::{Engine, ExternType, FuncType, Linker, Module, ValType};

use crate::api_levels;
use crate::error::{Error, Result};
use crate::nvim::Nvim;
use crate::state::HostState;

/// Builds the linker of the fixed imports: WASI preview 1, the seed ABI's
/// (`"host"`) and the fast ABI's (`"nvim"`). [`link`] adds the API.
pub fn linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    let internal = |e: wasmtime::Error| Error::internal(format!("defining host imports: {e:#}"));
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi).map_err(internal)?;
    seed::define(&mut linker).map_err(internal)?;
    fast::define(&mut linker).map_err(internal)?;
    crate::workers::imports::define(&mut linker).map_err(internal)?;
    Ok(linker)
}

/// The linker for one plugin: `base` plus each API function `module`
/// imports, bound by the rules above.
pub fn link(base: &Linker<HostState>, module: &Module, nvim: &Nvim) -> Result<Linker<HostState>> {
    let mut linker = base.clone();
    let internal = |e: wasmtime::Error| Error::internal(format!("defining an API import: {e:#}"));
    for import in module.imports() {
        let (abi, name) = (import.module(), import.name());
        let ExternType::Func(declared) = import.ty() else { continue };
        if (abi != seed::MODULE && abi != fast::MODULE) || !(nvim.api_index(name).is_some() || api_levels::is_api_name(name)) {
            continue; // a fixed import, or one no host has: the linker says so
        }
        let mismatch = |implied: &str| {
            Error::load(format!(
                "import {abi}::{name} is declared {} but {implied}",
                signature(&declared)
            ))
        };
        let index = nvim.api_index(name);
        if abi == fast::MODULE {
            if !fast::is_api_type(&declared) {
                return Err(mismatch("the fast ABI's API imports are (i32, i32) -> i64"));
            }
            match index {
                Some(index) => fast::define_api(&mut linker, index, name),
                None => fast::define_missing(&mut linker, name, api_levels::missing(name, &nvim.version)),
            }
            .map_err(internal)?;
            continue;
        }
        let shape = seed::api_shape(&declared);
        match (index.and_then(|i| nvim.api.get(i).map(|f| (i, f))), shape) {
            (Some((index, f)), Some((takes_args, returns))) if takes_args == f.takes_args => {
                seed::define_api(&mut linker, index, name, takes_args, returns).map_err(internal)?;
            }
            (Some((_, f)), _) => {
                let implied = seed::implied_type(f.takes_args, f.returns);
                return Err(mismatch(&format!("the API of Neovim {} implies {implied}", nvim.version.text)));
            }
            (None, Some(_)) => {
                seed::define_missing(&mut linker, name, declared.clone(), api_levels::missing(name, &nvim.version))
                    .map_err(internal)?;
            }
            (None, None) => {
                return Err(mismatch("a seed-ABI API import takes () or (i32) and returns nothing or i32"));
            }
        }
    }
    Ok(linker)
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
