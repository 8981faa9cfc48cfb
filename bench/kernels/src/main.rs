//! The kernels natively: `kernels-native <sum|sieve> <n>` prints
//! `{"result": ..., "ms": ...}` for the benchmark driver.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(0);
    let started = Instant::now();
    let result = match args.get(1).map(String::as_str) {
        Some("sum") => kernels::sum(n),
        Some("sieve") => kernels::sieve(n as usize) as u64,
        _ => {
            eprintln!("usage: kernels-native <sum|sieve> <n>");
            std::process::exit(2);
        }
    };
    println!("{{\"result\": {result}, \"ms\": {:.3}}}", started.elapsed().as_secs_f64() * 1e3);
}
