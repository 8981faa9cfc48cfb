-- The Rust example plugin examples/rust-sortlines (built by its build.sh).
T.rtp(T.root .. '/examples/rust-sortlines')

local wasm = require('wasm_nvim')
local sl = wasm.sortlines

local lines, buffer = T.lines, T.fresh_buffer

local function undo_break()
  vim.bo.undolevels = vim.bo.undolevels
end

local function undo()
  vim.cmd.undo({ mods = { silent = true } })
end

T.test('the plugin loads with its three functions', function()
  T.ok(sl, 'wasm.sortlines is missing (run examples/rust-sortlines/build.sh)')
  local info = vim.tbl_filter(function(p)
    return p.name == 'sortlines'
  end, wasm.plugins())[1]
  local names = vim.tbl_map(function(f)
    return f.name
  end, info.functions)
  T.eq(names, { 'sort_lines', 'sort_text', 'reverse_lines' })
end)

T.test('sort_lines sorts the whole buffer by default', function()
  buffer({ 'pear', 'apple', 'fig', 'Banana', 'apple' })
  T.eq(sl.sort_lines(), { lines = 5, removed = 0, changed = true })
  T.eq(lines(), { 'Banana', 'apple', 'apple', 'fig', 'pear' })
  T.ok(vim.bo.modified, 'buffer is modified')
end)

T.test('sort_lines with an empty table or {} also means the whole buffer', function()
  buffer({ 'b', 'a' })
  T.eq(sl.sort_lines({}), { lines = 2, removed = 0, changed = true })
  T.eq(lines(), { 'a', 'b' })
  buffer({ 'd', 'c' })
  T.eq(sl.sort_lines(vim.empty_dict()).changed, true)
  T.eq(lines(), { 'c', 'd' })
end)

T.test('sort_lines sorts a range only; lines outside are untouched', function()
  buffer({ 'z header', 'd', 'c', 'b', 'a', 'A footer' })
  T.eq(sl.sort_lines({ first = 2, last = 4 }), { lines = 3, removed = 0, changed = true })
  T.eq(lines(), { 'z header', 'b', 'c', 'd', 'a', 'A footer' })
  -- only `first`: to the end; only `last`: from the top
  buffer({ 'c', 'b', 'a', 'e', 'd' })
  sl.sort_lines({ first = 3 })
  T.eq(lines(), { 'c', 'b', 'a', 'd', 'e' })
  sl.sort_lines({ last = 2 })
  T.eq(lines(), { 'b', 'c', 'a', 'd', 'e' })
  -- a one-line range is valid and changes nothing
  T.eq(sl.sort_lines({ first = 5, last = 5 }), { lines = 1, removed = 0, changed = false })
end)

T.test('sort_lines reverse', function()
  buffer({ 'b', 'c', 'a' })
  T.eq(sl.sort_lines({ reverse = true }).changed, true)
  T.eq(lines(), { 'c', 'b', 'a' })
end)

T.test('sort_lines unique drops adjacent duplicates after sorting', function()
  buffer({ 'b', 'a', 'b', 'c', 'a', 'b' })
  T.eq(sl.sort_lines({ unique = true }), { lines = 6, removed = 3, changed = true })
  T.eq(lines(), { 'a', 'b', 'c' })
  -- reverse + unique
  buffer({ 'x', 'y', 'x' })
  T.eq(sl.sort_lines({ unique = true, reverse = true }), { lines = 3, removed = 1, changed = true })
  T.eq(lines(), { 'y', 'x' })
end)

