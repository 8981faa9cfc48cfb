//! Fuzzing the fast ABI's msgpack reader (`msgpack::Parser`, which reads
//! bytes a plugin controls) with proptest: random bytes, and valid
//! encodings of random values with one byte changed or cut short. Every
//! input must end in a value or a clean error — never a panic, never a
//! read past the input — and a valid encoding must decode to the value it
//! encodes. The Lua side of the same reader (`LuaSink`) is fuzzed inside
//! Neovim by `tests/nvim/hostile_spec.lua`.
//!
//! A fixed seed and a bounded case count keep `cargo test` fast and
//! repeatable; `WASM_NVIM_FUZZ_CASES=<n>` runs more.

// A test may unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use wasm_nvim::msgpack::{Parser, Sink};

/// What the parser saw, as a tree.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Nil,
    Bool(bool),
    Int(i64),
    Float(u64), // bits, so NaN compares equal
    Bytes(Vec<u8>),
    Array(Vec<V>),
    Map(Vec<(V, V)>),
    Callback(Vec<u8>),
}

/// Builds a [`V`] from the parser's events, checking they are well nested.
#[derive(Default)]
struct Tree {
    stack: Vec<V>,
}

impl Tree {
    fn push(&mut self, v: V) -> Result<(), String> {
        self.stack.push(v);
        Ok(())
    }
    fn pop(&mut self) -> Result<V, String> {
        self.stack.pop().ok_or_else(|| "event order: pop on empty stack".to_string())
    }
}

impl Sink for Tree {
    fn nil(&mut self, _: bool) -> Result<(), String> {
        self.push(V::Nil)
    }
    fn boolean(&mut self, b: bool) -> Result<(), String> {
        self.push(V::Bool(b))
    }
    fn int(&mut self, i: i64) -> Result<(), String> {
        self.push(V::Int(i))
    }
    fn float(&mut self, f: f64) -> Result<(), String> {
        self.push(V::Float(f.to_bits()))
    }
    fn bytes(&mut self, b: &[u8]) -> Result<(), String> {
        self.push(V::Bytes(b.to_vec()))
    }
    fn array_start(&mut self, _: usize) -> Result<(), String> {
        self.push(V::Array(Vec::new()))
    }
    fn array_item(&mut self, _: usize) -> Result<(), String> {
        let item = self.pop()?;
        match self.stack.last_mut() {
            Some(V::Array(items)) => items.push(item),
            _ => return Err("event order: item outside an array".into()),
        }
        Ok(())
    }
    fn map_start(&mut self, _: usize) -> Result<(), String> {
        self.push(V::Map(Vec::new()))
    }
    fn map_entry(&mut self) -> Result<(), String> {
        let (value, key) = (self.pop()?, self.pop()?);
        match self.stack.last_mut() {
            Some(V::Map(entries)) => entries.push((key, value)),
            _ => return Err("event order: entry outside a map".into()),
        }
        Ok(())
    }
    fn map_end(&mut self, _: usize) -> Result<(), String> {
        Ok(())
    }
    fn callback(&mut self, name: &[u8]) -> Result<(), String> {
        self.push(V::Callback(name.to_vec()))
    }
}

/// Parses one value the way the host does (a value, then nothing).
fn parse(bytes: &[u8], callbacks: bool) -> Result<V, String> {
    let mut tree = Tree::default();
    let mut p = Parser::new(bytes, callbacks);
    p.value(&mut tree, 0)?;
    if !p.at_end() {
        return Err("bytes after the value".into());
    }
    match (tree.stack.len(), tree.stack.pop()) {
        (1, Some(v)) => Ok(v),
        (n, _) => Err(format!("event order: {n} values left")),
    }
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        Just(V::Nil),
        any::<bool>().prop_map(V::Bool),
        any::<i64>().prop_map(V::Int),
        any::<f64>().prop_map(|f| V::Float(f.to_bits())),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(V::Bytes),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(V::Array),
            prop::collection::vec((inner.clone(), inner), 0..6).prop_map(V::Map),
        ]
    })
}

fn encode(v: &V, out: &mut Vec<u8>) {
    use rmp::encode::*;
    match v {
        V::Nil => write_nil(out).unwrap(),
        V::Bool(b) => write_bool(out, *b).unwrap(),
        V::Int(i) => drop(write_sint(out, *i).unwrap()),
        V::Float(bits) => write_f64(out, f64::from_bits(*bits)).unwrap(),
        V::Bytes(b) => {
            write_bin_len(out, b.len() as u32).unwrap();
            out.extend_from_slice(b);
        }
        V::Array(items) => {
            write_array_len(out, items.len() as u32).unwrap();
            items.iter().for_each(|i| encode(i, out));
        }
        V::Map(entries) => {
            write_map_len(out, entries.len() as u32).unwrap();
            for (k, v) in entries {
                encode(k, out);
                encode(v, out);
            }
        }
        V::Callback(_) => unreachable!("not generated"),
    }
}

fn runner(cases: u32) -> TestRunner {
    let cases = std::env::var("WASM_NVIM_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[42; 32]))
}

#[test]
fn random_bytes_give_a_value_or_an_error() {
    runner(20_000)
        .run(&(prop::collection::vec(any::<u8>(), 0..64), any::<bool>()), |(bytes, callbacks)| {
            if let Err(e) = parse(&bytes, callbacks) {
                prop_assert!(!e.starts_with("event order"), "{e}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn valid_encodings_round_trip() {
    runner(5_000)
        .run(&value(), |v| {
            let mut bytes = Vec::new();
            encode(&v, &mut bytes);
            let depth_ok = depth(&v) <= 128;
            match parse(&bytes, false) {
                Ok(back) => prop_assert_eq!(back, v),
                Err(e) => prop_assert!(!depth_ok, "{e}"),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn mutated_encodings_give_a_value_or_an_error() {
    runner(20_000)
        .run(
            &(value(), any::<prop::sample::Index>(), any::<u8>(), any::<prop::sample::Index>()),
            |(v, at, byte, cut)| {
                let mut bytes = Vec::new();
                encode(&v, &mut bytes);
                let i = at.index(bytes.len());
                bytes[i] = byte;
                bytes.truncate(cut.index(bytes.len()) + 1);
                if let Err(e) = parse(&bytes, true) {
                    prop_assert!(!e.starts_with("event order"), "{e}");
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn hostile_lengths_are_errors_before_any_allocation() {
    for bytes in
        [&b"\xdd\xff\xff\xff\xff"[..], b"\xdf\xff\xff\xff\xff", b"\xc6\xff\xff\xff\xff", b"\xc9\xff\xff\xff\xff\x00"]
    {
        assert!(parse(bytes, false).is_err(), "{bytes:?}");
    }
    let deep = [vec![0x91u8; 200], vec![0xc0]].concat();
    assert!(parse(&deep, false).is_err_and(|e| e.contains("nested deeper than")));
}

fn depth(v: &V) -> usize {
    match v {
        V::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        V::Map(entries) => 1 + entries.iter().map(|(k, v)| depth(k).max(depth(v))).max().unwrap_or(0),
        _ => 0,
    }
}
