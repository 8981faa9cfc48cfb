//! `whitespace`: a `wasm_nvim` plugin that trims trailing whitespace when a
//! buffer is written and keeps a live count of it in `b:trailing_whitespace`
//! (for a statusline), written in Rust directly against the seed ABI.
//!
//! Where `sortlines` only answers calls from Lua, this plugin is driven by
//! Neovim itself, through *callbacks*: inside the JSON arguments of any
//! `nvim_*` import, the object `{"__wasm_callback": "<export>"}` becomes a
//! Lua function. When Neovim calls it, the host calls that export of this
//! plugin with all the Lua arguments as one JSON array, and hands the
//! export's JSON result back to Neovim. Callback exports need not be listed
//! in `functionality()`. This plugin uses four kinds:
//!
//! | export        | registered with                   | receives                           |
//! | ------------- | --------------------------------- | ---------------------------------- |
//! | `on_write`    | `nvim_create_autocmd` BufWritePre | `[{buf, event, match, file, ...}]` |
//! | `on_enter`    | `nvim_create_autocmd` BufEnter    | `[{buf, ...}]`                     |
//! | `on_lines`    | `nvim_buf_attach`                 | `["lines", buf, tick, first, ...]` |
//! | `on_command`  | `nvim_create_user_command`        | `[{fargs, line1, line2, ...}]`     |
//! | `on_complete` | its `complete` option             | `[ArgLead, CmdLine, CursorPos]`    |
//!
//! Bad input never panics (a panic is a trap, and a trap drops the
//! instance with all the state below): exports return `{"error": "..."}`,
//! callbacks report with `vim.notify`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// The seed ABI: host imports, `alloc`/`dealloc`, and two helpers. This is
/// the only module with `unsafe` in it (the same as in `rust-sortlines`).
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
        // the id of the JSON result out (no result for void functions, no
        // argument for functions without parameters). A failing API call
        // makes the whole export fail (and drops the instance).
        pub safe fn nvim_create_augroup(args: u32) -> u32;
        pub safe fn nvim_create_autocmd(args: u32) -> u32;
        pub safe fn nvim_exec_autocmds(args: u32);
        pub safe fn nvim_create_user_command(args: u32);
        pub safe fn nvim_buf_attach(args: u32) -> u32;
        pub safe fn nvim_list_bufs() -> u32;
        pub safe fn nvim_get_current_buf() -> u32;
        pub safe fn nvim_buf_is_loaded(args: u32) -> u32;
        pub safe fn nvim_buf_line_count(args: u32) -> u32;
        pub safe fn nvim_buf_get_lines(args: u32) -> u32;
        pub safe fn nvim_buf_set_text(args: u32);
        pub safe fn nvim_buf_set_var(args: u32);
        pub safe fn nvim_get_option_value(args: u32) -> u32;
        pub safe fn nvim_notify(args: u32) -> u32;
        /// `[code, [args...]]`: runs Lua with arguments (which may hold
        /// callback objects too); returns what the chunk returns.
        pub safe fn nvim_exec_lua(args: u32) -> u32;
    }

    /// The layout of every buffer that crosses the boundary: `size` bytes
    /// with alignment 1. `dealloc(ptr, size)` carries no alignment, so the
    /// host-allocated buffers (from `alloc`) and the ones we hand over (a
    /// `Box<[u8]>`) must both use exactly this layout.
    fn layout(size: u32) -> Option<Layout> {
        Layout::from_size_align(size as usize, 1).ok()
    }

    /// Called by the host before it copies a value into our memory.
    /// Returns null if the memory cannot be had (the host reports that).
    #[unsafe(no_mangle)]
    pub extern "C" fn alloc(size: u32) -> *mut u8 {
        match layout(size) {
            // Zero bytes: the dangling pointer an empty `Vec<u8>` uses.
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
            // SAFETY: `ptr` was allocated by the global allocator with this
            // very layout and is not used again (see the contract above).
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
        // SAFETY: `ptr` comes from `alloc(size)` (layout (size, 1), or
        // dangling for 0), exactly what a `Vec<u8>` of capacity `size`
        // uses; all `size` bytes are written.
        unsafe { Vec::from_raw_parts(ptr, size as usize, size as usize) }
    }

    /// Stores `bytes` under a fresh id and returns the id.
    pub fn give(bytes: Vec<u8>) -> u32 {
        let id = get_id();
        // A boxed slice has capacity == length: its layout is `layout(len)`.
        let boxed = bytes.into_boxed_slice();
        let size = boxed.len() as u32; // wasm32: usize is 32 bits
        let ptr = Box::into_raw(boxed).cast::<u8>();
        // SAFETY: `ptr` points to `size` initialized bytes; the host copies
        // them and then frees the box with `dealloc(ptr, size)`.
        unsafe { set_value(id, ptr, size) };
        id
    }
}

