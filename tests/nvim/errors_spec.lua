-- Bad plugins: each failure is a Lua error (or, at setup, a warning naming
-- the file) that names plugin and function; Neovim keeps running and an
-- unsaved buffer is untouched.

T.rtp('broken', 'faulty', 'conformance')
local wasm = require('wasm_nvim')

-- A modified, unsaved buffer that every test checks afterwards.
local editor_is_fine = T.unsaved_buffer()

local warnings = T.notified(function()
  wasm.setup({ lazy = false }) -- load everything now: broken files warn
end)
local warned = T.notes_text(warnings)

local function skipped(name, ...)
  T.contains(warned, ("wasm_nvim: skipping plugin '%s' (%s/broken/wasm/%s.wasm): "):format(name, T.build, name), ...)
  T.eq(rawget(wasm, name), nil, name .. ' is not exposed')
end

T.test('setup({ lazy = false }) warns once per broken file and loads the good ones', function()
  for _, n in ipairs(warnings) do
    T.eq(n.level, vim.log.levels.WARN)
  end
  T.eq(#warnings, 15)
  T.eq(wasm.conformance.ping(), 'pong')
  T.eq(wasm.faulty.ok(), 'fine')
  editor_is_fine()
end)

T.test('a file that is not wasm, a truncated one, an invalid one', function()
  skipped('not_wasm', 'not a WebAssembly module')
  skipped('truncated', 'invalid module', 'unexpected end-of-file')
  skipped('invalid', 'invalid module', 'type mismatch')
end)

T.test('missing memory, alloc, dealloc, functionality', function()
  skipped('no_memory', "missing export 'memory'")
  skipped('no_alloc', "export 'alloc' must be a function (size: i32) -> i32")
  skipped('no_dealloc', "export 'dealloc' must be a function (ptr: i32, size: i32)")
  skipped('no_functionality', "export 'functionality' must be a function () -> i32")
end)

T.test('malformed functionality: bad JSON, not a list, bad id, trap', function()
  skipped('bad_json', 'functionality: cannot load: expected a JSON array', 'EOF while parsing')
  skipped('not_a_list', 'functionality: cannot load: expected a JSON array', 'expected a sequence')
  skipped('functionality_bad_id', 'functionality: returned id: ABI violation: unknown value id 424242')
  skipped('functionality_trap', 'functionality: wasm trap: wasm `unreachable` instruction executed')
end)

T.test('functionality names an export that is missing or has another shape', function()
  skipped('ghost_export', "export 'ghost' must have type ()", 'failed to find function export')
  skipped('wrong_shape', "export 'ok' must have type (i32)")
end)

T.test('an import the host does not define, and a start function that traps', function()
  skipped('unknown_import', 'unknown import: `host::no_such_import` has not been defined')
  skipped('start_trap', 'instantiating: wasm trap', 'boom')
end)

T.test('a trap names plugin and function, and the plugin works afterwards', function()
  T.fails(
    { 'wasm_nvim: faulty.trap:', 'wasm trap: wasm `unreachable` instruction executed', 'wasm backtrace:' },
    wasm.faulty.trap
  )
  editor_is_fine()
  T.eq(wasm.faulty.ok(), 'fine')
end)

T.test('the error points at the Lua line that made the call', function()
  local err = T.fails('wasm_nvim: faulty.trap', function()
    wasm.faulty.trap()
  end)
  T.contains(err, 'errors_spec.lua:')
end)

T.test('after a trap the plugin starts from a fresh instance (its state is reset)', function()
  T.eq(wasm.faulty.count(), 1)
  T.eq(wasm.faulty.count(), 2)
  pcall(wasm.faulty.trap)
  T.eq(wasm.faulty.count(), 1)
end)

T.test('unknown ids, bad pointers and huge lengths', function()
  T.fails(
    { 'wasm_nvim: faulty.unknown_size:', 'get_value_size: ABI violation: unknown value id 424242' },
    wasm.faulty.unknown_size
  )
  T.fails({
    'wasm_nvim: faulty.set_out_of_bounds:',
    'set_value: ABI violation: range 131056+100 is outside the plugin',
    'memory',
  }, wasm.faulty.set_out_of_bounds)
  T.fails(
    { 'wasm_nvim: faulty.set_huge:', 'set_value: limit exceeded: a value of 4294967295 bytes' },
    wasm.faulty.set_huge
  )
  T.fails(
    { 'wasm_nvim: faulty.set_unknown_id:', 'set_value: ABI violation: unknown value id 424242' },
    wasm.faulty.set_unknown_id
  )
  T.fails(
    { 'wasm_nvim: faulty.return_unknown_id:', 'returned id: ABI violation: unknown value id 424242' },
    wasm.faulty.return_unknown_id
  )
  editor_is_fine()
end)

T.test('alloc returning an address outside memory', function()
  T.fails(
    { 'wasm_nvim: bad_alloc.take:', 'get_value_addr: ABI violation: alloc returned 2147483632', 'outside the plugin' },
    wasm.bad_alloc.take,
    'hello'
  )
  editor_is_fine()
end)

T.test('results that are not UTF-8 or not JSON', function()
  T.fails({ 'wasm_nvim: faulty.return_bad_utf8:', 'result: bad value: invalid JSON' }, wasm.faulty.return_bad_utf8)
  T.fails(
    { 'wasm_nvim: faulty.return_bad_json:', 'result: bad value: invalid JSON: EOF while parsing a list' },
    wasm.faulty.return_bad_json
  )
end)

T.test('a Lua error or syntax error inside lua_exec / lua_eval', function()
  T.fails(
    { 'wasm_nvim: faulty.lua_error:', 'lua_exec: Lua error: wasm:faulty:1: boom from lua_exec' },
    wasm.faulty.lua_error
  )
  T.fails(
    { 'wasm_nvim: faulty.lua_syntax_error:', "lua_eval: Lua error: wasm:faulty:1: unexpected symbol near '*'" },
    wasm.faulty.lua_syntax_error
  )
  editor_is_fine()
end)

T.test('a Lua error inside an nvim_* call', function()
  T.fails(
    { 'wasm_nvim: conformance.get_lines:', 'nvim_buf_get_lines: Lua error: Invalid buffer id: 424242' },
    wasm.conformance.get_lines,
    { 424242, 0, -1, true }
  )
  T.fails({ 'nvim_command', 'E492: Not an editor command: NoSuchCommand' }, wasm.conformance.command, 'NoSuchCommand')
  editor_is_fine()
end)

T.test('errors are plain strings a Lua caller can use', function()
  local ok, err = pcall(wasm.faulty.trap)
  T.eq(ok, false)
  T.eq(type(err), 'string')
  vim.notify(err, vim.log.levels.DEBUG) -- must not throw
end)

T.test('a guest that reserves ids and never consumes its argument, many times', function()
  for _ = 1, 3000 do
    wasm.faulty.leak({ 'some', 'data' })
  end
  editor_is_fine()
end)

T.test('a wrong argument to a module function is an error naming the function, not a crash', function()
  T.fails('wasm_nvim.reload: expected a plugin name (a string) or nothing, got a table', function()
    wasm.reload({})
  end)
  T.fails('wasm_nvim.reload: expected a plugin name (a string) or nothing, got a boolean', function()
    wasm.reload(true)
  end)
  editor_is_fine()
end)
