//! The conformance plugin: one export per thing the specs check about the
//! seed ABI. Written by hand against the seed README (no SDK), for
//! wasm32-wasip1 so that it can print.

use std::alloc::{Layout, alloc as raw_alloc, dealloc as raw_dealloc};
use std::cell::RefCell;

#[link(wasm_import_module = "host")]
unsafe extern "C" {
    fn get_id() -> u32;
    fn get_addr(ptr: *const u8) -> u32;
    fn get_value_size(id: u32) -> u32;
    fn get_value_addr(id: u32) -> *mut u8;
    fn set_value(id: u32, ptr: u32, size: u32);
    fn set_error(id: u32);
    fn lua_exec(id: u32);
    fn lua_eval(id: u32) -> u32;
    fn nvim_get_current_line() -> u32;
    fn nvim_set_current_line(args: u32);
    fn nvim_buf_get_lines(args: u32) -> u32;
    fn nvim_del_current_line();
    fn nvim_get_mode() -> u32;
    fn nvim_command(args: u32);
    fn nvim_create_autocmd(args: u32) -> u32;
    fn nvim_exec_autocmds(args: u32);
    fn nvim_create_user_command(args: u32);
    fn nvim_set_keymap(args: u32);
    fn nvim_buf_set_keymap(args: u32);
    fn nvim_buf_attach(args: u32) -> u32;
    fn nvim_exec_lua(args: u32) -> u32;
}

fn layout(size: u32) -> Layout {
    // Size 0 still gets a real (1-byte) allocation so dealloc can match it.
    Layout::from_size_align(size.max(1) as usize, 1).unwrap_or(Layout::new::<u8>())
}

#[unsafe(no_mangle)]
pub extern "C" fn alloc(size: u32) -> *mut u8 {
    // SAFETY: layout() never has size 0.
    unsafe { raw_alloc(layout(size)) }
}

/// # Safety
/// `ptr` must come from `alloc(size)` (the host guarantees it for values
/// handed over with `set_value`, which this plugin allocates with `alloc`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, size: u32) {
    // SAFETY: see above.
    unsafe { raw_dealloc(ptr, layout(size)) }
}

/// Reads and consumes the value under `id`.
fn take(id: u32) -> Vec<u8> {
    // SAFETY: the host allocated `size` bytes with our `alloc` and gave
    // them to us; we copy them out and free them with the same layout.
    unsafe {
        let size = get_value_size(id);
        let ptr = get_value_addr(id);
        let bytes = std::slice::from_raw_parts(ptr, size as usize).to_vec();
        dealloc(ptr, size);
        bytes
    }
}

/// Hands bytes to the host under a fresh id (the host frees our copy).
fn give(bytes: &[u8]) -> u32 {
    let ptr = alloc(bytes.len() as u32);
    // SAFETY: `ptr` has room for `bytes.len()` bytes; after set_value the
    // host owns (and deallocs) it.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
        let id = get_id();
        set_value(id, get_addr(ptr), bytes.len() as u32);
        id
    }
}

fn give_json(v: &serde_json::Value) -> u32 {
    give(v.to_string().as_bytes())
}

/// The argument as a JSON string's text.
fn take_text(id: u32) -> String {
    serde_json::from_slice::<String>(&take(id)).unwrap_or_default()
}

const FUNCTIONS: &[(&str, &str, &str)] = &[
    ("noop", "void", "void"),
    ("ping", "void", "string"),
    ("echo", "any", "any"),
    ("raw", "any", "string"),
    ("from_json", "string", "any"),
    ("stash", "any", "void"),
    ("unstash", "void", "any"),
    ("exec", "string", "void"),
    ("eval", "string", "any"),
    ("current_line", "void", "string"),
    ("set_line", "string", "void"),
    ("get_lines", "array", "array"),
    ("del_line", "void", "void"),
    ("mode", "void", "object"),
    ("command", "string", "void"),
    ("print", "string", "void"),
    ("eprint", "string", "void"),
    ("sum", "array", "number"),
    ("recurse", "number", "number"),
    ("panic", "void", "void"),
    ("reuse_consumed", "any", "void"),
    ("big", "number", "string"),
    ("ignore_arg", "any", "void"),
    // Callbacks: these pass their argument (a JSON array of API arguments,
    // with {"__wasm_callback": ...} objects in it) straight to the import.
    ("create_autocmd", "array", "number"),
    ("exec_autocmds", "array", "void"),
    ("create_user_command", "array", "void"),
    ("set_keymap", "array", "void"),
    ("buf_set_keymap", "array", "void"),
    ("buf_attach", "array", "boolean"),
    ("exec_lua", "array", "any"),
    ("log", "void", "array"),
    ("clear_log", "void", "void"),
    ("set_reply", "any", "void"),
    ("chain", "object", "number"),
    ("write_file", "object", "any"),
    ("read_file", "string", "any"),
    ("environment", "void", "object"),
    ("refuse", "string", "string"),
    ("busy", "number", "number"),
];