// ---------------------------------------------------------------------------
// Talking to Neovim

/// Stores a JSON value under a fresh id.
fn give_json(value: &Value) -> u32 {
    // Encoding a `Value` cannot fail; the fallback keeps this panic-free.
    abi::give(serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec()))
}

/// Reads the JSON value under `id`; `null` if it is not JSON.
fn take_json(id: u32) -> Value {
    serde_json::from_slice(&abi::take(id)).unwrap_or(Value::Null)
}

/// Calls an API import with a JSON array of arguments, decodes its result.
fn api<R: DeserializeOwned>(import: extern "C" fn(u32) -> u32, args: &Value) -> Result<R, String> {
    let result = abi::take(import(give_json(args)));
    serde_json::from_slice(&result).map_err(|e| format!("unexpected reply from Neovim: {e}"))
}

/// Calls a void API import with a JSON array of arguments.
fn api_void(import: extern "C" fn(u32), args: &Value) {
    import(give_json(args));
}

/// What makes Neovim call one of our exports: `{"__wasm_callback": name}`.
fn callback(export: &str) -> Value {
    json!({ "__wasm_callback": export })
}

const INFO: u8 = 2;
const ERROR: u8 = 4;

/// `vim.notify(msg, level)` (so users, and tests, can intercept it).
fn notify(msg: &str, level: u8) {
    abi::take(abi::nvim_notify(give_json(&json!([msg, level, {}]))));
}

/// Raises a Lua error in the caller of the current export (the export then
/// fails, and the host drops this instance, so only use it before any
/// state changed).
fn raise(msg: &str) {
    abi::take(abi::nvim_exec_lua(give_json(&json!([
        "error(..., 0)",
        [msg]
    ]))));
}

/// Lines `start..end` (0-based, end-exclusive) of buffer `buf` (0 = current).
fn get_lines(buf: i64, start: i64, end: i64) -> Result<Vec<String>, String> {
    api(abi::nvim_buf_get_lines, &json!([buf, start, end, false]))
}

/// The number of the current buffer (where an API function would take 0).
fn current_buf() -> Result<i64, String> {
    serde_json::from_slice(&abi::take(abi::nvim_get_current_buf()))
        .map_err(|e| format!("unexpected reply from Neovim: {e}"))
}

fn line_count(buf: i64) -> Result<i64, String> {
    api(abi::nvim_buf_line_count, &json!([buf]))
}

// ---------------------------------------------------------------------------
// Trailing whitespace (pure)

/// Byte length of the spaces and tabs at the end of `line`.
fn trailing(line: &str) -> usize {
    line.len() - line.trim_end_matches([' ', '\t']).len()
}

// ---------------------------------------------------------------------------
// State (lives as long as this instance: a reload or a trap starts afresh)

/// Trim when a buffer is written (`:Whitespace enable/disable/toggle`).
static TRIM_ON_SAVE: AtomicBool = AtomicBool::new(true);

/// Per attached buffer: which lines end in whitespace, how many do, and the
/// count last stored in `b:trailing_whitespace`.
struct Tracked {
    flags: Vec<bool>,
    count: usize,
    published: Option<usize>,
}

thread_local! {
    static BUFFERS: RefCell<BTreeMap<i64, Tracked>> = const { RefCell::new(BTreeMap::new()) };
    /// The buffer `trim_lines` is editing right now, if any.
    static TRIMMING: Cell<Option<i64>> = const { Cell::new(None) };
}

// Callbacks re-enter: `on_write` edits the buffer, and Neovim calls our
// `on_lines` from inside each edit, before `nvim_buf_set_text` returns. So
// `BUFFERS` is never borrowed across a call to Neovim: read or update it,
// let go, then call.

