//! The benchmark kernels. The same code runs as a wasm plugin (the seed ABI
//! exports below, built for wasm32-unknown-unknown) and natively
//! (`src/main.rs`), so the two are compared on identical source.

use std::hint::black_box;

/// Sum of 0..n. `black_box` keeps LLVM from replacing the loop by n(n-1)/2.
pub fn sum(n: u64) -> u64 {
    let mut total: u64 = 0;
    let mut i: u64 = 0;
    while i < black_box(n) {
        total = total.wrapping_add(black_box(i));
        i += 1;
    }
    total
}

/// Number of primes below n (sieve of Eratosthenes).
pub fn sieve(n: usize) -> usize {
    let mut composite = vec![false; n];
    let mut count = 0;
    for i in 2..n {
        if !composite[i] {
            count += 1;
            // usize is 32-bit on wasm32: i * i overflows past 65535.
            let Some(mut j) = i.checked_mul(i) else { continue };
            while j < n {
                composite[j] = true;
                j += i;
            }
        }
    }
    count
}

#[cfg(target_arch = "wasm32")]
mod plugin {
    use std::alloc::{Layout, alloc as raw_alloc, dealloc as raw_dealloc};

    #[link(wasm_import_module = "host")]
    unsafe extern "C" {
        fn get_id() -> u32;
        fn get_value_size(id: u32) -> u32;
        fn get_value_addr(id: u32) -> *mut u8;
        fn set_value(id: u32, ptr: *mut u8, size: u32);
    }

    fn layout(size: u32) -> Layout {
        Layout::from_size_align(size.max(1) as usize, 1).unwrap_or(Layout::new::<u8>())
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn alloc(size: u32) -> *mut u8 {
        // SAFETY: the layout is never zero-sized.
        unsafe { raw_alloc(layout(size)) }
    }

    /// # Safety
    /// `ptr` comes from `alloc(size)`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn dealloc(ptr: *mut u8, size: u32) {
        // SAFETY: see above.
        unsafe { raw_dealloc(ptr, layout(size)) }
    }

    fn take_number(id: u32) -> u64 {
        // SAFETY: the host put `size` bytes at the pointer, allocated with `alloc`.
        let text = unsafe {
            let size = get_value_size(id);
            let ptr = get_value_addr(id);
            let text = String::from_utf8_lossy(std::slice::from_raw_parts(ptr, size as usize)).into_owned();
            dealloc(ptr, size);
            text
        };
        text.trim().parse::<f64>().unwrap_or(0.0) as u64
    }

    fn give(text: String) -> u32 {
        let ptr = alloc(text.len() as u32);
        // SAFETY: `ptr` has room for the text; the host deallocs it.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), ptr, text.len());
            let id = get_id();
            set_value(id, ptr, text.len() as u32);
            id
        }
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn functionality() -> u32 {
        give(
            r#"[{"name":"sum","params":"number","returns":"number"},
                {"name":"sieve","params":"number","returns":"number"},
                {"name":"noop","params":"void","returns":"void"}]"#
                .into(),
        )
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn sum(id: u32) -> u32 {
        give(super::sum(take_number(id)).to_string())
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn sieve(id: u32) -> u32 {
        give(super::sieve(take_number(id) as usize).to_string())
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn noop() {}
}