#[unsafe(no_mangle)]
pub extern "C" fn functionality() -> u32 {
    let list: Vec<serde_json::Value> = FUNCTIONS
        .iter()
        .map(|(name, params, returns)| serde_json::json!({"name": name, "params": params, "returns": returns}))
        .collect();
    give_json(&serde_json::Value::Array(list))
}

#[unsafe(no_mangle)]
pub extern "C" fn noop() {}

/// Computes for the given number of milliseconds (wasm time: the clock is
/// WASI's), then returns how many rounds it made: honest heavy work.
#[unsafe(no_mangle)]
pub extern "C" fn busy(id: u32) -> u32 {
    let ms: u64 = serde_json::from_slice(&take(id)).unwrap_or(0);
    let started = std::time::Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < std::time::Duration::from_millis(ms) {
        rounds = std::hint::black_box(rounds + 1);
    }
    give_json(&serde_json::json!(rounds))
}

#[unsafe(no_mangle)]
pub extern "C" fn ping() -> u32 {
    give(b"\"pong\"")
}

#[unsafe(no_mangle)]
pub extern "C" fn echo(id: u32) -> u32 {
    give(&take(id))
}

/// The exact JSON text the host produced for the argument, as a string.
#[unsafe(no_mangle)]
pub extern "C" fn raw(id: u32) -> u32 {
    let text = String::from_utf8_lossy(&take(id)).into_owned();
    give_json(&serde_json::Value::String(text))
}

/// Returns the JSON text inside the string argument as the result, unparsed.
#[unsafe(no_mangle)]
pub extern "C" fn from_json(id: u32) -> u32 {
    give(take_text(id).as_bytes())
}

