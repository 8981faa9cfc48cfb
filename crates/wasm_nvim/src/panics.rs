//! Panics stay inside wasm_nvim: caught at each call boundary and reported
//! as an error, never printed to the terminal (that would garble the TUI)
//! and never unwound into Neovim.
//!
//! The hook is this library's own: each Rust cdylib links its own copy of
//! std, so it does not affect other Rust code in the Neovim process.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::error::{Error, Result};

thread_local! {
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the default hook (which writes to stderr) with one that keeps
/// the message and location for the error report.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        panic::set_hook(Box::new(|info| {
            let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            let text = format!("{}{location}", payload_text(info.payload()));
            // `try_with`: the thread-local may already be gone at thread exit.
            let _ = LAST.try_with(|last| last.replace(Some(text)));
        }));
    });
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Runs `f`, turning a panic into [`Error::Internal`].
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        let text = LAST.with(|last| last.take()).unwrap_or_else(|| payload_text(&*payload));
        Error::internal(format!("panic: {text}"))
    })
}
