//! The imports of the fast ABI, module `"nvim"`: binary-safe msgpack in the
//! guest's own memory, no value table, and errors the guest can handle.
//!
//! - `nvim.<api function>(args_ptr, args_len) -> i64` for every function of
//!   `api_info()`: the arguments are a msgpack array in guest memory (the
//!   guest keeps it); the result is msgpack the host writes into memory it
//!   gets from the guest's `alloc` (the guest frees it), returned packed as
//!   `ptr | len << 32`. A Lua error does not trap: bit 63 is set and the
//!   buffer holds the message (UTF-8 text).
//! - `nvim.lua(code_ptr, code_len, args_ptr, args_len) -> i64` runs a Lua
//!   chunk (compiled once per text) with the arguments as its `...`.
//!
//! Inside arguments, `{"__wasm_callback": "<export>"}` maps become Lua
//! functions (see `callbacks.rs`); Buffer, Window and Tabpage results are
//! Neovim's extension types 0, 1, 2.

use mlua::Value;
use wasmtime::{Caller, Linker};

use crate::callbacks::Maker;
use crate::error::{Error, Kind, Result};
use crate::msgpack;
use crate::runtime::{self, Runtime};
use crate::state::{HostState, Packed, read_bytes};

/// The import module name of the fast ABI.
pub const MODULE: &str = "nvim";

/// Defines `nvim.*` for every API function and `nvim.lua`.
pub fn define(linker: &mut Linker<HostState>, api: &[crate::nvim::ApiFunction]) -> wasmtime::Result<()> {
    for (index, f) in api.iter().enumerate() {
        linker.func_wrap(MODULE, &f.name, move |mut caller: Caller<'_, HostState>, ptr: u32, len: u32| {
            call(&mut caller, &|rt, lua_args, maker| {
                let (result, registered) = rt.nvim.call_api_values(index, lua_args, maker)?;
                if let Some(resource) = registered {
                    rt.track(maker.key, resource);
                }
                let api = rt.nvim.api(index)?;
                let mut out = Vec::new();
                if api.returns {
                    msgpack::encode_result(&rt.nvim.conv, &result, api.handle, &mut out)?;
                }
                Ok(out)
            }, ptr, len)
            .map_err(|e| wasmtime::Error::new(e.context(rt_name(index))))
        })?;
    }
    linker.func_wrap(
        MODULE,
        "lua",
        |mut caller: Caller<'_, HostState>, code_ptr: u32, code_len: u32, ptr: u32, len: u32| {
            let memory = caller.data().guest().map_err(wasmtime::Error::new)?.memory;
            let code = read_bytes(&caller, memory, code_ptr, code_len).map_err(|e| wasmtime::Error::new(e.context("lua")))?;
            let plugin = caller.data().plugin.clone();
            call(&mut caller, &|rt, lua_args, _maker| {
                let result = rt.nvim.run_chunk(&plugin, &code, lua_args)?;
                let mut out = Vec::new();
                if !matches!(result, Value::Nil) {
                    msgpack::encode(&rt.nvim.conv, &result, &mut out)?;
                }
                Ok(out)
            }, ptr, len)
            .map_err(|e| wasmtime::Error::new(e.context("lua")))
        },
    )?;
    // A Rust SDK plugin's panic hook calls this before the trap: the message
    // goes into the error the user sees.
    linker.func_wrap(MODULE, "panic", |mut caller: Caller<'_, HostState>, ptr: u32, len: u32| {
        let memory = caller.data().guest().map_err(wasmtime::Error::new)?.memory;
        let text = read_bytes(&caller, memory, ptr, len.min(64 * 1024)).map_err(wasmtime::Error::new)?;
        caller.data_mut().panic = Some(String::from_utf8_lossy(&text).into_owned());
        Ok(())
    })?;
    Ok(())
}

fn rt_name(index: usize) -> String {
    runtime::get().ok().and_then(|rt| rt.nvim.api.get(index).map(|a| a.name.clone())).unwrap_or_default()
}

type Body<'a> = dyn Fn(&'static Runtime, Vec<Value>, &Maker) -> Result<Vec<u8>> + 'a;

/// Reads the msgpack arguments, runs `body` (Lua, with the caller
/// published for re-entrant calls), and hands the result — or the error
/// message, flagged — back to the guest in its own memory. Only a broken
/// ABI (a bad pointer, a failing `alloc`) traps.
fn call(caller: &mut Caller<'_, HostState>, body: &Body<'_>, ptr: u32, len: u32) -> Result<u64> {
    let guest = caller.data().guest()?;
    let (memory, alloc_guest) = (guest.memory, guest.clone());
    let args = read_bytes(&*caller, memory, ptr, len)?;
    let maker = Maker::new(caller.data().key, caller.data().plugin.clone());
    let outcome = super::seed::run_lua(caller, |rt| {
        let make = |name: &str| maker.make(&rt.nvim.lua, name);
        let values = msgpack::decode_args(&rt.nvim.lua, &rt.nvim.conv, &args, Some(&make))?;
        body(rt, values, &maker)
    });
    let (bytes, error) = match outcome {
        Ok(bytes) => (bytes, false),
        Err(e) if e.kind == Kind::Internal || e.kind == Kind::Abi => return Err(e),
        Err(e) => (e.to_string().into_bytes(), true),
    };
    let len = u32::try_from(bytes.len()).ok().filter(|&n| n <= 0x7fff_ffff).ok_or_else(|| Error::limit("a result of 2 GiB or more"))?;
    let ptr = alloc_guest.give(&mut *caller, &bytes)?;
    Ok(Packed { ptr, len, error }.to_u64())
}
