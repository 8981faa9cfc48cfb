//! The rules of a call into a plugin's `Store`, in one place. Every path
//! follows them: a Lua function of the plugin's table, a callback, the
//! LuaJIT FFI fast path, a worker's job, the calls made while loading.
//!
//! The protocol: [`Call::enter`] refuses a call nested deeper than
//! [`MAX_REENTRY`] into one plugin; an outermost call restarts the
//! wasm-time budget and arms the epoch deadline, a nested one (Lua called
//! back into wasm) stops counting host time. The export runs (panics
//! caught). [`Call::leave`] undoes the entry and decides the outcome: a
//! trap or a panic poisons the instance (dropped when the outermost call
//! returns), led by the panic message the plugin sent (`nvim.panic`); an
//! error the plugin returned (`set_error`, a msgpack-ABI error result)
//! fails the call and keeps the instance.
//!
//! What happens around an outermost call (taking the `Store` out of the
//! plugin, slow calls, timeouts in a row, output) is the plugin's:
//! `Plugin::call` in plugin/mod.rs.

use wasmtime::{AsContextMut, StoreContextMut};

use crate::bounded;
use crate::error::{Error, Kind, Result};
use crate::guest::{GuestIo, Packed, read_bytes};
use crate::panics;
use crate::raw::Numbers;
use crate::shape::{ExportFn, Payload, Reply, Target, call_checked};
use crate::state::HostState;

pub mod args;

/// Deepest nesting of calls into one plugin (plugin -> Lua -> the same
/// plugin ...): re-entry is allowed, a runaway recursion through Lua is not.
pub const MAX_REENTRY: u32 = 100;

/// A call entered into a store, to be left with [`Call::leave`].
#[must_use]
pub struct Call {
    outermost: bool,
}

impl Call {
    /// Enters a call into the store of `ctx`, or refuses it.
    pub fn enter(ctx: &mut StoreContextMut<'_, HostState>) -> Result<Call> {
        let state = ctx.data_mut();
        if state.depth >= MAX_REENTRY {
            return Err(Error::limit(format!("calls nested deeper than {MAX_REENTRY} into one plugin")));
        }
        let outermost = state.depth == 0;
        if outermost {
            state.start_call();
        } else {
            // Lua called back into wasm: from here it is wasm time again.
            state.budget.leave_host();
        }
        state.depth += 1;
        if outermost {
            // A store's deadline must be set before each call (else it traps).
            ctx.set_epoch_deadline(1);
        }
        Ok(Call { outermost })
    }

    /// Leaves the call with what the export did (`Err`: it panicked, or
    /// the host could not run it) and decides the call's outcome.
    pub fn leave<R>(self, ctx: &mut StoreContextMut<'_, HostState>, ran: Result<Result<R, Fault>>) -> Result<R> {
        let state = ctx.data_mut();
        state.depth -= 1;
        if !self.outermost {
            state.budget.enter_host();
        }
        let refused = state.error.take();
        let panicked = state.panic.take();
        let value = match ran {
            Ok(Ok(value)) => value,
            Ok(Err(Fault::Guest(e))) => return Err(e),
            Ok(Err(Fault::Trap(e))) | Err(e) => {
                state.poisoned = true;
                return Err(trap_error(e, panicked));
            }
        };
        match refused {
            Some(message) => Err(Error::new(Kind::Plugin, message)),
            None => Ok(value),
        }
    }
}

/// Calls `target` (a listed function, or an export by name) under the call rules.
pub fn invoke_export(mut ctx: impl AsContextMut<Data = HostState>, target: &Target, arg: Payload) -> Result<Reply> {
    let mut ctx = ctx.as_context_mut();
    let func = match target {
        Target::Listed(index) => {
            let func = ctx.data().guest()?.exports.get(*index).copied();
            func.ok_or_else(|| Error::internal(format!("no export #{index}")))?
        }
        Target::Named(spec) => {
            let instance = ctx.data().instance.ok_or_else(|| Error::internal("no instance"))?;
            ExportFn::lookup(&instance, &mut ctx, spec)?
        }
    };
    invoke(ctx, &func, arg)
}

/// Calls an export under the call rules ([`Call`]).
pub fn invoke(mut ctx: impl AsContextMut<Data = HostState>, func: &ExportFn, arg: Payload) -> Result<Reply> {
    let mut ctx = ctx.as_context_mut();
    let call = Call::enter(&mut ctx)?;
    let ran = panics::catch(|| call_shape(&mut ctx, func, arg));
    call.leave(&mut ctx, ran)
}

/// A trap's error, led by the panic message the plugin sent before it
/// trapped (`nvim.panic`), if it sent one.
fn trap_error(e: Error, panicked: Option<String>) -> Error {
    match panicked {
        Some(message) => Error::new(Kind::Trap, format!("the plugin panicked: {message}\n{e}")),
        None => e,
    }
}

