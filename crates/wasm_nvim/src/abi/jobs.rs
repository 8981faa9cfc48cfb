//! The imports a job uses to talk to its owner, module `"nvim"`:
//!
//! - `nvim.job_progress(ptr, len) -> i32`: reports a msgpack value (the
//!   owner's `on_progress` gets it on the editor's thread; reports faster
//!   than the editor takes them are coalesced, the latest wins). Returns 1
//!   when the job was cancelled: the plugin should stop and return.
//! - `nvim.job_cancelled() -> i32`: 1 when the job was cancelled.
//!
//! Outside a job (a call on the editor's thread) both return 0 and a
//! report goes nowhere, so a function works either way.

use wasm_nvim_abi as abi;
use wasmtime::{Caller, Linker};

use crate::error::Error;
use crate::guest::read_bytes;
use crate::state::HostState;

/// Most bytes of one progress report.
pub const MAX_PROGRESS: u32 = 1 << 20;

pub fn define(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        abi::MSGPACK_MODULE,
        abi::JOB_PROGRESS_IMPORT,
        |caller: Caller<'_, HostState>, ptr: u32, len: u32| -> wasmtime::Result<i32> {
            let Some(job) = caller.data().job.clone() else { return Ok(0) };
            if len > MAX_PROGRESS {
                return Err(wasmtime::Error::new(
                    Error::limit(format!("a progress report of {len} bytes (at most {MAX_PROGRESS})"))
                        .context("job_progress"),
                ));
            }
            let memory = caller.data().guest().map_err(wasmtime::Error::new)?.io.memory;
            let bytes =
                read_bytes(&caller, memory, ptr, len).map_err(|e| wasmtime::Error::new(e.context("job_progress")))?;
            if job.report(bytes) {
                crate::job::events().emit(crate::job::Event::Progress(job.clone()));
            }
            Ok(i32::from(job.is_cancelled()))
        },
    )?;
    linker.func_wrap(abi::MSGPACK_MODULE, abi::JOB_CANCELLED_IMPORT, |caller: Caller<'_, HostState>| -> i32 {
        i32::from(caller.data().job.as_ref().is_some_and(|job| job.is_cancelled()))
    })?;
    Ok(())
}
