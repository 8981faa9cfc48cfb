//! The native stack under wasm, budgeted for the whole thread.
//!
//! wasmtime gives a `Store` [`WASM_STACK`] bytes of native stack counted
//! from wherever it is entered (re-entrant calls through a `Caller` share
//! that budget). It does not know how much stack the thread has left: five
//! plugins nested through `User` autocmds each took their 2 MiB from where
//! they started and together ran past Neovim's 8 MiB main stack (1 MiB on
//! Windows, where even one deep recursion did): a crash, not a trap.
//!
//! So every fresh entry into a `Store` (a call, the FFI fast path,
//! instantiation) goes through [`enter`]: when the real stack left (thread
//! bounds vs. stack pointer, from the `stacker` crate, which knows them on
//! Linux, macOS and Windows) is less than the wasm budget plus
//! [`HOST_MARGIN`] for the Lua and Neovim code wasm calls into, the entry
//! continues on a fresh stack segment (mmap on Unix, a fiber on Windows),
//! freed when it returns. Deep recursion then ends in the clean
//! `call stack exhausted` trap wherever it starts. Fresh entries nest at
//! most [`MAX_NESTED`] deep (each store is entered fresh once at a time,
//! so only reloads and many plugins add up), so segments are bounded too.

use std::cell::Cell;

use crate::error::{Error, Result};
use crate::panics;

/// Native stack wasm may use per store (wasmtime's `max_wasm_stack`).
/// Re-entrant calls into one plugin share it: 2 MiB lets them reach the
/// documented depth of 100.
pub const WASM_STACK: usize = 2 << 20;

/// Room kept below the wasm budget for host code called from wasm (API
/// functions, Lua, autocmds): as much as Neovim's whole main thread has on
/// Windows.
pub const HOST_MARGIN: usize = 1 << 20;

/// A fresh segment: the wasm budget, the margin below it, and the margin
/// again for the host frames between here and the wasm entry.
const SEGMENT: usize = WASM_STACK + 2 * HOST_MARGIN;

/// Most fresh store entries nested on this thread.
pub const MAX_NESTED: u32 = 64;

thread_local! {
    static NESTED: Cell<u32> = const { Cell::new(0) };
}

/// Counts one nested entry; uncounts it when dropped (also when unwinding).
struct Nested;

impl Drop for Nested {
    fn drop(&mut self) {
        NESTED.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Runs `f`, which enters a store afresh, with at least
/// `WASM_STACK + HOST_MARGIN` bytes of native stack below it. A panic in
/// `f` (or in allocating a segment) becomes an internal error.
pub fn enter<R>(f: impl FnOnce() -> R) -> Result<R> {
    let depth = NESTED.with(Cell::get);
    if depth >= MAX_NESTED {
        return Err(Error::limit(format!(
            "calls into plugins nested {MAX_NESTED} deep (plugins calling plugins through Lua); refused before the native stack runs out"
        )));
    }
    NESTED.with(|n| n.set(depth + 1));
    let _nested = Nested;
    panics::catch(|| stacker::maybe_grow(WASM_STACK + HOST_MARGIN, SEGMENT, f))
}

/// About where the stack pointer is (the address of a local).
#[inline(never)]
pub fn here() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Whether a re-entrant call into a store entered afresh at stack address
/// `entry` may run here: on the same stack, within the store's wasm
/// budget. A re-entry from a deeper, fresh segment is refused: wasmtime
/// compares against the first entry's limit, which says nothing about
/// another segment.
pub fn reentry_fits(entry: usize) -> bool {
    let sp = here();
    sp <= entry && entry - sp < WASM_STACK
}

/// How many fresh store entries are running on this thread.
pub fn nested() -> u32 {
    NESTED.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recurse(n: u32) -> usize {
        let here = stacker::remaining_stack().unwrap_or(0);
        if n == 0 {
            return here;
        }
        let mut buf = [0u8; 64 << 10];
        std::hint::black_box(&mut buf);
        enter(|| recurse(n - 1)).unwrap_or(0).min(here)
    }

    #[test]
    fn every_entry_has_the_budget_below_it() {
        // 40 nested entries with 64 KiB of frames each would not fit the
        // 2 MiB stack of a test thread without fresh segments.
        let least = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| enter(|| recurse(40)).unwrap_or(0))
            .map(|h| h.join().unwrap_or(0))
            .unwrap_or(0);
        assert!(least >= WASM_STACK + HOST_MARGIN - (128 << 10), "least room left: {least}");
    }

    #[test]
    fn refuses_past_the_nesting_cap() {
        fn down(n: u32) -> Result<u32> {
            enter(|| if n == 0 { Ok(nested()) } else { down(n - 1) })?
        }
        assert_eq!(down(MAX_NESTED - 1).ok(), Some(MAX_NESTED));
        let e = down(MAX_NESTED).unwrap_err();
        assert!(e.to_string().contains("nested 64 deep"), "{e}");
        assert_eq!(nested(), 0);
    }
}