/// Why a call failed: the guest said so (its state is fine), or it trapped.
pub enum Fault {
    Guest(Error),
    Trap(Error),
}

impl From<Error> for Fault {
    fn from(e: Error) -> Self {
        Fault::Trap(e)
    }
}

/// Moves the argument in, calls, moves the result out, per shape.
fn call_shape(ctx: &mut StoreContextMut<'_, HostState>, func: &ExportFn, arg: Payload) -> Result<Reply, Fault> {
    let trap = |e: wasmtime::Error| Fault::Trap(Error::from_wasm(e));
    let seed_arg = |ctx: &mut StoreContextMut<'_, HostState>, arg: Payload| -> Result<u32> {
        match arg {
            Payload::Bytes(bytes) => ctx.data_mut().values.insert(bytes),
            _ => Err(Error::internal("a seed function needs its argument as bytes")),
        }
    };
    let seed_result = |ctx: &mut StoreContextMut<'_, HostState>, id: u32| -> Result<Reply> {
        ctx.data_mut().values.take(id).map(Reply::Bytes).map_err(|e| e.context("returned id"))
    };
    // SAFETY (each `call_checked`): `ExportFn::lookup` checked the
    // export's type for its variant, which is the signature used here, and
    // the function belongs to this store.
    match *func {
        ExportFn::Unit(f) => unsafe { call_checked(f, &mut *ctx, &[], 0) }.map(|_| Reply::None).map_err(trap),
        ExportFn::Arg(f) => {
            let id = seed_arg(ctx, arg)?;
            unsafe { call_checked(f, &mut *ctx, &[id], 0) }.map(|_| Reply::None).map_err(trap)
        }
        ExportFn::Ret(f) => {
            let id = unsafe { call_checked(f, &mut *ctx, &[], 1) }.map_err(trap)?.get_i32() as u32;
            Ok(seed_result(ctx, id)?)
        }
        ExportFn::ArgRet(f) => {
            let id = seed_arg(ctx, arg)?;
            let id = unsafe { call_checked(f, &mut *ctx, &[id], 1) }.map_err(trap)?.get_i32() as u32;
            Ok(seed_result(ctx, id)?)
        }
        ExportFn::Msgpack(f) => {
            let bytes = match arg {
                Payload::Bytes(bytes) => bytes,
                _ => return Err(Fault::Trap(Error::internal("a packed function needs its arguments as bytes"))),
            };
            let guest = ctx.data().guest()?.io;
            let ptr = guest.give(&mut *ctx, &bytes)?;
            let raw = unsafe { call_checked(f, &mut *ctx, &[ptr, bytes.len() as u32], 1) }.map_err(trap)?;
            let packed = Packed::from_u64(raw.get_i64() as u64);
            let out = take_packed(ctx, &guest, packed).map_err(|e| e.context("result"))?;
            if packed.error {
                return Err(Fault::Guest(Error::new(
                    Kind::Plugin,
                    bounded::truncate_lossy(&out, bounded::MAX_PLUGIN_MESSAGE),
                )));
            }
            Ok(if out.is_empty() { Reply::None } else { Reply::Bytes(out) })
        }
        ExportFn::Raw(f) => {
            // A raw function must not reach Lua (`run_lua` refuses), so
            // the FFI fast path can call it from inside LuaJIT's FFI.
            ctx.data_mut().raw_call = true;
            let mut slots = match arg {
                Payload::Numbers(slots, _) => slots,
                Payload::None => Box::new(Numbers::new()),
                Payload::Bytes(_) => return Err(Fault::Trap(Error::internal("a raw function needs numbers"))),
            };
            // SAFETY: the export's type was checked against its
            // `Shape::Raw` at load (at most MAX_PARAMS params, at most one
            // result, all numbers), the slots hold values of those types
            // (`raw::args`), and `f` belongs to this store.
            let called = unsafe { f.call_unchecked(&mut *ctx, &mut slots.values[..] as *mut [wasmtime::ValRaw]) };
            ctx.data_mut().raw_call = false;
            called.map_err(trap)?;
            Ok(Reply::Number(slots))
        }
    }
}

/// Copies a buffer a packed function returned out of guest memory and hands
/// it back to the guest's `dealloc`.
fn take_packed(ctx: &mut StoreContextMut<'_, HostState>, guest: &GuestIo, packed: Packed) -> Result<Vec<u8>> {
    if packed.len == 0 {
        return Ok(Vec::new());
    }
    let bytes = read_bytes(&*ctx, guest.memory, packed.ptr, packed.len)?;
    guest.dealloc(&mut *ctx, packed.ptr, packed.len).map_err(|e| Error::from_wasm(e).context("dealloc"))?;
    Ok(bytes)
}