T.test('sort_lines ignore_case (stable; unique ignores case too)', function()
  buffer({ 'b', 'B', 'a', 'C', 'A' })
  sl.sort_lines({ ignore_case = true })
  T.eq(lines(), { 'a', 'A', 'b', 'B', 'C' })
  buffer({ 'b', 'B', 'a', 'C', 'A' })
  T.eq(sl.sort_lines({ ignore_case = true, unique = true }).removed, 2)
  T.eq(lines(), { 'a', 'b', 'C' })
  -- without ignore_case, upper case sorts first (byte order)
  buffer({ 'b', 'B', 'a', 'A' })
  sl.sort_lines()
  T.eq(lines(), { 'A', 'B', 'a', 'b' })
end)

T.test('sort_lines numeric: first number, lines without one first, stable', function()
  buffer({ 'item 10', 'item 9', 'no number', 'x -3 y', 'item 100', 'also none', 'b 9', 'a007' })
  sl.sort_lines({ numeric = true })
  T.eq(lines(), { 'no number', 'also none', 'x -3 y', 'a007', 'item 9', 'b 9', 'item 10', 'item 100' })
  sl.sort_lines({ numeric = true, reverse = true })
  T.eq(lines(), { 'item 100', 'item 10', 'b 9', 'item 9', 'a007', 'x -3 y', 'also none', 'no number' })
  -- a plain sort would put "10" before "9"
  buffer({ '9', '10' })
  T.eq(sl.sort_lines().changed, true)
  T.eq(lines(), { '10', '9' })
  -- numbers too big for 64 bits do not break anything
  buffer({ '99999999999999999999999', '1' })
  sl.sort_lines({ numeric = true })
  T.eq(lines(), { '1', '99999999999999999999999' })
end)

T.test('sort_lines keeps unicode lines intact', function()
  buffer({ 'éclair', 'Ärger', 'zebra', '日本語', 'ärger', 'Émile', '🙂 smile' })
  sl.sort_lines()
  T.eq(lines(), { 'zebra', 'Ärger', 'Émile', 'ärger', 'éclair', '日本語', '🙂 smile' })
  sl.sort_lines({ ignore_case = true, unique = true })
  T.eq(lines(), { 'zebra', 'Ärger', 'éclair', 'Émile', '日本語', '🙂 smile' })
end)

T.test('sort_lines reports no change and does not touch a sorted buffer', function()
  buffer({ 'a', 'b', 'c' })
  T.eq(sl.sort_lines(), { lines = 3, removed = 0, changed = false })
  T.eq(vim.bo.modified, false, 'modified')
  T.eq(sl.sort_lines({ unique = true }), { lines = 3, removed = 0, changed = false })
  T.eq(vim.bo.modified, false, 'modified')
end)

T.test('bad options return an error and leave the buffer untouched', function()
  local content = { 'c', 'b', 'a' }
  buffer(content)
  local cases = {
    { { first = 3, last = 1 }, 'first (3) is after last (1)' },
    { { first = 0 }, 'first must be at least 1, got 0' },
    { { last = 4 }, 'last is 4, but the buffer has 3 lines' },
    { { first = -2 }, 'first must be at least 1' },
    { { first = 1.5 }, 'invalid options', 'floating point' },
    { { reverse = 'yes' }, 'invalid options', 'expected a boolean' },
    { { unique = 1 }, 'invalid options', 'expected a boolean' },
    { { revers = true }, 'unknown field `revers`' },
    { { lines = { 'x' } }, 'unknown field `lines`' },
    { 'abc', 'expected a table of options' },
    { { 1, 2 }, 'expected a table of options' },
  }
  for _, case in ipairs(cases) do
    local result = sl.sort_lines(case[1])
    T.ok(type(result) == 'table' and type(result.error) == 'string', 'an error for ' .. vim.inspect(case[1]))
    T.contains(result.error, unpack(case, 2))
  end
  T.eq(lines(), content)
  T.eq(vim.bo.modified, false, 'modified')
  T.contains(sl.reverse_lines({ first = 2, last = 1 }).error, 'first (2) is after last (1)')
  T.contains(sl.reverse_lines({ unique = true }).error, 'unknown field `unique`')
  T.eq(lines(), content)
  T.eq(vim.bo.modified, false, 'modified')
end)

