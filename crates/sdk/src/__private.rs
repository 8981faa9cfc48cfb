//! What `#[export]` expands to call. Not part of the API.

use std::borrow::Cow;
use std::fmt::Display;
use std::sync::Once;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::sys;

/// Sends a panic's message to the host before the trap, so the user sees
/// it in the error instead of just "unreachable".
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            let text = match info.location() {
                Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
                None => message,
            };
            // SAFETY: the buffer is valid for the call; the host copies it.
            unsafe { sys::panic(text.as_ptr() as u32, text.len() as u32) }
        }));
    });
}

/// The body of an exported function: decodes the arguments (missing
/// trailing ones are nil, so `Option` parameters may be left out), calls,
/// returns the packed reply.
pub fn export<A: DeserializeOwned>(ptr: u32, len: u32, arity: usize, f: impl FnOnce(A) -> u64) -> u64 {
    install_panic_hook();
    let decoded = {
        // SAFETY: the host allocated the arguments with our `alloc(len)`.
        let bytes = unsafe { sys::Taken::new(ptr, len) };
        match pad_args(&bytes, arity) {
            Ok(args) => rmp_serde::from_slice::<A>(&args).map_err(|e| format!("bad arguments: {e}")),
            Err(e) => Err(e),
        }
    }; // the arguments' buffer is freed before the function runs
    match decoded {
        Ok(args) => f(args),
        Err(e) => fail(e),
    }
}

/// A successful reply. Nil (`()`, `None`) is the empty buffer: nothing to
/// allocate, copy or free.
pub fn reply<T: Serialize>(value: T) -> u64 {
    sys::with_scratch(|buf| match rmp_serde::encode::write_named(buf, &value) {
        Ok(()) if buf[..] == [0xc0] => 0,
        Ok(()) => sys::give(buf.to_vec(), false),
        Err(e) => fail(format!("cannot encode the result: {e}")),
    })
}

/// The body of an exported function without parameters: nothing to decode.
pub fn export0(ptr: u32, len: u32, f: impl FnOnce() -> u64) -> u64 {
    install_panic_hook();
    // SAFETY: the host allocated any arguments with our `alloc(len)`; they
    // are ignored (Lua passed some to a function that takes none).
    drop(unsafe { sys::Taken::new(ptr, len) });
    f()
}

/// `Ok` replies, `Err` fails the call with its message (no trap: the
/// plugin keeps its state).
pub fn reply_result<T: Serialize, E: Display>(result: Result<T, E>) -> u64 {
    match result {
        Ok(value) => reply(value),
        Err(e) => fail(e),
    }
}

fn fail(message: impl Display) -> u64 {
    sys::give(message.to_string().into_bytes(), true)
}

/// The arguments as `A` reads them: a msgpack array of `n < arity`
/// elements is rewritten as one of `arity`, the missing ones nil; no
/// parameters (`A` is `()`) is nil.
fn pad_args(bytes: &[u8], arity: usize) -> Result<Cow<'_, [u8]>, String> {
    if arity == 0 {
        return Ok(Cow::Borrowed(&[0xc0]));
    }
    if bytes.is_empty() {
        let mut out = Vec::with_capacity(arity + 5);
        rmp::encode::write_array_len(&mut out, arity as u32).map_err(|e| e.to_string())?;
        out.resize(out.len() + arity, 0xc0);
        return Ok(Cow::Owned(out));
    }
    let mut rd = bytes;
    let n = rmp::decode::read_array_len(&mut rd).map_err(|e| format!("arguments are not an array: {e}"))? as usize;
    if n >= arity {
        return Ok(Cow::Borrowed(bytes));
    }
    let header = bytes.len() - rd.len();
    let mut out = Vec::with_capacity(bytes.len() + arity - n + 4);
    rmp::encode::write_array_len(&mut out, arity as u32).map_err(|e| e.to_string())?;
    out.extend_from_slice(&bytes[header..]);
    out.resize(out.len() + arity - n, 0xc0);
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_trailing_arguments_become_nil() {
        let two: (i64, Option<String>) = rmp_serde::from_slice(&pad_args(&rmp_serde::to_vec(&(5,)).unwrap(), 2).unwrap()).unwrap();
        assert_eq!(two, (5, None));
        let none: (Option<bool>,) = rmp_serde::from_slice(&pad_args(&[], 1).unwrap()).unwrap();
        assert_eq!(none, (None,));
        let extra = rmp_serde::to_vec(&(1, 2, 3)).unwrap();
        assert_eq!(pad_args(&extra, 2).unwrap(), &extra[..]);
        assert_eq!(pad_args(&[], 0).unwrap(), &[0xc0][..]);
    }
}
