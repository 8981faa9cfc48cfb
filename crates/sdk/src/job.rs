//! For functions run as worker jobs (`require("wasm_nvim").worker(...)`,
//! off the editor's thread): report progress and notice cancellation.
//! Called on the editor's thread instead, they do nothing.
//!
//! ```ignore
//! #[export]
//! fn count_primes(limit: u64) -> Option<u64> {
//!     let mut found = 0;
//!     for n in 2..limit {
//!         if n % 100_000 == 0 && job::progress(n) {
//!             return None; // cancelled: a newer job replaces this one
//!         }
//!         found += u64::from(is_prime(n));
//!     }
//!     Some(found)
//! }
//! ```
//! In a job, Lua and the Neovim API are not available (they are
//! single-threaded): such calls return an error saying so.

use serde::Serialize;
use wasm_nvim_abi as abi;

// `#[link]` takes only literals: checked against the contract (doc/abi.md).
const _: () = assert!(abi::same(abi::MSGPACK_MODULE, "nvim"));
const _: () = assert!(abi::same(abi::JOB_PROGRESS_IMPORT, "job_progress"));
const _: () = assert!(abi::same(abi::JOB_CANCELLED_IMPORT, "job_cancelled"));

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "nvim")]
unsafe extern "C" {
    fn job_progress(ptr: u32, len: u32) -> i32;
    fn job_cancelled() -> i32;
}

#[cfg(not(target_arch = "wasm32"))]
unsafe fn job_progress(_: u32, _: u32) -> i32 {
    0
}

#[cfg(not(target_arch = "wasm32"))]
unsafe fn job_cancelled() -> i32 {
    0
}

/// Sends `value` to the job's `on_progress` callback (reports faster than
/// the editor takes them are coalesced: the latest wins). Returns true
/// when the job was cancelled: stop and return.
pub fn progress(value: impl Serialize) -> bool {
    crate::sys::with_scratch(|buf| match rmp_serde::encode::write_named(buf, &value) {
        // SAFETY: the buffer is valid for the call; the host copies it.
        Ok(()) => unsafe { job_progress(buf.as_ptr() as u32, buf.len() as u32) == 1 },
        Err(_) => cancelled(),
    })
}

/// True when the job was cancelled (a cheap check for a hot loop).
pub fn cancelled() -> bool {
    // SAFETY: no arguments.
    unsafe { job_cancelled() == 1 }
}
