//! `whitespace`: trims trailing whitespace when a buffer is written, keeps
//! a live count of it in `b:trailing_whitespace` (for a statusline), and
//! `:[range]Whitespace {trim|count|toggle|enable|disable}`. Written with the
//! Rust SDK and driven by Neovim: its `#[export(callback)]`s are called by
//! autocmds, `nvim_buf_attach`, a user command and its completion.
//!
//! Re-entrancy: `nvim_buf_set_text` calls our `on_lines` before it returns,
//! so the state is borrowed briefly (`ws(...)`), never across a call to
//! Neovim (the SDK refuses a re-entrant borrow). Lines are read as bytes:
//! a line that is not UTF-8 is trimmed and counted too.
use std::collections::BTreeMap;

use wasm_nvim_sdk::prelude::*;
use wasm_nvim_sdk::serde_bytes::ByteBuf;

const GROUP: &str = "WasmWhitespace";
const SUBCOMMANDS: [&str; 5] = ["trim", "count", "toggle", "enable", "disable"];

/// Per attached buffer: which lines end in whitespace, how many do, and
/// the count last stored in `b:trailing_whitespace`.
#[derive(Default)]
struct Tracked {
    flags: Vec<bool>,
    count: usize,
    published: Option<usize>,
}

/// Lives as long as the instance: a reload or a trap starts afresh.
struct Whitespace {
    trim_on_save: bool,
    buffers: BTreeMap<Buffer, Tracked>,
    /// The buffer `trim_lines` is editing: `on_lines` knows what those
    /// edits do without reading the lines.
    trimming: Option<Buffer>,
}

impl Plugin for Whitespace {
    fn init() -> Result<Self> {
        Ok(Whitespace { trim_on_save: true, buffers: BTreeMap::new(), trimming: None })
    }
}

impl Whitespace {
    /// Replaces the flags of lines `first..last` with `fresh`; false if
    /// `buf` is not tracked or the range does not fit.
    fn splice(&mut self, buf: Buffer, first: usize, last: usize, fresh: Vec<bool>) -> bool {
        let Some(t) = self.buffers.get_mut(&buf).filter(|t| first <= last && last <= t.flags.len()) else {
            return false;
        };
        let added = fresh.iter().filter(|&&f| f).count();
        let removed = t.flags.splice(first..last, fresh).filter(|&f| f).count();
        t.count = (t.count + added).saturating_sub(removed);
        true
    }
}

/// A short borrow of the state.
fn ws<R>(f: impl FnOnce(&mut Whitespace) -> R) -> Result<R> {
    state(f)
}

/// Byte length of the spaces and tabs at the end of `line`.
fn trailing(line: &[u8]) -> usize {
    line.iter().rev().take_while(|&&b| b == b' ' || b == b'\t').count()
}

/// Lines `start..end` (0-based, end-exclusive) of `buf`, as bytes.
fn get_lines(buf: Buffer, start: i64, end: i64) -> Result<Vec<ByteBuf>> {
    api::call(api::sys::nvim_buf_get_lines, &(buf, start, end, false))
}

/// Deletes the trailing whitespace of `lines` (from 0-based row `first` of
/// `buf`, a real buffer number): one `nvim_buf_set_text` per changed line,
/// so cursors, marks and extmarks stay put; all in one undo step. Returns
/// how many lines changed.
fn trim_lines(buf: Buffer, first: i64, lines: &[ByteBuf]) -> Result<usize> {
    let outer = ws(|w| w.trimming.replace(buf))?;
    let edits = (first..).zip(lines).filter(|(_, l)| trailing(l) > 0);
    let result: Result<usize> = edits
        .map(|(row, l)| {
            let (from, to) = ((l.len() - trailing(l)) as i64, l.len() as i64);
            api::nvim_buf_set_text(buf, row, from, row, to, [""]).map(|()| 1)
        })
        .sum();
    ws(|w| w.trimming = outer)?;
    publish(buf)?;
    result
}

/// Stores the count of `buf` in `b:trailing_whitespace` if it changed.
fn publish(buf: Buffer) -> Result<()> {
    let changed = ws(|w| {
        let t = w.buffers.get_mut(&buf)?;
        (t.published != Some(t.count)).then(|| *t.published.insert(t.count))
    })?;
    match changed {
        Some(count) => api::nvim_buf_set_var(buf, "trailing_whitespace", count),
        None => Ok(()),
    }
}

/// Recomputes every line of `buf` (and starts tracking it).
fn recount(buf: Buffer) -> Result<()> {
    let flags: Vec<bool> = get_lines(buf, 0, -1)?.iter().map(|l| trailing(l) > 0).collect();
    ws(|w| {
        let t = w.buffers.entry(buf).or_default();
        t.count = flags.iter().filter(|&&f| f).count();
        t.flags = flags;
    })?;
    publish(buf)
}

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
        SetupOptions { trim_on_save: true, pattern: "*".into() }
    }
}

