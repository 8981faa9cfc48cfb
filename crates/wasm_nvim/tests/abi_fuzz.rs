//! Fuzzing the host ABI: random sequences of host calls (`get_id`,
//! `set_value`, `get_value_size`, `get_value_addr`, memory growth, an
//! `alloc` that starts returning garbage) with random arguments, run by a
//! small interpreter guest against a live store. Every sequence must end in
//! success or a clean error — never a panic, never an internal error — and
//! the value table's accounting must stay exact.
//!
//! A smoke run is part of `cargo test`. For a long run:
//! `WASM_NVIM_FUZZ_CASES=1000000 cargo test --release -p wasm_nvim --test abi_fuzz -- --nocapture`
//! (`WASM_NVIM_FUZZ_SEED=<n>` replays from another seed).

// A test may unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use wasm_nvim::error::{Error, Kind};
use wasm_nvim::guest::Guest;
use wasm_nvim::key::PluginKey;
use wasm_nvim::limits::Limits;
use wasm_nvim::state::HostState;
use wasmtime::{Engine, Linker, Module, Store, TypedFunc};

/// Ops are 16 bytes: op, a, b, c (little-endian i32). `a == -1` stands for
/// the id the last `get_id` returned.
const INTERPRETER: &str = r#"
(module
  (import "host" "get_id" (func $get_id (result i32)))
  (import "host" "get_addr" (func $get_addr (param i32) (result i32)))
  (import "host" "get_value_size" (func $size (param i32) (result i32)))
  (import "host" "get_value_addr" (func $addr (param i32) (result i32)))
  (import "host" "set_value" (func $set (param i32 i32 i32)))
  (memory (export "memory") 2)
  (global $bump (mut i32) (i32.const 1024))
  (global $garbage (mut i32) (i32.const 0))
  (global $last (mut i32) (i32.const 0))
  (func (export "alloc") (param $n i32) (result i32) (local $p i32)
    (if (global.get $garbage) (then (return (global.get $garbage))))
    (local.set $p (global.get $bump))
    (global.set $bump (i32.and (i32.add (global.get $bump) (local.get $n)) (i32.const 0xffff)))
    (local.get $p))
  (func (export "dealloc") (param i32 i32))
  (func (export "functionality") (result i32) (i32.const 0))
  (func $id (param $a i32) (result i32)
    (select (global.get $last) (local.get $a) (i32.eq (local.get $a) (i32.const -1))))
  (func (export "run") (param $p i32) (param $n i32)
    (local $op i32) (local $a i32) (local $b i32) (local $c i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $op (i32.load (local.get $p)))
      (local.set $a (i32.load offset=4 (local.get $p)))
      (local.set $b (i32.load offset=8 (local.get $p)))
      (local.set $c (i32.load offset=12 (local.get $p)))
      (block $end
        (if (i32.eq (local.get $op) (i32.const 0)) (then (global.set $last (call $get_id)) (br $end)))
        (if (i32.eq (local.get $op) (i32.const 1))
          (then (call $set (call $id (local.get $a)) (local.get $b) (local.get $c)) (br $end)))
        (if (i32.eq (local.get $op) (i32.const 2)) (then (drop (call $size (call $id (local.get $a)))) (br $end)))
        (if (i32.eq (local.get $op) (i32.const 3)) (then (drop (call $addr (call $id (local.get $a)))) (br $end)))
        (if (i32.eq (local.get $op) (i32.const 4)) (then (global.set $garbage (local.get $a)) (br $end)))
        (if (i32.eq (local.get $op) (i32.const 5))
          (then (drop (memory.grow (i32.and (local.get $a) (i32.const 3)))) (br $end)))
        (drop (call $get_addr (local.get $a))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next))))
)
"#;

/// xorshift64*: deterministic, no dependencies, good enough to pick ops.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u32 {
        (self.next() % n) as u32
    }

    /// Mostly plausible values, sometimes extreme ones.
    fn arg(&mut self) -> u32 {
        match self.below(8) {
            0 => u32::MAX,
            1 => self.next() as u32,
            2 => 0,
            3 => 0x1_0000 + self.below(0x2_0000), // around the end of memory
            _ => self.below(64),
        }
    }
}

struct Fixture {
    store: Store<HostState>,
    run: TypedFunc<(u32, u32), ()>,
    guest: Guest,
}

fn fixture(engine: &Engine, module: &Module, linker: &Linker<HostState>) -> Fixture {
    let state = HostState::new(Arc::from("fuzz"), PluginKey(1), &Arc::new(Limits::default())).expect("host state");
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    let instance = linker.instantiate(&mut store, module).expect("instantiate");
    let guest = Guest::resolve(&instance, &mut store).expect("guest");
    store.data_mut().guest = Some(guest.clone());
    let run = instance.get_typed_func(&mut store, "run").expect("run");
    Fixture { store, run, guest }
}

#[test]
fn random_host_call_sequences_never_panic_and_keep_accounts() {
    let cases: u64 = std::env::var("WASM_NVIM_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let seed: u64 = std::env::var("WASM_NVIM_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
    let engine = Engine::default();
    let module =
        Module::new(&engine, wat::parse_str(INTERPRETER).expect("interpreter parses")).expect("interpreter compiles");
    let mut linker = Linker::new(&engine);
    wasm_nvim::abi::seed::define_values(&mut linker).expect("value imports");
    let mut rng = Rng(seed | 1);
    let mut f = fixture(&engine, &module, &linker);
    let (mut ok, mut failed) = (0u64, 0u64);
    for case in 0..cases {
        let n = 1 + rng.below(12);
        let mut program = Vec::with_capacity(n as usize * 16);
        for _ in 0..n {
            // Mostly well-formed calls on the last id, so sequences get deep
            // before something breaks; sometimes anything at all.
            let wild = rng.below(5) == 0;
            let op = rng.below(7);
            let words = if wild {
                [op, rng.arg(), rng.arg(), rng.arg()]
            } else {
                match op {
                    1 => [1, u32::MAX, 256 + rng.below(0xff00), rng.below(512)],
                    2 | 3 => [op, u32::MAX, 0, 0],
                    4 => [4, 0, 0, 0], // alloc stays sane
                    _ => [op, rng.arg(), 0, 0],
                }
            };
            for word in words {
                program.extend_from_slice(&word.to_le_bytes());
            }
        }
        // The program lives at 96 KiB, clear of the bump allocator's 64 KiB.
        let at = 96 * 1024;
        f.guest.io.memory.data_mut(&mut f.store)[at..at + program.len()].copy_from_slice(&program);
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.run.call(&mut f.store, (at as u32, n))));
        let result = match outcome {
            Ok(result) => result,
            Err(_) => panic!("case {case} (seed {seed}): the host panicked"),
        };
        match result {
            Ok(()) => ok += 1,
            Err(e) => {
                let e = Error::from_wasm(e);
                assert_ne!(e.kind, Kind::Internal, "case {case} (seed {seed}): {e}");
                failed += 1;
            }
        }
        let values = &f.store.data().values;
        assert_eq!(values.bytes(), values.recount(), "case {case}: byte accounting drifted");
        f.store.data_mut().values.clear();
        if failed % 64 == 63 {
            // a trapped instance is not reused by the host either
            f = fixture(&engine, &module, &linker);
        }
    }
    eprintln!("abi fuzz: {cases} cases from seed {seed}: {ok} ran clean, {failed} ended in a clean error");
    assert!(ok > 0 && failed > 0, "the generator should produce both outcomes");
}
