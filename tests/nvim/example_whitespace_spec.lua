-- The Rust example plugin examples/rust-whitespace (built by its build.sh):
-- trailing whitespace trimmed on write, counted live in
-- b:trailing_whitespace, and :Whitespace — all of it callbacks from Neovim
-- into the plugin (autocmds, nvim_buf_attach, a user command, completion).
T.rtp(T.root .. '/examples/rust-whitespace')

local wasm = require('wasm_nvim')

local lines, buffer = T.lines, T.fresh_buffer

--- :write, quietly (no "written" message).
local function write(file)
  vim.cmd.write({ args = { file }, mods = { silent = true } })
end

local function tempfile(ext)
  return vim.fn.tempname() .. (ext or '.txt')
end

--- The autocmds of the plugin's group (none if the group does not exist).
local function autocmds()
  local ok, found = pcall(vim.api.nvim_get_autocmds, { group = 'WasmWhitespace' })
  return ok and found or {}
end

local function undo_break()
  vim.bo.undolevels = vim.bo.undolevels
end

--- The vim.notify calls made while fn ran, as "LEVEL msg" strings.
local function notes(fn)
  local names = { [vim.log.levels.INFO] = 'INFO', [vim.log.levels.WARN] = 'WARN', [vim.log.levels.ERROR] = 'ERROR' }
  return vim.tbl_map(function(n)
    return (names[n.level] or tostring(n.level)) .. ' ' .. n.msg
  end, T.notified(fn))
end

local messy = { 'local x = 1   ', 'clean', '\tindented\t', '  \t ', 'end' }
local tidy = { 'local x = 1', 'clean', '\tindented', '', 'end' }

T.test('the plugin loads with setup, trim and count', function()
  T.ok(wasm.whitespace, 'wasm.whitespace is missing (run examples/rust-whitespace/build.sh)')
  local info = vim.tbl_filter(function(p)
    return p.name == 'whitespace'
  end, wasm.plugins())[1]
  T.eq(
    vim.tbl_map(function(f)
      return f.name
    end, info.functions),
    { 'setup', 'trim', 'count' },
    'in source order; no #[export(callback)]'
  )
  T.eq(info.functions[2].type, '(range: Option<Range>) -> Trimmed', 'a Result<T> parameter shows as T')
end)

