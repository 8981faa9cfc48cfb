//! The msgpack ABI at the byte level (doc/abi.md): host imports, the
//! exports every plugin needs (`alloc`, `dealloc`, `wasm_nvim_abi`), packed
//! buffers. Names and layouts come from `wasm_nvim_abi`, the contract the
//! host uses too.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_nvim_abi as abi;

use crate::{Error, Result};

// `#[link]` and `#[unsafe(export_name)]` take only literals: each is checked
// against the contract here, so a literal that drifts does not compile.
const _: () = assert!(abi::same(abi::MSGPACK_MODULE, "nvim"));
const _: () = assert!(abi::same(abi::LUA_IMPORT, "lua"));
const _: () = assert!(abi::same(abi::PANIC_IMPORT, "panic"));
const _: () = assert!(abi::same(abi::HAS_IMPORT, "has"));
const _: () = assert!(abi::same(abi::VERSION_IMPORT, "version"));
const _: () = assert!(abi::same(abi::ALLOC_EXPORT, "alloc"));
const _: () = assert!(abi::same(abi::DEALLOC_EXPORT, "dealloc"));
const _: () = assert!(abi::same(abi::ABI_EXPORT, "wasm_nvim_abi"));

#[cfg(target_arch = "wasm32")]
#[link(wasm_import_module = "nvim")]
unsafe extern "C" {
    pub fn lua(code_ptr: u32, code_len: u32, args_ptr: u32, args_len: u32) -> u64;
    pub fn panic(ptr: u32, len: u32);
    pub fn has(name_ptr: u32, name_len: u32) -> i32;
    pub fn version() -> u64;
}

/// Outside wasm (`cargo test`, docs) there is no Neovim to call.
#[cfg(not(target_arch = "wasm32"))]
pub unsafe fn lua(_: u32, _: u32, _: u32, _: u32) -> u64 {
    not_in_wasm()
}

#[cfg(not(target_arch = "wasm32"))]
pub unsafe fn panic(_: u32, _: u32) {}

#[cfg(not(target_arch = "wasm32"))]
pub unsafe fn has(_: u32, _: u32) -> i32 {
    0
}

#[cfg(not(target_arch = "wasm32"))]
pub unsafe fn version() -> u64 {
    0
}

/// What every import returns outside wasm: an error with no buffer (a
/// 64-bit pointer does not fit the packed result), which
/// [`decode_result`] turns into [`NOT_IN_WASM`].
#[cfg(not(target_arch = "wasm32"))]
pub fn not_in_wasm() -> u64 {
    abi::pack(0, 0, true)
}

/// The error of an API call made outside Neovim (a host `cargo test`).
pub const NOT_IN_WASM: &str = "not running inside wasm_nvim: the Neovim API exists only in a plugin Neovim loaded \
    (run the plugin's tests in Neovim: scripts/wasm-nvim-test)";

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

/// Tells the host this plugin speaks the msgpack ABI, version
/// [`abi::ABI_VERSION`].
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn wasm_nvim_abi() -> u32 {
    abi::ABI_VERSION
}

/// A buffer the host allocated with `alloc(len)` and handed over: read in
/// place (no copy), freed when dropped.
pub struct Taken {
    ptr: *mut u8,
    len: usize,
}

impl Taken {
    /// # Safety
    /// `ptr`/`len` must describe such a buffer (or `len` must be 0).
    pub unsafe fn new(ptr: u32, len: u32) -> Taken {
        Taken { ptr: ptr as usize as *mut u8, len: len as usize }
    }
}

impl std::ops::Deref for Taken {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `new`'s contract: `len` initialized bytes at `ptr`, ours.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Taken {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: allocated by `alloc(len)`, i.e. with `layout(len)`.
            unsafe { std::alloc::dealloc(self.ptr, layout(self.len)) }
        }
    }
}

thread_local! {
    /// Where arguments and results are encoded, so a call allocates nothing
    /// for them (a nil result allocates nothing at all).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with a cleared scratch buffer (a fresh one if the scratch is in
/// use: a call nested inside another's encoding).
pub fn with_scratch<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            let out = f(&mut buf);
            if buf.capacity() > 1 << 16 {
                *buf = Vec::new(); // do not keep a big result's memory
            }
            out
        }
        Err(_) => f(&mut Vec::new()),
    })
}

/// Hands bytes to the host as a packed result ([`abi::pack`]). The host
/// frees them with `dealloc(ptr, len)`.
pub fn give(bytes: Vec<u8>, error: bool) -> u64 {
    if bytes.is_empty() && !error {
        return abi::PACKED_NIL;
    }
    let boxed = bytes.into_boxed_slice();
    let len = boxed.len() as u32;
    let ptr = Box::leak(boxed).as_mut_ptr() as usize as u32;
    abi::pack(ptr, len, error)
}

/// Serializes call arguments (a tuple becomes a msgpack array) into the
/// scratch buffer and calls `f(ptr, len)` with them; `()` is no arguments.
pub fn with_args(args: &impl Serialize, f: impl FnOnce(u32, u32) -> u64) -> Result<u64> {
    with_scratch(|buf| {
        rmp_serde::encode::write_named(buf, args)
            .map_err(|e| Error::new(format!("cannot encode the arguments: {e}")))?;
        Ok(if buf[..] == [0xc0] { f(0, 0) } else { f(buf.as_ptr() as u32, buf.len() as u32) })
    })
}

/// Reads a packed result the host returned: the value, or its error.
pub fn decode_result<R: DeserializeOwned>(packed: u64) -> Result<R> {
    let abi::Packed { ptr, len, error } = abi::unpack(packed);
    // SAFETY: the host allocated the result with our `alloc(len)`.
    let bytes = unsafe { Taken::new(ptr, len) };
    if error && bytes.is_empty() {
        return Err(Error::new(NOT_IN_WASM));
    }
    if error {
        return Err(Error::new(String::from_utf8_lossy(&bytes).into_owned()));
    }
    // An empty buffer is nil.
    let bytes: &[u8] = if bytes.is_empty() { &[0xc0] } else { &bytes };
    rmp_serde::from_slice(bytes).map_err(|e| Error::new(format!("unexpected result: {e}")))
}
