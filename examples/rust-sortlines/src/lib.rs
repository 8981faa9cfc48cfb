//! `sortlines`: a `wasm_nvim` plugin that sorts and reverses lines, written in
//! Rust directly against the seed ABI (no SDK).
//!
//! The whole contract with the host, in short:
//! - values cross the boundary as JSON text stored under a numeric *id*;
//! - [`abi::take`] reads the value under an id into a `Vec<u8>`,
//!   [`abi::give`] stores bytes under a fresh id and returns that id;
//! - Neovim API functions are host imports `nvim_<name>(args_id) -> result_id`
//!   where `args_id` holds a JSON array of the arguments;
//! - `functionality()` tells the host which functions this module exports.
//!
//! Bad input never panics (a panic would be a trap): the exports return
//! `{"error": "..."}` and leave the buffer alone.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// The seed ABI: host imports, `alloc`/`dealloc`, and two helpers. This is
/// the only module with `unsafe` in it.
mod abi {
    use std::alloc::{self, Layout};
    use std::ptr::{self, NonNull};

    #[link(wasm_import_module = "host")]
    unsafe extern "C" {
        /// Reserves a fresh id to store a value under (with `set_value`).
        pub safe fn get_id() -> u32;
        /// Byte size of the value under `id` (does not consume it).
        pub safe fn get_value_size(id: u32) -> u32;
        /// The host calls our `alloc(size)`, copies the value there and
        /// forgets `id`: from now on the buffer is ours to free.
        fn get_value_addr(id: u32) -> *mut u8;
        /// The host copies `size` bytes from `ptr` under `id`, then calls
        /// our `dealloc(ptr, size)`: we give the buffer up.
        fn set_value(id: u32, ptr: *mut u8, size: u32);

        // Neovim API functions: one id holding a JSON array of arguments in,
        // the id of the JSON result out (no result for void functions).
        // A failing API call (e.g. a buffer that is not 'modifiable') makes
        // the whole export fail with a Lua error naming the API function.
        pub safe fn nvim_buf_line_count(args: u32) -> u32;
        pub safe fn nvim_buf_get_lines(args: u32) -> u32;
        pub safe fn nvim_buf_set_lines(args: u32);
    }

    /// The layout of every buffer that crosses the boundary: `size` bytes
    /// with alignment 1. `dealloc(ptr, size)` carries no alignment, so the
    /// host-allocated buffers (from `alloc`) and the ones we hand over (a
    /// `Box<[u8]>`) must both use exactly this layout. `None` only for sizes
    /// above `isize::MAX`.
    fn layout(size: u32) -> Option<Layout> {
        Layout::from_size_align(size as usize, 1).ok()
    }

    /// Called by the host before it copies a value into our memory.
    /// Returns null if the memory cannot be had (the host reports that).
    #[unsafe(no_mangle)]
    pub extern "C" fn alloc(size: u32) -> *mut u8 {
        match layout(size) {
            // Zero bytes: no allocation, the same dangling pointer an empty
            // `Vec<u8>`/`Box<[u8]>` uses, so `take` and `dealloc` agree.
            Some(_) if size == 0 => NonNull::dangling().as_ptr(),
            // SAFETY: the layout has a non-zero size.
            Some(layout) => unsafe { alloc::alloc(layout) },
            None => ptr::null_mut(),
        }
    }

    /// Called by the host for buffers we gave up with `set_value`, and
    /// valid for any buffer `alloc(size)` returned.
    ///
    /// # Safety
    /// `ptr` must come from `alloc(size)` or be a buffer of `size` bytes
    /// handed over by [`give`], and must not be used afterwards.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn dealloc(ptr: *mut u8, size: u32) {
        if size == 0 || ptr.is_null() {
            return; // nothing was allocated (see `alloc`)
        }
        if let Some(layout) = layout(size) {
            // SAFETY: per the contract above, `ptr` was allocated by the
            // global allocator with this very layout (by `alloc(size)`, or as
            // a `Box<[u8]>` of length `size`) and is not used again.
            unsafe { alloc::dealloc(ptr, layout) }
        }
    }

    /// Takes the value stored under `id` (the id is consumed).
    pub fn take(id: u32) -> Vec<u8> {
        let size = get_value_size(id);
        // SAFETY: the host allocates with our `alloc(size)`, writes `size`
        // bytes there and gives up the buffer; we own it from here.
        let ptr = unsafe { get_value_addr(id) };
        if ptr.is_null() {
            return Vec::new(); // cannot happen: the host traps first
        }
        // SAFETY: `ptr` comes from `alloc(size)`: the global allocator with
        // layout (size, 1), or dangling for size 0, exactly what a
        // `Vec<u8>` of capacity `size` uses; all `size` bytes are written.
        unsafe { Vec::from_raw_parts(ptr, size as usize, size as usize) }
    }

    /// Stores `bytes` under a fresh id and returns the id.
    pub fn give(bytes: Vec<u8>) -> u32 {
        let id = get_id();
        // A boxed slice has capacity == length, so its layout is exactly
        // `layout(len)`, which is what the host's `dealloc(ptr, len)` frees.
        let boxed = bytes.into_boxed_slice();
        let size = boxed.len() as u32; // wasm32: usize is 32 bits
        let ptr = Box::into_raw(boxed).cast::<u8>();
        // SAFETY: `ptr` points to `size` initialized bytes; the host copies
        // them and then calls `dealloc(ptr, size)`, which frees the box (or
        // does nothing for an empty one). We never touch `ptr` again.
        unsafe { set_value(id, ptr, size) };
        id
    }
}

