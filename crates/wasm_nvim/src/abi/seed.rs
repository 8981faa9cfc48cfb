//! The `"host"` imports of the seed ABI (see the seed README):
//! `get_id`, `get_addr`, `get_value_size`, `get_value_addr`, `set_value`,
//! `lua_exec`, `lua_eval`, and one `nvim_<name>` per API function of the
//! running Neovim; plus `set_error(id)`, which makes the current call fail
//! with the text under `id` once the export returns, without a trap (so the
//! plugin keeps its state). Values cross by id; everything read from the guest is
//! bounds- and id-checked, and every failure becomes a trap carrying an
//! [`Error`] that names the import.

use wasm_nvim_abi as abi;
use wasmtime::{Caller, FuncType, Linker, ValType};

use crate::bounded;
use crate::error::{Error, Result};
use crate::guest::{read_bytes, write_bytes};
use crate::host;
use crate::nvim::callbacks::Maker;
use crate::state::HostState;

/// The import module name of the seed ABI.
pub const MODULE: &str = abi::SEED_MODULE;

type Ret<T> = wasmtime::Result<T>;

/// Wraps an import's error so the caller sees which import failed.
fn fail(import: &str) -> impl FnOnce(Error) -> wasmtime::Error + '_ {
    move |e| wasmtime::Error::new(e.context(import))
}

/// Defines the fixed seed imports: the value table and Lua. The `nvim_*`
/// imports are linked per plugin ([`super::link`] calls [`define_api`]).
pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    define_values(linker)?;
    define_lua(linker)?;
    if std::env::var_os("WASM_NVIM_TEST_HOOKS").is_some() {
        define_test_hooks(linker)?;
    }
    Ok(())
}

/// Imports that exist only for the fault-injection specs
/// (`WASM_NVIM_TEST_HOOKS=1`): they break the host on purpose.
fn define_test_hooks(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    #[allow(clippy::panic)]
    linker.func_wrap(MODULE, "__test_panic", || -> () { panic!("test hook: a panic inside a host import") })?;
    linker.func_wrap(MODULE, "__test_protected_panic", || -> Ret<()> {
        let rt = host::get().map_err(fail("__test_protected_panic"))?;
        rt.nvim.test_panic_in_protected().map_err(fail("__test_protected_panic"))
    })?;
    Ok(())
}

/// The value imports (`get_id` ... `set_value`): the part of the ABI that
/// needs no Lua, so the fuzz test (tests/abi_fuzz.rs) can drive it alone.
pub fn define_values(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, abi::GET_ID_IMPORT, |mut caller: Caller<'_, HostState>| -> Ret<u32> {
        caller.data_mut().values.reserve().map_err(fail("get_id"))
    })?;
    linker.func_wrap(MODULE, abi::GET_ADDR_IMPORT, |ptr: u32| -> u32 { ptr })?;
    linker.func_wrap(MODULE, abi::GET_VALUE_SIZE_IMPORT, |caller: Caller<'_, HostState>, id: u32| -> Ret<u32> {
        // Sizes are capped far below 4 GiB (values::MAX_BYTES).
        caller.data().values.size(id).map(|n| n as u32).map_err(fail("get_value_size"))
    })?;
    linker.func_wrap(MODULE, abi::GET_VALUE_ADDR_IMPORT, |mut caller: Caller<'_, HostState>, id: u32| -> Ret<u32> {
        get_value_addr(&mut caller, id).map_err(fail("get_value_addr"))
    })?;
    linker.func_wrap(MODULE, abi::SET_ERROR_IMPORT, |mut caller: Caller<'_, HostState>, id: u32| -> Ret<()> {
        let state = caller.data_mut();
        let message = state.values.take(id).map_err(fail("set_error"))?;
        state.error = Some(bounded::truncate_lossy(&message, bounded::MAX_PLUGIN_MESSAGE));
        Ok(())
    })?;
    linker.func_wrap(
        MODULE,
        abi::SET_VALUE_IMPORT,
        |mut caller: Caller<'_, HostState>, id: u32, ptr: u32, size: u32| -> Ret<()> {
            set_value(&mut caller, id, ptr, size).map_err(fail("set_value"))
        },
    )?;
    Ok(())
}

