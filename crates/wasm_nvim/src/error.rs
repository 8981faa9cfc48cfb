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

/// What kind of failure; decides the label in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A `.wasm` file could not be read, compiled, linked or instantiated,
    /// or does not follow the plugin contract.
    Load,
    /// The guest broke the host ABI: unknown id, pointer out of bounds.
    Abi,
    /// A value could not be encoded or decoded (JSON, UTF-8, Lua type).
    Value,
    /// Lua code run on the guest's behalf raised an error.
    Lua,
    /// The guest trapped; the message carries the trap and wasm backtrace.
    Trap,
    /// A limit was hit (value table size, recursion depth).
    Limit,
    /// A bug in wasm_nvim (a caught panic); reported instead of killing Neovim.
    Internal,
    /// The plugin reported a failure itself (`set_error`); its own words.
    Plugin,
    /// The plugin called an API function the running Neovim does not have,
    /// or Neovim from a worker job.
    Unavailable,
    /// The plugin used something the user's `allow` withholds from it.
    Denied,
    /// A job was cancelled (by its owner, a reload or exit).
    Cancelled,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Load => "cannot load: ",
            Kind::Abi => "ABI violation: ",
            Kind::Value => "bad value: ",
            Kind::Lua => "Lua error: ",
            Kind::Trap => "",
            Kind::Limit => "limit exceeded: ",
            Kind::Internal => "internal error (please report): ",
            Kind::Plugin => "",
            Kind::Unavailable => "",
            Kind::Denied => "permission denied: ",
            Kind::Cancelled => "",
        }
    }
}

/// `[<context>: ...]<label><message>`, e.g.
/// `nvim_buf_get_lines: Lua error: Invalid buffer id: 9`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    /// Where it happened, outermost first (`functionality`, an import name).
    context: Vec<String>,
    message: String,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error { kind, context: Vec::new(), message: message.into() }
    }

    pub fn load(msg: impl Into<String>) -> Self {
        Error::new(Kind::Load, msg)
    }

    pub fn abi(msg: impl Into<String>) -> Self {
        Error::new(Kind::Abi, msg)
    }

    pub fn value(msg: impl Into<String>) -> Self {
        Error::new(Kind::Value, msg)
    }

    pub fn lua(msg: impl Into<String>) -> Self {
        Error::new(Kind::Lua, msg)
    }

    pub fn limit(msg: impl Into<String>) -> Self {
        Error::new(Kind::Limit, msg)
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        Error::new(Kind::Internal, msg)
    }

    /// Says where the error happened (an import name, `functionality`, ...).
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.context.insert(0, what.to_string());
        self
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
            // Names come from the module's name section, demangled; the
            // frames of a Rust panic's own machinery are left out.
            let names: Vec<String> = bt
                .frames()
                .iter()
                .map(|f| match f.func_name() {
                    Some(name) => format!("{:#}", rustc_demangle::demangle(name)),
                    None => format!("func[{}]", f.func_index()),
                })
                .collect();
            let machinery = |n: &str| {
                ["std::", "core::", "__rust", "rust_", "abort", "__rustc::", "<std::", "<core::"]
                    .iter()
                    .any(|p| n.starts_with(p))
            };
            let skip = names.iter().take_while(|n| machinery(n)).count();
            let skip = if skip == names.len() { 0 } else { skip };
            let frames: Vec<String> =
                names.iter().skip(skip).take(16).enumerate().map(|(i, n)| format!("  {i}: {n}")).collect();
            if !frames.is_empty() {
                msg.push_str("\nwasm backtrace:\n");
                msg.push_str(&frames.join("\n"));
            }
        }
        Error::new(Kind::Trap, msg)
    }

    /// Turns a Lua error into its message, without mlua's Rust-side wrapping.
    pub fn from_lua(err: &mlua::Error) -> Self {
        Error::lua(lua_message(err))
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
        for what in &self.context {
            write!(f, "{what}: ")?;
        }
        write!(f, "{}{}", self.kind.label(), self.message)
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::value(format!("JSON: {err}"))
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
        let e = Error::abi("id 7 unknown").context("get_value_size").context("functionality");
        assert_eq!(e.kind, Kind::Abi);
        assert_eq!(e.to_string(), "functionality: get_value_size: ABI violation: id 7 unknown");
    }

    #[test]
    fn own_error_survives_a_wasmtime_error() {
        let wrapped = wasmtime::Error::new(Error::lua("boom").context("lua_exec"));
        assert_eq!(Error::from_wasm(wrapped), Error::lua("boom").context("lua_exec"));
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
