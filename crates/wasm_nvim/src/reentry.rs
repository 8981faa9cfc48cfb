//! Re-entrant calls: plugin -> host import -> Lua -> the same plugin.
//!
//! While a host import runs Lua, the plugin's `Store` is borrowed by that
//! import's `Caller`; a second `&mut Store` cannot exist. So before running
//! Lua, the import publishes its `Caller` here, and a call into the same
//! plugin from inside that Lua goes through it (wasmtime allows calling wasm
//! from a host function through its `Caller`). Entries form a stack that
//! mirrors the native stack, so the innermost waiting caller is used.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr::NonNull;

use wasmtime::Caller;

use crate::key::PluginKey;
use crate::state::HostState;

struct Waiting {
    key: PluginKey,
    caller: NonNull<c_void>,
}

thread_local! {
    static WAITING: RefCell<Vec<Waiting>> = const { RefCell::new(Vec::new()) };
}

/// Pops the entry pushed by [`while_waiting`], also when unwinding.
struct Pop;

impl Drop for Pop {
    fn drop(&mut self) {
        WAITING.with_borrow_mut(|w| w.pop());
    }
}

/// Runs `f` (which runs Lua) with `caller` published for re-entrant calls.
/// `f` must not use `caller` itself: during `f`, the published pointer is
/// the only way to reach it.
pub fn while_waiting<R>(caller: &mut Caller<'_, HostState>, f: impl FnOnce() -> R) -> R {
    let key = caller.data().key;
    let ptr = NonNull::from(caller).cast::<c_void>();
    WAITING.with_borrow_mut(|w| w.push(Waiting { key, caller: ptr }));
    let _pop = Pop;
    f()
}

/// Runs `f` with the innermost caller of plugin `key` that is waiting on
/// Lua, or returns `None` when there is none.
pub fn with_waiting<R>(key: PluginKey, f: impl FnOnce(&mut Caller<'_, HostState>) -> R) -> Option<R> {
    let ptr = WAITING.with_borrow(|w| w.iter().rev().find(|e| e.key == key).map(|e| e.caller))?;
    // SAFETY: the pointer was made from a `&mut Caller` in `while_waiting`,
    // whose frame is still on this thread's stack (the entry is popped when
    // that frame's `f` returns or unwinds), and that frame does not touch the
    // caller until then. We are inside its `f` (single-threaded: Lua runs on
    // Neovim's main thread and the list is thread-local), so this is the only
    // live use of it; the reference does not outlive this call.
    let caller = unsafe { ptr.cast::<Caller<'static, HostState>>().as_mut() };
    Some(f(caller))
}