/// Host calls the guest's `alloc(size)`, copies the value there and forgets
/// the id: the guest owns that memory from now on.
fn get_value_addr(caller: &mut Caller<'_, HostState>, id: u32) -> Result<u32> {
    let size = caller.data().values.size(id)?;
    let guest = caller.data().guest()?;
    let (guest, memory) = (guest.io, guest.io.memory);
    let ptr = guest.alloc(&mut *caller, size as u32).map_err(|e| Error::from_wasm(e).context("alloc"))?;
    if ptr == 0 && size > 0 {
        return Err(Error::abi(format!("alloc({size}) returned 0")));
    }
    let bytes = caller.data_mut().values.take(id)?;
    write_bytes(&mut *caller, memory, ptr, &bytes)?;
    Ok(ptr)
}

/// Host copies the bytes under `id`, then calls the guest's
/// `dealloc(ptr, size)`: the guest gives that memory up.
fn set_value(caller: &mut Caller<'_, HostState>, id: u32, ptr: u32, size: u32) -> Result<()> {
    let state = caller.data();
    state.values.check_settable(id)?;
    state.values.check_room(size as usize)?;
    let guest = state.guest()?;
    let (guest, memory) = (guest.io, guest.io.memory);
    let bytes = read_bytes(&*caller, memory, ptr, size)?;
    caller.data_mut().values.set(id, bytes)?;
    guest.dealloc(&mut *caller, ptr, size).map_err(|e| Error::from_wasm(e).context("dealloc"))
}

fn define_lua(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, abi::LUA_EXEC_IMPORT, |mut caller: Caller<'_, HostState>, id: u32| -> Ret<()> {
        let code = caller.data_mut().values.take(id).map_err(fail("lua_exec"))?;
        let plugin = caller.data().plugin.clone();
        super::run_lua(&mut caller, |rt| rt.nvim.exec(&plugin, &code)).map_err(fail("lua_exec"))
    })?;
    linker.func_wrap(MODULE, abi::LUA_EVAL_IMPORT, |mut caller: Caller<'_, HostState>, id: u32| -> Ret<u32> {
        let code = caller.data_mut().values.take(id).map_err(fail("lua_eval"))?;
        let plugin = caller.data().plugin.clone();
        let json = super::run_lua(&mut caller, |rt| rt.nvim.eval(&plugin, &code)).map_err(fail("lua_eval"))?;
        caller.data_mut().values.insert(json).map_err(fail("lua_eval"))
    })?;
    Ok(())
}

/// `(takes_args, returns)` of a seed API import's declared type: `()` or
/// `(i32)`, returning nothing or `i32`; `None` for any other type.
pub fn api_shape(ty: &FuncType) -> Option<(bool, bool)> {
    let i32s = |types: &mut dyn ExactSizeIterator<Item = ValType>| match types.len() {
        0 => Some(false),
        1 => types.next().filter(|t| matches!(t, ValType::I32)).map(|_| true),
        _ => None,
    };
    Some((i32s(&mut ty.params())?, i32s(&mut ty.results())?))
}

/// The type the API metadata implies for a seed import, for errors.
pub fn implied_type(takes_args: bool, returns: bool) -> &'static str {
    match (takes_args, returns) {
        (true, true) => "(i32) -> i32",
        (true, false) => "(i32)",
        (false, true) => "() -> i32",
        (false, false) => "()",
    }
}

