//! The one error type of the host.
//!
//! Every failure a plugin can cause ends up here and, at the Lua boundary,
//! becomes one string naming the plugin and the function
//! (`wasm_nvim: stats.count_words: ...`). It holds only strings so it is
//! `Send + Sync` and can travel through a wasm trap (wasmtime wraps a host
//! import's error and hands it back to us at the call site).

use std::fmt;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A `.wasm` file could not be read, compiled, linked or instantiated,
    /// or does not follow the plugin contract.
    Load(String),
    /// The guest broke the host ABI: unknown id, pointer out of bounds,
    /// bad signature.
    Abi(String),
    /// A value could not be encoded or decoded (JSON, UTF-8, unsupported Lua type).
    Value(String),
    /// Lua code run on the guest's behalf raised an error.
    Lua(String),
    /// The guest trapped; the text carries the trap and its wasm backtrace.
    Trap(String),
    /// A limit was hit (value table size, recursion depth).
    Limit(String),
    /// A bug in wasm_nvim (a caught panic); reported instead of killing Neovim.
    Internal(String),
}

impl Error {
    pub fn abi(msg: impl Into<String>) -> Self {
        Error::Abi(msg.into())
    }

    pub fn value(msg: impl Into<String>) -> Self {
        Error::Value(msg.into())
    }

    pub fn load(msg: impl Into<String>) -> Self {
        Error::Load(msg.into())
    }

    /// Prefixes the message with `what: ` (an import name, a file path),
    /// keeping the kind.
    pub fn context(self, what: impl fmt::Display) -> Self {
        let wrap = |m: String| format!("{what}: {m}");
        match self {
            Error::Load(m) => Error::Load(wrap(m)),
            Error::Abi(m) => Error::Abi(wrap(m)),
            Error::Value(m) => Error::Value(wrap(m)),
            Error::Lua(m) => Error::Lua(wrap(m)),
            Error::Trap(m) => Error::Trap(wrap(m)),
            Error::Limit(m) => Error::Limit(wrap(m)),
            Error::Internal(m) => Error::Internal(wrap(m)),
        }
    }

    /// Converts an error that came out of a wasm call. A host import's own
    /// `Error` is recovered as is; anything else is a trap, reported with the
    /// wasm backtrace (function names come from the module's name section).
    pub fn from_wasm(err: wasmtime::Error) -> Self {
        if let Some(own) = err.downcast_ref::<Error>() {
            return own.clone();
        }
        let mut msg = match err.downcast_ref::<wasmtime::Trap>() {
            Some(trap) => trap.to_string(),
            None => format!("wasm error: {}", err.root_cause()),
        };
        if let Some(bt) = err.downcast_ref::<wasmtime::WasmBacktrace>() {
            let frames: Vec<String> = bt
                .frames()
                .iter()
                .take(16)
                .enumerate()
                .map(|(i, f)| match f.func_name() {
                    Some(name) => format!("  {i}: {name}"),
                    None => format!("  {i}: func[{}]", f.func_index()),
                })
                .collect();
            if !frames.is_empty() {
                msg.push_str("\nwasm backtrace:\n");
                msg.push_str(&frames.join("\n"));
            }
        }
        Error::Trap(msg)
    }

    /// Turns a Lua error into its message, without mlua's Rust-side wrapping.
    pub fn from_lua(err: &mlua::Error) -> Self {
        Error::Lua(lua_message(err))
    }
}

/// The human part of an mlua error: the Lua message, not the Rust wrapping.
pub fn lua_message(err: &mlua::Error) -> String {
    match err {
        mlua::Error::RuntimeError(m) | mlua::Error::SyntaxError { message: m, .. } => without_traceback(m),
        mlua::Error::CallbackError { cause, .. } => lua_message(cause),
        mlua::Error::WithContext { context, cause } => format!("{context}: {}", lua_message(cause)),
        other => other.to_string(),
    }
}

/// mlua appends a Lua traceback to runtime errors; the host's own frames in
/// it say nothing to a plugin author, so the message stops before it.
fn without_traceback(msg: &str) -> String {
    msg.split("\nstack traceback:").next().unwrap_or(msg).to_string()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Load(m) => write!(f, "cannot load: {m}"),
            Error::Abi(m) => write!(f, "ABI violation: {m}"),
            Error::Value(m) => write!(f, "bad value: {m}"),
            Error::Lua(m) => write!(f, "Lua error: {m}"),
            Error::Trap(m) => f.write_str(m),
            Error::Limit(m) => write!(f, "limit exceeded: {m}"),
            Error::Internal(m) => write!(f, "internal error (please report): {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::Value(format!("JSON: {err}"))
    }
}

impl From<mlua::Error> for Error {
    fn from(err: mlua::Error) -> Self {
        Error::from_lua(&err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_kind_and_prefixes() {
        let e = Error::abi("id 7 unknown").context("get_value_size");
        assert_eq!(e, Error::Abi("get_value_size: id 7 unknown".into()));
        assert_eq!(e.to_string(), "ABI violation: get_value_size: id 7 unknown");
    }

    #[test]
    fn own_error_survives_a_wasmtime_error() {
        let wrapped = wasmtime::Error::new(Error::Lua("boom".into()));
        assert_eq!(Error::from_wasm(wrapped), Error::Lua("boom".into()));
    }

    #[test]
    fn lua_message_unwraps_callback_errors() {
        let inner = mlua::Error::RuntimeError("bad arg".into());
        let cb = mlua::Error::CallbackError { traceback: "tb".into(), cause: inner.into() };
        assert_eq!(lua_message(&cb), "bad arg");
    }

    #[test]
    fn lua_message_drops_the_traceback() {
        let e = mlua::Error::RuntimeError("x:1: boom\nstack traceback:\n\t[C]: in ?".into());
        assert_eq!(lua_message(&e), "x:1: boom");
    }
}
