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
//! continues on another stack. On Windows, where Neovim's 1 MiB main stack
//! never holds the budget, that is first a fiber kept for the thread's
//! life (`fiber.rs`: reused, so an outermost call costs a fiber switch,
//! not a new stack); otherwise, and for nested entries, a fresh `stacker`
//! segment (mmap on Unix, a fiber on Windows) freed when it returns. On
//! Linux and macOS outermost calls fit Neovim's 8 MiB main stack and cost
//! only the check. Deep recursion then ends in the clean
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

#[cfg(windows)]
mod fiber;

thread_local! {
    static NESTED: Cell<u32> = const { Cell::new(0) };
    /// The lowest usable address of the kept fiber's stack while code runs
    /// on it (`stacker` only knows the stacks it made itself).
    static SEGMENT_LOW: Cell<Option<usize>> = const { Cell::new(None) };
    /// Fresh stacks made on this thread (segments, the kept fiber).
    static MADE: Cell<u64> = const { Cell::new(0) };
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
    if remaining().is_some_and(|left| left >= WASM_STACK + HOST_MARGIN) {
        return panics::catch(f);
    }
    on_another_stack(f)
}

/// Stack left below here, from the kept fiber's bounds while on it, else
/// from `stacker` (which tracks the thread's stack and its own segments).
fn remaining() -> Option<usize> {
    match SEGMENT_LOW.with(Cell::get) {
        Some(low) => Some(here().saturating_sub(low)),
        None => stacker::remaining_stack(),
    }
}

/// Runs `f` on the kept fiber (Windows) or else a fresh segment.
fn on_another_stack<R>(f: impl FnOnce() -> R) -> Result<R> {
    #[cfg(windows)]
    let f = {
        let mut f = Some(f);
        let mut out = None;
        let fresh = !fiber::exists();
        // the job catches panics: nothing may unwind out of a fiber
        let ran = fiber::run(SEGMENT, &mut |low| {
            if let Some(f) = f.take() {
                out = Some(with_segment_low(Some(low), || panics::catch(f)));
            }
        });
        if ran && fresh {
            MADE.with(|m| m.set(m.get() + 1));
        }
        match (out, f) {
            (Some(out), _) => return out,
            (None, Some(f)) => f,
            (None, None) => return Err(Error::internal("the kept fiber took the call and returned nothing")),
        }
    };
    MADE.with(|m| m.set(m.get() + 1));
    panics::catch(|| stacker::grow(SEGMENT, || with_segment_low(None, f)))
}

/// Runs `f` with `SEGMENT_LOW` set to `low`; restores it after (also when
/// unwinding).
fn with_segment_low<R>(low: Option<usize>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SEGMENT_LOW.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SEGMENT_LOW.with(|s| s.replace(low)));
    f()
}

/// How many fresh stacks (segments, the kept fiber) this thread has made:
/// `_status().stacks_made`, so a spec can check that outermost calls make
/// none.
pub fn stacks_made() -> u64 {
    MADE.with(Cell::get)
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
