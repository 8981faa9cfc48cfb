//! WASI `poll_oneoff`, replaced. wasmtime-wasi's sleeps on the calling
//! thread — Neovim's — for as long as asked (Rust `thread::sleep`, C
//! `sleep()`), and epoch deadlines only fire while wasm runs: a 20 s sleep
//! froze the editor 20 s under a 1 s deadline. Here a clock wait longer
//! than what is left of the call's wasm-time budget is refused at once with
//! a timeout error; a shorter one sleeps, and counts as the plugin's time.
//! A plugin without a deadline (`timeout_ms = 0`, trusted) sleeps as asked.
//!
//! File-descriptor subscriptions are ready at once (stdin is empty, `/data`
//! files never block), as wasmtime-wasi reports them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wasmtime::{Caller, Extern, Linker};

use crate::error::Error;
use crate::guest::{read_bytes, write_bytes};
use crate::state::HostState;

const SUBSCRIPTION: usize = 48;
const EVENT: usize = 32;
/// Most subscriptions in one call (wasi-libc's `poll` uses a handful).
const MAX_SUBSCRIPTIONS: u32 = 4096;

const ERRNO_FAULT: i32 = 21;
const ERRNO_INVAL: i32 = 28;

const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;
const ABSTIME: u16 = 1;

/// Replaces `wasi_snapshot_preview1.poll_oneoff` in `linker` (which
/// already has WASI).
pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let defined = linker
        .func_wrap(
            wasm_nvim_abi::WASI_MODULE,
            "poll_oneoff",
            |mut caller: Caller<'_, HostState>,
             subs: u32,
             events: u32,
             n: u32,
             nevents: u32|
             -> wasmtime::Result<i32> { poll_oneoff(&mut caller, subs, events, n, nevents) },
        )
        .map(drop);
    linker.allow_shadowing(false);
    defined
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_le_bytes)
}

fn poll_oneoff(
    caller: &mut Caller<'_, HostState>,
    subs: u32,
    events: u32,
    n: u32,
    nevents: u32,
) -> wasmtime::Result<i32> {
    if n == 0 || n > MAX_SUBSCRIPTIONS {
        return Ok(ERRNO_INVAL);
    }
    let Some(Extern::Memory(memory)) = caller.get_export(wasm_nvim_abi::MEMORY_EXPORT) else { return Ok(ERRNO_FAULT) };
    let Ok(raw) = read_bytes(&*caller, memory, subs, n * SUBSCRIPTION as u32) else { return Ok(ERRNO_FAULT) };
    // (userdata, tag, wait) per subscription; wait is None for fd ones
    let mut parsed = Vec::with_capacity(n as usize);
    let base = caller.data().clock_base;
    for sub in raw.chunks_exact(SUBSCRIPTION) {
        let (userdata, tag) = (u64_at(sub, 0), sub[8]);
        let wait = match tag {
            0 => {
                let id = u32::from_le_bytes([sub[16], sub[17], sub[18], sub[19]]);
                let timeout = u64_at(sub, 24);
                let absolute = u16::from_le_bytes([sub[40], sub[41]]) & ABSTIME != 0;
                let now = match (id, absolute) {
                    (CLOCK_REALTIME | CLOCK_MONOTONIC, false) => 0,
                    (CLOCK_REALTIME, true) => SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
                    (CLOCK_MONOTONIC, true) => u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX),
                    _ => return Ok(ERRNO_INVAL),
                };
                Some(Duration::from_nanos(timeout.saturating_sub(now)))
            }
            1 | 2 => None,
            _ => return Ok(ERRNO_INVAL),
        };
        parsed.push((userdata, tag, wait));
    }
    let ready_fds = parsed.iter().any(|(_, _, wait)| wait.is_none());
    let sleep = if ready_fds { Duration::ZERO } else { parsed.iter().filter_map(|p| p.2).min().unwrap_or_default() };
    let state = caller.data_mut();
    if let Some(limit) = state.limits.timeout {
        let left = limit.saturating_sub(state.budget.used());
        if sleep > left {
            state.timed_out = true;
            return Err(wasmtime::Error::new(Error::limit(format!(
                "timeout: the plugin asked to sleep {} ms, more than the {} ms its call has left \
                 (setup({{ limits = {{ timeout_ms = ... }} }}))",
                sleep.as_millis(),
                left.as_millis()
            ))));
        }
    }
    if !sleep.is_zero() {
        std::thread::sleep(sleep);
    }
    let mut out = Vec::with_capacity(parsed.len() * EVENT);
    for (userdata, tag, wait) in &parsed {
        if wait.is_some_and(|w| w > sleep) {
            continue;
        }
        let mut event = [0u8; EVENT];
        event[..8].copy_from_slice(&userdata.to_le_bytes());
        event[10] = *tag; // error (u16 at 8) stays 0: success
        if wait.is_none() {
            event[16] = 1; // nbytes: something can be read or written
        }
        out.extend_from_slice(&event);
    }
    let count = (out.len() / EVENT) as u32;
    if write_bytes(&mut *caller, memory, events, &out).is_err()
        || write_bytes(&mut *caller, memory, nevents, &count.to_le_bytes()).is_err()
    {
        return Ok(ERRNO_FAULT);
    }
    Ok(0)
}