/// Deletes the trailing whitespace of `lines`, which start at 0-based row
/// `first` of `buf` (a real buffer number, not 0). Returns how many lines
/// changed.
///
/// One `nvim_buf_set_text` per changed line deletes exactly the whitespace:
/// unchanged lines are not touched, and marks, extmarks (diagnostics,
/// signs) and the cursor of every window keep their place (Neovim moves a
/// cursor that was inside the deleted text to the new line end). All the
/// edits of one command or autocmd are one undo step.
fn trim_lines(buf: i64, first: i64, lines: &[String]) -> usize {
    // Our own edits: `on_lines` knows what they do without reading them.
    let outer = TRIMMING.replace(Some(buf));
    let mut trimmed = 0;
    for (row, line) in (first..).zip(lines) {
        let n = trailing(line);
        if n > 0 {
            let (from, to) = (line.len() - n, line.len());
            api_void(
                abi::nvim_buf_set_text,
                &json!([buf, row, from, row, to, [""]]),
            );
            trimmed += 1;
        }
    }
    TRIMMING.set(outer);
    publish(buf);
    trimmed
}

/// Stores the count of `buf` in `b:trailing_whitespace` if it changed.
fn publish(buf: i64) {
    let changed = BUFFERS.with_borrow_mut(|buffers| {
        let tracked = buffers.get_mut(&buf)?;
        let count = tracked.count;
        (tracked.published != Some(count)).then(|| {
            tracked.published = Some(count);
            count
        })
    });
    if let Some(count) = changed {
        api_void(
            abi::nvim_buf_set_var,
            &json!([buf, "trailing_whitespace", count]),
        );
    }
}

/// Recomputes every line of `buf`.
fn recount(buf: i64) -> Result<(), String> {
    let flags: Vec<bool> = get_lines(buf, 0, -1)?
        .iter()
        .map(|l| trailing(l) > 0)
        .collect();
    let count = flags.iter().filter(|&&f| f).count();
    BUFFERS.with_borrow_mut(|buffers| {
        let tracked = buffers.entry(buf).or_insert(Tracked {
            flags: Vec::new(),
            count: 0,
            published: None,
        });
        (tracked.flags, tracked.count) = (flags, count);
    });
    publish(buf);
    Ok(())
}

/// Replaces the flags of lines `first..last` with `fresh`; false if `buf`
/// is not tracked or the range does not fit.
fn splice(buf: i64, first: usize, last: usize, fresh: Vec<bool>) -> bool {
    let added = fresh.iter().filter(|&&f| f).count();
    BUFFERS.with_borrow_mut(|buffers| {
        let Some(tracked) = buffers.get_mut(&buf) else {
            return false;
        };
        if first > last || last > tracked.flags.len() {
            return false;
        }
        let removed = tracked
            .flags
            .splice(first..last, fresh)
            .filter(|&f| f)
            .count();
        tracked.count = (tracked.count + added).saturating_sub(removed);
        true
    })
}