T.test('reverse_lines reverses the buffer or a range', function()
  buffer({ '1', '2', '3', '4', '5' })
  T.eq(sl.reverse_lines(), { lines = 5 })
  T.eq(lines(), { '5', '4', '3', '2', '1' })
  T.eq(sl.reverse_lines({ first = 2, last = 4 }), { lines = 3 })
  T.eq(lines(), { '5', '2', '3', '4', '1' })
  buffer({ 'a', 'b', 'a' })
  T.eq(sl.reverse_lines(), { lines = 3 })
  T.eq(vim.bo.modified, false, 'a palindrome needs no change')
end)

T.test('sort_text sorts a list and touches no buffer', function()
  local buf = buffer({ 'keep', 'me' })
  T.eq(sl.sort_text({ lines = { 'b', 'a', 'c' } }), { 'a', 'b', 'c' })
  T.eq(sl.sort_text({ lines = { 'b', 'a', 'c' }, reverse = true }), { 'c', 'b', 'a' })
  T.eq(sl.sort_text({ lines = { 'a', 'B', 'b', 'A' }, ignore_case = true, unique = true }), { 'a', 'B' })
  T.eq(sl.sort_text({ lines = { 'v1.10', 'v1.9', 'none', 'v-2' }, numeric = true }), { 'none', 'v-2', 'v1.10', 'v1.9' })
  -- numeric + unique compares whole lines, like :sort nu
  T.eq(sl.sort_text({ lines = { 'b1', 'a1', 'b1' }, numeric = true, unique = true }), { 'b1', 'a1', 'b1' })
  T.eq(sl.sort_text({ lines = { 'x', 'x', '', '' }, unique = true }), { '', 'x' })
  T.eq(sl.sort_text({ lines = { 'ß', 'ä', 'a' } }), { 'a', 'ß', 'ä' })
  T.eq(sl.sort_text({ lines = {} }), {})
  T.eq(lines(buf), { 'keep', 'me' })
end)

T.test('sort_text rejects bad arguments with an error value', function()
  T.contains(sl.sort_text().error, 'missing field `lines`')
  T.contains(sl.sort_text({}).error, 'missing field `lines`')
  T.contains(sl.sort_text({ lines = 'a' }).error, 'invalid type: string "a", expected a sequence')
  T.contains(sl.sort_text({ lines = { 'a', 2 } }).error, 'invalid type: integer `2`, expected a string')
  T.contains(sl.sort_text({ lines = {}, first = 1 }).error, 'unknown field `first`')
  T.contains(sl.sort_text({ lines = {}, numeric = 'yes' }).error, 'expected a boolean')
end)

T.test('a non-UTF-8 line is a clear error and the buffer stays as it was', function()
  buffer({ 'b', 'caf\233', 'a' })
  T.fails({ 'sortlines.sort_lines', 'nvim_buf_get_lines', 'not valid UTF-8' }, sl.sort_lines)
  T.eq(lines(), { 'b', 'caf\233', 'a' })
  -- the plugin keeps working afterwards
  T.eq(sl.sort_text({ lines = { 'b', 'a' } }), { 'a', 'b' })
end)

T.test('each call is exactly one undo step', function()
  buffer({ 'c', 'b', 'a', 'd' })
  sl.sort_lines({ first = 1, last = 2 })
  T.eq(lines(), { 'b', 'c', 'a', 'd' })
  undo_break()
  sl.sort_lines({ unique = true, reverse = true })
  T.eq(lines(), { 'd', 'c', 'b', 'a' })
  undo_break()
  sl.reverse_lines()
  T.eq(lines(), { 'a', 'b', 'c', 'd' })
  undo()
  T.eq(lines(), { 'd', 'c', 'b', 'a' })
  undo()
  T.eq(lines(), { 'b', 'c', 'a', 'd' })
  undo()
  T.eq(lines(), { 'c', 'b', 'a', 'd' })
end)

