//! Fuzzing the value codec's readers (`codec::msgpack::Parser` and
//! `codec::json::read`, which read bytes a plugin controls) with proptest:
//! random bytes, and valid encodings of random values with one byte
//! changed or cut short. Every input must end in a value or a clean error —
//! never a panic, never a read past the input — and a valid encoding must
//! decode to the value it encodes. Both writers (`MsgpackWriter`,
//! `JsonWriter`) are driven with the same values and both readers must
//! hand the same parts back, so the formats cannot drift apart; the JSON
//! text must be exactly what serde_json writes. The Lua side (`LuaSink`,
//! the walker) is fuzzed inside Neovim by `tests/nvim/hostile_spec.lua`.
//!
//! A fixed seed and a bounded case count keep `cargo test` fast and
//! repeatable; `WASM_NVIM_FUZZ_CASES=<n>` runs more.

// A test may unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use wasm_nvim::codec::json::{self, JsonWriter};
use wasm_nvim::codec::msgpack::{MsgpackWriter, Parser};
use wasm_nvim::codec::{CALLBACK_KEY, Format, Number, Sink, Writer, callback_names};

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
    tree.one()
}

/// Reads one JSON value the way the host does.
fn parse_json(bytes: &[u8], callbacks: bool) -> Result<V, String> {
    let mut tree = Tree::default();
    json::read(bytes, &mut tree, callbacks)?;
    tree.one()
}

impl Tree {
    fn one(mut self) -> Result<V, String> {
        match (self.stack.len(), self.stack.pop()) {
            (1, Some(v)) => Ok(v),
            (n, _) => Err(format!("event order: {n} values left")),
        }
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

// ---- both formats ------------------------------------------------------------

/// Values JSON can carry: text strings and keys, finite floats exact in
/// decimal (serde_json's default float parsing is not always exact).
fn json_value() -> impl Strategy<Value = V> {
    let text = || "[a-z\u{e9}\u{1F600}\\\\\"\n\u{1}]{0,8}".prop_map(|s: String| V::Bytes(s.into_bytes()));
    let leaf = prop_oneof![
        Just(V::Nil),
        any::<bool>().prop_map(V::Bool),
        any::<i64>().prop_map(V::Int),
        (-1_000_000i32..1_000_000).prop_map(|i| V::Float((f64::from(i) / 1024.0 + 0.5 / 1024.0).to_bits())),
        text(),
        "[a-z]{1,6}".prop_map(|s: String| V::Callback(s.into_bytes())),
    ];
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(V::Array),
            prop::collection::vec((text(), inner), 0..6).prop_map(V::Map),
        ]
    })
}

/// Hands `v` to a codec writer as the walker would (a callback as the map
/// that stands for it).
fn write<W: Writer>(v: &V, w: &mut W) {
    match v {
        V::Nil => w.nil().unwrap(),
        V::Bool(b) => w.boolean(*b).unwrap(),
        V::Int(i) => w.number(Number::Integer(*i)).unwrap(),
        V::Float(bits) => w.number(Number::Float(f64::from_bits(*bits))).unwrap(),
        V::Bytes(b) => w.string(b).unwrap(),
        V::Array(items) => {
            w.array_start(items.len()).unwrap();
            for (i, item) in items.iter().enumerate() {
                w.element(i == 0);
                write(item, w);
            }
            w.array_end();
        }
        V::Map(entries) => {
            w.map_start(entries.len(), false).unwrap();
            for (i, (k, v)) in entries.iter().enumerate() {
                let V::Bytes(k) = k else { panic!("a JSON key is text") };
                w.key_string(k, i == 0).unwrap();
                write(v, w);
            }
            w.map_end();
        }
        V::Callback(name) => {
            w.map_start(1, false).unwrap();
            w.key_string(CALLBACK_KEY.as_bytes(), true).unwrap();
            w.string(name).unwrap();
            w.map_end();
        }
    }
}

/// `v` as a serde value, entries in order, to compare with the text
/// serde_json writes.
struct Ser<'a>(&'a V);

