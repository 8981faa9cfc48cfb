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