/// Lines `first..last` were replaced by `first..new_last` (0-based, end
/// exclusive): only those are read again.
fn update(buf: i64, first: usize, last: usize, new_last: usize) -> Result<(), String> {
    if TRIMMING.get() == Some(buf) && last == new_last {
        // `trim_lines` removed the whitespace at the end of these lines;
        // it publishes the count once it is done.
        splice(buf, first, last, vec![false; last.saturating_sub(first)]);
        return Ok(());
    }
    let lines = get_lines(buf, first as i64, new_last as i64)?;
    let fresh: Vec<bool> = lines.iter().map(|l| trailing(l) > 0).collect();
    let fits = splice(buf, first, last, fresh);
    // Not tracked (this instance is new) or out of step (e.g. attached
    // twice after a trap, so each edit comes twice): read the whole buffer.
    let in_step = fits
        && BUFFERS.with_borrow(|b| b.get(&buf).map(|t| t.flags.len() as i64))
            == Some(line_count(buf)?);
    if in_step {
        publish(buf)
    } else {
        recount(buf)?
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Exports listed in functionality()

const FUNCTIONALITY: &str = r#"[
  {"name": "setup", "params": "object", "returns": "void"},
  {"name": "trim",  "params": "object", "returns": "object"},
  {"name": "count", "params": "void",   "returns": "object"}
]"#;

#[unsafe(no_mangle)]
pub extern "C" fn functionality() -> u32 {
    abi::give(FUNCTIONALITY.as_bytes().to_vec())
}

/// The augroup holding our autocmds; `clear = true` makes `setup` idempotent.
const GROUP: &str = "WasmWhitespace";
const SUBCOMMANDS: [&str; 5] = ["trim", "count", "toggle", "enable", "disable"];

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SetupOptions {
    /// Trim when writing (default true).
    trim_on_save: bool,
    /// Autocmd pattern of the files to work on (default "*").
    pattern: String,
}

impl Default for SetupOptions {
    fn default() -> Self {
        SetupOptions {
            trim_on_save: true,
            pattern: "*".to_string(),
        }
    }
}

/// `setup({trim_on_save?, pattern?})`: creates the augroup `WasmWhitespace`
/// with a BufWritePre autocmd (trim) and a BufEnter/BufReadPost autocmd
/// (attach the counter), the `:Whitespace` command, and attaches the
/// counter to the buffers already loaded. Calling it again replaces all
/// of that. Bad options raise a Lua error.
#[unsafe(no_mangle)]
pub extern "C" fn setup(arg: u32) {
    let opts: SetupOptions = match parse(&abi::take(arg)) {
        Ok(opts) => opts,
        // The host's error already names `whitespace.setup`.
        Err(e) => return raise(&e),
    };
    if let Err(e) = register(&opts) {
        notify(&format!("whitespace.setup: {e}"), ERROR);
    }
}

fn register(opts: &SetupOptions) -> Result<(), String> {
    TRIM_ON_SAVE.store(opts.trim_on_save, Ordering::Relaxed);
    let group: i64 = api(abi::nvim_create_augroup, &json!([GROUP, { "clear": true }]))?;
    let _: i64 = api(
        abi::nvim_create_autocmd,
        &json!(["BufWritePre", {
            "group": group,
            "pattern": opts.pattern,
            "callback": callback("on_write"),
            "desc": "Trim trailing whitespace (wasm)",
        }]),
    )?;
    let _: i64 = api(
        abi::nvim_create_autocmd,
        &json!([["BufEnter", "BufReadPost"], {
            "group": group,
            "pattern": opts.pattern,
            "callback": callback("on_enter"),
            "desc": "Count trailing whitespace in b:trailing_whitespace (wasm)",
        }]),
    )?;
    api_void(
        abi::nvim_create_user_command,
        &json!(["Whitespace", callback("on_command"), {
            "nargs": 1,
            "range": "%",
            "complete": callback("on_complete"),
            "desc": "Trailing whitespace: trim, count, toggle, enable, disable (wasm)",
        }]),
    );
    // Buffers opened before setup: run our own BufEnter autocmd for each,
    // so the pattern decides for them too.
    let buffers: Vec<i64> =
        serde_json::from_slice(&abi::take(abi::nvim_list_bufs())).unwrap_or_default();
    for buf in buffers {
        if api::<bool>(abi::nvim_buf_is_loaded, &json!([buf]))? {
            api_void(
                abi::nvim_exec_autocmds,
                &json!(["BufEnter", { "group": group, "buffer": buf, "modeline": false }]),
            );
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RangeParams {
    first: Option<i64>,
    last: Option<i64>,
}

/// `trim({first?, last?})` trims lines `first..=last` (1-based; default:
/// all) of the current buffer; returns `{"trimmed": n_lines_changed}`.
#[unsafe(no_mangle)]
pub extern "C" fn trim(arg: u32) -> u32 {
    reply(trim_range(&abi::take(arg)))
}

fn trim_range(arg: &[u8]) -> Result<Value, String> {
    let p: RangeParams = parse(arg)?;
    let (start, end) = line_range(p.first, p.last)?;
    let buf = current_buf()?;
    let lines = get_lines(buf, start, end)?;
    Ok(json!({ "trimmed": trim_lines(buf, start, &lines) }))
}

/// `count()` returns `{"lines": [1-based line numbers], "count": n}` for the
/// current buffer.
#[unsafe(no_mangle)]
pub extern "C" fn count() -> u32 {
    reply(get_lines(0, 0, -1).map(|lines| {
        let numbers = with_trailing(&lines, 1);
        json!({ "count": numbers.len(), "lines": numbers })
    }))
}

/// The line numbers of `lines` (the first being number `first`) that end in
/// whitespace.
fn with_trailing(lines: &[String], first: i64) -> Vec<i64> {
    (first..)
        .zip(lines)
        .filter(|(_, l)| trailing(l) > 0)
        .map(|(n, _)| n)
        .collect()
}

/// Encodes a result for the host; an error becomes `{"error": "..."}`.
fn reply(result: Result<Value, String>) -> u32 {
    give_json(&result.unwrap_or_else(|e| json!({ "error": e })))
}

/// Decodes an options table. `nil` and an empty Lua table (which encodes as
/// `[]`, not `{}`) both mean "no options".
fn parse<T: DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    let value: Value =
        serde_json::from_slice(json).map_err(|e| format!("invalid argument: {e}"))?;
    let object = match value {
        Value::Null => Value::Object(Map::new()),
        Value::Array(a) if a.is_empty() => Value::Object(Map::new()),
        Value::Object(_) => value,
        other => return Err(format!("expected a table of options, got {other}")),
    };
    serde_json::from_value(object).map_err(|e| format!("invalid options: {e}"))
}

/// Checks `first`/`last` (1-based, inclusive) against the current buffer;
/// returns the 0-based, end-exclusive range the API functions take.
fn line_range(first: Option<i64>, last: Option<i64>) -> Result<(i64, i64), String> {
    let count = line_count(0)?;
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

// ---------------------------------------------------------------------------
// Callbacks: not in functionality(), named in {"__wasm_callback": ...}.
// Each gets all of the Lua function's arguments as one JSON array.

/// Reports a callback's error (there is no caller to return it to).
fn report(result: Result<(), String>) {
    if let Err(e) = result {
        notify(&format!("whitespace: {e}"), ERROR);
    }
}

/// BufWritePre: `[{"buf": n, "match": "/path", ...}]`. Trims the buffer being
/// written unless trimming is off globally or for the buffer, or the buffer
/// is not 'modifiable'. Returns nothing (`nil` keeps the autocmd).
#[unsafe(no_mangle)]
pub extern "C" fn on_write(args: u32) {
    let args = take_json(args);
    let Some(buf) = args[0]["buf"].as_i64() else {
        return;
    };
    if !TRIM_ON_SAVE.load(Ordering::Relaxed) {
        return;
    }
    report((|| {
        // Buffer variables and options are simplest to read in Lua.
        let wanted: bool = api(
            abi::nvim_exec_lua,
            &json!([
                "local b = ...; return vim.b[b].whitespace_disable ~= true and vim.bo[b].modifiable",
                [buf]
            ]),
        )?;
        if wanted {
            trim_lines(buf, 0, &get_lines(buf, 0, -1)?);
        }
        Ok(())
    })());
}

/// BufEnter/BufReadPost: attaches the counter to a normal buffer, once.
#[unsafe(no_mangle)]
pub extern "C" fn on_enter(args: u32) {
    let args = take_json(args);
    let Some(buf) = args[0]["buf"].as_i64() else {
        return;
    };
    if BUFFERS.with_borrow(|buffers| buffers.contains_key(&buf)) {
        return;
    }
    report((|| {
        let buftype: String = api(
            abi::nvim_get_option_value,
            &json!(["buftype", { "buf": buf }]),
        )?;
        if !buftype.is_empty() || !api::<bool>(abi::nvim_buf_is_loaded, &json!([buf]))? {
            return Ok(()); // terminals, help, scratch buffers...: no counter
        }
        // Read the lines first: if that fails (a line that is not UTF-8),
        // nothing was attached, and the next BufEnter tries again.
        recount(buf)?;
        let cb = callback("on_lines");
        let attached: bool = api(
            abi::nvim_buf_attach,
            &json!([buf, false, { "on_lines": cb, "on_reload": cb, "on_detach": cb }]),
        )?;
        if !attached {
            BUFFERS.with_borrow_mut(|buffers| buffers.remove(&buf));
        }
        Ok(())
    })());
}

/// `nvim_buf_attach` events, told apart by their first element:
/// `["lines", buf, changedtick, first, last, new_last, byte_count, ...]`
/// after an edit, `["reload", buf]` after `:edit!`, `["detach", buf]` when
/// the buffer is unloaded. Returns nothing: `true` would detach.
#[unsafe(no_mangle)]
pub extern "C" fn on_lines(args: u32) {
    let args = take_json(args);
    let Some(buf) = args[1].as_i64() else { return };
    let row = |i: usize| args[i].as_u64().and_then(|n| usize::try_from(n).ok());
    match (args[0].as_str(), row(3), row(4), row(5)) {
        (Some("lines"), Some(first), Some(last), Some(new_last)) => {
            report(update(buf, first, last, new_last))
        }
        (Some("lines" | "reload"), ..) => report(recount(buf)),
        (Some("detach"), ..) => {
            BUFFERS.with_borrow_mut(|buffers| buffers.remove(&buf));
        }
        _ => {}
    }
}

/// `:[range]Whitespace {sub}`: `[{"fargs": [sub], "line1": a, "line2": b, ...}]`.
#[unsafe(no_mangle)]
pub extern "C" fn on_command(args: u32) {
    let args = take_json(args);
    let cmd = &args[0];
    let (line1, line2) = (
        cmd["line1"].as_i64().unwrap_or(1),
        cmd["line2"].as_i64().unwrap_or(1),
    );
    let set = |on: bool| TRIM_ON_SAVE.store(on, Ordering::Relaxed);
    report((|| {
        match cmd["fargs"][0].as_str().unwrap_or("") {
            "trim" => {
                let buf = current_buf()?;
                let lines = get_lines(buf, line1 - 1, line2)?;
                let n = trim_lines(buf, line1 - 1, &lines);
                notify(
                    &format!("Whitespace: trimmed {n} {}", plural(n, "line")),
                    INFO,
                );
            }
            "count" => {
                let numbers = with_trailing(&get_lines(0, line1 - 1, line2)?, line1);
                notify(&describe(&numbers), INFO);
            }
            "toggle" => {
                let on = !TRIM_ON_SAVE.load(Ordering::Relaxed);
                set(on);
                notify(
                    &format!(
                        "Whitespace: trim on save {}",
                        if on { "enabled" } else { "disabled" }
                    ),
                    INFO,
                );
            }
            "enable" => set(true),
            "disable" => set(false),
            other => notify(
                &format!(
                    "Whitespace: unknown subcommand {other:?} (expected {})",
                    SUBCOMMANDS.join(", ")
                ),
                ERROR,
            ),
        }
        Ok(())
    })());
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        what.to_string()
    } else {
        format!("{what}s")
    }
}

/// "Whitespace: 3 lines with trailing whitespace: 2, 5, 9" (at most ten).
fn describe(numbers: &[i64]) -> String {
    if numbers.is_empty() {
        return "Whitespace: no trailing whitespace".to_string();
    }
    let shown: Vec<String> = numbers.iter().take(10).map(i64::to_string).collect();
    let more = if numbers.len() > 10 { ", ..." } else { "" };
    let n = numbers.len();
    format!(
        "Whitespace: {n} {} with trailing whitespace: {}{more}",
        plural(n, "line"),
        shown.join(", ")
    )
}

/// `complete` of `:Whitespace`: `[ArgLead, CmdLine, CursorPos]` -> the
/// subcommands starting with ArgLead (none once one has been typed).
#[unsafe(no_mangle)]
pub extern "C" fn on_complete(args: u32) -> u32 {
    let args = take_json(args);
    let lead = args[0].as_str().unwrap_or("");
    let line = args[1].as_str().unwrap_or("");
    let pos = args[2]
        .as_u64()
        .and_then(|p| usize::try_from(p).ok())
        .map_or(line.len(), |p| p.min(line.len()));
    // The text before the word being completed.
    let before = line.get(..pos).unwrap_or(line);
    let before = before.strip_suffix(lead).unwrap_or(before);
    let done = before.split_whitespace().any(|w| SUBCOMMANDS.contains(&w));
    let matches: Vec<&str> = if done {
        Vec::new()
    } else {
        SUBCOMMANDS
            .into_iter()
            .filter(|s| s.starts_with(lead))
            .collect()
    };
    give_json(&json!(matches))
}
