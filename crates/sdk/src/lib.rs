//! Write Neovim plugins in Rust, compiled to WebAssembly and run inside
//! Neovim by [wasm_nvim](https://github.com/wasm-nvim/wasm_nvim).
//!
//! ```ignore
//! use wasm_nvim_sdk::prelude::*;
//!
//! #[export]
//! fn greet(name: String) -> String {
//!     format!("Hello, {name}!")
//! }
//! ```
//! Build it as a `cdylib` for `wasm32-unknown-unknown`, copy the `.wasm` to
//! `wasm/<name>.wasm` in a runtimepath directory, and call
//! `require("wasm_nvim").<name>.greet("you")`.
//!
//! A plugin with state and callbacks (the whole `examples/rust-todo`):
//! [`Plugin`] for the state (made on first use, lent to exports taking
//! `&mut S`; a re-entrant call that wants it too gets an error, never an
//! alias), [`Callback::new`] naming an export function (a typo does not
//! compile), typed events ([`AutocmdEvent`], [`CommandArgs`], [`OnLines`])
//! and options ([`AutocmdOpts`], [`UserCommandOpts`], [`KeymapOpts`],
//! [`ExtmarkOpts`], [`WinConfig`], [`BufAttachOpts`], [`ExecAutocmdsOpts`]).
//! `#[export(callback)]` keeps an export that only Neovim calls out of the
//! plugin's function list.
//!
//! **Printing:** on `wasm32-unknown-unknown`, `println!` and `eprintln!`
//! go nowhere (that target has no stdout). Use [`echo!`] (`:messages`) or
//! [`notify`]; or build for `wasm32-wasip1`, where stdout and stderr reach
//! `:messages` and `:Wasm log`.
//!
//! **Errors:** an export returning `Result<T, E>` with `E: Display` fails
//! the Lua call with the message; inside, `?` converts any
//! `std::error::Error` into [`Error`] (`Error::new(text)` for a message). A wrong
//! argument fails with `argument 2 (last): expected an integer (i64), got a
//! string`, as in the Zig and C SDKs; `{}` from Lua is an empty struct.
//!
//! The SDK speaks wasm_nvim's msgpack ABI: values cross as MessagePack in
//! the plugin's memory (binary-safe, Neovim's own encoding), calls into
//! Neovim return errors instead of trapping, and a panic's message reaches
//! the user. `api` has a typed binding for every Neovim API function. The
//! ABI is specified in
//! [doc/abi.md](https://github.com/wasm-nvim/wasm_nvim/blob/main/doc/abi.md);
//! its names and layouts are the `wasm_nvim_abi` crate, which the host uses
//! too.

#[doc(hidden)]
pub mod __private;
pub mod api;
mod args;
mod describe;
mod events;
pub mod job;
mod opts;
mod state;
mod sys;
mod types;

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use events::{AutocmdEvent, CommandArgs, OnLines};
pub use opts::{
    AugroupOpts, AutocmdOpts, BufAttachOpts, Complete, ExecAutocmdsOpts, ExtmarkOpts, KeymapOpts, UserCommandOpts,
    WinConfig,
};
/// serde, for `#[derive(Serialize, Deserialize)]` on argument and result types.
pub use serde;
/// serde_bytes, for text that need not be UTF-8: `Vec<serde_bytes::ByteBuf>`
/// from [`api::call`] with `api::sys::nvim_buf_get_lines` (the msgpack ABI
/// carries a line's bytes as they are).
pub use serde_bytes;
pub use state::{Plugin, with as state};
pub use types::{Buffer, Callback, Dict, ExportFn, Object, Tabpage, Window};
pub use wasm_nvim_sdk_macros::export;

/// What goes wrong calling Neovim: its error message (or a value that
/// could not be converted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error { message: message.into() }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `?` on any error type: its message (with its sources) becomes the error.
impl<E: std::error::Error> From<E> for Error {
    fn from(e: E) -> Self {
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        Error::new(message)
    }
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs Lua in Neovim with `args` as its `...` and returns its first
/// result. The chunk is compiled once and cached by the host.
///
/// ```ignore
/// let n: i64 = lua("return #vim.api.nvim_list_bufs()", ())?;
/// lua::<()>("vim.defer_fn(..., 100)", (Callback::new(later),))?;
/// ```
pub fn lua<R: DeserializeOwned>(code: &str, args: impl Serialize) -> Result<R> {
    // SAFETY: both buffers are valid for the call; the result is ours.
    let packed =
        sys::with_args(&args, |ptr, len| unsafe { sys::lua(code.as_ptr() as u32, code.len() as u32, ptr, len) })?;
    sys::decode_result(packed)
}

/// Shows `text` in `:messages` (`nvim_echo`).
pub fn echo(text: &str) -> Result<()> {
    api::nvim_echo([(text,)], true, Dict::new()).map(drop)
}

/// `echo!("{n} TODOs")`: formats and shows the text in `:messages` (what
/// `println!` cannot do on `wasm32-unknown-unknown`). Errors are ignored.
#[macro_export]
macro_rules! echo {
    ($($arg:tt)*) => {
        { let _ = $crate::echo(&format!($($arg)*)); }
    };
}

/// `vim.log.levels`, for [`notify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

impl Serialize for LogLevel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u8(*self as u8)
    }
}

/// `vim.notify(text, level)`.
pub fn notify(text: &str, level: LogLevel) -> Result<()> {
    lua("vim.notify(...)", (text, level))
}

pub mod prelude {
    //! `use wasm_nvim_sdk::prelude::*;` for plugins.
    pub use crate::serde::{Deserialize, Serialize};
    pub use crate::{
        AugroupOpts, AutocmdEvent, AutocmdOpts, BufAttachOpts, Buffer, Callback, CommandArgs, Complete, Dict, Error,
        ExecAutocmdsOpts, ExtmarkOpts, KeymapOpts, LogLevel, Object, OnLines, Plugin, Result, Tabpage, UserCommandOpts,
        WinConfig, Window, api, echo, export, job, lua, notify, state,
    };
}
