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

use wasmtime::{Caller, Linker};

use crate::callbacks::Maker;
use crate::error::{Error, Kind, Result};
use super::seed::api_name;
use crate::runtime::Runtime;
use crate::state::{HostState, Packed, read_bytes};

/// The import module name of the fast ABI.
pub const MODULE: &str = "nvim";

/// Defines `nvim.*` for every API function, `nvim.lua` and `nvim.panic`.
pub fn define(linker: &mut Linker<HostState>, api: &[crate::nvim::ApiFunction]) -> wasmtime::Result<()> {
    for (index, f) in api.iter().enumerate() {
        linker.func_wrap(MODULE, &f.name, move |mut caller: Caller<'_, HostState>, ptr: u32, len: u32| {
            let memory = caller.data().guest().map_err(wasmtime::Error::new)?.io.memory;
            let args = read_bytes(&caller, memory, ptr, len).map_err(|e| wasmtime::Error::new(e.context(api_name(index))))?;
            call(&mut caller, &|rt, maker, out| {
                // the error the plugin gets names the function, as in the seed ABI
                let registered = rt.nvim.call_api_msgpack(index, &args, maker, out).map_err(|e| e.context(api_name(index)))?;
                if let Some(resource) = registered {
                    rt.track(maker.key, resource);
                }
                Ok(())
            })
            .map_err(|e| wasmtime::Error::new(e.context(api_name(index))))
        })?;
    }
    linker.func_wrap(
        MODULE,
        "lua",
        |mut caller: Caller<'_, HostState>, code_ptr: u32, code_len: u32, ptr: u32, len: u32| {
            let memory = caller.data().guest().map_err(wasmtime::Error::new)?.io.memory;
            let read = |caller: &Caller<'_, HostState>, p, n| read_bytes(caller, memory, p, n).map_err(|e| wasmtime::Error::new(e.context("lua")));
            let (code, args) = (read(&caller, code_ptr, code_len)?, read(&caller, ptr, len)?);
            let plugin = caller.data().plugin.clone();
            call(&mut caller, &|rt, maker, out| {
                rt.nvim.run_chunk_msgpack(&plugin, &code, &args, maker, out).map_err(|e| e.context("lua"))
            })
                .map_err(|e| wasmtime::Error::new(e.context("lua")))
        },
    )?;
    // A Rust SDK plugin's panic hook calls this before the trap: the message
    // goes into the error the user sees.
    linker.func_wrap(MODULE, "panic", |mut caller: Caller<'_, HostState>, ptr: u32, len: u32| {
        let memory = caller.data().guest().map_err(wasmtime::Error::new)?.io.memory;
        let text = read_bytes(&caller, memory, ptr, len.min(64 * 1024)).map_err(wasmtime::Error::new)?;
        caller.data_mut().panic = Some(String::from_utf8_lossy(&text).into_owned());
        Ok(())
    })?;
    Ok(())
}

type Body<'a> = dyn Fn(&'static Runtime, &Maker, &mut Vec<u8>) -> Result<()> + 'a;

/// Runs `body` (Lua, with the caller published for re-entrant calls), and
/// hands its msgpack result — or the error message, flagged — back to the
/// guest in its own memory. Only a broken ABI (a bad pointer, a failing
/// `alloc`) traps.
fn call(caller: &mut Caller<'_, HostState>, body: &Body<'_>) -> Result<u64> {
    let guest = caller.data().guest()?.io;
    let maker = Maker::new(caller.data().key, caller.data().plugin.clone());
    let mut out = std::mem::take(&mut caller.data_mut().scratch);
    out.clear();
    let outcome = super::seed::run_lua(caller, |rt| body(rt, &maker, &mut out));
    let error = match outcome {
        Ok(()) => false,
        Err(e) if e.kind == Kind::Internal || e.kind == Kind::Abi => return Err(e),
        Err(e) => {
            out.clear();
            out.extend_from_slice(e.to_string().as_bytes());
            true
        }
    };
    let len = u32::try_from(out.len()).ok().filter(|&n| n <= 0x7fff_ffff).ok_or_else(|| Error::limit("a result of 2 GiB or more"))?;
    let given = guest.give(&mut *caller, &out);
    caller.data_mut().scratch = out;
    Ok(Packed { ptr: given?, len, error }.to_u64())
}
