//! The imports of the msgpack ABI, module `"nvim"`: binary-safe msgpack in the
//! guest's own memory, no value table, and errors the guest can handle.
//!
//! - `nvim.<api function>(args_ptr, args_len) -> i64` for every function of
//!   `api_info()`: the arguments are a msgpack array in guest memory (the
//!   guest keeps it); the result is msgpack the host writes into memory it
//!   gets from the guest's `alloc` (the guest frees it), returned packed as
//!   `ptr | len << 32`. A Lua error does not trap: bit 63 is set and the
//!   buffer holds the message (UTF-8 text).
//!   An API function the running Neovim does not have answers with such
//!   an error too, saying which Neovim it needs.
//! - `nvim.lua(code_ptr, code_len, args_ptr, args_len) -> i64` runs a Lua
//!   chunk (compiled once per text) with the arguments as its `...`.
//! - `nvim.has(name_ptr, name_len) -> i32`: 1 when a plugin can call API
//!   function `name` here, else 0 (ask before calling a newer function).
//! - `nvim.version() -> i64`: the running Neovim,
//!   `major << 48 | minor << 32 | patch << 16 | api_level`.
//!
//! Inside arguments, `{"__wasm_callback": "<export>"}` maps become Lua
//! functions (see `nvim/callbacks.rs`); Buffer, Window and Tabpage results are
//! Neovim's extension types 0, 1, 2.

use wasm_nvim_abi as abi;
use wasmtime::{Caller, FuncType, Linker, ValType};

use super::seed::api_name;
use crate::error::{Error, Kind, Result};
use crate::guest::{Packed, read_bytes};
use crate::host::{self, Host};
use crate::nvim::callbacks::Maker;
use crate::state::HostState;

/// The import module name of the msgpack ABI.
pub const MODULE: &str = abi::MSGPACK_MODULE;

/// Whether `ty` is the type of a msgpack-ABI API import, `(i32, i32) -> i64`.
pub fn is_api_type(ty: &FuncType) -> bool {
    let params: Vec<ValType> = ty.params().collect();
    let results: Vec<ValType> = ty.results().collect();
    matches!(params[..], [ValType::I32, ValType::I32]) && matches!(results[..], [ValType::I64])
}

/// Binds `nvim.<name>` to API function `index`.
pub fn define_api(linker: &mut Linker<HostState>, index: usize, name: &str) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, name, move |mut caller: Caller<'_, HostState>, ptr: u32, len: u32| {
        let memory = caller.data().guest().map_err(wasmtime::Error::new)?.io.memory;
        let args =
            read_bytes(&caller, memory, ptr, len).map_err(|e| wasmtime::Error::new(e.context(api_name(index))))?;
        call(&mut caller, &api_name(index), &|rt, maker, out| {
            // the error the plugin gets names the function, as in the seed ABI
            let registered =
                rt.nvim.call_api_msgpack(index, &args, maker, out).map_err(|e| e.context(api_name(index)))?;
            if let Some(resource) = registered {
                rt.track(maker, resource);
            }
            Ok(())
        })
        .map_err(|e| wasmtime::Error::new(e.context(api_name(index))))
    })?;
    Ok(())
}

/// Binds `nvim.<name>` — an API function this Neovim does not have, or one
/// the plugin may not call — to a stub whose every call is an error value
/// saying `why`.
pub fn define_unavailable(linker: &mut Linker<HostState>, name: &str, why: Error) -> wasmtime::Result<()> {
    let name: std::sync::Arc<str> = name.into();
    linker.func_wrap(MODULE, &name.clone(), move |mut caller: Caller<'_, HostState>, _: u32, _: u32| {
        call(&mut caller, &name, &|_, _, _| Err(why.clone())).map_err(|e| wasmtime::Error::new(e.context(&*name)))
    })?;
    Ok(())
}

/// Replaces `nvim.lua` with a stub whose calls are an error value saying
/// `why` (the plugin may not run Lua). The linker must allow shadowing.
pub fn withhold_lua(linker: &mut Linker<HostState>, why: &Error) -> wasmtime::Result<()> {
    let why = why.clone();
    linker.func_wrap(
        MODULE,
        abi::LUA_IMPORT,
        move |mut caller: Caller<'_, HostState>, _: u32, _: u32, _: u32, _: u32| {
            call(&mut caller, "lua", &|_, _, _| Err(why.clone().context("lua")))
                .map_err(|e| wasmtime::Error::new(e.context("lua")))
        },
    )?;
    Ok(())
}