/// Creates augroup WasmWhitespace (trim on write, count on enter), :Whitespace; again: replaces them.
#[export]
fn setup(opts: Option<SetupOptions>) -> Result<()> {
    let opts = opts.unwrap_or_default();
    ws(|w| w.trim_on_save = opts.trim_on_save)?;
    let group = api::nvim_create_augroup(GROUP, AugroupOpts { clear: Some(true) })?;
    let autocmd = |callback, desc: &str| AutocmdOpts {
        group: Some(group.into()),
        pattern: Some(vec![opts.pattern.clone()]),
        callback: Some(callback),
        desc: Some(desc.into()),
        ..Default::default()
    };
    api::nvim_create_autocmd(["BufWritePre"], autocmd(Callback::new(on_write), "Trim trailing whitespace (wasm)"))?;
    let count = autocmd(Callback::new(on_enter), "Count trailing whitespace in b:trailing_whitespace (wasm)");
    api::nvim_create_autocmd(["BufEnter", "BufReadPost"], count)?;
    let command = UserCommandOpts {
        nargs: Some(1.into()),
        range: Some("%".into()),
        complete: Some(Complete::Export(Callback::new(on_complete))),
        desc: Some("Trailing whitespace: trim, count, toggle, enable, disable (wasm)".into()),
        ..Default::default()
    };
    api::nvim_create_user_command("Whitespace", Callback::new(on_command), command)?;
    // Buffers opened before setup: our own BufEnter autocmd (and its pattern) decides.
    for buf in api::nvim_list_bufs()? {
        if api::nvim_buf_is_loaded(buf)? {
            let opts = ExecAutocmdsOpts {
                group: Some(group.into()),
                buffer: Some(buf),
                modeline: Some(false),
                ..Default::default()
            };
            api::nvim_exec_autocmds(["BufEnter"], opts)?;
        }
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Range {
    first: Option<i64>,
    last: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Trimmed {
    Trimmed(usize),
    Error(String),
}

/// Trims lines first..=last (1-based, default all) of the current buffer: {trimmed = n} or {error = ...}.
#[export]
fn trim(range: Result<Option<Range>>) -> Trimmed {
    let trimmed = range.and_then(|range| {
        let Range { first, last } = range.unwrap_or_default();
        let (start, end) = line_range(first, last)?;
        let buf = api::nvim_get_current_buf()?;
        trim_lines(buf, start, &get_lines(buf, start, end)?)
    });
    trimmed.map_or_else(|e| Trimmed::Error(e.to_string()), Trimmed::Trimmed)
}

/// Checks `first`/`last` (1-based, inclusive) against the current buffer;
/// returns the 0-based, end-exclusive range the API functions take.
fn line_range(first: Option<i64>, last: Option<i64>) -> Result<(i64, i64)> {
    let count = api::nvim_buf_line_count(Buffer::CURRENT)?;
    let (first, last) = (first.unwrap_or(1), last.unwrap_or(count));
    if first < 1 {
        return Err(Error::new(format!("first must be at least 1, got {first}")));
    }
    if last > count {
        return Err(Error::new(format!("last is {last}, but the buffer has {count} lines")));
    }
    if first > last {
        return Err(Error::new(format!("first ({first}) is after last ({last})")));
    }
    Ok((first - 1, last))
}

#[derive(Serialize)]
struct Count {
    count: usize,
    lines: Vec<i64>,
}

/// The lines of the current buffer with trailing whitespace: {count = n, lines = {...}}.
#[export]
fn count() -> Result<Count> {
    let lines = with_trailing(&get_lines(Buffer::CURRENT, 0, -1)?, 1);
    Ok(Count { count: lines.len(), lines })
}

/// The numbers of `lines` (the first being number `first`) with trailing whitespace.
fn with_trailing(lines: &[ByteBuf], first: i64) -> Vec<i64> {
    (first..).zip(lines).filter(|(_, l)| trailing(l) > 0).map(|(n, _)| n).collect()
}

/// BufWritePre: trims the buffer unless trimming is off (globally or by
/// `b:whitespace_disable`) or it is not 'modifiable'. Returns nothing:
/// `nil` keeps the autocmd.
#[export(callback)]
fn on_write(event: AutocmdEvent) -> Result<()> {
    let buf = event.buf;
    let code = "local b = ...; return vim.b[b].whitespace_disable ~= true and vim.bo[b].modifiable";
    if ws(|w| w.trim_on_save)? && lua::<bool>(code, (buf,))? {
        trim_lines(buf, 0, &get_lines(buf, 0, -1)?)?;
    }
    Ok(())
}

/// BufEnter/BufReadPost: attaches the counter to a normal, loaded buffer, once.
#[export(callback)]
fn on_enter(event: AutocmdEvent) -> Result<()> {
    let buf = event.buf;
    let normal = "local b = ...; return vim.bo[b].buftype == '' and vim.api.nvim_buf_is_loaded(b)";
    if ws(|w| w.buffers.contains_key(&buf))? || !lua::<bool>(normal, (buf,))? {
        return Ok(()); // terminals, help, scratch buffers...: no counter
    }
    // Read the lines first: if that fails, nothing is attached, and the next BufEnter tries again.
    recount(buf)?;
    let events = BufAttachOpts {
        on_lines: Some(Callback::new(on_lines)),
        on_reload: Some(Callback::new(on_reload)),
        on_detach: Some(Callback::new(on_detach)),
        ..Default::default()
    };
    if !api::nvim_buf_attach(buf, false, events)? {
        ws(|w| w.buffers.remove(&buf))?;
    }
    Ok(())
}

/// An edit: only the changed lines are read again.
#[export(callback)]
fn on_lines(ev: OnLines) -> Result<()> {
    let (buf, first, last, new_last) = (ev.buf, ev.first as usize, ev.last_old as usize, ev.last_new as usize);
    if ws(|w| w.trimming == Some(buf))? && last == new_last {
        // `trim_lines` removed the whitespace of these lines; it publishes once done.
        ws(|w| w.splice(buf, first, last, vec![false; last.saturating_sub(first)]))?;
        return Ok(());
    }
    let fresh = get_lines(buf, first as i64, new_last as i64)?.iter().map(|l| trailing(l) > 0).collect();
    let fits = ws(|w| w.splice(buf, first, last, fresh))?;
    // Not tracked (a new instance) or out of step (attached twice after a trap): read it all.
    let tracked = ws(|w| w.buffers.get(&buf).map(|t| t.flags.len() as i64))?;
    if fits && tracked == Some(api::nvim_buf_line_count(buf)?) { publish(buf) } else { recount(buf) }
}

/// `:edit!` reloaded the buffer.
#[export(callback)]
fn on_reload(_event: String, buf: Buffer) -> Result<()> {
    recount(buf)
}

/// The buffer was unloaded.
#[export(callback)]
fn on_detach(_event: String, buf: Buffer) -> Result<()> {
    ws(|w| w.buffers.remove(&buf)).map(drop)
}

/// `:[range]Whitespace {sub}`.
#[export(callback)]
fn on_command(cmd: CommandArgs) -> Result<()> {
    let (first, last) = (cmd.line1 - 1, cmd.line2);
    let say = |text: String| notify(&format!("Whitespace: {text}"), LogLevel::Info);
    let sub = cmd.fargs.first().map_or("", String::as_str);
    match sub {
        "trim" => {
            let buf = api::nvim_get_current_buf()?;
            let n = trim_lines(buf, first, &get_lines(buf, first, last)?)?;
            say(format!("trimmed {n} {}", plural(n, "line")))
        }
        "count" => say(describe(&with_trailing(&get_lines(Buffer::CURRENT, first, last)?, cmd.line1))),
        "toggle" => {
            let on = ws(|w| {
                w.trim_on_save = !w.trim_on_save;
                w.trim_on_save
            })?;
            say(format!("trim on save {}", if on { "enabled" } else { "disabled" }))
        }
        "enable" | "disable" => ws(|w| w.trim_on_save = sub == "enable"),
        other => {
            let expected = SUBCOMMANDS.join(", ");
            notify(&format!("Whitespace: unknown subcommand {other:?} (expected {expected})"), LogLevel::Error)
        }
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { what.to_string() } else { format!("{what}s") }
}

/// "3 lines with trailing whitespace: 2, 5, 9" (at most ten).
fn describe(numbers: &[i64]) -> String {
    if numbers.is_empty() {
        return "no trailing whitespace".to_string();
    }
    let shown: Vec<String> = numbers.iter().take(10).map(i64::to_string).collect();
    let more = if numbers.len() > 10 { ", ..." } else { "" };
    let n = numbers.len();
    format!("{n} {} with trailing whitespace: {}{more}", plural(n, "line"), shown.join(", "))
}

/// `complete` of `:Whitespace`: the subcommands starting with `lead` (none once one is typed).
#[export(callback)]
fn on_complete(lead: &str, line: &str, pos: usize) -> Vec<&'static str> {
    let before = line.get(..pos.min(line.len())).unwrap_or(line);
    let before = before.strip_suffix(lead).unwrap_or(before);
    if before.split_whitespace().any(|w| SUBCOMMANDS.contains(&w)) {
        return Vec::new();
    }
    SUBCOMMANDS.into_iter().filter(|s| s.starts_with(lead)).collect()
}
