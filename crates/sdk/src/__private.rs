//! What `#[export]` expands to call. Not part of the API.

use std::fmt::Display;
use std::sync::Once;

use serde::Serialize;

pub use crate::args::Args;
use crate::sys;

/// Sends a panic's message to the host before the trap, so the user sees
/// it in the error instead of just "unreachable".
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            let text = match info.location() {
                Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
                None => message,
            };
            // SAFETY: the buffer is valid for the call; the host copies it.
            unsafe { sys::panic(text.as_ptr() as u32, text.len() as u32) }
        }));
    });
}

/// One call of an export: its arguments' buffer, freed when the call ends
/// (parameters such as `&str` borrow from it).
pub struct Call {
    bytes: sys::Taken,
}

impl Call {
    /// # Safety
    /// `ptr`/`len` are what the host passed: a buffer from our `alloc(len)`.
    pub unsafe fn take(ptr: u32, len: u32) -> Call {
        install_panic_hook();
        // SAFETY: see above.
        Call { bytes: unsafe { sys::Taken::new(ptr, len) } }
    }

    /// The arguments, split into their elements.
    pub fn args(&self) -> Result<Args<'_>, String> {
        Args::split(&self.bytes)
    }
}

/// A successful reply. Nil (`()`, `None`) is the empty buffer: nothing to
/// allocate, copy or free.
pub fn reply<T: Serialize>(value: T) -> u64 {
    sys::with_scratch(|buf| match rmp_serde::encode::write_named(buf, &value) {
        Ok(()) if buf[..] == [0xc0] => 0,
        Ok(()) => sys::give(buf.to_vec(), false),
        Err(e) => fail(format!("cannot encode the result: {e}")),
    })
}

/// `Ok` replies, `Err` fails the call with its message (no trap: the
/// plugin keeps its state).
pub fn reply_result<T: Serialize, E: Display>(result: Result<T, E>) -> u64 {
    match result {
        Ok(value) => reply(value),
        Err(e) => fail(e),
    }
}

/// Fails the call with `message`.
pub fn fail(message: impl Display) -> u64 {
    sys::give(message.to_string().into_bytes(), true)
}

/// Runs an export that takes the plugin's state (a packed reply).
pub fn with_state<S: crate::Plugin, F: FnOnce(&mut S) -> u64>(f: F) -> u64 {
    crate::state::with::<S, u64>(f).unwrap_or_else(fail)
}
