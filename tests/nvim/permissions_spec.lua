-- Permissions: by default a plugin may do what a Lua plugin may (call the
-- API, run Lua); `allow` in setup() withholds the Lua bridge, the API, or
-- all of the API but a list. A withheld import fails when called, naming
-- the permission; the plugin still loads and its other functions work, and
-- nothing the plugin was refused happened.

T.rtp('conformance', 'fastabi')
vim.cmd.runtime('plugin/wasm_nvim.lua') -- :Wasm (nvim -l loads no plugins)
local wasm = require('wasm_nvim')
local editor_is_fine = T.unsaved_buffer()

local function setup(allow)
  wasm.setup({ plugins = { conformance = { allow = allow }, fastabi = { allow = allow } } })
  return wasm.conformance, wasm.fastabi
end

T.test('by default a plugin may call the API and run Lua, like a Lua plugin', function()
  local c, f = setup(nil)
  T.eq(c.eval('1 + 1'), 2)
  T.eq(f.lua_add(1, 2), 3)
  T.buffer({ 'line' })
  T.eq(c.current_line(), 'line')
end)

T.test('allow.lua = false: no lua_exec, lua_eval, nvim.lua, nor API functions that run text', function()
  local c, f = setup({ lua = false })
  vim.g.ran = nil
  local denied = "permission denied: plugin 'conformance' may not run Lua or Vimscript (allow.lua = false in setup())"
  T.fails({ 'wasm_nvim: conformance.exec:', 'lua_exec', denied }, c.exec, 'vim.g.ran = 1')
  T.fails({ 'wasm_nvim: conformance.eval:', 'lua_eval', denied }, c.eval, '1 + 1')
  T.fails({ 'wasm_nvim: conformance.command:', 'nvim_command', denied }, c.command, 'let g:ran = 1')
  T.fails({ 'wasm_nvim: fastabi.lua_add:', "plugin 'fastabi' may not run Lua or Vimscript" }, f.lua_add, 1, 2)
  T.eq(vim.g.ran, nil, 'nothing ran')
  T.buffer({ 'still readable' })
  T.eq(c.current_line(), 'still readable', 'the rest of the API works')
  T.eq(f.current_line(), 'still readable')
  T.eq(c.ping(), 'pong')
  editor_is_fine()
end)

T.test('allow.api = false: no API function; with allow.lua = false too, a pure computation', function()
  local c, f = setup({ api = false, lua = false })
  T.buffer({ 'private' })
  T.fails({
    'wasm_nvim: conformance.current_line:',
    'nvim_get_current_line',
    "permission denied: plugin 'conformance' may not call nvim_get_current_line (allow.api = false in setup())",
  }, c.current_line)
  T.fails({ 'fastabi.current_line:', 'may not call nvim_get_current_line (allow.api = false' }, f.current_line)
  T.fails('may not run Lua', c.exec, 'vim.g.ran = 1')
  T.eq(c.echo({ 1, 2 }), { 1, 2 }, 'computing still works')
  T.eq(f.greet('you'), 'Hello, you!')
  editor_is_fine()
end)

T.test('allow.api = { names }: only those functions', function()
  local c = setup({ api = { 'nvim_get_current_line' } })
  T.buffer({ 'before' })
  T.eq(c.current_line(), 'before')
  T.fails('may not call nvim_set_current_line (it is not in allow.api in setup())', c.set_line, 'after')
  T.eq(T.lines(), { 'before' }, 'the buffer was not changed')
end)

T.test(':Wasm info shows what a plugin imports and what it is allowed', function()
  setup({ lua = false, api = { 'nvim_get_current_line' } })
  local out = vim.api.nvim_exec2('Wasm info conformance', { output = true }).output
  T.contains(out, 'imports:  ', 'lua_eval', 'lua_exec', 'nvim_get_current_line', 'nvim_set_current_line')
  T.contains(out, 'allowed:  api (nvim_get_current_line)')
  setup(nil)
  out = vim.api.nvim_exec2('Wasm info conformance', { output = true }).output
  T.contains(out, 'allowed:  lua, api')
end)

T.test('a global allow applies to every plugin; a plugin entry overrides it', function()
  wasm.setup({ allow = { lua = false }, plugins = { fastabi = { allow = { lua = true } } } })
  T.fails('may not run Lua', wasm.conformance.eval, '1')
  T.eq(wasm.fastabi.lua_add(2, 3), 5)
end)

T.test('bad allow options are errors naming the option; unknown keys warn', function()
  T.fails(
    "option 'plugins.conformance.allow.api' must be a boolean or a list of API function names, got integer",
    wasm.setup,
    { plugins = { conformance = { allow = { api = 3 } } } }
  )
  T.fails("option 'allow.lua' must be a boolean, got string", wasm.setup, { allow = { lua = 'no' } })
  local notes = T.notified(function()
    wasm.setup({ allow = { files = false } })
  end)
  T.contains(T.notes_text(notes), "unknown option 'allow.files' (ignored)")
end)
