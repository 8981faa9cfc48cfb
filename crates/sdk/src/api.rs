//! Typed bindings for the Neovim API: one function per `nvim_*` function,
//! each calling the host's fast-ABI import of the same name.
//!
//! (A first hand-written set; the complete generated set follows.)

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::sys::{decode_result, encode_args};
use crate::{Buffer, Dict, Object, Result};

/// An import of the fast ABI: `(args_ptr, args_len) -> packed result`.
pub type Import = unsafe extern "C" fn(u32, u32) -> u64;

/// Calls an import with `args` (a tuple: a msgpack array).
pub fn call<R: DeserializeOwned>(import: Import, args: &impl Serialize) -> Result<R> {
    let bytes = encode_args(args)?;
    // SAFETY: the buffer is valid for the call; the host copies it.
    let packed = unsafe { import(bytes.as_ptr() as u32, bytes.len() as u32) };
    decode_result(packed)
}

/// Calls an import that takes no arguments.
pub fn call0<R: DeserializeOwned>(import: Import) -> Result<R> {
    // SAFETY: no buffer; the host reads nothing.
    decode_result(unsafe { import(0, 0) })
}

macro_rules! imports {
    ($($name:ident),* $(,)?) => {
        /// The raw imports (module `"nvim"`).
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

imports!(
    nvim_get_current_line,
    nvim_set_current_line,
    nvim_get_current_buf,
    nvim_buf_line_count,
    nvim_buf_get_lines,
    nvim_buf_set_lines,
    nvim_echo,
    nvim_create_autocmd,
    nvim_exec_autocmds,
    nvim_create_user_command,
    nvim_buf_attach,
    nvim_set_keymap,
);

pub fn nvim_get_current_line() -> Result<String> {
    call0(sys::nvim_get_current_line)
}

pub fn nvim_set_current_line(line: &str) -> Result<()> {
    call(sys::nvim_set_current_line, &(line,))
}

pub fn nvim_get_current_buf() -> Result<Buffer> {
    call0(sys::nvim_get_current_buf)
}

pub fn nvim_buf_line_count(buffer: Buffer) -> Result<i64> {
    call(sys::nvim_buf_line_count, &(buffer,))
}

pub fn nvim_buf_get_lines(buffer: Buffer, start: i64, end: i64, strict_indexing: bool) -> Result<Vec<String>> {
    call(sys::nvim_buf_get_lines, &(buffer, start, end, strict_indexing))
}

pub fn nvim_buf_set_lines<S: AsRef<str> + Serialize>(
    buffer: Buffer,
    start: i64,
    end: i64,
    strict_indexing: bool,
    replacement: &[S],
) -> Result<()> {
    call(sys::nvim_buf_set_lines, &(buffer, start, end, strict_indexing, replacement))
}

pub fn nvim_echo(chunks: &impl Serialize, history: bool, opts: impl Serialize) -> Result<()> {
    call(sys::nvim_echo, &(chunks, history, opts))
}

pub fn nvim_create_autocmd(event: impl Serialize, opts: impl Serialize) -> Result<i64> {
    call(sys::nvim_create_autocmd, &(event, opts))
}

pub fn nvim_exec_autocmds(event: impl Serialize, opts: impl Serialize) -> Result<()> {
    call(sys::nvim_exec_autocmds, &(event, opts))
}

pub fn nvim_create_user_command(name: &str, command: impl Serialize, opts: impl Serialize) -> Result<()> {
    call(sys::nvim_create_user_command, &(name, command, opts))
}

pub fn nvim_buf_attach(buffer: Buffer, send_buffer: bool, opts: impl Serialize) -> Result<bool> {
    call(sys::nvim_buf_attach, &(buffer, send_buffer, opts))
}

pub fn nvim_set_keymap(mode: &str, lhs: &str, rhs: &str, opts: impl Serialize) -> Result<()> {
    call(sys::nvim_set_keymap, &(mode, lhs, rhs, opts))
}

#[allow(unused_imports)]
use {Dict as _, Object as _};
