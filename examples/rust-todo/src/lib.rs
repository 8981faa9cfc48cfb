//! `todo`: `:TodoList` puts the current buffer's TODOs in the quickfix list
//! and says how many; `b:todo_count` stays fresh on `BufWritePost`;
//! `require("wasm_nvim").todo.count()` counts. Written with the Rust SDK.
use wasm_nvim_sdk::prelude::*;

/// The plugin's state: what marks a TODO (`setup({ marker = "FIXME" })`).
struct Todo {
    marker: String,
}

impl Plugin for Todo {
    fn init() -> Result<Self> {
        Ok(Todo { marker: "TODO".into() })
    }
}

#[derive(Deserialize, Default)]
struct Opts {
    marker: Option<String>,
}

/// Creates `:TodoList` and the `BufWritePost` autocmd (again: replaces them).
#[export]
fn setup(todo: &mut Todo, opts: Option<Opts>) -> Result<()> {
    if let Some(marker) = opts.unwrap_or_default().marker {
        todo.marker = marker;
    }
    let group = api::nvim_create_augroup("wasm_todo", AugroupOpts { clear: Some(true) })?;
    let on_write =
        AutocmdOpts { group: Some(group.into()), callback: Some(Callback::new(on_write)), ..Default::default() };
    api::nvim_create_autocmd(["BufWritePost"], on_write)?;
    let desc = Some("the TODOs of this buffer into the quickfix list".into());
    api::nvim_create_user_command(
        "TodoList",
        Callback::new(todo_list),
        UserCommandOpts { desc, force: Some(true), ..Default::default() },
    )?;
    Ok(())
}

/// Line number (1-based) and text of each TODO in `buf`.
fn todos(buf: Buffer, marker: &str) -> Result<Vec<(usize, String)>> {
    let lines = api::nvim_buf_get_lines(buf, 0, -1, false)?;
    Ok(lines.into_iter().enumerate().filter(|(_, l)| l.contains(marker)).map(|(i, l)| (i + 1, l)).collect())
}

/// How many TODOs a buffer has (default: the current one).
#[export]
fn count(todo: &mut Todo, buf: Option<Buffer>) -> Result<usize> {
    Ok(todos(buf.unwrap_or_default(), &todo.marker)?.len())
}

#[derive(Serialize)]
struct QfItem {
    bufnr: i64,
    lnum: usize,
    text: String,
}

/// `:TodoList`: the current buffer's TODOs into the quickfix list.
#[export]
fn todo_list(todo: &mut Todo, _cmd: CommandArgs) -> Result<usize> {
    let buf = api::nvim_get_current_buf()?;
    let found = todos(buf, &todo.marker)?;
    let items: Vec<QfItem> =
        found.into_iter().map(|(lnum, text)| QfItem { bufnr: buf.0, lnum, text: text.trim().into() }).collect();
    lua::<()>("vim.fn.setqflist({}, ' ', { title = 'TODOs', items = ... })", (&items,))?;
    notify(&format!("{} TODOs", items.len()), LogLevel::Info)?;
    Ok(items.len())
}

/// `BufWritePost`: `b:todo_count` of the written buffer.
#[export]
fn on_write(todo: &mut Todo, event: AutocmdEvent) -> Result<()> {
    let n = todos(event.buf, &todo.marker)?.len();
    api::nvim_buf_set_var(event.buf, "todo_count", n)
}
