//! Typed bindings for the Neovim API: one function per `nvim_*` function
//! Lua can call, each calling the host's fast-ABI import of the same name
//! (generated from the API metadata: `api_gen.rs`). Arguments the metadata
//! types as Array, Dict or Object take anything serde can serialize (a
//! tuple, a slice, a struct, a map); results come back typed where the
//! metadata says (or the docs do), else as [`Object`](crate::Object) /
//! [`Dict`](crate::Dict). [`call`] reaches any import with any types.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Result;
use crate::sys::{decode_result, with_args};

/// An import of the fast ABI: `(args_ptr, args_len) -> packed result`.
pub type Import = unsafe extern "C" fn(u32, u32) -> u64;

/// Calls an import with `args` (a tuple: a msgpack array), decoding the
/// result as `R`. For example, lines as raw bytes:
/// `call::<Vec<serde_bytes::ByteBuf>>(sys::nvim_buf_get_lines, &(Buffer(0), 0, -1, true))`.
pub fn call<R: DeserializeOwned>(import: Import, args: &impl Serialize) -> Result<R> {
    // SAFETY: the buffer is valid for the call; the host copies it.
    decode_result(with_args(args, |ptr, len| unsafe { import(ptr, len) })?)
}

/// Calls an import that takes no arguments.
pub fn call0<R: DeserializeOwned>(import: Import) -> Result<R> {
    // SAFETY: no buffer; the host reads nothing.
    decode_result(unsafe { import(0, 0) })
}

/// Whether this Neovim has API function `name` and a plugin can call it.
/// A plugin runs on every Neovim its users have: ask before calling a
/// function newer than the oldest one you support (calling a missing one
/// is an error naming the Neovim it needs, not a crash).
///
/// ```ignore
/// if api::has("nvim_ui_send") { api::nvim_ui_send("...")?; }
/// ```
pub fn has(name: &str) -> bool {
    // SAFETY: the host reads `name` during the call only.
    unsafe { crate::sys::has(name.as_ptr() as u32, name.len() as u32) == 1 }
}

/// The running Neovim's version and API level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
    pub patch: u16,
    /// What `since` in the API metadata (and in these bindings' docs) counts.
    pub api_level: u16,
}

/// The running Neovim's version and API level.
pub fn version() -> Version {
    // SAFETY: takes and touches nothing.
    let packed = unsafe { crate::sys::version() };
    let field = |shift: u32| (packed >> shift) as u16;
    Version { major: field(48), minor: field(32), patch: field(16), api_level: field(0) }
}

/// Declares the raw imports, module `"nvim"` (stubs that fail outside wasm).
macro_rules! imports {
    ($($name:ident),* $(,)?) => {
        /// The raw imports (module `"nvim"`), for [`call`](super::call).
        pub mod sys {
            #[cfg(target_arch = "wasm32")]
            #[link(wasm_import_module = "nvim")]
            unsafe extern "C" {
                $(pub fn $name(ptr: u32, len: u32) -> u64;)*
            }
            $(
                /// Outside wasm: fails with "not running inside wasm_nvim".
                ///
                /// # Safety
                /// None needed here; `unsafe` only to match the wasm import,
                /// which reads `len` bytes at `ptr` of the plugin's memory.
                #[cfg(not(target_arch = "wasm32"))]
                pub unsafe extern "C" fn $name(_: u32, _: u32) -> u64 {
                    crate::sys::not_in_wasm()
                }
            )*
        }
    };
}
use imports;

#[path = "api_gen.rs"]
mod generated;
pub use generated::*;
