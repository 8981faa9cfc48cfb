//! Fuzzy matching for Neovim with [nucleo-matcher](https://docs.rs/nucleo-matcher)
//! (the matcher of the Helix editor: fzf's scoring with smart case,
//! Unicode normalization and path-aware bonuses), compiled to wasm.
//!
//! Two ways to use it:
//! - a list in one call: `match_list(query, items, limit)`, `score`,
//!   `positions` (the editor's thread; small lists, sorters);
//! - a corpus kept in the instance: `add(chunk)` once, then `query` many
//!   times. Run in a worker (`wasm.worker("finder")`), a query of a
//!   million paths leaves the editor free; it reports progress and stops
//!   when cancelled.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use wasm_nvim_sdk::prelude::*;

pub mod corpus;

use corpus::Corpus;

/// Items between two progress reports (and cancellation checks).
const PROGRESS_EVERY: usize = 1 << 16;

thread_local! {
    static CORPUS: RefCell<Corpus> = RefCell::new(Corpus::default());
    static STATE: RefCell<State> = RefCell::new(State::new());
}

/// The matcher (it keeps scratch memory between calls) and the last
/// parsed pattern (sorters call `score` once per item with one query).
struct State {
    matcher: Matcher,
    paths: bool,
    query: String,
    pattern: Pattern,
    chars: Vec<char>,
    indices: Vec<u32>,
}

impl State {
    fn new() -> Self {
        State {
            matcher: Matcher::new(Config::DEFAULT.match_paths()),
            paths: true,
            query: String::new(),
            pattern: Pattern::default(),
            chars: Vec::new(),
            indices: Vec::new(),
        }
    }

    fn prepare(&mut self, query: &str, paths: bool) {
        if paths != self.paths {
            self.matcher = Matcher::new(if paths { Config::DEFAULT.match_paths() } else { Config::DEFAULT });
            self.paths = paths;
        }
        if query != self.query {
            self.pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
            self.query = query.to_string();
        }
    }

    fn score(&mut self, item: &[u8]) -> Option<u32> {
        let State { matcher, pattern, chars, .. } = self;
        with_haystack(item, chars, |haystack| pattern.score(haystack, matcher))
    }

    /// The match's byte offsets in `item` (0-based, sorted).
    fn positions(&mut self, item: &[u8]) -> Vec<u32> {
        let State { matcher, pattern, chars, indices, .. } = self;
        indices.clear();
        let text = String::from_utf8_lossy(item);
        let found = with_haystack(item, chars, |haystack| pattern.indices(haystack, matcher, indices));
        if found.is_none() {
            return Vec::new();
        }
        indices.sort_unstable();
        indices.dedup();
        if item.is_ascii() {
            return indices.clone();
        }
        // char indices -> byte offsets
        let offsets: Vec<u32> = text.char_indices().map(|(i, _)| i as u32).collect();
        indices.iter().filter_map(|&i| offsets.get(i as usize).copied()).collect()
    }
}

fn with_haystack<R>(item: &[u8], chars: &mut Vec<char>, f: impl FnOnce(Utf32Str<'_>) -> R) -> R {
    if item.is_ascii() {
        return f(Utf32Str::Ascii(item));
    }
    let text = String::from_utf8_lossy(item);
    chars.clear();
    chars.extend(text.chars());
    f(Utf32Str::Unicode(chars))
}

/// Options of a query.
#[derive(Deserialize, Default)]
struct Options {
    /// Score as file paths (bonuses after `/`); default true.
    paths: Option<bool>,
}

/// One result: the item's 1-based index, its text, score and the byte
/// offsets of the matched characters.
#[derive(Serialize)]
struct Hit {
    index: u32,
    text: ByteBuf,
    score: u32,
    positions: Vec<u32>,
}

#[derive(Serialize)]
struct Matches {
    /// Items that matched.
    matched: u32,
    /// Items looked at.
    total: u32,
    /// The best `limit`, best first.
    items: Vec<Hit>,
}

/// The best `limit` of `count` items by score (ties: shorter first, then
/// earlier), or `None` when cancelled.
fn top<'a>(
    state: &mut State,
    count: usize,
    item: impl Fn(usize) -> &'a [u8],
    limit: usize,
    report: bool,
) -> Option<Matches> {
    // min-heap of the best so far: the worst on top
    let mut heap: BinaryHeap<Reverse<(u32, Reverse<usize>, Reverse<usize>)>> = BinaryHeap::with_capacity(limit + 1);
    let mut matched = 0u32;
    for i in 0..count {
        if report && i % PROGRESS_EVERY == 0 && i > 0 && job::progress((i, count, matched)) {
            return None;
        }
        let text = item(i);
        let Some(score) = state.score(text) else { continue };
        matched += 1;
        let key = Reverse((score, Reverse(text.len()), Reverse(i)));
        if heap.len() < limit {
            heap.push(key);
        } else if heap.peek().is_some_and(|worst| key < *worst) {
            heap.pop();
            heap.push(key);
        }
    }
    let mut best: Vec<(u32, usize)> = heap.into_iter().map(|Reverse((score, _, Reverse(i)))| (score, i)).collect();
    best.sort_by(|a, b| b.0.cmp(&a.0).then(item(a.1).len().cmp(&item(b.1).len())).then(a.1.cmp(&b.1)));
    let items = best
        .into_iter()
        .map(|(score, i)| {
            let text = item(i);
            Hit { index: i as u32 + 1, text: ByteBuf::from(text.to_vec()), score, positions: state.positions(text) }
        })
        .collect();
    Some(Matches { matched, total: count as u32, items })
}

