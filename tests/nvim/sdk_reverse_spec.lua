-- The same small plugin through each SDK (Rust, Zig, C) and written by
-- hand against the seed ABI: reverse lines first..last of the current
-- buffer, notify "Reversed N lines", return N. All pass the same tests.

local plugins = {
  { name = 'reverse_rust', dir = T.root .. '/examples/rust-reverse', command = 'ReverseRust' },
  { name = 'reverse_zig', dir = T.root .. '/examples/zig-reverse', command = 'ReverseZig' },
  { name = 'reverse_c', dir = T.root .. '/examples/c-reverse', command = 'ReverseC' },
  -- the seed ABI passes one value: the range as an array
  { name = 'reverse_seed', dir = T.build .. '/reverse_seed', packed = true },
}
local dirs = {}
for _, p in ipairs(plugins) do
  dirs[#dirs + 1] = p.dir
end
T.rtp(unpack(dirs))
local wasm = require('wasm_nvim')
wasm.setup()

for _, p in ipairs(plugins) do
  local function reverse(first, last)
    if p.packed then
      return wasm[p.name].reverse({ first, last })
    end
    return wasm[p.name].reverse(first, last)
  end

  T.test(p.name .. ': reverses a range, leaves the rest, returns and notifies the count', function()
    local buf = T.buffer({ 'a', 'b', 'c', 'd', 'e' })
    local notes = T.notified(function()
      T.eq(reverse(2, 4), 3)
    end)
    T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'a', 'd', 'c', 'b', 'e' })
    T.eq(notes[1].msg, 'Reversed 3 lines')
  end)

  T.test(p.name .. ': the whole buffer, one line, unicode and empty lines', function()
    local buf = T.buffer({ 'één', '', 'naïve ✓', 'z' })
    T.notified(function()
      T.eq(reverse(1, 4), 4)
      T.eq(reverse(2, 2), 1)
    end)
    T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'z', 'naïve ✓', '', 'één' })
  end)

  T.test(p.name .. ': a bad range is an error naming plugin and function; the buffer is unchanged', function()
    local buf = T.buffer({ 'a', 'b' })
    T.fails({ 'wasm_nvim: ' .. p.name .. '.reverse:', 'invalid range 2-1' }, reverse, 2, 1)
    T.fails({ 'wasm_nvim: ' .. p.name .. '.reverse:', 'invalid range 0-1' }, reverse, 0, 1)
    T.fails({ 'wasm_nvim: ' .. p.name .. '.reverse:', 'Index out of bounds' }, reverse, 1, 3)
    T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'a', 'b' })
    T.notified(function()
      T.eq(reverse(1, 2), 2, 'works after errors')
    end)
  end)

  if p.command then
    T.test(p.name .. ': the :' .. p.command .. ' command on a range', function()
      vim.cmd.runtime('plugin/' .. p.name .. '.lua')
      local buf = T.buffer({ '1', '2', '3', '4' })
      T.notified(function()
        vim.cmd('2,4' .. p.command)
      end)
      T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { '1', '4', '3', '2' })
      T.notified(function()
        vim.cmd(p.command) -- no range: the whole buffer
      end)
      T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { '2', '3', '4', '1' })
    end)
  end
end

T.test('the Rust SDK version is at most a third of the lines of the hand-written seed version', function()
  local function lines(path)
    local n = 0
    for _, l in ipairs(vim.fn.readfile(path)) do
      if l:match('%S') then
        n = n + 1
      end
    end
    return n
  end
  local sdk = lines(T.root .. '/examples/rust-reverse/src/lib.rs')
  local seed = lines(T.root .. '/tests/plugins/reverse_seed/src/lib.rs')
  T.ok(sdk * 3 <= seed, ('%d lines with the SDK, %d by hand'):format(sdk, seed))
end)
