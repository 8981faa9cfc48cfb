//! wasm_nvim: Neovim plugins in any language that compiles to WebAssembly.
//!
//! This crate is a Lua C module for Neovim's LuaJIT (`require("wasm_nvim")`)
//! that runs each plugin's `.wasm` with wasmtime in Neovim's own process.
//! This file is only the entry point; ARCHITECTURE.md follows one call
//! through the modules and draws their layers (`module/` is the Lua API,
//! `abi/` what plugins import, doc/abi.md the ABI).

pub mod abi;
pub mod api_levels;
pub mod bounded;
pub mod cache;
pub mod call;
pub mod codec;
pub mod dispatch;
pub mod error;
pub mod ffi;
pub mod files;
pub mod guest;
pub mod host;
pub mod identity;
pub mod job;
pub mod key;
pub mod lifecycle;
pub mod limits;
pub mod module;
pub mod nvim;
pub mod options;
pub mod output;
pub mod panics;
pub mod permissions;
pub mod plugin;
pub mod protected;
pub mod raw;
pub mod reentry;
pub mod registry;
pub mod shape;
pub mod stack;
pub mod state;
pub mod values;
pub mod wasmfile;
pub mod workers;

/// `luaopen_wasm_nvim`: what `require("wasm_nvim")` calls.
#[cfg(feature = "module")]
#[mlua::lua_module]
fn wasm_nvim(lua: &mlua::Lua) -> mlua::Result<mlua::Table> {
    module::build(lua)
}
