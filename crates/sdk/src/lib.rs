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
//! Build it as a `cdylib` for `wasm32-unknown-unknown` (or `wasm32-wasip1`
//! to print with `println!`), copy the `.wasm` to `wasm/<name>.wasm` in a
//! runtimepath directory, and call `require("wasm_nvim").<name>.greet("you")`.
//!
//! The SDK speaks wasm_nvim's fast ABI: values cross as MessagePack in the
//! plugin's memory (binary-safe, Neovim's own encoding), calls into Neovim
//! return errors instead of trapping, and a panic's message reaches the
//! user. `api` has a typed binding for every Neovim API function.

pub mod api;
pub mod job;
#[doc(hidden)]
pub mod __private;
mod sys;
mod types;

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use types::{Buffer, Callback, Dict, Object, Tabpage, Window};
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

impl std::error::Error for Error {}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs Lua in Neovim with `args` as its `...` and returns its first
/// result. The chunk is compiled once and cached by the host.
///
/// ```ignore
/// let n: i64 = lua("return #vim.api.nvim_list_bufs()", ())?;
/// lua::<()>("vim.defer_fn(..., 100)", (Callback::new("later"),))?;
/// ```
pub fn lua<R: DeserializeOwned>(code: &str, args: impl Serialize) -> Result<R> {
    // SAFETY: both buffers are valid for the call; the result is ours.
    let packed = sys::with_args(&args, |ptr, len| unsafe { sys::lua(code.as_ptr() as u32, code.len() as u32, ptr, len) })?;
    sys::decode_result(packed)
}

/// Shows `text` in `:messages` (`nvim_echo`).
pub fn echo(text: &str) -> Result<()> {
    api::nvim_echo(&[(text,)], true, Dict::new()).map(drop)
}

/// `vim.notify(text, level)`; `level` is `vim.log.levels` (2 = INFO,
/// 3 = WARN, 4 = ERROR).
pub fn notify(text: &str, level: u8) -> Result<()> {
    lua("vim.notify(...)", (text, level))
}

pub mod prelude {
    //! `use wasm_nvim_sdk::prelude::*;` for plugins.
    pub use crate::{Buffer, Callback, Dict, Error, Object, Result, Tabpage, Window, api, echo, export, job, lua, notify};
}
