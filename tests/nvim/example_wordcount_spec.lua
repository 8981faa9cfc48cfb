-- examples/zig-wordcount: a Zig plugin written only from the seed README
-- (hand-written "host" imports, std.json, std.heap.wasm_allocator).

T.rtp(T.root .. '/examples/zig-wordcount')
local wasm = require('wasm_nvim')

local function stats(lines, words, chars, bytes, blank)
  return { lines = lines, words = words, chars = chars, bytes = bytes, blank_lines = blank }
end

T.test('loads and lists its exports', function()
  local wc = wasm.wordcount
  for _, name in ipairs({ 'stats', 'count_text', 'range_stats', 'report' }) do
    T.eq(type(wc[name]), 'function', name)
  end
end)

T.test('stats counts the current buffer: UTF-8, blank lines, tabs', function()
  T.buffer({ 'héllo wörld', '', '\tfoo  bar\t', '   ', '日本語 🎉' })
  -- bytes: 13 + 0 + 10 + 3 + 14; chars: 11 + 0 + 10 + 3 + 5
  T.eq(wasm.wordcount.stats(), stats(5, 6, 29, 40, 2))
end)

T.test('stats of an empty buffer is one blank line', function()
  T.buffer({})
  T.eq(wasm.wordcount.stats(), stats(1, 0, 0, 0, 1))
end)

T.test('stats follows buffer edits', function()
  local buf = T.buffer({ 'one' })
  T.eq(wasm.wordcount.stats(), stats(1, 1, 3, 3, 0))
  vim.api.nvim_buf_set_lines(buf, 0, -1, true, { 'one two', 'three' })
  T.eq(wasm.wordcount.stats(), stats(2, 3, 12, 12, 0))
end)

T.test('count_text: pinned cases', function()
  local c = wasm.wordcount.count_text
  T.eq(c(''), stats(1, 0, 0, 0, 1), '""')
  T.eq(c('héllo wörld'), stats(1, 2, 11, 13, 0), 'héllo wörld')
  T.eq(c('a\n'), stats(2, 1, 1, 1, 1), 'a trailing newline starts a blank line')
  T.eq(c('a\n\nb'), stats(3, 2, 2, 2, 1), 'a\\n\\nb')
  T.eq(c(' \t \v\f\r'), stats(1, 0, 6, 6, 1), 'ASCII whitespace only')
  T.eq(c('one  two\tthree\r\n'), stats(2, 3, 15, 15, 1), 'runs of whitespace, CRLF')
  T.eq(c('x\u{a0}y'), stats(1, 1, 3, 4, 0), 'NBSP is not a word separator')
  T.eq(c('🎉🎉\n🎉'), stats(2, 2, 3, 12, 0), 'emoji')
end)

T.test('count_text(s) equals stats of a buffer holding vim.split(s, "\\n")', function()
  for _, s in ipairs({ '', '\n', 'a b\n c \n\n', 'ünï cödé\t\tx\n   \n日本' }) do
    T.buffer(vim.split(s, '\n', { plain = true }))
    T.eq(wasm.wordcount.count_text(s), wasm.wordcount.stats(), vim.inspect(s))
  end
end)

T.test('count_text rejects what is not a string, then keeps working', function()
  T.fails({ 'wordcount.count_text', 'expected a string, got number' }, wasm.wordcount.count_text, 42)
  T.fails({ 'expected a string, got nil' }, wasm.wordcount.count_text, nil)
  T.fails({ 'expected a string, got table' }, wasm.wordcount.count_text, { 'a' })
  T.eq(wasm.wordcount.count_text('still here'), stats(1, 2, 10, 10, 0))
end)

T.test('range_stats counts lines first..last (1-based, inclusive)', function()
  T.buffer({ 'héllo wörld', '', '\tfoo  bar\t', 'end' })
  local r = wasm.wordcount.range_stats
  T.eq(r({ first = 1, last = 1 }), stats(1, 2, 11, 13, 0))
  T.eq(r({ first = 2, last = 3 }), stats(2, 2, 10, 10, 1))
  T.eq(r({ first = 1, last = 4 }), wasm.wordcount.stats())
end)

T.test('range_stats rejects bad ranges with a clear error', function()
  T.buffer({ 'a', 'b' })
  local r = wasm.wordcount.range_stats
  T.fails({ 'wordcount.range_stats', 'line 3 is past the end of the buffer (2 lines)' }, r, { first = 1, last = 3 })
  T.fails({ 'bad range 0..1' }, r, { first = 0, last = 1 })
  T.fails({ 'bad range 2..1' }, r, { first = 2, last = 1 })
  T.fails({ 'expected { first = n, last = n } (1-based, inclusive)' }, r, 'lines')
  T.fails({ 'expected { first = n' }, r, { first = 1 })
  T.fails({ 'expected { first = n' }, r, { first = 1.5, last = 2 })
  T.eq(r({ first = 2, last = 2 }), stats(1, 1, 1, 1, 0))
end)

T.test('a buffer that is not UTF-8 is a clear error (JSON carries text only)', function()
  -- The seed ABI passes values as JSON text, and wasm_nvim refuses strings
  -- that are not UTF-8 instead of altering them.
  T.buffer({ 'caf\233', 'ok' })
  T.fails({ 'wordcount.stats', 'not valid UTF-8' }, wasm.wordcount.stats)
  T.buffer({ 'ok' })
  T.eq(wasm.wordcount.stats(), stats(1, 1, 2, 2, 0))
end)

T.test('report prints a summary through WASI stdout into :messages', function()
  local buf = T.buffer({ 'héllo wörld', '', 'x' })
  vim.api.nvim_buf_set_name(buf, vim.fn.tempname() .. '/notes.txt')
  T.eq(wasm.wordcount.report(), nil)
  T.contains(T.messages(), 'wordcount: notes.txt: 3 lines, 3 words, 12 chars, 14 bytes, 1 blank')
  T.buffer({ 'one' })
  wasm.wordcount.report()
  T.contains(T.messages(), '[No Name]: 1 line, 1 word, 3 chars, 3 bytes, 0 blank')
end)

T.test(':WordCount and :{range}WordCount', function()
  vim.cmd.runtime('plugin/wordcount.lua')
  T.eq(vim.fn.exists(':WordCount'), 2, ':WordCount defined')
  T.buffer({ 'alpha beta', 'gamma', '', 'δέλτα' })
  vim.cmd('WordCount')
  T.contains(T.messages(), '[No Name]: 4 lines, 4 words, 20 chars, 25 bytes, 1 blank')
  local notes = T.notified(function()
    vim.cmd('2,3WordCount')
  end)
  T.eq(T.notes_text(notes), 'lines 2-3: 2 lines, 1 word, 5 chars, 5 bytes, 1 blank')
end)

T.test('10,000 calls of count_text stay correct', function()
  local c = wasm.wordcount.count_text
  for i = 1, 10000 do
    local n = i % 13
    local s = ('wörd '):rep(n) .. i .. '\n'
    local expected = stats(2, n + 1, 5 * n + #tostring(i), 6 * n + #tostring(i), 1)
    local got = c(s)
    if not vim.deep_equal(got, expected) then
      T.eq(got, expected, 'call ' .. i)
    end
  end
end)