-- The commands (-u NONE loads no plugin/ files, so source it by hand).
vim.cmd.runtime('plugin/sortlines.lua')

T.test('the commands exist', function()
  T.eq(vim.fn.exists(':SortLines'), 2)
  T.eq(vim.fn.exists(':ReverseLines'), 2)
end)

T.test(':SortLines sorts the whole buffer or a range', function()
  buffer({ 'c', 'b', 'a', 'z', 'y' })
  vim.cmd('2,4SortLines')
  T.eq(lines(), { 'c', 'a', 'b', 'z', 'y' })
  vim.cmd('SortLines')
  T.eq(lines(), { 'a', 'b', 'c', 'y', 'z' })
  -- in a script, commands do not close undo blocks by themselves
  undo_break()
  vim.cmd('SortLines!')
  T.eq(lines(), { 'z', 'y', 'c', 'b', 'a' })
  undo()
  T.eq(lines(), { 'a', 'b', 'c', 'y', 'z' }, 'one undo step')
end)

T.test(':SortLines flags u, i, n, separate or together', function()
  buffer({ 'b', 'A', 'a', 'B', 'a' })
  vim.cmd('SortLines u')
  T.eq(lines(), { 'A', 'B', 'a', 'b' })
  buffer({ 'b', 'A', 'a', 'B', 'a' })
  vim.cmd('SortLines i u')
  T.eq(lines(), { 'A', 'b' })
  buffer({ 'x10', 'x9', 'x-1', 'x', 'x9' })
  vim.cmd('SortLines! nu')
  T.eq(lines(), { 'x10', 'x9', 'x-1', 'x' })
  buffer({ 'head', '3', '20', '1', 'tail' })
  vim.cmd('2,4SortLines n')
  T.eq(lines(), { 'head', '1', '3', '20', 'tail' })
end)

T.test(':ReverseLines with a range', function()
  buffer({ '1', '2', '3', '4' })
  vim.cmd('2,3ReverseLines')
  T.eq(lines(), { '1', '3', '2', '4' })
  vim.cmd('ReverseLines')
  T.eq(lines(), { '4', '2', '3', '1' })
end)

T.test('command errors are reported with vim.notify ERROR', function()
  buffer({ 'b', 'a' })
  local notes = T.notified(function()
    vim.cmd('SortLines x')
  end)
  T.eq(#notes, 1)
  T.eq(notes[1].level, vim.log.levels.ERROR)
  T.contains(notes[1].msg, 'SortLines: unknown flag "x"')
  T.eq(lines(), { 'b', 'a' })
  -- a host error (non-UTF-8 line) is reported the same way
  buffer({ 'b', '\255', 'a' })
  notes = T.notified(function()
    vim.cmd('SortLines')
    vim.cmd('ReverseLines')
  end)
  T.eq(#notes, 2)
  T.eq(notes[1].level, vim.log.levels.ERROR)
  T.contains(notes[1].msg, 'SortLines: ', 'not valid UTF-8')
  T.contains(notes[2].msg, 'ReverseLines: ', 'not valid UTF-8')
  T.eq(lines(), { 'b', '\255', 'a' })
end)

T.test('sort_text 10,000 times', function()
  local input = { 'delta 4', 'alpha 1', 'charlie 3', 'bravo 2', 'alpha 1' }
  local last
  for i = 1, 10000 do
    last = sl.sort_text({ lines = input, unique = (i % 2 == 0), numeric = (i % 3 == 0) })
  end
  -- i = 10000: unique, not numeric
  T.eq(last, { 'alpha 1', 'bravo 2', 'charlie 3', 'delta 4' })
  T.eq(sl.sort_text({ lines = input, numeric = true }), { 'alpha 1', 'alpha 1', 'bravo 2', 'charlie 3', 'delta 4' })
end)
