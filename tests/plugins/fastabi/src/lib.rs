//! The fast ABI through the Rust SDK: every kind of value, handles,
//! errors without traps, panics with messages, callbacks, raw numbers.

use std::cell::Cell;

use serde::{Deserialize, Serialize};
use wasm_nvim_sdk::prelude::*;

#[export]
fn noop() {}

#[export]
fn echo(value: Object) -> Object {
    value
}

#[export]
fn echo_all(a: Object, b: Object, c: Object) -> Vec<Object> {
    vec![a, b, c]
}

#[export]
fn greet(name: String, punctuation: Option<String>) -> String {
    format!("Hello, {name}{}", punctuation.unwrap_or_else(|| "!".into()))
}

/// Binary-safe: any bytes in, their length and a byte out.
#[export]
fn bytes(data: serde_bytes::ByteBuf) -> (usize, serde_bytes::ByteBuf) {
    (data.len(), serde_bytes::ByteBuf::from(vec![0xff, 0x00, 0xfe]))
}

/// `#[serde(default)]`: an empty Lua table `{}` arrives as an empty array.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Options {
    upper: Option<bool>,
    prefix: Option<String>,
}

#[derive(Serialize)]
struct Summary {
    count: usize,
    first: Option<String>,
}

#[export]
fn transform(lines: Vec<String>, opts: Options) -> Summary {
    let prefix = opts.prefix.unwrap_or_default();
    let out: Vec<String> = lines
        .iter()
        .map(|l| format!("{prefix}{}", if opts.upper.unwrap_or(false) { l.to_uppercase() } else { l.clone() }))
        .collect();
    Summary { count: out.len(), first: out.first().cloned() }
}

#[export]
fn current_line() -> Result<String> {
    api::nvim_get_current_line()
}

#[export]
fn current_buf() -> Result<Buffer> {
    api::nvim_get_current_buf()
}

#[export]
fn line_count(buffer: Buffer) -> Result<i64> {
    api::nvim_buf_line_count(buffer)
}

/// Upper-cases the whole buffer: fetch, transform, write back.
#[export]
fn upper_buffer(buffer: Buffer) -> Result<usize> {
    let lines = api::nvim_buf_get_lines(buffer, 0, -1, true)?;
    let upper: Vec<String> = lines.iter().map(|l| l.to_uppercase()).collect();
    api::nvim_buf_set_lines(buffer, 0, -1, true, &upper)?;
    Ok(upper.len())
}

/// The same, with lines as raw bytes (any encoding).
#[export]
fn upper_buffer_bytes(buffer: Buffer) -> Result<usize> {
    let lines: Vec<serde_bytes::ByteBuf> =
        api::call(api::sys::nvim_buf_get_lines, &(buffer, 0, -1, true))?;
    let upper: Vec<serde_bytes::ByteBuf> =
        lines.iter().map(|l| serde_bytes::ByteBuf::from(l.to_ascii_uppercase())).collect();
    api::call::<()>(api::sys::nvim_buf_set_lines, &(buffer, 0, -1, true, &upper))?;
    Ok(upper.len())
}

/// Calls `nvim_get_current_line` `n` times (host import overhead).
#[export]
fn get_line_n(n: u32) -> Result<usize> {
    let mut total = 0;
    for _ in 0..n {
        total += api::nvim_get_current_line()?.len();
    }
    Ok(total)
}

/// A failing API call is an `Err`, not a trap.
#[export]
fn bad_buffer() -> Result<Vec<String>> {
    api::nvim_buf_get_lines(Buffer(424242), 0, -1, true)
}

/// ... which the plugin may handle.
#[export]
fn tolerant() -> String {
    match api::nvim_buf_get_lines(Buffer(424242), 0, -1, true) {
        Ok(_) => "no error?".into(),
        Err(e) => format!("handled: {e}"),
    }
}

#[export]
fn refuse(message: String) -> Result<(), String> {
    Err(message)
}

#[export]
fn boom() {
    panic!("boom from the SDK");
}

thread_local! {
    static COUNT: Cell<u32> = const { Cell::new(0) };
    static EVENTS: std::cell::RefCell<Vec<Object>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[export]
fn count() -> u32 {
    COUNT.with(|c| {
        c.set(c.get() + 1);
        c.get()
    })
}

#[derive(Serialize)]
struct AutocmdOpts {
    pattern: String,
    callback: Callback,
}

#[export]
fn register(pattern: String) -> Result<i64> {
    api::nvim_create_autocmd("User", AutocmdOpts { pattern, callback: Callback::named("on_event") })
}

/// A callback: receives the autocmd's event table.
#[export]
fn on_event(event: Object) -> bool {
    EVENTS.with_borrow_mut(|e| e.push(event));
    false
}

#[export]
fn events() -> Vec<Object> {
    EVENTS.with_borrow(Clone::clone)
}

#[export]
fn lua_add(a: i64, b: i64) -> Result<i64> {
    lua("local a, b = ...; return a + b", (a, b))
}

#[export]
fn lua_error() -> Result<i64> {
    lua("error('from lua', 0)", ())
}

#[export(raw)]
fn add(a: f64, b: f64) -> f64 {
    a + b
}

#[export(raw)]
fn raw_noop() {}

#[export(raw)]
fn mul_i32(a: i32, b: i32) -> i32 {
    a.wrapping_mul(b)
}

/// Whether this Neovim has API function `name` (versions_spec).
#[export]
fn has_api(name: String) -> bool {
    api::has(&name)
}

/// `{ major, minor, patch, api_level }` of the running Neovim.
#[export]
fn nvim_version() -> (u16, u16, u16, u16) {
    let v = api::version();
    (v.major, v.minor, v.patch, v.api_level)
}

/// Calls a function only Neovim 0.12 has: "sent", or the error the plugin got.
#[export]
fn try_ui_send(content: String) -> String {
    match api::nvim_ui_send(&content) {
        Ok(()) => "sent".into(),
        Err(e) => e.to_string(),
    }
}
