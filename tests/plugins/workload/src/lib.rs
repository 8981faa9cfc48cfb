//! Functions for the worker specs (tests/nvim/workers_spec.lua): long
//! loops that report progress and notice cancellation (or do not), a
//! panic, a Neovim API call (refused in a worker), state kept between jobs.

use std::cell::RefCell;

use wasm_nvim_sdk::prelude::*;

thread_local! {
    static KEPT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Sums 0..n, reporting progress every 2^20 steps; `None` when cancelled.
#[export]
fn sum(n: u64) -> Option<u64> {
    let mut total: u64 = 0;
    for i in 0..n {
        if i & 0xf_ffff == 0 && job::progress(i) {
            return None;
        }
        total = total.wrapping_add(std::hint::black_box(i));
    }
    Some(total)
}

/// Loops forever without ever checking: only the host can stop it.
#[export]
fn spin() -> u64 {
    let mut i: u64 = 0;
    loop {
        i = std::hint::black_box(i.wrapping_add(1));
        if i == u64::MAX {
            return i;
        }
    }
}

#[export]
fn boom() {
    panic!("boom in a job");
}

/// Calls the Neovim API and returns what happened, as text.
#[export]
fn api() -> String {
    match api::nvim_get_current_line() {
        Ok(line) => format!("ok: {line}"),
        Err(e) => format!("error: {e}"),
    }
}

/// `has()` and `version()` in a job.
#[export]
fn probe() -> (bool, u64) {
    (api::has("nvim_get_current_line"), api::version().api_level as u64)
}

/// Keeps `data` in the instance; returns how many bytes it holds now.
#[export]
fn keep(data: serde_bytes::ByteBuf) -> usize {
    KEPT.with_borrow_mut(|kept| {
        kept.extend_from_slice(&data);
        kept.len()
    })
}

/// What `keep` kept, reversed (binary-safe both ways).
#[export]
fn kept_reversed() -> serde_bytes::ByteBuf {
    KEPT.with_borrow(|kept| serde_bytes::ByteBuf::from(kept.iter().rev().copied().collect::<Vec<u8>>()))
}

/// Allocates `mb` MiB (for the memory cap).
#[export]
fn grow(mb: usize) -> usize {
    let v = vec![1u8; mb << 20];
    std::hint::black_box(&v).len()
}

/// Prints (output of a job reaches :messages).
#[export]
fn say(text: String) -> String {
    println!("{text}");
    text
}
