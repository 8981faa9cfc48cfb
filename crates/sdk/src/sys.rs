//! The fast ABI at the byte level: host imports, the exports every plugin
//! needs (`alloc`, `dealloc`, `wasm_nvim_abi`), packed buffers.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Result};

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "nvim")]
unsafe extern "C" {
    pub fn lua(code_ptr: u32, code_len: u32, args_ptr: u32, args_len: u32) -> u64;
    pub fn panic(ptr: u32, len: u32);
}

/// Outside wasm (`cargo test`, docs) there is no Neovim to call.
#[cfg(not(target_arch = "wasm32"))]
pub unsafe fn lua(_: u32, _: u32, _: u32, _: u32) -> u64 {
    not_in_wasm()
}

#[cfg(not(target_arch = "wasm32"))]
pub unsafe fn panic(_: u32, _: u32) {}

#[cfg(not(target_arch = "wasm32"))]
pub fn not_in_wasm() -> u64 {
    let message = b"not running inside wasm_nvim".to_vec().into_boxed_slice();
    let len = message.len() as u64;
    let ptr = Box::leak(message).as_mut_ptr() as usize as u64;
    ptr | (len << 32) | (1 << 63)
}

fn layout(size: usize) -> std::alloc::Layout {
    std::alloc::Layout::from_size_align(size.max(1), 1).unwrap_or(std::alloc::Layout::new::<u8>())
}

/// Memory for the host to write into. Buffers it hands over are freed
/// with [`dealloc`] or turned into a `Vec` of exactly this capacity.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn alloc(size: u32) -> *mut u8 {
    // SAFETY: the layout is never zero-sized.
    unsafe { std::alloc::alloc(layout(size as usize)) }
}

/// # Safety
/// `ptr` comes from [`alloc`]`(size)` (or is a leaked boxed slice of `size` bytes).
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, size: u32) {
    // SAFETY: see above.
    unsafe { std::alloc::dealloc(ptr, layout(size as usize)) }
}

/// Tells the host this plugin speaks the fast ABI, version 1.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn wasm_nvim_abi() -> u32 {
    1
}

/// Takes ownership of `len` bytes at `ptr` that the host allocated with
/// `alloc(len)`.
///
/// # Safety
/// `ptr`/`len` must describe such a buffer (or `len` must be 0).
pub unsafe fn take(ptr: u32, len: u32) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(len as usize);
    // SAFETY: the host wrote `len` bytes at `ptr`; they are copied out, then
    // the buffer is freed with the layout `alloc` used.
    unsafe {
        std::ptr::copy_nonoverlapping(ptr as usize as *const u8, out.as_mut_ptr(), len as usize);
        out.set_len(len as usize);
        std::alloc::dealloc(ptr as usize as *mut u8, layout(len as usize));
    }
    out
}

/// Hands bytes to the host: `ptr | len << 32 | error << 63`. The host
/// frees them with `dealloc(ptr, len)`.
pub fn give(bytes: Vec<u8>, error: bool) -> u64 {
    if bytes.is_empty() && !error {
        return 0;
    }
    let boxed = bytes.into_boxed_slice();
    let len = boxed.len() as u64 & 0x7fff_ffff;
    let ptr = Box::leak(boxed).as_mut_ptr() as usize as u64;
    ptr | (len << 32) | (u64::from(error) << 63)
}

/// Serializes call arguments (a tuple becomes a msgpack array).
pub fn encode_args(args: &impl Serialize) -> Result<Vec<u8>> {
    let bytes = rmp_serde::to_vec_named(args).map_err(|e| Error::new(format!("cannot encode the arguments: {e}")))?;
    // `()` encodes as nil: no arguments.
    Ok(if bytes == [0xc0] { Vec::new() } else { bytes })
}

/// Reads a packed result the host returned: the value, or its error.
pub fn decode_result<R: DeserializeOwned>(packed: u64) -> Result<R> {
    let (ptr, len, error) = (packed as u32, ((packed >> 32) & 0x7fff_ffff) as u32, packed >> 63 == 1);
    // SAFETY: the host allocated the result with our `alloc(len)`.
    let bytes = unsafe { take(ptr, len) };
    if error {
        return Err(Error::new(String::from_utf8_lossy(&bytes).into_owned()));
    }
    // An empty buffer is nil.
    let bytes = if bytes.is_empty() { vec![0xc0] } else { bytes };
    rmp_serde::from_slice(&bytes).map_err(|e| Error::new(format!("unexpected result: {e}")))
}