// ---------------------------------------------------------------------------
// Exports

/// What this module exports: the host reads this once when it loads us.
/// `"params"`/`"returns"` other than `"void"` mean "one value id".
const FUNCTIONALITY: &str = r#"[
  {"name": "sort_lines",    "params": "object", "returns": "object"},
  {"name": "sort_text",     "params": "object", "returns": "array"},
  {"name": "reverse_lines", "params": "object", "returns": "object"}
]"#;

#[unsafe(no_mangle)]
pub extern "C" fn functionality() -> u32 {
    abi::give(FUNCTIONALITY.as_bytes().to_vec())
}

/// `sort_lines({first?, last?, reverse?, unique?, ignore_case?, numeric?})`
/// sorts lines `first..=last` (1-based) of the current buffer; returns
/// `{"lines": n, "removed": n_duplicates, "changed": bool}`.
#[unsafe(no_mangle)]
pub extern "C" fn sort_lines(arg: u32) -> u32 {
    reply(buffer_sort(&abi::take(arg)))
}

/// `sort_text({lines, reverse?, unique?, ignore_case?, numeric?})` returns
/// the sorted lines; touches no buffer.
#[unsafe(no_mangle)]
pub extern "C" fn sort_text(arg: u32) -> u32 {
    reply(text_sort(&abi::take(arg)))
}

/// `reverse_lines({first?, last?})` reverses lines `first..=last` of the
/// current buffer; returns `{"lines": n}`.
#[unsafe(no_mangle)]
pub extern "C" fn reverse_lines(arg: u32) -> u32 {
    reply(buffer_reverse(&abi::take(arg)))
}

/// Encodes a result for the host; an error becomes `{"error": "..."}`.
fn reply(result: Result<Value, String>) -> u32 {
    give_json(&result.unwrap_or_else(|e| json!({ "error": e })))
}

/// Stores a JSON value under a fresh id.
fn give_json(value: &Value) -> u32 {
    // Encoding a `Value` cannot fail (its keys are strings); the fallback
    // only keeps this free of panics.
    abi::give(serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec()))
}

