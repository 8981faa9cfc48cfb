//! What a deadline costs: runs the benchmark kernels (bench/kernels, built
//! for wasm32) with no interruption, with epoch interruption (what
//! wasm_nvim uses) and with fuel, and prints the times and ratios.
//!
//! `cargo run --release -p wasm_nvim --example deadline_overhead -- <kernels.wasm>`
//! (`make bench` builds the module and runs this.)

use std::time::{Duration, Instant};

use wasmtime::{Caller, Config, Engine, Linker, Module, Store};

#[derive(Clone, Copy, Debug)]
enum Deadline {
    None,
    Epoch,
    Fuel,
}

/// Best of `runs` timings of `export(n)` (an integer in, an integer out).
fn time(bytes: &[u8], deadline: Deadline, export: &str, n: u64, runs: u32) -> wasmtime::Result<(Duration, u64)> {
    let mut config = Config::new();
    match deadline {
        Deadline::None => {}
        Deadline::Epoch => {
            config.epoch_interruption(true);
        }
        Deadline::Fuel => {
            config.consume_fuel(true);
        }
    }
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, bytes)?;
    // The seed ABI passes values by id; here each "value" is the decimal
    // text of one number, kept in the store's data.
    let mut linker: Linker<Vec<u8>> = Linker::new(&engine);
    linker.func_wrap("host", "get_id", || 1u32)?;
    linker.func_wrap("host", "get_value_size", |c: Caller<'_, Vec<u8>>, _: u32| c.data().len() as u32)?;
    linker.func_wrap("host", "get_value_addr", |mut c: Caller<'_, Vec<u8>>, _: u32| -> wasmtime::Result<u32> {
        let alloc = c.get_export("alloc").and_then(|e| e.into_func()).ok_or_else(|| wasmtime::format_err!("alloc"))?;
        let len = c.data().len() as u32;
        let ptr = alloc.typed::<u32, u32>(&c)?.call(&mut c, len)?;
        let memory =
            c.get_export("memory").and_then(|e| e.into_memory()).ok_or_else(|| wasmtime::format_err!("memory"))?;
        let data = c.data().clone();
        memory.write(&mut c, ptr as usize, &data)?;
        Ok(ptr)
    })?;
    linker.func_wrap(
        "host",
        "set_value",
        |mut c: Caller<'_, Vec<u8>>, _: u32, ptr: u32, len: u32| -> wasmtime::Result<()> {
            let memory =
                c.get_export("memory").and_then(|e| e.into_memory()).ok_or_else(|| wasmtime::format_err!("memory"))?;
            let mut out = vec![0; len as usize];
            memory.read(&c, ptr as usize, &mut out)?;
            *c.data_mut() = out;
            Ok(())
        },
    )?;
    let mut store = Store::new(&engine, Vec::new());
    if let Deadline::Fuel = deadline {
        store.set_fuel(u64::MAX)?;
    }
    store.set_epoch_deadline(u64::MAX);
    let instance = linker.instantiate(&mut store, &module)?;
    let func = instance.get_typed_func::<u32, u32>(&mut store, export)?;
    let mut best = Duration::MAX;
    let mut result = 0;
    for _ in 0..runs {
        *store.data_mut() = n.to_string().into_bytes();
        let started = Instant::now();
        func.call(&mut store, 1)?;
        best = best.min(started.elapsed());
        result = String::from_utf8_lossy(store.data()).trim().parse().unwrap_or(0);
    }
    Ok((best, result))
}

fn main() -> wasmtime::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "tests/build/bench/wasm/kernels.wasm".into());
    let bytes = std::fs::read(&path)?;
    println!("{:<14} {:>12} {:>12} {:>12} {:>8} {:>8}", "kernel", "none ms", "epoch ms", "fuel ms", "epoch", "fuel");
    for (export, n, runs) in [("sum", 1_000_000_000u64, 3), ("sieve", 20_000_000, 5)] {
        let (none, r0) = time(&bytes, Deadline::None, export, n, runs)?;
        let (epoch, r1) = time(&bytes, Deadline::Epoch, export, n, runs)?;
        let (fuel, r2) = time(&bytes, Deadline::Fuel, export, n, runs)?;
        assert!(r0 == r1 && r1 == r2, "results differ: {r0} {r1} {r2}");
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<14} {:>12.1} {:>12.1} {:>12.1} {:>7.2}x {:>7.2}x",
            format!("{export}({n:.0e})"),
            ms(none),
            ms(epoch),
            ms(fuel),
            ms(epoch) / ms(none),
            ms(fuel) / ms(none)
        );
    }
    Ok(())
}
