-- A plugin compiled once keeps working on every Neovim its users have: it
-- runs on the stable release and on the nightly (scripts/test.sh runs every
-- spec on both), links by the types it declares, and an API function the
-- running Neovim lacks fails only when called, saying which Neovim it needs.

T.rtp('compat', 'mistyped', 'fastabi', 'probe_zig', 'probe_c')
local wasm = require('wasm_nvim')
local notes = T.notified(function()
  wasm.setup({ lazy = false })
end)
local v = vim.version()
local running = ('Neovim %d.%d.%d'):format(v.major, v.minor, v.patch)
local level = vim.fn.api_info().version.api_level
local has_012 = vim.fn.has('nvim-0.12') == 1

T.test('the library loads on this Neovim and says which one it runs on', function()
  T.ok(vim.fn.has('nvim-0.11') == 1, 'the suite runs on 0.11 or newer')
  local st = wasm._status()
  T.eq(st.nvim.api_level, level)
  T.contains(st.nvim.version, ('%d.%d.%d'):format(v.major, v.minor, v.patch))
end)

T.test('a plugin written for another Neovim loads here, and its other functions work', function()
  T.eq(wasm.compat.ping(), 'pong')
  T.ok(not T.notes_text(notes):find('compat', 1, true), 'no warning about compat: ' .. T.notes_text(notes))
end)

T.test('nvim_echo declared void, as the seed tutorial does, echoes on every Neovim', function()
  -- 0.12 made nvim_echo return a value; the plugin's import has no result,
  -- so the value is dropped
  wasm.compat.echo()
  T.contains(T.messages(), 'compat echo')
end)

T.test('a result declared for a function that returns nothing is an id holding null', function()
  vim.g.compat_command = nil
  T.eq(wasm.compat.command_result(), nil)
  T.eq(vim.g.compat_command, 1, 'the command ran')
end)

T.test('a function only a newer Neovim has fails when called, naming the Neovim it needs', function()
  if has_012 then
    wasm.compat.ui_send() -- nvim_ui_send exists here (no UI attached: nothing to see)
  else
    T.fails({
      'wasm_nvim: compat.ui_send:',
      'nvim_ui_send: needs API level 14 (Neovim 0.12)',
      ('this is %s'):format(running),
      ('(API level %d)'):format(level),
    }, wasm.compat.ui_send)
  end
  T.eq(wasm.compat.ping(), 'pong', 'the plugin still works')
end)

T.test('a function no Neovim has fails when called, saying it is unknown here', function()
  T.fails(
    { 'wasm_nvim: compat.unknown:', ('nvim_no_such_function: unknown in %s'):format(running) },
    wasm.compat.unknown
  )
  T.eq(wasm.compat.ping(), 'pong')
end)

T.test('an import whose type no API implies is a load error naming it, both types and the plugin', function()
  local text = T.notes_text(notes)
  T.contains(
    text,
    "plugin 'mistyped'",
    'import host::nvim_get_current_line is declared (i64) -> i32 but the API of Neovim',
    'implies () -> i32'
  )
  T.contains(
    text,
    "plugin 'mistyped_fast'",
    "import nvim::nvim_get_current_line is declared (i32) -> i32 but the msgpack ABI's API imports are (i32, i32) -> i64"
  )
end)

T.test('a plugin importing thousands of made-up API functions is refused at load, quickly', function()
  T.contains(T.notes_text(notes), "plugin 'many_imports'", 'imports more than 4096 API functions')
end)

-- The same three functions written with each SDK (Rust: tests/plugins/fastabi,
-- Zig and C: tests/plugins/probe_*): their API calls go through imports
-- named after the function, so each gets the host's answers unchanged.
for sdk, name in pairs({ Rust = 'fastabi', Zig = 'probe_zig', C = 'probe_c' }) do
  T.test(sdk .. ' SDK: has() and version() tell a plugin what it may call', function()
    local p = wasm[name]
    T.eq(p.has_api('nvim_get_current_line'), true)
    T.eq(p.has_api('nvim_ui_send'), has_012)
    T.eq(p.has_api('nvim_ui_attach'), false, 'RPC-only: Lua cannot call it, so no plugin can')
    T.eq(p.has_api('nvim_no_such_function'), false)
    T.eq(p.nvim_version(), { v.major, v.minor, v.patch, level })
  end)

  T.test(sdk .. ' SDK: a function this Neovim lacks is an error value the plugin can handle', function()
    local got = wasm[name].try_ui_send('x')
    if has_012 then
      T.eq(got, 'sent')
    else
      T.contains(got, 'nvim_ui_send: needs API level 14 (Neovim 0.12)', ('this is %s'):format(running))
    end
  end)
end
