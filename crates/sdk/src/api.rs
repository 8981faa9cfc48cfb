//! Typed bindings for the Neovim API: one function per `nvim_*` function
//! Lua can call, each calling the host's msgpack-ABI import of the same name
//! (generated from the API metadata: `api_gen.rs`). Arguments the metadata
//! types as Array, Dict or Object take anything serde can serialize (a
//! tuple, a slice, a struct, a map); results come back typed where the
//! metadata says (or the docs do), else as [`Object`](crate::Object) /
//! [`Dict`](crate::Dict). [`call`] reaches any import with any types.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Result;
use crate::sys::{decode_result, with_args};

/// An API import of the msgpack ABI: `(args_ptr, args_len) -> packed result`
/// (doc/abi.md).
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

/// The running Neovim's version and API level (ordered: compare with `>=`).
pub use wasm_nvim_abi::Version;

/// The running Neovim's version and API level.
pub fn version() -> Version {
    // SAFETY: takes and touches nothing.
    wasm_nvim_abi::unpack_version(unsafe { crate::sys::version() })
}

// The module name in `#[link]` below must be a literal: checked here.
const _: () = assert!(wasm_nvim_abi::same(wasm_nvim_abi::MSGPACK_MODULE, "nvim"));

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

// Generated (`make gen`; a spec checks it is current): rustfmt leaves it
// as the generator writes it.
#[rustfmt::skip]
#[path = "api_gen.rs"]
mod generated;
pub use generated::*;
