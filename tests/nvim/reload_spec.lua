-- Hot reload keeps a plugin working: `:Wasm reload` (and `reload()`) give
-- the new code the old plugin's callbacks, re-bound by export name. Each
-- test registers callbacks of every kind (autocmd, user command, keymaps,
-- nvim_buf_attach, a repeating timer), reloads, then drives the real events
-- and checks that the *new* instance received them (its log starts empty).

T.rtp('conformance')
vim.cmd.runtime('plugin/wasm_nvim.lua')
local wasm = require('wasm_nvim')
wasm.setup()

local function cb(name)
  return { __wasm_callback = name }
end

--- A fresh directory on the runtimepath holding wasm/<name>.wasm, a copy of `from`.
local function plugin_dir(name, from)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/wasm', 'p')
  vim.uv.fs_copyfile(from, dir .. '/wasm/' .. name .. '.wasm')
  vim.opt.rtp:append(dir)
  return dir .. '/wasm/' .. name .. '.wasm'
end

--- Registers one callback of each kind with plugin P; returns the buffer.
local function register_all(P, tag)
  P.create_autocmd({ 'User', { pattern = tag, callback = cb('on_record') } })
  P.create_user_command({ tag .. 'Cmd', cb('on_record'), { nargs = '*' } })
  P.set_keymap({ 'n', '<F9>', '', { callback = cb('on_tick') } })
  local buf = T.buffer({ 'one' })
  P.buf_set_keymap({ buf, 'n', '<F10>', '', { callback = cb('on_tick') } })
  P.buf_attach({ buf, false, { on_lines = cb('on_record') } })
  -- a repeating timer calling the export until the test stops it
  P.exec_lua({
    [[
    _G.reload_timer = vim.uv.new_timer()
    _G.reload_timer:start(5, 5, vim.schedule_wrap(...))
  ]],
    { cb('on_tick') },
  })
  return buf
end

--- Fires each registered callback once; returns what the plugin logged.
local function fire_all(P, tag, buf)
  P.clear_log()
  vim.api.nvim_exec_autocmds('User', { pattern = tag })
  vim.cmd(tag .. 'Cmd hello')
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_feedkeys(vim.keycode('<F9><F10>'), 'x', false)
  vim.api.nvim_buf_set_lines(buf, 0, -1, true, { 'edited' })
  local log = P.log()
  local ticks_before = #vim.tbl_filter(function(e)
    return e == 'tick'
  end, log)
  T.ok(
    vim.wait(1000, function()
      return #vim.tbl_filter(function(e)
        return e == 'tick'
      end, P.log()) > ticks_before
    end),
    'the timer reaches the plugin'
  )
  _G.reload_timer:stop()
  _G.reload_timer:close()
  return P.log()
end

local function kinds(log)
  local seen = { autocmd = false, command = false, keys = 0, lines = false }
  for _, entry in ipairs(log) do
    if entry == 'tick' then
      seen.keys = seen.keys + 1
    elseif type(entry) == 'table' and type(entry[1]) == 'table' and entry[1].event == 'User' then
      seen.autocmd = true
    elseif type(entry) == 'table' and type(entry[1]) == 'table' and entry[1].args == 'hello' then
      seen.command = true
    elseif type(entry) == 'table' and entry[1] == 'lines' then
      seen.lines = true
    end
  end
  return seen
end

