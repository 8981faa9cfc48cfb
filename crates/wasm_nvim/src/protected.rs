//! Running code on the Lua C API in protected mode, and registry references.
//!
//! The value codec and the Neovim API calls work on the Lua stack directly
//! (no mlua values in between, for speed). A Lua error there (out of
//! memory) must become an `Err`, not a longjmp over Rust frames: so such
//! code runs inside [`protected`].

use std::ffi::c_int;

use mlua::{Lua, Value, ffi};

use crate::error::{Error, Result};
use crate::panics;

/// Runs `f` on `l` in protected mode (`lua_cpcall`: no closure to make,
/// unlike mlua's `exec_raw`, so it costs next to nothing). A Lua error
/// raised inside (out of memory) becomes an `Err`; `f` must keep nothing
/// that needs dropping across its Lua calls. A panic in `f` is caught
/// before it reaches LuaJIT's frames (unwinding through them aborts) and
/// becomes an internal error; catching costs nothing when nothing panics.
///
/// # Safety
/// `l` is the running Lua state.
pub unsafe fn protected<F: FnOnce(*mut ffi::lua_State) -> R, R>(l: *mut ffi::lua_State, f: F) -> Result<R> {
    struct Job<F, R> {
        f: Option<F>,
        out: Option<Result<R>>,
    }
    unsafe extern "C-unwind" fn run<F: FnOnce(*mut ffi::lua_State) -> R, R>(l: *mut ffi::lua_State) -> c_int {
        // SAFETY: the light userdata at 1 is the `Job` below, alive for the call.
        unsafe {
            let job = &mut *ffi::lua_touserdata(l, 1).cast::<Job<F, R>>();
            if let Some(f) = job.f.take() {
                job.out = Some(panics::catch(|| f(l)));
            }
        }
        0
    }
    let mut job = Job { f: Some(f), out: None };
    // SAFETY: `run` only touches `job`, which outlives the call.
    unsafe {
        if ffi::lua_cpcall(l, run::<F, R>, (&raw mut job).cast()) != 0 {
            let message = error_message(l);
            ffi::lua_settop(l, -2);
            return Err(Error::lua(message));
        }
    }
    job.out.unwrap_or_else(|| Err(Error::internal("protected call did not run")))
}

/// A registry reference to `value` (`LUA_NOREF` for nil), for raw code.
pub fn registry_ref(lua: &Lua, value: Value) -> Result<c_int> {
    if value.is_nil() {
        return Ok(ffi::LUA_NOREF);
    }
    lua.exec_raw_lua(|raw| {
        // SAFETY: `value` is pushed; luaL_ref pops it.
        unsafe {
            protected(raw.state(), |l| -> Result<c_int> {
                raw.push_value(&value)?;
                Ok(ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX))
            })?
        }
    })
}

/// The message of the Lua error on top of the stack.
///
/// # Safety
/// `l` is valid with at least one value on its stack.
pub unsafe fn error_message(l: *mut ffi::lua_State) -> String {
    // SAFETY: per the contract; lua_tolstring on a string or number.
    unsafe {
        match ffi::lua_type(l, -1) {
            ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
                let mut len = 0usize;
                let ptr = ffi::lua_tolstring(l, -1, &mut len);
                String::from_utf8_lossy(std::slice::from_raw_parts(ptr.cast::<u8>(), len)).into_owned()
            }
            _ => "(an error object that is not a string)".into(),
        }
    }
}