/// Defines the fixed imports: `nvim.lua`, `nvim.panic`, `nvim.has` and
/// `nvim.version`. The API functions are linked per plugin
/// ([`super::link`] calls [`define_api`]).
pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        MODULE,
        abi::LUA_IMPORT,
        |mut caller: Caller<'_, HostState>, code_ptr: u32, code_len: u32, ptr: u32, len: u32| {
            let memory = caller.data().guest().map_err(wasmtime::Error::new)?.io.memory;
            let read = |caller: &Caller<'_, HostState>, p, n| {
                read_bytes(caller, memory, p, n).map_err(|e| wasmtime::Error::new(e.context("lua")))
            };
            let (code, args) = (read(&caller, code_ptr, code_len)?, read(&caller, ptr, len)?);
            let plugin = caller.data().plugin.clone();
            call(&mut caller, "lua", &|rt, maker, out| {
                rt.nvim.run_chunk_msgpack(&plugin, &code, &args, maker, out).map_err(|e| e.context("lua"))
            })
            .map_err(|e| wasmtime::Error::new(e.context("lua")))
        },
    )?;
    // A Rust SDK plugin's panic hook calls this before the trap: the message
    // goes into the error the user sees.
    linker.func_wrap(MODULE, abi::PANIC_IMPORT, |mut caller: Caller<'_, HostState>, ptr: u32, len: u32| {
        let memory = caller.data().guest().map_err(wasmtime::Error::new)?.io.memory;
        let text = read_bytes(&caller, memory, ptr, len.min(64 * 1024)).map_err(wasmtime::Error::new)?;
        caller.data_mut().panic = Some(String::from_utf8_lossy(&text).into_owned());
        Ok(())
    })?;
    linker.func_wrap(
        MODULE,
        abi::HAS_IMPORT,
        |caller: Caller<'_, HostState>, ptr: u32, len: u32| -> wasmtime::Result<i32> {
            if caller.data().job.is_some() {
                return Ok(0); // a worker job can call no API function
            }
            let memory = caller.data().guest().map_err(wasmtime::Error::new)?.io.memory;
            // API names are short; a longer one is no API function
            let name =
                read_bytes(&caller, memory, ptr, len.min(256)).map_err(|e| wasmtime::Error::new(e.context("has")))?;
            let rt = crate::host::get().map_err(wasmtime::Error::new)?;
            Ok(i32::from(len <= 256 && std::str::from_utf8(&name).is_ok_and(|name| rt.nvim.api_callable(name))))
        },
    )?;
    linker.func_wrap(MODULE, abi::VERSION_IMPORT, |caller: Caller<'_, HostState>| -> wasmtime::Result<i64> {
        if let Some(job) = &caller.data().job {
            return Ok(job.nvim_version as i64);
        }
        let rt = crate::host::get().map_err(wasmtime::Error::new)?;
        Ok(rt.nvim.version.packed() as i64)
    })?;
    Ok(())
}

type Body<'a> = dyn Fn(&'static Host, &Maker, &mut Vec<u8>) -> Result<()> + 'a;

/// Runs `body` (Lua, with the caller published for re-entrant calls; `name`
/// is the import, for a worker job's refusal), and
/// hands its msgpack result — or the error message, flagged — back to the
/// guest in its own memory. Only a broken ABI (a bad pointer, a failing
/// `alloc`) traps.
fn call(caller: &mut Caller<'_, HostState>, name: &str, body: &Body<'_>) -> Result<u64> {
    let guest = caller.data().guest()?.io;
    let maker =
        Maker::new(caller.data().key, caller.data().plugin.clone(), host::get().ok().and_then(|h| h.dispatch()));
    let mut out = std::mem::take(&mut caller.data_mut().scratch);
    out.clear();
    let outcome = match &caller.data().job {
        // a worker job: an error value naming the import, plugin, function and why
        Some(job) => Err(job.refuse_neovim().context(name)),
        None => super::run_lua(caller, |rt| body(rt, &maker, &mut out)),
    };
    let error = match outcome {
        Ok(()) => false,
        Err(e) if e.kind == Kind::Internal || e.kind == Kind::Abi => return Err(e),
        Err(e) => {
            out.clear();
            out.extend_from_slice(e.to_string().as_bytes());
            true
        }
    };
    let len = u32::try_from(out.len())
        .ok()
        .filter(|&n| n <= abi::PACKED_MAX_LEN)
        .ok_or_else(|| Error::limit("a result of 2 GiB or more"))?;
    let given = guest.give(&mut *caller, &out);
    caller.data_mut().scratch = out;
    Ok(Packed { ptr: given?, len, error }.to_u64())
}