T.test(':Wasm reload {plugin}: autocmds, commands, keymaps, buf_attach and timers reach the new code', function()
  local path = plugin_dir('live', T.build .. '/conformance/wasm/conformance.wasm')
  local buf = register_all(wasm.live, 'LiveOne')
  wasm.live.stash('state of the old instance')
  vim.cmd('Wasm reload live')
  T.eq(wasm.live.unstash(), nil, 'the new instance starts with fresh state')
  T.eq(wasm.live.log(), {}, 'and an empty log')
  local seen = kinds(fire_all(wasm.live, 'LiveOne', buf))
  T.eq(seen.autocmd, true, 'autocmd')
  T.eq(seen.command, true, 'user command')
  T.eq(seen.lines, true, 'on_lines')
  T.ok(seen.keys >= 3, 'two keymaps and the timer: ' .. seen.keys)
  T.eq(#vim.api.nvim_get_autocmds({ event = 'User', pattern = 'LiveOne' }), 1, 'not duplicated')
  T.contains(table.concat(wasm._log(), '\n'), '[live] reloaded: ' .. path)
end)

T.test(':Wasm reload (all plugins) keeps callbacks working too, and reload() twice is fine', function()
  plugin_dir('every', T.build .. '/conformance/wasm/conformance.wasm')
  local buf = register_all(wasm.every, 'EveryOne')
  vim.cmd('Wasm reload')
  wasm.reload()
  local seen = kinds(fire_all(wasm.every, 'EveryOne', buf))
  T.eq({ seen.autocmd, seen.command, seen.lines }, { true, true, true })
  T.ok(seen.keys >= 3, 'keymaps and timer: ' .. seen.keys)
  T.eq(wasm.conformance.ping(), 'pong', 'other plugins untouched')
end)

T.test('setup() again still starts from scratch: the callbacks are released', function()
  plugin_dir('reset', T.build .. '/conformance/wasm/conformance.wasm')
  wasm.reset.create_autocmd({ 'User', { pattern = 'ResetOne', callback = cb('on_record') } })
  wasm.reset.create_user_command({ 'ResetOneCmd', cb('on_record'), {} })
  wasm.setup()
  T.eq(#vim.api.nvim_get_autocmds({ event = 'User', pattern = 'ResetOne' }), 0)
  T.eq(vim.fn.exists(':ResetOneCmd'), 0)
end)

T.test('a reload into code without the export drops those callbacks, saying so', function()
  local path = plugin_dir('shrink', T.build .. '/conformance/wasm/conformance.wasm')
  wasm.shrink.create_autocmd({ 'User', { pattern = 'ShrinkOne', callback = cb('on_record') } })
  wasm.shrink.create_user_command({ 'ShrinkOneCmd', cb('on_record'), {} })
  local buf = T.buffer({ 'x' })
  wasm.shrink.buf_attach({ buf, false, { on_lines = cb('on_record') } })
  vim.uv.fs_copyfile(T.build .. '/hello/wasm/hello.wasm', path)
  local notes = T.notified(function()
    vim.cmd('Wasm reload shrink')
  end)
  local text = T.notes_text(notes)
  T.contains(
    text,
    "wasm_nvim: reloaded 'shrink': dropped user command :ShrinkOneCmd (its callback 'on_record' is no longer exported)",
    "wasm_nvim: reloaded 'shrink': dropped autocmd "
  )
  T.eq(#vim.api.nvim_get_autocmds({ event = 'User', pattern = 'ShrinkOne' }), 0)
  T.eq(vim.fn.exists(':ShrinkOneCmd'), 0)
  -- the attachment cannot be deleted from outside: it detaches itself, silently
  T.eq(
    T.notified(function()
      vim.api.nvim_buf_set_lines(buf, 0, -1, true, { 'y' })
      vim.api.nvim_buf_set_lines(buf, 0, -1, true, { 'z' })
    end),
    {}
  )
  T.contains(table.concat(wasm._log(), '\n'), "[shrink] callback dropped: 'on_record' is no longer exported")
  T.eq(wasm.shrink.greet('you'), 'Hello, you!')
end)

T.test('a failed reload keeps the old version, callbacks and all, and is in :Wasm log', function()
  local path = plugin_dir('sturdy', T.build .. '/conformance/wasm/conformance.wasm')
  wasm.sturdy.create_autocmd({ 'User', { pattern = 'SturdyOne', callback = cb('on_record') } })
  wasm.sturdy.stash('kept')
  vim.fn.writefile({ 'garbage' }, path)
  for _, reload in ipairs({ 'Wasm reload sturdy', 'Wasm reload' }) do
    local notes = T.notified(function()
      vim.cmd(reload)
    end)
    T.contains(T.notes_text(notes), "reloading 'sturdy': cannot load: not a WebAssembly module")
    T.eq(wasm.sturdy.unstash(), 'kept', 'the old instance, state and all')
    wasm.sturdy.stash('kept')
    wasm.sturdy.clear_log()
    vim.api.nvim_exec_autocmds('User', { pattern = 'SturdyOne' })
    T.eq(#wasm.sturdy.log(), 1, 'its autocmd still works after ' .. reload)
  end
  local log = vim.api.nvim_exec2('Wasm log', { output = true }).output
  T.contains(log, "[sturdy] reload failed: reloading 'sturdy': cannot load: not a WebAssembly module")
end)

T.test('a plugin cannot be reloaded from inside one of its own calls', function()
  plugin_dir('inside', T.build .. '/conformance/wasm/conformance.wasm')
  T.fails(
    "cannot reload 'inside' while it is running (from its own callback: use vim.schedule)",
    wasm.inside.exec,
    'assert(require("wasm_nvim").reload("inside"))'
  )
  T.eq(wasm.inside.ping(), 'pong')
end)
