//! The seed ABI's side of the benchmark, written by hand as the seed
//! README describes: values by id, JSON.

use std::alloc::{Layout, alloc as raw_alloc, dealloc as raw_dealloc};

#[link(wasm_import_module = "host")]
unsafe extern "C" {
    fn get_id() -> u32;
    fn get_value_size(id: u32) -> u32;
    fn get_value_addr(id: u32) -> *mut u8;
    fn set_value(id: u32, ptr: *mut u8, size: u32);
    fn nvim_get_current_line() -> u32;
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

fn take(id: u32) -> Vec<u8> {
    // SAFETY: the host put `size` bytes there with our `alloc`.
    unsafe {
        let size = get_value_size(id);
        let ptr = get_value_addr(id);
        let out = std::slice::from_raw_parts(ptr, size as usize).to_vec();
        dealloc(ptr, size);
        out
    }
}

fn give(bytes: &[u8]) -> u32 {
    let ptr = alloc(bytes.len() as u32);
    // SAFETY: room for the bytes; the host deallocs after copying.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
        let id = get_id();
        set_value(id, ptr, bytes.len() as u32);
        id
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn functionality() -> u32 {
    give(
        br#"[{"name":"noop","params":"void","returns":"void"},
             {"name":"echo","params":"any","returns":"any"},
             {"name":"get_line_n","params":"number","returns":"number"},
             {"name":"upper_buffer","params":"number","returns":"number"}]"#,
    )
}

#[unsafe(no_mangle)]
pub extern "C" fn noop() {}

#[unsafe(no_mangle)]
pub extern "C" fn echo(id: u32) -> u32 {
    give(&take(id))
}

#[unsafe(no_mangle)]
pub extern "C" fn get_line_n(id: u32) -> u32 {
    let n: u64 = serde_json::from_slice(&take(id)).unwrap_or(0);
    let mut total = 0;
    for _ in 0..n {
        // SAFETY: `() -> u32` import.
        let line: String = serde_json::from_slice(&take(unsafe { nvim_get_current_line() })).unwrap_or_default();
        total += line.len();
    }
    give(total.to_string().as_bytes())
}

#[unsafe(no_mangle)]
pub extern "C" fn upper_buffer(id: u32) -> u32 {
    let buf: i64 = serde_json::from_slice(&take(id)).unwrap_or(0);
    let args = serde_json::json!([buf, 0, -1, true]).to_string();
    // SAFETY: `(u32) -> u32` import.
    let lines: Vec<String> = serde_json::from_slice(&take(unsafe { nvim_buf_get_lines(give(args.as_bytes())) })).unwrap_or_default();
    let upper: Vec<String> = lines.iter().map(|l| l.to_uppercase()).collect();
    let args = serde_json::json!([buf, 0, -1, true, upper]).to_string();
    // SAFETY: `(u32) -> ()` import.
    unsafe { nvim_buf_set_lines(give(args.as_bytes())) };
    give(upper.len().to_string().as_bytes())
}
