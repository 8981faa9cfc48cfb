-- A wrong argument gets the same words from all three SDKs: argument number
-- and name, what was expected, what was given. The same `reverse(first,
-- last)` (examples/rust-reverse, zig-reverse, c-reverse) called wrongly.

T.rtp(T.root .. '/examples/rust-reverse', T.root .. '/examples/zig-reverse', T.root .. '/examples/c-reverse')
local wasm = require('wasm_nvim')
wasm.setup()

local cases = {
  { args = { 'x', 2 }, says = 'argument 1 (first): expected an integer (i64), got a string' },
  { args = { 1 }, says = 'argument 2 (last): expected an integer (i64), got nil' },
  { args = { 1, {} }, says = 'argument 2 (last): expected an integer (i64), got an array' },
  { args = { 1, { a = 1 } }, says = 'argument 2 (last): expected an integer (i64), got a table' },
  { args = { 1.5, 2 }, says = 'argument 1 (first): expected an integer (i64), got a float' },
  { args = { true, 2 }, says = 'argument 1 (first): expected an integer (i64), got a boolean' },
}

for _, name in ipairs({ 'reverse_rust', 'reverse_zig', 'reverse_c' }) do
  T.test(name .. ': the shared wording for wrong and missing arguments', function()
    local buf = T.buffer({ 'a', 'b' })
    for _, case in ipairs(cases) do
      local ok, err = pcall(wasm[name].reverse, unpack(case.args, 1, 2))
      T.eq(ok, false, vim.inspect(case.args))
      T.eq(err, ('wasm_nvim: %s.reverse: %s'):format(name, case.says))
    end
    T.eq(T.lines(buf), { 'a', 'b' }, 'nothing changed')
  end)
end