/// Binds `host::<name>` to API function `index` with the type the plugin
/// declared (`takes_args` always matches the API's). Declared without a
/// result, the API's result is dropped; declared with one for a function
/// that returns nothing, the plugin gets an id holding `null`.
pub fn define_api(
    linker: &mut Linker<HostState>,
    index: usize,
    name: &str,
    takes_args: bool,
    returns: bool,
) -> wasmtime::Result<()> {
    match (takes_args, returns) {
        (true, true) => linker.func_wrap(MODULE, name, move |mut caller: Caller<'_, HostState>, id: u32| -> Ret<u32> {
            let result = call_api(&mut caller, index, Some(id), true)?;
            store_result(&mut caller, index, result)
        }),
        (true, false) => linker.func_wrap(MODULE, name, move |mut caller: Caller<'_, HostState>, id: u32| -> Ret<()> {
            call_api(&mut caller, index, Some(id), false).map(drop)
        }),
        (false, true) => linker.func_wrap(MODULE, name, move |mut caller: Caller<'_, HostState>| -> Ret<u32> {
            let result = call_api(&mut caller, index, None, true)?;
            store_result(&mut caller, index, result)
        }),
        (false, false) => linker.func_wrap(MODULE, name, move |mut caller: Caller<'_, HostState>| -> Ret<()> {
            call_api(&mut caller, index, None, false).map(drop)
        }),
    }?;
    Ok(())
}

/// Binds `host::<name>` — an API function this Neovim does not have, or
/// one the plugin may not call — to a stub of the declared type whose
/// calls fail with `why`.
pub fn define_unavailable(
    linker: &mut Linker<HostState>,
    name: &str,
    ty: FuncType,
    why: Error,
) -> wasmtime::Result<()> {
    linker.func_new(MODULE, name, ty, move |_, _, _| Err(wasmtime::Error::new(why.clone())))?;
    Ok(())
}

/// Replaces `lua_exec` and `lua_eval` with stubs failing with `why`
/// (the plugin may not run Lua). The linker must allow shadowing.
pub fn withhold_lua(linker: &mut Linker<HostState>, why: &Error) -> wasmtime::Result<()> {
    let (exec, eval) = (why.clone(), why.clone());
    linker.func_wrap(MODULE, abi::LUA_EXEC_IMPORT, move |_: u32| -> Ret<()> {
        Err(wasmtime::Error::new(exec.clone().context("lua_exec")))
    })?;
    linker.func_wrap(MODULE, abi::LUA_EVAL_IMPORT, move |_: u32| -> Ret<u32> {
        Err(wasmtime::Error::new(eval.clone().context("lua_eval")))
    })?;
    Ok(())
}

/// The name of API function `index`, for errors.
pub(crate) fn api_name(index: usize) -> String {
    host::get()
        .ok()
        .and_then(|rt| rt.nvim.api.get(index).map(|a| a.name.clone()))
        .or_else(|| super::worker_api_name(index))
        .unwrap_or_else(|| format!("nvim API #{index}"))
}

fn call_api(
    caller: &mut Caller<'_, HostState>,
    index: usize,
    args_id: Option<u32>,
    want_result: bool,
) -> Ret<Option<Vec<u8>>> {
    let fail = |e: Error| wasmtime::Error::new(e.context(api_name(index)));
    let args = args_id.map(|id| caller.data_mut().values.take(id)).transpose().map_err(fail)?;
    let maker =
        Maker::new(caller.data().key, caller.data().plugin.clone(), host::get().ok().and_then(|h| h.dispatch()));
    super::run_lua(caller, |rt| {
        let (result, registered) = rt.nvim.call_api(index, args.as_deref(), &maker, want_result)?;
        if let Some(resource) = registered {
            rt.track(&maker, resource);
        }
        Ok(result)
    })
    .map_err(fail)
}

fn store_result(caller: &mut Caller<'_, HostState>, index: usize, result: Option<Vec<u8>>) -> Ret<u32> {
    caller
        .data_mut()
        .values
        .insert(result.unwrap_or_else(|| b"null".to_vec()))
        .map_err(|e| wasmtime::Error::new(e.context(api_name(index))))
}
