-- The documented Lua <-> JSON rules (:help wasm_nvim-values), checked on
-- the exact JSON text the host produces (conformance.raw) and on the Lua
-- values it builds from given JSON text (conformance.from_json).

T.rtp('conformance')
local c = require('wasm_nvim').conformance

T.test('scalars', function()
  T.eq(c.raw(nil), 'null')
  T.eq(c.raw(vim.NIL), 'null')
  T.eq(c.raw(true), 'true')
  T.eq(c.raw(false), 'false')
  T.eq(c.raw('a "quoted"\n\tstring'), '"a \\"quoted\\"\\n\\tstring"')
  T.eq(c.raw('héllo ✓'), '"héllo ✓"')
end)

T.test('integral numbers have no fraction, others are floats', function()
  T.eq(c.raw(3), '3')
  T.eq(c.raw(3.0), '3')
  T.eq(c.raw(-17), '-17')
  T.eq(c.raw(1.5), '1.5')
  T.eq(c.raw(2 ^ 53), '9007199254740992')
  T.eq(c.raw(2 ^ 62), '4611686018427387904')
  T.eq(c.raw(-0.0), '0')
  T.eq(c.raw(0.1), '0.1')
end)

T.test('NaN and infinities are an error', function()
  T.fails({ 'conformance.raw', 'argument', 'no JSON form' }, c.raw, 0 / 0)
  T.fails({ 'conformance.raw', 'no JSON form' }, c.raw, { x = math.huge })
end)

T.test('tables with keys 1..n are arrays, others objects', function()
  T.eq(c.raw({ 1, 2, 3 }), '[1,2,3]')
  T.eq(c.raw({ a = 1 }), '{"a":1}')
  T.eq(vim.json.decode(c.raw({ [1] = 'a', [3] = 'c' })), { ['1'] = 'a', ['3'] = 'c' })
  T.eq(vim.json.decode(c.raw({ 'x', k = 'v' })), { ['1'] = 'x', k = 'v' })
  T.eq(c.raw({ { 1 }, { { 2 } } }), '[[1],[[2]]]')
end)

T.test('an empty table is [], vim.empty_dict() is {}', function()
  T.eq(c.raw({}), '[]')
  T.eq(c.raw(vim.empty_dict()), '{}')
  T.eq(c.raw({ list = {}, dict = vim.empty_dict() }):len(), #'{"list":[],"dict":{}}')
end)

T.test('keys that cannot be object keys, and values that cannot be encoded', function()
  T.fails({ 'conformance.raw', 'cannot use a boolean as an object key' }, c.raw, { [true] = 1 })
  T.fails({ 'conformance.raw: argument: bad value: cannot encode a function (at f)' }, c.raw, { f = print })
  T.fails({ 'cannot encode a userdata' }, c.raw, vim.uv.new_timer())
  T.fails({ 'cannot encode a thread' }, c.raw, coroutine.create(print))
end)

T.test('strings that are not UTF-8 are an error naming where they are', function()
  T.fails({ 'conformance.raw: argument: bad value: string is not valid UTF-8', '(at [2])' }, c.raw, { 'ok', 'caf\255' })
  T.fails({ '(at a.b[1])' }, c.raw, { a = { b = { 'caf\255' } } })
  T.fails({ 'not valid UTF-8' }, c.raw, { ['k\255'] = 1 })
end)

T.test('a table that contains itself is an error, not a crash', function()
  local t = {}
  t.self = t
  T.fails({ 'conformance.raw', 'nested deeper than 128' }, c.raw, t)
end)

T.test('null: nil at the top, vim.NIL inside arrays and objects', function()
  T.eq(c.from_json('null'), nil)
  local arr = c.from_json('[1, null, 3]')
  T.eq(#arr, 3)
  T.eq(arr[2], vim.NIL)
  T.eq(c.from_json('{"a": null}').a, vim.NIL)
end)

T.test('{} decodes to vim.empty_dict(), [] to an empty table; both round-trip', function()
  local dict = c.from_json('{}')
  T.eq(getmetatable(dict), getmetatable(vim.empty_dict()))
  T.eq(c.raw(dict), '{}')
  local list = c.from_json('[]')
  T.eq(getmetatable(list), nil)
  T.eq(c.raw(list), '[]')
end)

T.test('numbers, strings and nesting decode as Lua values', function()
  T.eq(c.from_json('[1, -2, 2.5, 1e3, 9007199254740993]'), { 1, -2, 2.5, 1000, 9007199254740992 })
  T.eq(c.from_json('"caf\\u00e9 \\ud83d\\ude00"'), 'café 😀')
  T.eq(c.from_json('{"a": {"b": [true, false]}}'), { a = { b = { true, false } } })
end)

T.test('invalid JSON from a guest is a clear error', function()
  T.fails({ 'conformance.from_json', 'result', 'invalid JSON' }, c.from_json, '[1, 2')
  T.fails({ 'invalid JSON', 'trailing characters' }, c.from_json, '1 2')
  T.fails({ 'invalid JSON' }, c.from_json, '')
  T.fails({ 'invalid JSON', 'recursion limit' }, c.from_json, ('['):rep(200) .. (']'):rep(200))
end)

T.test('round trip of a value with everything in it', function()
  local v = {
    name = 'x',
    n = 12,
    f = -0.25,
    yes = true,
    list = { 'a', 'b', { 1, 2 } },
    nested = { deep = { deeper = { 'end' } } },
  }
  T.eq(c.echo(v), v)
end)