impl serde::Serialize for Ser<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        match self.0 {
            V::Nil => s.serialize_unit(),
            V::Bool(b) => s.serialize_bool(*b),
            V::Int(i) => s.serialize_i64(*i),
            V::Float(bits) => s.serialize_f64(f64::from_bits(*bits)),
            V::Bytes(b) => s.serialize_str(&text(b)),
            V::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Ser(item))?;
                }
                seq.end()
            }
            V::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    let V::Bytes(k) = k else { panic!("a JSON key is text") };
                    map.serialize_entry(&text(k), &Ser(v))?;
                }
                map.end()
            }
            V::Callback(name) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(CALLBACK_KEY, &text(name))?;
                map.end()
            }
        }
    }
}

/// What reading gives back: a map with a repeated key keeps its entries
/// (the Lua table keeps the last), and without callbacks a callback is the
/// plain map.
fn expected(v: &V, callbacks: bool) -> V {
    match v {
        V::Array(items) => V::Array(items.iter().map(|i| expected(i, callbacks)).collect()),
        V::Map(entries) => V::Map(entries.iter().map(|(k, v)| (k.clone(), expected(v, callbacks))).collect()),
        V::Callback(name) if !callbacks => {
            V::Map(vec![(V::Bytes(CALLBACK_KEY.as_bytes().to_vec()), V::Bytes(name.clone()))])
        }
        other => other.clone(),
    }
}

fn names(v: &V, out: &mut Vec<String>) {
    match v {
        V::Array(items) => items.iter().for_each(|i| names(i, out)),
        V::Map(entries) => entries.iter().for_each(|(_, v)| names(v, out)),
        V::Callback(name) => out.push(String::from_utf8(name.clone()).unwrap()),
        _ => {}
    }
}

#[test]
fn both_writers_and_both_readers_agree() {
    runner(5_000)
        .run(&(json_value(), any::<bool>()), |(v, callbacks)| {
            let (mut json_bytes, mut msgpack_bytes) = (Vec::new(), Vec::new());
            write(&v, &mut JsonWriter::new(&mut json_bytes));
            write(&v, &mut MsgpackWriter::new(&mut msgpack_bytes));
            prop_assert_eq!(String::from_utf8(json_bytes.clone()).unwrap(), serde_json::to_string(&Ser(&v)).unwrap());
            let want = expected(&v, callbacks);
            let depth_ok = depth(&v) <= 100; // serde_json's limit is 128
            match (parse_json(&json_bytes, callbacks), parse(&msgpack_bytes, callbacks)) {
                (Ok(from_json), Ok(from_msgpack)) => {
                    prop_assert_eq!(&from_json, &want);
                    prop_assert_eq!(&from_msgpack, &want);
                }
                (a, b) => prop_assert!(!depth_ok, "{a:?} {b:?}"),
            }
            let mut want_names = Vec::new();
            names(&v, &mut want_names);
            prop_assert_eq!(callback_names(Format::Json, &json_bytes).unwrap(), want_names.clone());
            prop_assert_eq!(callback_names(Format::Msgpack, &msgpack_bytes).unwrap(), want_names);
            Ok(())
        })
        .unwrap();
}

