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

/// The plugin (fast ABI): raw exports for the kernels and a no-op, and
/// msgpack exports for call overhead and marshaling.
#[cfg(target_arch = "wasm32")]
mod plugin {
    use wasm_nvim_sdk::prelude::*;

    #[export(raw)]
    fn sum(n: i64) -> i64 {
        super::sum(n as u64) as i64
    }

    #[export(raw)]
    fn sieve(n: i32) -> i32 {
        super::sieve(n as usize) as i32
    }

    #[export(raw)]
    fn noop_raw() {}

    #[export(raw)]
    fn add(a: f64, b: f64) -> f64 {
        a + b
    }

    #[export]
    fn noop() {}

    /// `nvim_get_current_line` `n` times through the host.
    #[export]
    fn get_line_n(n: u32) -> Result<usize> {
        let mut total = 0;
        for _ in 0..n {
            total += api::nvim_get_current_line()?.len();
        }
        Ok(total)
    }

    /// A list of strings in and out (marshaling alone).
    #[export]
    fn echo_lines(lines: Vec<String>) -> Vec<String> {
        lines
    }

    /// Fetches every line, upper-cases it, writes them back.
    #[export]
    fn upper_buffer(buffer: Buffer) -> Result<usize> {
        let lines = api::nvim_buf_get_lines(buffer, 0, -1, true)?;
        let upper: Vec<String> = lines.iter().map(|l| l.to_uppercase()).collect();
        api::nvim_buf_set_lines(buffer, 0, -1, true, &upper)?;
        Ok(upper.len())
    }
}
