-- The fast ABI (msgpack in guest memory), through the Rust SDK plugin
-- tests/plugins/fastabi: values, binary strings, handles, errors that do
-- not trap, panics with their message, callbacks, raw numeric exports.

T.rtp('fastabi', 'conformance')
local wasm = require('wasm_nvim')
wasm.setup({ lazy = false })
local f = wasm.fastabi

T.test('the plugin is recognised as a fast-ABI plugin, its function list read from the custom section', function()
  local info = vim.tbl_filter(function(p)
    return p.name == 'fastabi'
  end, wasm.plugins())[1]
  T.eq(info.abi, 'msgpack')
  local types = {}
  for _, fn in ipairs(info.functions) do
    types[fn.name] = fn.type
  end
  -- the signature the SDK's #[export] wrote into the function list
  T.eq(types.greet, '(name: String, punctuation: Option<String>) -> String')
  T.eq(types.add, '(a: f64, b: f64) -> f64')
  T.eq(types.raw_noop, '()')
  T.eq(
    vim.tbl_filter(function(p)
      return p.name == 'conformance'
    end, wasm.plugins())[1].abi,
    'seed (JSON)'
  )
end)

T.test('several arguments; missing trailing ones are nil (Option)', function()
  T.eq(f.greet('you'), 'Hello, you!')
  T.eq(f.greet('you', '?'), 'Hello, you?')
  T.eq(f.echo_all(1, nil, 'x'), { 1, vim.NIL, 'x' })
end)

T.test('values round-trip; structs are tables with field names', function()
  local v = { 1, 2.5, 'three', true, { nested = { 'deep' } }, vim.empty_dict() }
  T.eq(f.echo(v), v)
  T.eq(f.transform({ 'a', 'b' }, { upper = true, prefix = '> ' }), { count = 2, first = '> A' })
  T.eq(f.transform({}, {}), { count = 0, first = vim.NIL }, 'None in a struct is a nested nil: vim.NIL')
end)

T.test('the value rules are the JSON ones: what cannot be encoded is named with where it is', function()
  T.eq(1 / f.echo(-0.0), math.huge, '-0 is written as the integer 0')
  T.eq(f.echo({ 1, vim.NIL, 3 }), { 1, vim.NIL, 3 })
  T.eq(getmetatable(f.echo({ d = vim.empty_dict() }).d), getmetatable(vim.empty_dict()))
  T.fails({ 'fastabi.echo: argument: bad value: cannot encode a function (at [1].a[2])' }, f.echo, { a = { 1, print } })
  T.fails({ 'fastabi.echo_all:', 'cannot encode a thread (at [2])' }, f.echo_all, 1, coroutine.create(print), 3)
  T.fails({ 'fastabi.echo:', 'cannot use a boolean as a map key' }, f.echo, { [true] = 1 })
  local t = {}
  t.self = t
  T.fails({ 'fastabi.echo:', 'nested deeper than 128' }, f.echo, t)
end)

T.test('binary-safe: bytes that are not UTF-8 survive both ways', function()
  local n, out = unpack(f.bytes('a\0b\255'))
  T.eq(n, 4)
  T.eq(out, '\255\0\254')
  T.eq(f.echo('caf\233 \255'), 'caf\233 \255')
end)

T.test('a buffer of Latin-1 lines goes through the fast ABI as bytes', function()
  local buf = T.buffer({ 'caf\233', 'na\239ve' })
  T.eq(f.upper_buffer_bytes(buf), 2)
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'CAF\233', 'NA\239VE' })
end)

T.test('API calls: results, handles (extension types) as numbers in Lua', function()
  local buf = T.buffer({ 'first', 'second' })
  T.eq(f.current_line(), 'first')
  T.eq(f.current_buf(), buf)
  T.eq(f.line_count(buf), 2)
  T.eq(f.line_count(0), 2)
  T.eq(f.upper_buffer(buf), 2)
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'FIRST', 'SECOND' })
end)

T.test('an API error reaches the plugin as an Err: no trap, the plugin may handle it', function()
  T.eq(f.count(), 1)
  T.fails('wasm_nvim: fastabi.bad_buffer: nvim_buf_get_lines: Lua error: Invalid buffer id: 424242', f.bad_buffer)
  T.eq(f.tolerant(), 'handled: nvim_buf_get_lines: Lua error: Invalid buffer id: 424242')
  T.fails({ 'wasm_nvim: fastabi.lua_error: lua: Lua error: from lua' }, f.lua_error)
  T.eq(f.count(), 2, 'state kept: no fresh instance')
end)

T.test("a plugin error (Result::Err) is the Lua error, with the plugin's words", function()
  T.eq(T.fails('nope', f.refuse, 'nope'), 'wasm_nvim: fastabi.refuse: nope')
  T.eq(f.count(), 3)
end)

T.test('a panic: its message and location, a short backtrace, then a fresh instance', function()
  local err = T.fails({
    'wasm_nvim: fastabi.boom: the plugin panicked: boom from the SDK (at fastabi/src/lib.rs:',
    'wasm backtrace:\n  0: ',
  }, f.boom)
  T.ok(err:match('\n  %d: boom\n'), 'the backtrace names the function: ' .. err)
  T.ok(not err:find('std::panicking', 1, true), 'panic machinery left out of the backtrace')
  T.eq(f.count(), 1, 'fresh instance')
end)

T.test('nvim.lua runs Lua with arguments', function()
  T.eq(f.lua_add(2, 40), 42)
end)

T.test('callbacks: an export passed to nvim_create_autocmd receives the event', function()
  local id = f.register('FastPing')
  vim.api.nvim_exec_autocmds('User', { pattern = 'FastPing', data = { n = 1 } })
  local events = f.events()
  T.eq(#events, 1)
  -- the export's parameter is the callback's first argument: the event
  T.eq(events[1].id, id)
  T.eq(events[1].data, { n = 1 })
  T.eq(events[1].match, 'FastPing')
end)

T.test('raw exports: numbers in and out, no encoding', function()
  T.eq(f.add(1.5, 2), 3.5)
  T.eq(f.raw_noop(), nil)
  T.eq(f.mul_i32(6, 7), 42)
  T.eq(f.mul_i32(-3, 4), -12)
  T.fails('wasm_nvim: fastabi.add: argument 1: bad value: expected a number, got string', f.add, 'x', 1)
  T.fails('wasm_nvim: fastabi.add: argument 2: bad value: expected a number, got nil', f.add, 1)
  T.fails('argument 1: bad value: 2.5 does not fit an i32', f.mul_i32, 2.5, 1)
end)

T.test('many calls', function()
  for i = 1, 10000 do
    if f.add(i, 1) ~= i + 1 or f.greet('n', tostring(i)) ~= 'Hello, n' .. i then
      error('wrong at ' .. i)
    end
  end
  T.eq(f.get_line_n(1000), 1000 * #vim.api.nvim_get_current_line())
end)
