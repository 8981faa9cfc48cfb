-- The todo plugin as a user meets it: plugin/todo.lua has run setup().
local wasm = require('wasm_nvim')

local function write(buf)
  local file = vim.fn.tempname() .. '.txt'
  vim.api.nvim_buf_call(buf, function()
    vim.cmd('silent write ' .. vim.fn.fnameescape(file))
  end)
  return file
end

T.test(':TodoList fills the quickfix list and says how many', function()
  local buf = T.buffer({ 'fn main() {', '  // TODO: greet', '  x() // TODO later', '}' })
  local notes = T.notified(function()
    vim.cmd('TodoList')
  end)
  T.eq(notes[1].msg, '2 TODOs')
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  T.eq(qf.title, 'TODOs')
  T.eq(
    vim.tbl_map(function(i)
      return { i.bufnr, i.lnum, i.text }
    end, qf.items),
    { { buf, 2, '// TODO: greet' }, { buf, 3, 'x() // TODO later' } }
  )
end)

T.test('count() counts the current or a given buffer', function()
  local other = T.buffer({ 'TODO', 'TODO', 'TODO' })
  T.buffer({ 'nothing to do' })
  T.eq(wasm.todo.count(), 0)
  T.eq(wasm.todo.count(other), 3)
end)

T.test('b:todo_count is fresh after each write', function()
  local buf = T.buffer({ 'TODO one' })
  T.eq(vim.b[buf].todo_count, nil)
  write(buf)
  T.eq(vim.b[buf].todo_count, 1)
  vim.api.nvim_buf_set_lines(buf, -1, -1, true, { 'TODO two', 'TODO three' })
  vim.cmd('silent write')
  T.eq(vim.b[buf].todo_count, 3)
end)

T.test(':Wasm reload keeps :TodoList and the BufWritePost autocmd working', function()
  for _, reload in ipairs({ 'Wasm reload todo', 'Wasm reload' }) do
    vim.cmd(reload)
    local buf = T.buffer({ 'TODO a', 'TODO b' })
    write(buf)
    T.eq(vim.b[buf].todo_count, 2, 'autocmd after ' .. reload)
    T.eq(
      T.notified(function()
        vim.cmd('TodoList')
      end)[1].msg,
      '2 TODOs',
      ':TodoList after ' .. reload
    )
    T.eq(#vim.api.nvim_get_autocmds({ group = 'wasm_todo' }), 1, 'one autocmd')
  end
end)

T.test('setup({ marker = ... }) changes the marker; setup twice keeps one autocmd', function()
  wasm.todo.setup({ marker = 'FIXME' })
  wasm.todo.setup({ marker = 'FIXME' })
  T.eq(#vim.api.nvim_get_autocmds({ group = 'wasm_todo' }), 1)
  T.buffer({ 'FIXME', 'TODO' })
  T.eq(wasm.todo.count(), 1)
  wasm.todo.setup({})
  T.eq(wasm.todo.count(), 1, 'the marker is kept')
end)

T.test('bad arguments are named', function()
  T.fails('wasm_nvim: todo.setup: argument 1 (opts): expected a table or nil, got an integer', wasm.todo.setup, 5)
  T.fails('wasm_nvim: todo.count: argument 1 (buf): expected a buffer or nil, got a string', wasm.todo.count, 'x')
end)

T.test(":Wasm info and plugins() show each function's parameters and doc line", function()
  local info = vim.api.nvim_exec2('Wasm info todo', { output = true }).output
  T.contains(
    info,
    'function  count (buf: Option<Buffer>) -> Result<usize>  -- How many TODOs a buffer has (default: the current one).',
    'function  setup (opts: Option<Opts>) -> Result<()>'
  )
  for _, p in ipairs(wasm.plugins()) do
    if p.name == 'todo' then
      local f = vim.tbl_filter(function(f)
        return f.name == 'on_write'
      end, p.functions)[1]
      T.eq(
        { f.type, f.doc },
        { '(event: AutocmdEvent) -> Result<()>', '`BufWritePost`: `b:todo_count` of the written buffer.' }
      )
    end
  end
end)