// ---------------------------------------------------------------------------
// Options

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SortLinesParams {
    first: Option<i64>,
    last: Option<i64>,
    reverse: bool,
    unique: bool,
    ignore_case: bool,
    numeric: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SortTextParams {
    lines: Vec<String>,
    #[serde(default)]
    reverse: bool,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    ignore_case: bool,
    #[serde(default)]
    numeric: bool,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RangeParams {
    first: Option<i64>,
    last: Option<i64>,
}

/// How to sort; the same meaning as the flags of Vim's `:sort`.
struct SortOptions {
    /// Descending (`:sort!`): the ascending result, reversed.
    reverse: bool,
    /// Drop a line equal to the one before it, after sorting (`u`).
    unique: bool,
    /// Compare case-insensitively (`i`), also for `unique`.
    ignore_case: bool,
    /// Compare by the first decimal number in the line (`n`); lines without
    /// one come first; the sort is stable.
    numeric: bool,
}

/// Decodes the argument. `nil` (JSON `null`) and an empty Lua table (which
/// encodes as `[]`, not `{}`) both mean "no options".
fn parse<T: DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    let value: Value = serde_json::from_slice(json).map_err(|e| format!("invalid argument: {e}"))?;
    let object = match value {
        Value::Null => Value::Object(Map::new()),
        Value::Array(a) if a.is_empty() => Value::Object(Map::new()),
        Value::Object(_) => value,
        other => return Err(format!("expected a table of options, got {other}")),
    };
    serde_json::from_value(object).map_err(|e| format!("invalid options: {e}"))
}

// ---------------------------------------------------------------------------
// Sorting (pure)

/// Sorts `lines`; returns how many duplicates `unique` removed.
fn sort(lines: &mut Vec<String>, o: &SortOptions) -> usize {
    // All three sorts are stable, like `:sort`.
    if o.numeric {
        lines.sort_by_cached_key(|l| first_number(l));
    } else if o.ignore_case {
        lines.sort_by_cached_key(|l| l.to_lowercase());
    } else {
        lines.sort();
    }
    if o.reverse {
        lines.reverse();
    }
    let before = lines.len();
    if o.unique {
        // Like `:sort u`: whole lines are compared, even with `numeric`.
        lines.dedup_by(|b, a| if o.ignore_case { eq_ignore_case(a, b) } else { a == b });
    }
    before - lines.len()
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
}

/// The first decimal number in `line`, with a `-` right before it making it
/// negative (as `:sort n` does); `None` sorts before every number. Numbers
/// too large for an i64 saturate instead of overflowing.
fn first_number(line: &str) -> Option<i64> {
    let bytes = line.as_bytes();
    let start = bytes.iter().position(u8::is_ascii_digit)?;
    let negative = start.checked_sub(1).and_then(|i| bytes.get(i)) == Some(&b'-');
    let magnitude = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, b| n.saturating_mul(10).saturating_add(i64::from(b - b'0')));
    Some(if negative { -magnitude } else { magnitude })
}

fn text_sort(arg: &[u8]) -> Result<Value, String> {
    let p: SortTextParams = parse(arg)?;
    let mut lines = p.lines;
    let options = SortOptions { reverse: p.reverse, unique: p.unique, ignore_case: p.ignore_case, numeric: p.numeric };
    sort(&mut lines, &options);
    Ok(Value::from(lines))
}

// ---------------------------------------------------------------------------
// The current buffer, through the Neovim API

/// Calls an API import with a JSON array of arguments, decodes its result.
fn api<R: DeserializeOwned>(import: extern "C" fn(u32) -> u32, args: &Value) -> Result<R, String> {
    let result = abi::take(import(give_json(args)));
    serde_json::from_slice(&result).map_err(|e| format!("unexpected reply from Neovim: {e}"))
}

/// Checks `first`/`last` (1-based, inclusive) against the current buffer;
/// returns the 0-based, end-exclusive range the API functions take.
fn line_range(first: Option<i64>, last: Option<i64>) -> Result<(i64, i64), String> {
    let count: i64 = api(abi::nvim_buf_line_count, &json!([0]))?;
    let (first, last) = (first.unwrap_or(1), last.unwrap_or(count));
    if first < 1 {
        return Err(format!("first must be at least 1, got {first}"));
    }
    if last > count {
        return Err(format!("last is {last}, but the buffer has {count} lines"));
    }
    if first > last {
        return Err(format!("first ({first}) is after last ({last})"));
    }
    Ok((first - 1, last))
}

fn get_lines(start: i64, end: i64) -> Result<Vec<String>, String> {
    api(abi::nvim_buf_get_lines, &json!([0, start, end, true]))
}

/// Replaces lines `start..end` with `lines`: one change, so one undo step.
fn set_lines(start: i64, end: i64, lines: &[String]) {
    abi::nvim_buf_set_lines(give_json(&json!([0, start, end, true, lines])));
}

fn buffer_sort(arg: &[u8]) -> Result<Value, String> {
    let p: SortLinesParams = parse(arg)?;
    let (start, end) = line_range(p.first, p.last)?;
    let options = SortOptions { reverse: p.reverse, unique: p.unique, ignore_case: p.ignore_case, numeric: p.numeric };
    let original = get_lines(start, end)?;
    let mut lines = original.clone();
    let removed = sort(&mut lines, &options);
    let changed = lines != original;
    if changed {
        set_lines(start, end, &lines);
    }
    Ok(json!({ "lines": original.len(), "removed": removed, "changed": changed }))
}

fn buffer_reverse(arg: &[u8]) -> Result<Value, String> {
    let p: RangeParams = parse(arg)?;
    let (start, end) = line_range(p.first, p.last)?;
    let original = get_lines(start, end)?;
    let reversed: Vec<String> = original.iter().rev().cloned().collect();
    if reversed != original {
        set_lines(start, end, &reversed);
    }
    Ok(json!({ "lines": original.len() }))
}
