//! The wasmtime engines and the linker of the fixed imports for each: one
//! compiling with deadline checks (epoch interruption) for every plugin
//! with a timeout, one without them, at full speed, for plugins the user
//! trusts with `timeout_ms = 0` (made on first use). The API is linked per
//! plugin ([`crate::abi::link`]).

use std::sync::OnceLock;

use wasmtime::{Config, Engine, Linker};

use crate::abi;
use crate::error::{Error, Result};
use crate::limits::{self, Limits, TICK};
use crate::state::HostState;

/// An engine and the linker of the fixed host imports for it.
pub struct Wasm {
    pub engine: Engine,
    pub linker: Linker<HostState>,
}

static METERED: OnceLock<Wasm> = OnceLock::new();
static UNMETERED: OnceLock<Wasm> = OnceLock::new();

/// The engine a plugin with these limits is compiled for, made on first
/// use (the metered one with the thread that ticks its epoch).
pub fn for_limits(limits: &Limits) -> Result<&'static Wasm> {
    let (cell, metered) = if limits.timeout.is_some() { (&METERED, true) } else { (&UNMETERED, false) };
    if let Some(wasm) = cell.get() {
        return Ok(wasm);
    }
    let wasm = Wasm::new(metered)?;
    if metered {
        start_ticker(&wasm.engine)?;
    }
    Ok(cell.get_or_init(|| wasm))
}

/// Ticks the engine's epoch every [`TICK`], for deadlines. The thread only
/// bumps an atomic counter; it lives as long as the process.
fn start_ticker(engine: &Engine) -> Result<()> {
    let engine = engine.clone();
    std::thread::Builder::new()
        .name("wasm_nvim-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(TICK);
                limits::tick();
                engine.increment_epoch();
            }
        })
        .map(drop)
        .map_err(|e| Error::internal(format!("cannot start the deadline thread: {e}")))
}

impl Wasm {
    fn new(deadlines: bool) -> Result<Self> {
        let mut config = Config::new();
        config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(32));
        // Deep recursion in a guest is a trap; stack.rs makes sure the real
        // stack has this much (and a margin) wherever a store is entered.
        config.max_wasm_stack(crate::stack::WASM_STACK);
        config.epoch_interruption(deadlines);
        // Compiling cannot be interrupted, so use every core for it (a
        // module near the `module_functions` cap takes seconds on one).
        // Costs about 180 KB of library (rayon); its threads idle otherwise.
        config.parallel_compilation(true);
        let engine = Engine::new(&config).map_err(|e| Error::internal(format!("wasmtime engine: {e:#}")))?;
        let linker = abi::linker(&engine)?;
        Ok(Wasm { engine, linker })
    }
}
