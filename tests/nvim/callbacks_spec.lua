-- A plugin's exports wherever Neovim takes a Lua function: each test drives
-- the real event (write a buffer, run a command, feed keys, edit lines, wait
-- for a timer) and checks what the plugin's callback received and did.
-- The conformance plugin's callbacks record their arguments in a log.

T.rtp('conformance', 'conformance2')
local wasm = require('wasm_nvim')
wasm.setup()
local A, B = wasm.conformance, wasm.conformance2

local function cb(name)
  return { __wasm_callback = name }
end

local function fresh()
  A.clear_log()
  B.clear_log()
  A.set_reply(nil)
end

--- The errors vim.notify received while fn ran.
local function errors_during(fn)
  local errs = {}
  for _, n in ipairs(T.notified(fn)) do
    if n.level == vim.log.levels.ERROR then
      errs[#errs + 1] = n.msg
    end
  end
  return errs
end

T.test('nvim_create_autocmd: the callback receives the event table (BufWritePre on :write)', function()
  fresh()
  local group = vim.api.nvim_create_augroup('WasmWrite', {})
  local id = A.create_autocmd({ 'BufWritePre', { group = group, pattern = '*.txt', callback = cb('on_event') } })
  T.ok(type(id) == 'number' and id > 0, 'autocmd id')
  local file = vim.fn.tempname() .. '.txt'
  T.buffer({ 'to be written' })
  vim.cmd.write(file)
  local log = A.log()
  T.eq(#log, 1)
  local event = log[1][1]
  T.eq(event.event, 'BufWritePre')
  T.eq(T.slashes(event.match), T.slashes(file))
  T.eq(event.id, id)
  T.eq(event.group, group)
  T.eq(event.buf, vim.api.nvim_get_current_buf())
  T.eq(vim.fn.readfile(file), { 'to be written' })
end)

T.test('nvim_create_autocmd: returning true deletes the autocmd', function()
  fresh()
  A.set_reply(true)
  A.create_autocmd({ 'User', { pattern = 'WasmOnce', callback = cb('on_event') } })
  vim.api.nvim_exec_autocmds('User', { pattern = 'WasmOnce' })
  vim.api.nvim_exec_autocmds('User', { pattern = 'WasmOnce' })
  T.eq(#A.log(), 1)
  T.eq(#vim.api.nvim_get_autocmds({ event = 'User', pattern = 'WasmOnce' }), 0)
end)

T.test('autocmds fire from nvim_exec_autocmds, :doautocmd, and the plugin itself', function()
  fresh()
  A.create_autocmd({ 'User', { pattern = 'WasmPing', callback = cb('on_event') } })
  vim.api.nvim_exec_autocmds('User', { pattern = 'WasmPing', data = { from = 'lua' } })
  vim.cmd.doautocmd('User WasmPing')
  A.exec_autocmds({ 'User', { pattern = 'WasmPing', data = { from = 'wasm' } } })
  local log = A.log()
  T.eq(#log, 3)
  T.eq(log[1][1].data, { from = 'lua' })
  T.eq(log[2][1].data, nil)
  T.eq(log[3][1].data, { from = 'wasm' })
end)

T.test('a callback may be any export, listed or not; an unknown one fails at registration', function()
  T.fails(
    { 'conformance.create_autocmd', 'nvim_create_autocmd', "'nope' is not an exported function" },
    A.create_autocmd,
    { 'User', { pattern = 'X', callback = cb('nope') } }
  )
  T.fails({ "'memory' is not an exported function" }, A.create_autocmd, { 'User', { callback = cb('memory') } })
end)

T.test('nvim_create_user_command: fargs, bang and range reach the callback', function()
  fresh()
  A.create_user_command({ 'WasmCmd', cb('on_record'), { nargs = '*', bang = true, range = true } })
  T.buffer({ 'one', 'two', 'three' })
  vim.cmd('WasmCmd! alpha beta')
  vim.cmd('2,3WasmCmd gamma')
  local log = A.log()
  T.eq(#log, 2)
  T.eq(log[1][1].fargs, { 'alpha', 'beta' })
  T.eq(log[1][1].bang, true)
  T.eq(log[1][1].range, 0)
  T.eq(log[2][1].fargs, { 'gamma' })
  T.eq(log[2][1].bang, false)
  T.eq({ log[2][1].range, log[2][1].line1, log[2][1].line2 }, { 2, 2, 3 })
end)

T.test('nvim_create_user_command: a complete callback', function()
  fresh()
  A.create_user_command({ 'WasmComplete', cb('on_record'), { nargs = 1, complete = cb('on_complete') } })
  T.eq(vim.fn.getcompletion('WasmComplete al', 'cmdline'), { 'alpha', 'alphabet' })
  T.eq(vim.fn.getcompletion('WasmComplete ', 'cmdline'), { 'alpha', 'beta', 'gamma', 'alphabet' })
  T.eq(A.log()[1], { 'al', 'WasmComplete al', 15 })
end)

T.test('nvim_set_keymap and nvim_buf_set_keymap with a callback, driven by nvim_feedkeys', function()
  fresh()
  A.set_keymap({ 'n', '<F2>', '', { callback = cb('on_tick'), noremap = true } })
  local buf = T.buffer({ 'x' })
  A.buf_set_keymap({ buf, 'n', '<F3>', '', { callback = cb('on_record') } })
  vim.api.nvim_feedkeys(vim.keycode('<F2><F3><F2>'), 'x', false)
  T.eq(A.log(), { 'tick', {}, 'tick' })
end)

T.test('vim.keymap.set through nvim_exec_lua, and through lua_exec', function()
  fresh()
  A.exec_lua({ "vim.keymap.set('n', '<F4>', ...)", { cb('on_tick') } })
  A.exec("vim.keymap.set('n', '<F5>', function() require('wasm_nvim').conformance.exec_lua({ 'return 1' }) end)")
  vim.api.nvim_feedkeys(vim.keycode('<F4><F4>'), 'x', false)
  T.eq(A.log(), { 'tick', 'tick' })
  vim.api.nvim_feedkeys(vim.keycode('<F5>'), 'x', false)
  T.eq(A.exec_lua({ 'return ...', { 40, 2 } }), 40)
end)

T.test('nvim_buf_attach: on_lines and on_bytes see each edit; returning true detaches', function()
  fresh()
  local buf = T.buffer({ 'a', 'b', 'c' })
  local tick = vim.api.nvim_buf_get_changedtick(buf)
  T.eq(A.buf_attach({ buf, false, { on_lines = cb('on_event') } }), true)
  B.buf_attach({ buf, false, { on_bytes = cb('on_record') } })
  vim.api.nvim_buf_set_lines(buf, 1, 2, true, { 'B', 'B2' })
  local on_lines = A.log()[1]
  T.eq(
    { on_lines[1], on_lines[2], on_lines[3], on_lines[4], on_lines[5], on_lines[6] },
    { 'lines', buf, tick + 1, 1, 2, 3 }
  )
  local on_bytes = B.log()[1]
  T.eq({ on_bytes[1], on_bytes[2], on_bytes[4], on_bytes[5] }, { 'bytes', buf, 1, 0 })
  -- now on_lines answers true: Neovim detaches it
  A.set_reply(true)
  vim.api.nvim_buf_set_lines(buf, 0, 1, true, { 'A' })
  T.eq(#A.log(), 2)
  vim.api.nvim_buf_set_lines(buf, 0, 1, true, { 'AA' })
  T.eq(#A.log(), 2, 'no more on_lines after detaching')
  T.eq(#B.log(), 3, 'the other plugin is still attached')
end)

T.test('nvim_buf_attach: on_detach when the buffer goes away', function()
  fresh()
  local buf = T.buffer({ 'short-lived' })
  A.buf_attach({ buf, false, { on_lines = cb('on_event'), on_detach = cb('on_record') } })
  vim.api.nvim_buf_delete(buf, { force = true })
  T.eq(A.log(), { { 'detach', buf } })
end)

T.test('deferred work: vim.defer_fn and a repeating timer through nvim_exec_lua', function()
  fresh()
  A.exec_lua({ 'vim.defer_fn(..., 10)', { cb('on_tick') } })
  A.exec_lua({
    [[
    local tick = ...
    local timer, n = vim.uv.new_timer(), 0
    timer:start(5, 5, vim.schedule_wrap(function()
      n = n + 1
      tick()
      if n == 3 then timer:stop() timer:close() end
    end))
  ]],
    { cb('on_tick') },
  })
  T.ok(
    vim.wait(1000, function()
      return #A.log() == 4
    end),
    'four ticks, got ' .. #A.log()
  )
  vim.wait(50)
  T.eq(#A.log(), 4)
end)

T.test("re-entrancy through autocmds: A -> nvim_exec_autocmds -> A again (and B), to Neovim's nesting limit", function()
  fresh()
  A.create_autocmd({ 'User', { pattern = 'WasmChain', callback = cb('on_chain') } })
  B.create_autocmd({ 'User', { pattern = 'WasmChain', callback = cb('on_record') } })
  local errs = errors_during(function()
    -- Neovim allows autocmds to nest 10 deep (E218)
    T.eq(A.chain({ n = 9, via = 'autocmd' }), 10)
  end)
  T.eq(errs, {})
  -- depth first: A's callback goes deeper before B's runs, so B sees the
  -- innermost event first
  T.eq(#B.log(), 9)
  T.eq(B.log()[1][1].data, { n = 0, via = 'autocmd' })
  T.eq(B.log()[9][1].data, { n = 8, via = 'autocmd' })
end)

T.test("re-entrancy 60 deep: A -> nvim_exec_lua -> A's callback -> A ...", function()
  fresh()
  local errs = errors_during(function()
    T.eq(A.chain({ n = 60, via = 'lua' }), 61)
  end)
  T.eq(errs, {})
end)

T.test('re-entrancy past the limit is a clear error, reported, and everything recovers', function()
  fresh()
  local errs = errors_during(function()
    A.chain({ n = 150, via = 'lua' })
  end)
  T.ok(#errs >= 1, 'an error was reported')
  T.contains(errs[1], 'wasm_nvim: conformance.on_chain (callback):', 'nested deeper than 100')
  T.eq(A.chain({ n = 5, via = 'lua' }), 6)
  T.eq(vim.api.nvim_eval('1+1'), 2)
end)

T.test('a callback that traps: vim.notify ERROR naming plugin and export; the autocmd stays', function()
  fresh()
  A.create_autocmd({ 'User', { pattern = 'WasmFail', callback = cb('on_fail') } })
  local errs = errors_during(function()
    vim.api.nvim_exec_autocmds('User', { pattern = 'WasmFail' })
    vim.api.nvim_exec_autocmds('User', { pattern = 'WasmFail' })
  end)
  T.eq(#errs, 2)
  T.contains(errs[1], 'wasm_nvim: conformance.on_fail (callback):', 'wasm trap', 'unreachable')
  T.eq(#vim.api.nvim_get_autocmds({ event = 'User', pattern = 'WasmFail' }), 1)
  T.eq(A.ping(), 'pong')
end)

T.test('a failing callback does not fail the API call that fired it', function()
  fresh()
  A.create_autocmd({ 'BufEnter', { pattern = '*', callback = cb('on_fail') } })
  local other = vim.api.nvim_create_buf(true, false)
  local errs = errors_during(function()
    vim.api.nvim_set_current_buf(other) -- must not raise
  end)
  T.eq(vim.api.nvim_get_current_buf(), other)
  T.eq(#errs, 1)
  T.contains(errs[1], 'wasm_nvim: conformance.on_fail (callback):')
  vim.api.nvim_clear_autocmds({ event = 'BufEnter' })
end)

T.test('a failing keymap callback stays callable', function()
  fresh()
  A.set_keymap({ 'n', '<F6>', '', { callback = cb('on_fail') } })
  local errs = errors_during(function()
    vim.api.nvim_feedkeys(vim.keycode('<F6><F6>'), 'x', false)
  end)
  T.eq(#errs, 2)
  T.ok(vim.fn.maparg('<F6>', 'n', false, true).callback ~= nil, 'mapping still there')
end)

T.test('on reload, what a plugin registered with callbacks is deleted', function()
  fresh()
  local group = vim.api.nvim_create_augroup('WasmReload', {})
  A.create_autocmd({ 'User', { group = group, pattern = 'WasmReload', callback = cb('on_event') } })
  A.create_user_command({ 'WasmReloadCmd', cb('on_record'), {} })
  A.set_keymap({ 'n', '<F7>', '', { callback = cb('on_tick') } })
  local buf = T.buffer({ 'x' })
  A.buf_set_keymap({ buf, 'n', '<F8>', '', { callback = cb('on_tick') } })
  A.buf_attach({ buf, false, { on_lines = cb('on_event') } })
  wasm.setup()
  T.eq(#vim.api.nvim_get_autocmds({ group = group }), 0)
  T.eq(vim.fn.exists(':WasmReloadCmd'), 0)
  T.eq(vim.fn.maparg('<F7>', 'n'), '')
  T.eq(vim.fn.maparg('<F8>', 'n'), '')
  -- the buffer attachment cannot be deleted from outside: its stale
  -- callback answers true, which detaches it, and calls nothing
  local errs = errors_during(function()
    vim.api.nvim_buf_set_lines(buf, 0, -1, true, { 'edited after reload' })
    vim.api.nvim_buf_set_lines(buf, 0, -1, true, { 'and again' })
  end)
  T.eq(errs, {})
  T.eq(wasm.conformance.log(), {}, 'the reloaded plugin saw nothing')
end)