T.test('plugin/whitespace.lua sets it up: two autocmds (three events) and :Whitespace', function()
  T.eq(#autocmds(), 0)
  T.eq(vim.fn.exists(':Whitespace'), 0)
  -- -u NONE loads no plugin/ files: source it as Neovim would
  T.eq(
    notes(function()
      vim.cmd.runtime('plugin/whitespace.lua')
    end),
    {}
  )
  T.eq(vim.g.loaded_wasm_whitespace, true)
  local events = vim.tbl_map(function(a)
    return a.event
  end, autocmds())
  table.sort(events)
  T.eq(events, { 'BufEnter', 'BufReadPost', 'BufWritePre' })
  T.eq(vim.fn.exists(':Whitespace'), 2)
  -- sourcing it again does nothing
  vim.cmd.runtime('plugin/whitespace.lua')
  T.eq(#autocmds(), 3)
end)

T.test('plugin/whitespace.lua without the wasm plugin, or disabled: no error, no setup', function()
  local real = package.loaded.wasm_nvim
  local file = vim.api.nvim_get_runtime_file('plugin/whitespace.lua', false)[1]
  vim.api.nvim_del_augroup_by_name('WasmWhitespace')
  local ok, err = pcall(function()
    T.eq(
      notes(function()
        -- disabled by the user
        dofile(file)
        -- wasm_nvim without a `whitespace` plugin
        package.loaded.wasm_nvim = {}
        vim.g.loaded_wasm_whitespace = nil
        dofile(file)
      end),
      {}
    )
  end)
  package.loaded.wasm_nvim = real
  assert(ok, err)
  T.eq(vim.fn.exists('#WasmWhitespace'), 0)
  wasm.whitespace.setup({})
  T.eq(#autocmds(), 3)
end)

T.test('writing trims trailing whitespace in the file and the buffer', function()
  local buf = buffer(messy)
  local file = tempfile()
  write(file)
  T.eq(vim.fn.readfile(file), tidy)
  T.eq(lines(buf), tidy)
  T.eq(vim.bo[buf].modified, false, 'modified')
  T.eq(vim.b[buf].trailing_whitespace, 0)
  -- a second write: nothing to do
  write()
  T.eq(vim.fn.readfile(file), tidy)
end)

T.test('writing keeps the cursor, in every window on the buffer', function()
  local buf = buffer({ 'one  ', 'hello world   ', 'x\t', 'tail' })
  vim.api.nvim_win_set_cursor(0, { 2, 6 })
  vim.cmd.split()
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  local other = vim.api.nvim_get_current_win()
  vim.cmd.wincmd('p')
  write(tempfile())
  T.eq(lines(buf), { 'one', 'hello world', 'x', 'tail' })
  T.eq(vim.api.nvim_win_get_cursor(0), { 2, 6 })
  T.eq(vim.api.nvim_win_get_cursor(other), { 3, 0 })
  -- a cursor inside the whitespace that goes moves to the line end
  vim.api.nvim_buf_set_lines(buf, 0, 2, true, { 'one  ', 'hello world   ' })
  vim.api.nvim_win_set_cursor(0, { 2, 12 })
  vim.api.nvim_win_set_cursor(other, { 1, 4 })
  write()
  T.eq(lines(buf), { 'one', 'hello world', 'x', 'tail' })
  T.eq(vim.api.nvim_win_get_cursor(0), { 2, 10 })
  T.eq(vim.api.nvim_win_get_cursor(other), { 1, 2 })
  vim.api.nvim_win_close(other, true)
end)

T.test('the trim on write is one undo step', function()
  local buf = buffer(messy)
  write(tempfile())
  T.eq(lines(buf), tidy)
  vim.cmd.undo({ mods = { silent = true } })
  T.eq(lines(buf), messy)
  vim.cmd.redo({ mods = { silent = true } })
  T.eq(lines(buf), tidy)
end)

T.test('vim.b.whitespace_disable = true keeps the whitespace of that buffer', function()
  local buf = buffer(messy)
  vim.b[buf].whitespace_disable = true
  local file = tempfile()
  write(file)
  T.eq(vim.fn.readfile(file), messy)
  T.eq(lines(buf), messy)
  -- other buffers are still trimmed
  local other = buffer({ 'a ' })
  write(tempfile())
  T.eq(lines(other), { 'a' })
  -- and this one again once the variable is gone
  vim.api.nvim_set_current_buf(buf)
  vim.b[buf].whitespace_disable = nil
  write()
  T.eq(vim.fn.readfile(file), tidy)
end)

T.test(':Whitespace disable / enable / toggle switch trimming on write', function()
  local buf = buffer({ 'x  ' })
  local file = tempfile()
  T.eq(
    notes(function()
      vim.cmd('Whitespace disable')
    end),
    {}
  )
  write(file)
  T.eq(vim.fn.readfile(file), { 'x  ' })
  vim.cmd('Whitespace enable')
  write()
  T.eq(vim.fn.readfile(file), { 'x' })
  vim.api.nvim_buf_set_lines(buf, 0, -1, true, { 'y ' })
  T.eq(
    notes(function()
      vim.cmd('Whitespace toggle')
    end),
    { 'INFO Whitespace: trim on save disabled' }
  )
  write()
  T.eq(vim.fn.readfile(file), { 'y ' })
  T.eq(
    notes(function()
      vim.cmd('Whitespace toggle')
    end),
    { 'INFO Whitespace: trim on save enabled' }
  )
  write()
  T.eq(vim.fn.readfile(file), { 'y' })
end)

T.test('setup options: trim_on_save = false, pattern', function()
  wasm.whitespace.setup({ trim_on_save = false })
  buffer({ 'a ' })
  local txt = tempfile()
  write(txt)
  T.eq(vim.fn.readfile(txt), { 'a ' })
  wasm.whitespace.setup({ pattern = '*.md' })
  write()
  T.eq(vim.fn.readfile(txt), { 'a ' }, 'not a *.md file')
  buffer({ 'b ' })
  local md = tempfile('.md')
  write(md)
  T.eq(vim.fn.readfile(md), { 'b' })
  wasm.whitespace.setup(vim.empty_dict())
  buffer({ 'c ' })
  local txt2 = tempfile()
  write(txt2)
  T.eq(vim.fn.readfile(txt2), { 'c' })
end)

T.test('setup with bad options raises a Lua error; the plugin keeps working', function()
  T.fails({ 'whitespace.setup', 'unknown field `trim`' }, wasm.whitespace.setup, { trim = true })
  T.fails(
    { 'whitespace.setup', 'argument 1 (opts): invalid type: a string, expected a boolean or a number' },
    wasm.whitespace.setup,
    { trim_on_save = 'yes' }
  )
  T.fails(
    { 'whitespace.setup', 'argument 1 (opts): expected a table or nil, got a string' },
    wasm.whitespace.setup,
    '*'
  )
  T.eq(#autocmds(), 3)
  -- the callbacks still work
  local buf = buffer({ 'a ', 'b' })
  T.eq(vim.b[buf].trailing_whitespace, 1)
  write(tempfile())
  T.eq(lines(buf), { 'a', 'b' })
  T.eq(vim.b[buf].trailing_whitespace, 0)
end)

T.test('a buffer that is not modifiable is written as it is, without errors', function()
  local buf = buffer({ 'a ' })
  vim.bo[buf].modifiable = false
  local file = tempfile()
  T.eq(
    notes(function()
      write(file)
    end),
    {}
  )
  T.eq(vim.fn.readfile(file), { 'a ' })
end)

T.test('b:trailing_whitespace follows nvim_buf_set_lines edits', function()
  local buf = buffer({ 'a ', 'b', 'c\t' })
  T.eq(vim.b[buf].trailing_whitespace, 2)
  vim.api.nvim_buf_set_lines(buf, 1, 2, true, { 'b ', 'x ', 'y' })
  T.eq(vim.b[buf].trailing_whitespace, 4)
  vim.api.nvim_buf_set_lines(buf, 0, 2, true, {})
  T.eq(lines(buf), { 'x ', 'y', 'c\t' })
  T.eq(vim.b[buf].trailing_whitespace, 2)
  vim.api.nvim_buf_set_lines(buf, 0, -1, true, { 'clean' })
  T.eq(vim.b[buf].trailing_whitespace, 0)
  vim.api.nvim_buf_set_lines(buf, -1, -1, true, { ' ', ' ' })
  T.eq(vim.b[buf].trailing_whitespace, 2)
  vim.api.nvim_buf_set_text(buf, 1, 0, 1, 1, { 'z' })
  T.eq(vim.b[buf].trailing_whitespace, 1)
end)

T.test('b:trailing_whitespace follows typing, deleting and undo', function()
  local buf = buffer({ 'one', 'two' })
  T.eq(vim.b[buf].trailing_whitespace, 0)
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.api.nvim_feedkeys(vim.keycode('A  <Esc>'), 'x', false)
  T.eq(lines(buf), { 'one  ', 'two' })
  T.eq(vim.b[buf].trailing_whitespace, 1)
  vim.api.nvim_feedkeys(vim.keycode('jA<Tab><Esc>'), 'x', false)
  T.eq(vim.b[buf].trailing_whitespace, 2)
  vim.api.nvim_feedkeys(vim.keycode('ox <Esc>'), 'x', false)
  T.eq(lines(buf), { 'one  ', 'two\t', 'x ' })
  T.eq(vim.b[buf].trailing_whitespace, 3)
  -- in a script, typed commands do not close undo blocks by themselves
  undo_break()
  vim.api.nvim_feedkeys('ggdd', 'x', false)
  T.eq(vim.b[buf].trailing_whitespace, 2)
  vim.cmd.undo({ mods = { silent = true } })
  T.eq(lines(buf), { 'one  ', 'two\t', 'x ' })
  T.eq(vim.b[buf].trailing_whitespace, 3)
  vim.api.nvim_feedkeys(vim.keycode('G$x'), 'x', false)
  T.eq(vim.b[buf].trailing_whitespace, 2)
end)

T.test('b:trailing_whitespace stays right over 300 random edits', function()
  local buf = buffer({ 'start' })
  math.randomseed(42)
  local words = { 'a', 'b ', '\t', '', 'c\t', ' d', 'e  ' }
  for i = 1, 300 do
    local n = vim.api.nvim_buf_line_count(buf)
    local first = math.random(0, n)
    local last = math.random(first, n)
    local new = {}
    for j = 1, math.random(0, 3) do
      new[j] = words[math.random(#words)]
    end
    if last == first and #new == 0 then
      new = { 'f ' }
    end
    vim.api.nvim_buf_set_lines(buf, first, last, false, new)
    local expected = #vim.tbl_filter(function(l)
      return l:find('[ \t]$') ~= nil
    end, lines(buf))
    T.eq(vim.b[buf].trailing_whitespace, expected, 'edit ' .. i)
  end
end)

T.test('the counter is attached to normal buffers only', function()
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(scratch, 0, -1, true, { 'a ' })
  vim.api.nvim_set_current_buf(scratch)
  T.eq(vim.b[scratch].trailing_whitespace, nil)
  -- a file read from disk gets it
  local file = tempfile()
  vim.fn.writefile({ 'a ', 'b ', 'c' }, file)
  vim.cmd.edit(file)
  T.eq(vim.b.trailing_whitespace, 2)
  -- :edit! reloads the buffer: recounted
  vim.fn.writefile({ 'a ' }, file)
  vim.cmd.edit({ bang = true })
  T.eq(vim.b.trailing_whitespace, 1)
end)

T.test('count() lists the lines with trailing whitespace', function()
  buffer(messy)
  T.eq(wasm.whitespace.count(), { count = 3, lines = { 1, 3, 4 } })
  buffer({ 'clean' })
  T.eq(wasm.whitespace.count(), { count = 0, lines = {} })
end)

T.test('trim() trims the buffer or a range, and checks the range', function()
  local buf = buffer(messy)
  T.eq(wasm.whitespace.trim({ first = 3, last = 4 }), { trimmed = 2 })
  T.eq(lines(buf), { 'local x = 1   ', 'clean', '\tindented', '', 'end' })
  T.eq(wasm.whitespace.trim({ first = 3, last = 4 }), { trimmed = 0 })
  T.eq(wasm.whitespace.trim(), { trimmed = 1 })
  T.eq(lines(buf), tidy)
  T.eq(vim.b[buf].trailing_whitespace, 0)
  buffer({ 'a ', 'b ' })
  T.eq(wasm.whitespace.trim({}), { trimmed = 2 })
  T.eq(wasm.whitespace.trim({ first = 3 }), { error = 'first (3) is after last (2)' })
  T.eq(wasm.whitespace.trim({ first = 0 }), { error = 'first must be at least 1, got 0' })
  T.eq(wasm.whitespace.trim({ last = 9 }), { error = 'last is 9, but the buffer has 2 lines' })
  T.contains(wasm.whitespace.trim({ lines = 1 }).error, 'unknown field `lines`')
  T.contains(wasm.whitespace.trim(5).error, 'argument 1 (range): expected a table or nil, got an integer')
end)

T.test(':Whitespace trim, with and without a range', function()
  local buf = buffer({ 'a ', 'b ', 'c ', 'd ' })
  T.eq(
    notes(function()
      vim.cmd('2,3Whitespace trim')
    end),
    { 'INFO Whitespace: trimmed 2 lines' }
  )
  T.eq(lines(buf), { 'a ', 'b', 'c', 'd ' })
  T.eq(vim.b[buf].trailing_whitespace, 2)
  T.eq(
    notes(function()
      vim.cmd('Whitespace trim')
    end),
    { 'INFO Whitespace: trimmed 2 lines' }
  )
  T.eq(lines(buf), { 'a', 'b', 'c', 'd' })
  T.eq(
    notes(function()
      vim.cmd('Whitespace trim')
    end),
    { 'INFO Whitespace: trimmed 0 lines' }
  )
  -- a visual selection
  buffer({ 'x ', 'y ', 'z ' })
  vim.api.nvim_feedkeys(vim.keycode('jVj<Esc>'), 'x', false)
  T.notified(function()
    vim.cmd("'<,'>Whitespace trim")
  end)
  T.eq(lines(), { 'x ', 'y', 'z' })
end)

T.test(':Whitespace count notifies', function()
  buffer(messy)
  T.eq(
    notes(function()
      vim.cmd('Whitespace count')
      vim.cmd('4,5Whitespace count')
      vim.cmd('5Whitespace count')
    end),
    {
      'INFO Whitespace: 3 lines with trailing whitespace: 1, 3, 4',
      'INFO Whitespace: 1 line with trailing whitespace: 4',
      'INFO Whitespace: no trailing whitespace',
    }
  )
  local many = {}
  for i = 1, 12 do
    many[i] = i .. ' '
  end
  buffer(many)
  T.eq(
    notes(function()
      vim.cmd('Whitespace count')
    end),
    { 'INFO Whitespace: 12 lines with trailing whitespace: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...' }
  )
end)

T.test(':Whitespace with an unknown subcommand is an error notification', function()
  local buf = buffer({ 'a ' })
  T.eq(
    notes(function()
      vim.cmd('Whitespace nope')
    end),
    { 'ERROR Whitespace: unknown subcommand "nope" (expected trim, count, toggle, enable, disable)' }
  )
  T.eq(lines(buf), { 'a ' })
  T.fails('E471', vim.cmd, 'Whitespace')
end)

T.test(':Whitespace completion', function()
  T.eq(vim.fn.getcompletion('Whitespace ', 'cmdline'), { 'trim', 'count', 'toggle', 'enable', 'disable' })
  T.eq(vim.fn.getcompletion('Whitespace t', 'cmdline'), { 'trim', 'toggle' })
  T.eq(vim.fn.getcompletion('Whitespace tr', 'cmdline'), { 'trim' })
  T.eq(vim.fn.getcompletion("'<,'>Whitespace e", 'cmdline'), { 'enable' })
  T.eq(vim.fn.getcompletion('Whitespace x', 'cmdline'), {})
  T.eq(vim.fn.getcompletion('Whitespace trim ', 'cmdline'), {})
end)

T.test('a line that is not UTF-8 is counted and trimmed too (the SDK reads lines as bytes)', function()
  local buf
  local file = tempfile()
  local seen = notes(function()
    buf = buffer({ 'caf\233 ', 'b ' })
    T.eq(vim.b[buf].trailing_whitespace, 2)
    write(file)
  end)
  T.eq(seen, {})
  T.eq(vim.b[buf].trailing_whitespace, 0)
  T.eq(vim.fn.readfile(file), { 'caf\233', 'b' })
  T.eq(lines(buf), { 'caf\233', 'b' })
  vim.api.nvim_buf_delete(buf, { force = true })
end)

T.test('calling setup again replaces everything instead of adding to it', function()
  local before = autocmds()
  wasm.whitespace.setup({})
  wasm.whitespace.setup({})
  T.eq(#autocmds(), 3)
  T.ok(autocmds()[1].id ~= before[1].id, 'new autocmds')
  local buf = buffer({ 'a ' })
  vim.api.nvim_buf_set_lines(buf, -1, -1, true, { 'b ' })
  T.eq(vim.b[buf].trailing_whitespace, 2)
  write(tempfile())
  T.eq(lines(buf), { 'a', 'b' })
end)

T.test('setup attaches the counter to buffers that were already open', function()
  vim.api.nvim_del_augroup_by_name('WasmWhitespace')
  local buf = buffer({ 'a ', 'b ' })
  T.eq(vim.b[buf].trailing_whitespace, nil)
  wasm.whitespace.setup({})
  T.eq(vim.b[buf].trailing_whitespace, 2)
  vim.api.nvim_buf_set_lines(buf, 0, 1, true, { 'a' })
  T.eq(vim.b[buf].trailing_whitespace, 1)
end)

T.test('after require("wasm_nvim").setup() (reload) the old callbacks are gone; setup works again', function()
  local buf = buffer({ 'a ' })
  T.eq(vim.b[buf].trailing_whitespace, 1)
  wasm.setup()
  T.eq(#autocmds(), 0)
  T.eq(vim.fn.exists(':Whitespace'), 0)
  local file = tempfile()
  T.eq(
    notes(function()
      -- the stale buffer attachment detaches itself, silently
      vim.api.nvim_buf_set_lines(buf, -1, -1, true, { 'b ' })
      write(file)
    end),
    {}
  )
  T.eq(vim.fn.readfile(file), { 'a ', 'b ' }, 'not trimmed')
  T.eq(vim.b[buf].trailing_whitespace, 1, 'no longer counted')
  -- the reloaded plugin sets itself up again
  wasm.whitespace.setup({})
  T.eq(#autocmds(), 3)
  T.eq(vim.fn.exists(':Whitespace'), 2)
  T.eq(vim.b[buf].trailing_whitespace, 2)
  vim.api.nvim_buf_set_lines(buf, -1, -1, true, { 'c ' })
  T.eq(vim.b[buf].trailing_whitespace, 3)
  write()
  T.eq(vim.fn.readfile(file), { 'a', 'b', 'c' })
  T.eq(vim.b[buf].trailing_whitespace, 0)
end)