thread_local! {
    static STASH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

#[unsafe(no_mangle)]
pub extern "C" fn stash(id: u32) {
    STASH.with_borrow_mut(|s| *s = take(id));
}

#[unsafe(no_mangle)]
pub extern "C" fn unstash() -> u32 {
    STASH.with_borrow(|s| if s.is_empty() { give(b"null") } else { give(s) })
}

#[unsafe(no_mangle)]
pub extern "C" fn exec(id: u32) {
    let code = take_text(id);
    // SAFETY: plain host call with an id we own.
    unsafe { lua_exec(give(code.as_bytes())) }
}

#[unsafe(no_mangle)]
pub extern "C" fn eval(id: u32) -> u32 {
    let code = take_text(id);
    // SAFETY: plain host call; the returned id is handed straight back.
    unsafe { lua_eval(give(code.as_bytes())) }
}

#[unsafe(no_mangle)]
pub extern "C" fn current_line() -> u32 {
    // SAFETY: `() -> u32` import; its result id is handed straight back.
    unsafe { nvim_get_current_line() }
}

#[unsafe(no_mangle)]
pub extern "C" fn set_line(id: u32) {
    let line = take_text(id);
    // SAFETY: `(u32) -> ()` import with an id we own.
    unsafe { nvim_set_current_line(give_json(&serde_json::json!([line]))) }
}

#[unsafe(no_mangle)]
pub extern "C" fn get_lines(id: u32) -> u32 {
    // The argument already is the JSON array of arguments: pass it on.
    // SAFETY: `(u32) -> u32` import.
    unsafe { nvim_buf_get_lines(id) }
}

#[unsafe(no_mangle)]
pub extern "C" fn del_line() {
    // SAFETY: `() -> ()` import.
    unsafe { nvim_del_current_line() }
}

#[unsafe(no_mangle)]
pub extern "C" fn mode() -> u32 {
    // SAFETY: `() -> u32` import.
    unsafe { nvim_get_mode() }
}

#[unsafe(no_mangle)]
pub extern "C" fn command(id: u32) {
    let cmd = take_text(id);
    // SAFETY: `(u32) -> ()` import.
    unsafe { nvim_command(give_json(&serde_json::json!([cmd]))) }
}

#[unsafe(no_mangle)]
pub extern "C" fn print(id: u32) {
    println!("{}", take_text(id));
}

#[unsafe(no_mangle)]
pub extern "C" fn eprint(id: u32) {
    eprintln!("{}", take_text(id));
}

#[unsafe(no_mangle)]
pub extern "C" fn sum(id: u32) -> u32 {
    let numbers: Vec<f64> = serde_json::from_slice(&take(id)).unwrap_or_default();
    give_json(&serde_json::json!(numbers.iter().sum::<f64>()))
}

/// Calls itself through Lua `n` times (plugin -> lua_exec -> plugin ...),
/// then returns the depth it reached.
#[unsafe(no_mangle)]
pub extern "C" fn recurse(id: u32) -> u32 {
    let n: u64 = serde_json::from_slice(&take(id)).unwrap_or(0);
    if n > 0 {
        let code = format!("_G.recurse_seen = require('wasm_nvim').conformance.recurse({})", n - 1);
        // SAFETY: plain host call.
        unsafe { lua_exec(give(code.as_bytes())) }
    }
    give(n.to_string().as_bytes())
}

#[unsafe(no_mangle)]
pub extern "C" fn panic() {
    panic!("the conformance plugin panicked on purpose");
}

/// Reads its argument, then asks for its size again: the id is consumed.
#[unsafe(no_mangle)]
pub extern "C" fn reuse_consumed(id: u32) {
    let _ = take(id);
    // SAFETY: plain host call; the host reports the consumed id.
    unsafe {
        get_value_size(id);
    }
}

/// A string of `n` 'x' characters.
#[unsafe(no_mangle)]
pub extern "C" fn big(id: u32) -> u32 {
    let n: usize = serde_json::from_slice(&take(id)).unwrap_or(0);
    let mut out = Vec::with_capacity(n + 2);
    out.push(b'"');
    out.resize(n + 1, b'x');
    out.push(b'"');
    give(&out)
}

/// Never reads its argument (the host must free it anyway).
#[unsafe(no_mangle)]
pub extern "C" fn ignore_arg(_id: u32) {}

// ---- callbacks -------------------------------------------------------------
// The exports below `log` are not in `functionality`: they are reached only
// as callbacks, by name.

thread_local! {
    /// The argument arrays the callbacks received, in order.
    static LOG: RefCell<Vec<serde_json::Value>> = const { RefCell::new(Vec::new()) };
    /// What `on_event` returns (JSON text).
    static REPLY: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static DEPTH: RefCell<(u64, u64)> = const { RefCell::new((0, 0)) };
}

fn record(id: u32) -> serde_json::Value {
    let args: serde_json::Value = serde_json::from_slice(&take(id)).unwrap_or(serde_json::Value::Null);
    LOG.with_borrow_mut(|log| log.push(args.clone()));
    args
}

#[unsafe(no_mangle)]
pub extern "C" fn create_autocmd(id: u32) -> u32 {
    // SAFETY: `(u32) -> u32` import.
    unsafe { nvim_create_autocmd(id) }
}

#[unsafe(no_mangle)]
pub extern "C" fn exec_autocmds(id: u32) {
    // SAFETY: `(u32) -> ()` import.
    unsafe { nvim_exec_autocmds(id) }
}

#[unsafe(no_mangle)]
pub extern "C" fn create_user_command(id: u32) {
    // SAFETY: `(u32) -> ()` import.
    unsafe { nvim_create_user_command(id) }
}

#[unsafe(no_mangle)]
pub extern "C" fn set_keymap(id: u32) {
    // SAFETY: `(u32) -> ()` import.
    unsafe { nvim_set_keymap(id) }
}

#[unsafe(no_mangle)]
pub extern "C" fn buf_set_keymap(id: u32) {
    // SAFETY: `(u32) -> ()` import.
    unsafe { nvim_buf_set_keymap(id) }
}

#[unsafe(no_mangle)]
pub extern "C" fn buf_attach(id: u32) -> u32 {
    // SAFETY: `(u32) -> u32` import.
    unsafe { nvim_buf_attach(id) }
}

#[unsafe(no_mangle)]
pub extern "C" fn exec_lua(id: u32) -> u32 {
    // SAFETY: `(u32) -> u32` import.
    unsafe { nvim_exec_lua(id) }
}

#[unsafe(no_mangle)]
pub extern "C" fn log() -> u32 {
    LOG.with_borrow(|log| give_json(&serde_json::Value::Array(log.clone())))
}

#[unsafe(no_mangle)]
pub extern "C" fn clear_log() {
    LOG.with_borrow_mut(Vec::clear);
}

#[unsafe(no_mangle)]
pub extern "C" fn set_reply(id: u32) {
    REPLY.with_borrow_mut(|r| *r = take(id));
}

/// Records its arguments and returns the reply set with `set_reply`.
#[unsafe(no_mangle)]
pub extern "C" fn on_event(id: u32) -> u32 {
    record(id);
    REPLY.with_borrow(|r| if r.is_empty() { give(b"null") } else { give(r) })
}

/// Records its arguments; returns nothing.
#[unsafe(no_mangle)]
pub extern "C" fn on_record(id: u32) {
    record(id);
}

/// Takes no arguments at all (a timer tick, a keymap).
#[unsafe(no_mangle)]
pub extern "C" fn on_tick() {
    LOG.with_borrow_mut(|log| log.push(serde_json::json!("tick")));
}

/// A user command's completion: `(ArgLead, CmdLine, CursorPos)`.
#[unsafe(no_mangle)]
pub extern "C" fn on_complete(id: u32) -> u32 {
    let args = record(id);
    let lead = args[0].as_str().unwrap_or("").to_string();
    let words: Vec<&str> = ["alpha", "beta", "gamma", "alphabet"].into_iter().filter(|w| w.starts_with(&lead)).collect();
    give_json(&serde_json::json!(words))
}

#[unsafe(no_mangle)]
pub extern "C" fn on_fail(id: u32) {
    record(id);
    panic!("on_fail fails on purpose");
}

/// Depth-first: `chain({n, via})` calls back into this plugin `n` levels
/// deep, each level going through Neovim: `via = "autocmd"` fires
/// `User WasmChain` (whose callback is `on_chain`), `via = "lua"` runs Lua
/// through `nvim_exec_lua` that calls the `on_chain` callback directly.
/// Returns the deepest level reached.
fn chain_inner(n: u64, via: &str) -> u64 {
    DEPTH.with_borrow_mut(|(now, max)| {
        *now += 1;
        *max = (*max).max(*now);
    });
    if n > 0 {
        let next = serde_json::json!({"n": n - 1, "via": via});
        // SAFETY: `(u32) -> ()` and `(u32) -> u32` imports with ids we own.
        unsafe {
            if via == "autocmd" {
                nvim_exec_autocmds(give_json(&serde_json::json!(["User", {"pattern": "WasmChain", "data": next}])));
            } else {
                let code = "local callback, next = ...; callback(next)";
                nvim_exec_lua(give_json(&serde_json::json!([code, [{"__wasm_callback": "on_chain"}, next]])));
            }
        }
    }
    DEPTH.with_borrow_mut(|(now, max)| {
        *now -= 1;
        *max
    })
}

fn chain_args(v: &serde_json::Value) -> (u64, String) {
    (v["n"].as_u64().unwrap_or(0), v["via"].as_str().unwrap_or("lua").to_string())
}

#[unsafe(no_mangle)]
pub extern "C" fn chain(id: u32) -> u32 {
    let (n, via) = chain_args(&serde_json::from_slice(&take(id)).unwrap_or_default());
    DEPTH.with_borrow_mut(|d| *d = (0, 0));
    let max = chain_inner(n, &via);
    give(max.to_string().as_bytes())
}

/// The callback of both ways: an autocmd passes its event (with `data`),
/// the Lua way passes `{n, via}` itself.
#[unsafe(no_mangle)]
pub extern "C" fn on_chain(id: u32) {
    let args: serde_json::Value = serde_json::from_slice(&take(id)).unwrap_or_default();
    let first = &args[0];
    let (n, via) = chain_args(if first["data"].is_object() { &first["data"] } else { first });
    chain_inner(n, &via);
}

// ---- WASI capabilities -----------------------------------------------------

/// `{path, text}` -> `true`, or the error text when the file cannot be written.
#[unsafe(no_mangle)]
pub extern "C" fn write_file(id: u32) -> u32 {
    let args: serde_json::Value = serde_json::from_slice(&take(id)).unwrap_or_default();
    let path = args["path"].as_str().unwrap_or_default();
    let result = std::fs::write(path, args["text"].as_str().unwrap_or_default());
    give_json(&result.map_or_else(|e| serde_json::json!(e.to_string()), |()| serde_json::json!(true)))
}

/// The file's text, or `{"error": ...}`.
#[unsafe(no_mangle)]
pub extern "C" fn read_file(id: u32) -> u32 {
    let result = std::fs::read_to_string(take_text(id));
    give_json(&result.map_or_else(|e| serde_json::json!({"error": e.to_string()}), serde_json::Value::String))
}

/// What the plugin can see of its process: variables, arguments, directory.
#[unsafe(no_mangle)]
pub extern "C" fn environment() -> u32 {
    let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    let args: Vec<String> = std::env::args().collect();
    let root = std::fs::read_dir("/").map(|d| d.count()).map_err(|e| e.to_string());
    give_json(&serde_json::json!({"vars": vars, "args": args, "root": format!("{root:?}")}))
}

/// Fails the call with its argument as the message, without trapping.
#[unsafe(no_mangle)]
pub extern "C" fn refuse(id: u32) -> u32 {
    let message = take_text(id);
    // SAFETY: plain host call with an id we own.
    unsafe { set_error(give(message.as_bytes())) }
    give(b"\"ignored\"")
}
