-- Fault injection: plugins that loop forever, eat memory, recurse without
-- end, break the host. Each must give a Lua error naming plugin and function;
-- Neovim must keep answering; an unsaved buffer must stay as it was; the
-- plugin's healthy functions must still work (or, for the documented
-- repeated-timeout policy, the plugin is cleanly disabled).

vim.env.WASM_NVIM_TEST_HOOKS = '1' -- enables host::__test_panic
T.rtp('hostile', 'faulty', 'broken', 'conformance')
local wasm = require('wasm_nvim')
T.notified(function() -- the broken/ plugins warn; errors_spec checks those
  wasm.setup({ plugins = { hostile = { timeout_ms = 200, memory_mb = 32, max_timeouts = 3 } } })
end)
local h = wasm.hostile
local editor_is_fine = T.unsaved_buffer()

local function healthy()
  editor_is_fine()
  T.eq(h.ok(), 'fine')
end

T.test('infinite loop: interrupted at the deadline', function()
  local t0 = vim.uv.hrtime()
  T.fails(
    { 'wasm_nvim: hostile.spin:', 'limit exceeded: timeout: the call ran for more than 200 ms of wasm time' },
    h.spin
  )
  local ms = (vim.uv.hrtime() - t0) / 1e6
  -- deadlines are checked every 10 ms tick: within a tick or two of 200
  T.ok(ms >= 180 and ms < 1000, ('interrupted after %.0f ms'):format(ms))
  healthy()
end)

T.test('time spent in Neovim for the plugin does not count against the deadline', function()
  h.host_sleep() -- 300 ms inside lua_exec, with a 200 ms limit
  h.count(1000000) -- a real loop that finishes in time
  healthy()
end)

T.test('memory bomb: stopped at the memory limit', function()
  T.fails({ 'wasm_nvim: hostile.grow:', 'limit exceeded: memory:', 'its limit is 32 MiB' }, h.grow)
  healthy()
end)

T.test('stack overflow: a trap, not a crash', function()
  local err = T.fails({ 'wasm_nvim: hostile.recurse:', 'call stack exhausted' }, h.recurse)
  T.contains(err, 'wasm backtrace:', 'down')
  healthy()
end)

T.test('a panic inside a host import: an internal error, not an abort', function()
  T.fails({
    'wasm_nvim: hostile.host_panic:',
    'internal error (please report): panic: test hook: a panic inside a host import',
  }, h.host_panic)
  healthy()
end)

T.test('a callback that loops forever is interrupted and reported; the autocmd stays', function()
  h.spin_on_event()
  local notes = T.notified(function()
    vim.api.nvim_exec_autocmds('User', { pattern = 'WasmSpin' })
  end)
  T.eq(#notes, 1)
  T.eq(notes[1].level, vim.log.levels.ERROR)
  T.contains(notes[1].msg, 'wasm_nvim: hostile.spin (callback):', 'timeout')
  T.eq(#vim.api.nvim_get_autocmds({ event = 'User', pattern = 'WasmSpin' }), 1)
  healthy()
end)

T.test('the ABI faults of faulty/ and bad_alloc/ each leave the editor intact', function()
  for _, f in ipairs({
    'trap',
    'unknown_size',
    'set_out_of_bounds',
    'set_huge',
    'set_unknown_id',
    'return_unknown_id',
    'return_bad_utf8',
    'return_bad_json',
    'lua_error',
    'lua_syntax_error',
  }) do
    T.fails('wasm_nvim: faulty.' .. f .. ':', wasm.faulty[f])
    editor_is_fine()
    T.eq(wasm.faulty.ok(), 'fine')
  end
  T.fails('wasm_nvim: bad_alloc.take:', wasm.bad_alloc.take, 'x')
  editor_is_fine()
end)

T.test('recursion plugin -> Lua -> plugin past the limit', function()
  T.fails({ 'wasm_nvim: conformance.recurse:', 'nested deeper than 100' }, wasm.conformance.recurse, 150)
  editor_is_fine()
  T.eq(wasm.conformance.ping(), 'pong')
end)

T.test('three timeouts in a row disable the plugin, until setup() reloads it', function()
  local notes = T.notified(function()
    for _ = 1, 3 do
      T.fails('timeout', h.spin)
    end
  end)
  T.contains(T.notes_text(notes), "wasm_nvim: plugin 'hostile' disabled: 3 calls in a row timed out")
  T.fails({ 'wasm_nvim: hostile.ok:', 'disabled: 3 calls in a row timed out' }, h.ok)
  editor_is_fine()
  T.notified(function()
    wasm.setup({ plugins = { hostile = { timeout_ms = 200 } } })
  end)
  T.eq(wasm.hostile.ok(), 'fine')
end)

T.test('the limits are per plugin: others keep the defaults', function()
  T.eq(wasm.conformance.big(40 * 1000 * 1000):len(), 40 * 1000 * 1000) -- needs more than 32 MiB
end)