#[test]
fn random_and_mutated_json_give_a_value_or_an_error() {
    runner(20_000)
        .run(
            &(json_value(), any::<prop::sample::Index>(), any::<u8>(), any::<prop::sample::Index>()),
            |(v, at, byte, cut)| {
                let mut bytes = Vec::new();
                write(&v, &mut JsonWriter::new(&mut bytes));
                let i = at.index(bytes.len());
                bytes[i] = byte;
                bytes.truncate(cut.index(bytes.len()) + 1);
                for callbacks in [false, true] {
                    if let Err(e) = parse_json(&bytes, callbacks) {
                        prop_assert!(e.starts_with("invalid JSON: "), "{e}");
                    }
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn json_callback_objects() {
    let cb = |name: &str| V::Callback(name.as_bytes().to_vec());
    let key = || V::Bytes(CALLBACK_KEY.as_bytes().to_vec());
    assert_eq!(parse_json(br#"{"__wasm_callback": "on_event"}"#, true).unwrap(), cb("on_event"));
    assert_eq!(parse_json(br#"[1, {"__wasm_callback": "x"}]"#, true).unwrap(), V::Array(vec![V::Int(1), cb("x")]));
    assert_eq!(callback_names(Format::Json, br#"[{"__wasm_callback": "x"}]"#).unwrap(), vec!["x".to_string()]);
    // not callbacks: a second entry, a value that is not a name, no callbacks asked for
    assert_eq!(
        parse_json(br#"{"__wasm_callback": "a", "b": [2]}"#, true).unwrap(),
        V::Map(vec![(key(), V::Bytes(b"a".to_vec())), (V::Bytes(b"b".to_vec()), V::Array(vec![V::Int(2)]))])
    );
    assert_eq!(
        parse_json(br#"{"__wasm_callback": [5]}"#, true).unwrap(),
        V::Map(vec![(key(), V::Array(vec![V::Int(5)]))])
    );
    assert_eq!(
        parse_json(br#"{"__wasm_callback": "a"}"#, false).unwrap(),
        V::Map(vec![(key(), V::Bytes(b"a".to_vec()))])
    );
    assert_eq!(parse_json(b"{}", true).unwrap(), V::Map(vec![]));
    assert!(parse_json(br#"{"__wasm_callback": "a",}"#, true).is_err_and(|e| e.starts_with("invalid JSON: ")));
    // a msgpack name longer than 255 bytes (str16) is a callback too
    let long = "n".repeat(300);
    let mut bytes = vec![0x81];
    rmp::encode::write_str(&mut bytes, CALLBACK_KEY).unwrap();
    rmp::encode::write_str(&mut bytes, &long).unwrap();
    assert_eq!(parse(&bytes, true).unwrap(), cb(&long));
}

#[test]
fn json_writer_rules() {
    let text = |f: &dyn Fn(&mut JsonWriter) -> Result<(), String>| {
        let mut out = Vec::new();
        f(&mut JsonWriter::new(&mut out)).map(|()| String::from_utf8(out).unwrap())
    };
    assert_eq!(text(&|w| w.number(Number::of(3.0))).unwrap(), "3");
    assert_eq!(text(&|w| w.number(Number::of(-0.0))).unwrap(), "0");
    assert_eq!(text(&|w| w.number(Number::of(1.5))).unwrap(), "1.5");
    assert_eq!(text(&|w| w.number(Number::of(2f64.powi(63)))).unwrap(), "9.223372036854776e+18");
    assert_eq!(text(&|w| w.number(Number::of(-(2f64.powi(63))))).unwrap(), i64::MIN.to_string());
    assert_eq!(text(&|w| w.number(Number::of(f64::NAN))).unwrap_err(), "NaN has no JSON form");
    assert_eq!(text(&|w| w.string(b"a\\\"\x01")).unwrap(), r#""a\\\"\u0001""#);
    assert!(text(&|w| w.string(b"caf\xff")).unwrap_err().starts_with("string is not valid UTF-8"));
    assert_eq!(text(&|w| w.key_string(b"k\xff", true)).unwrap_err(), "table key is not valid UTF-8");
    // number keys are text; in a map of both kinds, a collision is an error
    let map = |mixed: bool, second: &[u8]| {
        text(&|w| {
            w.map_start(2, mixed)?;
            w.key_number(Number::of(1.0), true)?;
            w.nil()?;
            w.key_string(second, false)?;
            w.nil()?;
            w.map_end();
            Ok(())
        })
    };
    assert_eq!(map(true, b"2").unwrap(), r#"{"1":null,"2":null}"#);
    assert!(map(true, b"1").unwrap_err().contains("the table has the key '1' twice"));
}

fn depth(v: &V) -> usize {
    match v {
        V::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        V::Map(entries) => 1 + entries.iter().map(|(k, v)| depth(k).max(depth(v))).max().unwrap_or(0),
        _ => 0,
    }
}
