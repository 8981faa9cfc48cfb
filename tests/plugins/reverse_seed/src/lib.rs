//! The "reverse" plugin written by hand against the seed ABI (no SDK), to
//! compare with examples/rust-reverse: ids, alloc/dealloc, JSON by hand.

use std::alloc::{Layout, alloc as raw_alloc, dealloc as raw_dealloc};

#[link(wasm_import_module = "host")]
unsafe extern "C" {
    fn get_id() -> u32;
    fn get_value_size(id: u32) -> u32;
    fn get_value_addr(id: u32) -> *mut u8;
    fn set_value(id: u32, ptr: *mut u8, size: u32);
    fn set_error(id: u32);
    fn lua_exec(id: u32);
    fn nvim_buf_get_lines(args: u32) -> u32;
    fn nvim_buf_set_lines(args: u32);
}

fn layout(size: u32) -> Layout {
    Layout::from_size_align(size.max(1) as usize, 1).unwrap_or(Layout::new::<u8>())
}

#[unsafe(no_mangle)]
pub extern "C" fn alloc(size: u32) -> *mut u8 {
    // SAFETY: never zero-sized.
    unsafe { raw_alloc(layout(size)) }
}

/// # Safety
/// `ptr` comes from `alloc(size)`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, size: u32) {
    // SAFETY: see above.
    unsafe { raw_dealloc(ptr, layout(size)) }
}

/// Reads and consumes the value under `id`.
fn take(id: u32) -> Vec<u8> {
    // SAFETY: the host put `size` bytes there, allocated with our `alloc`.
    unsafe {
        let size = get_value_size(id);
        let ptr = get_value_addr(id);
        let bytes = std::slice::from_raw_parts(ptr, size as usize).to_vec();
        dealloc(ptr, size);
        bytes
    }
}

/// Hands bytes to the host under a fresh id; the host frees our copy.
fn give(bytes: &[u8]) -> u32 {
    let ptr = alloc(bytes.len() as u32);
    // SAFETY: `ptr` has room for the bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
        let id = get_id();
        set_value(id, ptr, bytes.len() as u32);
        id
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn functionality() -> u32 {
    give(br#"[{"name":"reverse","params":"array","returns":"number"}]"#)
}

/// The seed ABI passes one value, so Lua calls `reverse({ first, last })`.
#[unsafe(no_mangle)]
pub extern "C" fn reverse(id: u32) -> u32 {
    let args: serde_json::Value = serde_json::from_slice(&take(id)).unwrap_or_default();
    let (first, last) = (args[0].as_i64().unwrap_or(0), args[1].as_i64().unwrap_or(0));
    if first < 1 || last < first {
        // SAFETY: plain host call with an id we own.
        unsafe { set_error(give(format!("invalid range {first}-{last}").as_bytes())) };
        return give(b"null");
    }
    let get = serde_json::json!([0, first - 1, last, true]).to_string();
    // SAFETY: `(u32) -> u32` import; a Lua error traps (the seed ABI has
    // no other way to report it) and the host reports it.
    let mut lines: Vec<String> = serde_json::from_slice(&take(unsafe { nvim_buf_get_lines(give(get.as_bytes())) })).unwrap_or_default();
    lines.reverse();
    let set = serde_json::json!([0, first - 1, last, true, lines]).to_string();
    // SAFETY: `(u32) -> ()` import.
    unsafe { nvim_buf_set_lines(give(set.as_bytes())) };
    let notify = format!("vim.notify({})", serde_json::json!(format!("Reversed {} lines", lines.len())));
    // SAFETY: plain host call.
    unsafe { lua_exec(give(notify.as_bytes())) };
    give(lines.len().to_string().as_bytes())
}