/// The best `limit` items of `corpus` for `query` as `(score, text)`, and
/// how many matched: what `query` computes, for the native benchmark
/// (`bench/finder-native`) to run the very same code.
pub fn best_of(corpus: &Corpus, query: &str, limit: usize) -> (u32, Vec<(u32, String)>) {
    let mut state = State::new();
    state.prepare(query, true);
    let found = top(&mut state, corpus.len(), |i| corpus.get(i), limit.max(1), false);
    found.map_or((0, Vec::new()), |m| {
        (m.matched, m.items.into_iter().map(|h| (h.score, String::from_utf8_lossy(&h.text).into_owned())).collect())
    })
}

/// Empties the corpus.
#[export]
fn clear() {
    CORPUS.with_borrow_mut(|c| *c = Corpus::default());
}

/// Adds newline-separated items to the corpus; returns how many it holds.
#[export]
fn add(chunk: ByteBuf) -> usize {
    CORPUS.with_borrow_mut(|c| {
        c.add(&chunk);
        c.len()
    })
}

/// Makes room for `bytes` of text in `items` items before `add`s (no
/// doubling of a large buffer while it grows).
#[export]
fn reserve(bytes: usize, items: usize) {
    CORPUS.with_borrow_mut(|c| c.reserve(bytes, items));
}

/// Items in the corpus and the bytes they take.
#[export]
fn stats() -> (usize, usize) {
    CORPUS.with_borrow(|c| (c.len(), c.bytes()))
}

/// The best `limit` items of the corpus for `query`, reporting
/// `(looked_at, total, matched)` as progress; nil when cancelled.
#[export]
fn query(query: String, limit: Option<usize>, opts: Option<Options>) -> Option<Matches> {
    let paths = opts.unwrap_or_default().paths.unwrap_or(true);
    let limit = limit.unwrap_or(100).max(1);
    CORPUS.with_borrow(|corpus| {
        STATE.with_borrow_mut(|state| {
            state.prepare(&query, paths);
            top(state, corpus.len(), |i| corpus.get(i), limit, true)
        })
    })
}

/// The best `limit` of `items` for `query` (one call, no corpus).
#[export]
fn match_list(query: String, items: Vec<ByteBuf>, limit: Option<usize>, opts: Option<Options>) -> Matches {
    let paths = opts.unwrap_or_default().paths.unwrap_or(true);
    let limit = limit.unwrap_or(items.len()).max(1);
    let out = STATE.with_borrow_mut(|state| {
        state.prepare(&query, paths);
        top(state, items.len(), |i| items.get(i).map_or(&[][..], |b| b.as_slice()), limit, false)
    });
    out.unwrap_or(Matches { matched: 0, total: 0, items: Vec::new() })
}

/// The score of one item (higher is better), nil when it does not match.
#[export]
fn score(query: String, item: ByteBuf) -> Option<u32> {
    STATE.with_borrow_mut(|state| {
        state.prepare(&query, true);
        state.score(&item)
    })
}

/// The byte offsets (0-based) of the matched characters of one item.
#[export]
fn positions(query: String, item: ByteBuf) -> Vec<u32> {
    STATE.with_borrow_mut(|state| {
        state.prepare(&query, true);
        state.positions(&item)
    })
}
