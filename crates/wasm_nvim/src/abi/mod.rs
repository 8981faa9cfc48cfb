//! The host ABIs a plugin can be written against, and the linker that
//! offers them all (a plugin imports what it uses).

pub mod fast;
pub mod seed;
pub mod sleep;

use wasmtime::{Engine, Linker};

use crate::error::{Error, Result};
use crate::nvim::Nvim;
use crate::state::HostState;

/// Builds the linker every plugin is instantiated with: WASI preview 1,
/// the seed ABI (`"host"`) and the fast ABI (`"nvim"`).
pub fn linker(engine: &Engine, nvim: &Nvim) -> Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    let internal = |e: wasmtime::Error| Error::internal(format!("defining host imports: {e:#}"));
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi).map_err(internal)?;
    sleep::define(&mut linker).map_err(internal)?;
    seed::define(&mut linker, nvim).map_err(internal)?;
    fast::define(&mut linker, &nvim.api).map_err(internal)?;
    Ok(linker)
}
