-- The C example plugin examples/c-calc (wasm/calc.wasm, built by its build.sh).
T.rtp(T.root .. '/examples/c-calc')
T.ok(vim.uv.fs_stat(T.root .. '/examples/c-calc/wasm/calc.wasm'), 'calc.wasm missing: run examples/c-calc/build.sh')

local wasm = require('wasm_nvim')

local function calc(expr)
  return wasm.calc.calc(expr)
end

--- Asserts that each expr evaluates to its value.
local function values(cases)
  for _, case in ipairs(cases) do
    T.eq(calc(case[1]), { value = case[2] }, case[1])
  end
end

--- Asserts that each expr fails with exactly its message.
local function errors(cases)
  for _, case in ipairs(cases) do
    T.eq(calc(case[1]), { error = case[2] }, case[1])
  end
end

T.test('exports calc and calc_line', function()
  T.eq(type(wasm.calc.calc), 'function')
  T.eq(type(wasm.calc.calc_line), 'function')
  T.eq(calc('2*(3+4)'), { value = 14 })
end)

T.test('precedence and associativity', function()
  values({
    { '1+2*3', 7 },
    { '(1+2)*3', 9 },
    { '2*3+4*5', 26 },
    { '10-4-3', 3 },
    { '100/10/5', 2 },
    { '2^3^2', 512 },
    { '(2^3)^2', 64 },
    { '2*3^2', 18 },
    { '7%4*2', 6 },
    { '1+7%4', 4 },
    { '  1 +\t2 ', 3 },
    { '((((5))))', 5 },
  })
end)

T.test('unary minus and plus', function()
  values({
    { '-3', -3 },
    { '--3', 3 },
    { '-(2+3)', -5 },
    { '-2^2', -4 },
    { '(-2)^2', 4 },
    { '2^-1', 0.5 },
    { '3*-2', -6 },
    { '+4', 4 },
    { '1 - -1', 2 },
    { '-0', 0 },
    { '-7%3', -1 },
  })
end)

T.test('decimals and exponents', function()
  values({
    { '1.5*2', 3 },
    { '.5+.25', 0.75 },
    { '5.', 5 },
    { '1e3', 1000 },
    { '2.5E-3', 0.0025 },
    { '1e+2', 100 },
    { '0.1+0.2', 0.1 + 0.2 },
    { '10/4', 2.5 },
    { '1/3', 1 / 3 },
    { '007', 7 },
  })
end)

T.test('functions and constants', function()
  values({
    { 'sqrt(16)', 4 },
    { 'sqrt(2)', math.sqrt(2) },
    { 'abs(-3.5)', 3.5 },
    { 'floor(-1.5)', -2 },
    { 'ceil(1.2)', 2 },
    { 'min(3, 1, 2)', 1 },
    { 'max(3, 1+5, 2)', 6 },
    { 'max(7)', 7 },
    { 'pi', math.pi },
    { 'e', math.exp(1) },
    { '2*pi', 2 * math.pi },
    { 'sqrt(abs(-9)) + floor(e)', 5 },
    { 'e^1', math.exp(1) },
  })
end)

T.test('syntax errors name the position', function()
  errors({
    { '2*(3+', 'unexpected end of input at position 6' },
    { '(1', "expected ')' at position 3" },
    { '1 2', "unexpected '2' at position 3" },
    { '2)', "unexpected ')' at position 2" },
    { '1+*2', "unexpected '*' at position 3" },
    { '1.2.3', "unexpected '.' at position 4" },
    { '2e', "unexpected 'e' at position 2" },
    { 'foo(1)', "unknown name 'foo' at position 1" },
    { 'sqrt', "expected '(' after sqrt at position 5" },
    { 'sqrt(1, 2)', 'sqrt expects 1 argument, got 2 at position 1' },
    { 'min()', "unexpected ')' at position 5" },
    { 'max(1,)', "unexpected ')' at position 7" },
    { '2 × 3', 'unexpected character at position 3' },
    { 'x = 1', "unknown name 'x' at position 1" },
  })
end)

T.test('division by zero and out-of-range results are errors, not traps', function()
  errors({
    { '1/0', 'division by zero at position 2' },
    { '1 + 2/(3-3)', 'division by zero at position 6' },
    { '5%0', 'modulo by zero at position 2' },
    { '1e999', 'result out of range at position 1' },
    { '10^400', 'result out of range at position 3' },
    { 'sqrt(-1)', 'result is not a real number at position 1' },
    { '(-8)^(1/3)', 'result is not a real number at position 5' },
  })
  T.eq(calc('1+1'), { value = 2 }, 'still works after the errors')
end)

T.test('empty input and arguments that are not strings', function()
  errors({ { '', 'empty expression' }, { '   \t', 'empty expression' } })
  local bad = { error = 'calc expects a string, e.g. calc("1 + 2")' }
  T.eq(calc(nil), bad)
  T.eq(calc(42), bad)
  T.eq(calc({ '1+1' }), bad)
end)

T.test('JSON escapes in the argument are decoded', function()
  T.eq(calc('1\t+\n2\r'), { value = 3 })
  T.eq(calc('"1"'), { error = [[unexpected '"' at position 1]] })
  T.eq(calc('1\\2'), { error = [[unexpected '\' at position 2]] })
  T.eq(calc('1/2\0'), { error = 'unexpected character at position 4' })
end)

T.test('very long input', function()
  T.eq(calc(string.rep('1+', 100000) .. '1'), { value = 100001 })
  T.eq(calc(string.rep(' ', 50000) .. '2*3'), { value = 6 })
  T.eq(calc(string.rep('0', 5000) .. '1.5'), { value = 1.5 })
  T.eq(calc(string.rep('(', 150) .. '1' .. string.rep(')', 150)), { value = 1 })
  T.eq(
    calc(string.rep('(', 100000) .. '1' .. string.rep(')', 100000)),
    { error = 'expression nested too deeply at position 201' }
  )
  T.eq(calc(string.rep('-', 100000) .. '1'), { error = 'expression nested too deeply at position 201' })
  T.eq(calc(string.rep('9', 400)), { error = 'result out of range at position 1' })
  T.eq(calc('1+' .. string.rep('x', 1000)), { error = "unknown name '" .. string.rep('x', 32) .. "' at position 3" })
end)

T.test('calc_line rewrites exactly the current line', function()
  local buf = T.buffer({ 'first', '2*(3+4)', '  10/4', '1 + 1', 'last' })
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  T.eq(wasm.calc.calc_line(), { value = 14 })
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  T.eq(wasm.calc.calc_line(), { value = 2.5 })
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'first', '2*(3+4) = 14', '  10/4 = 2.5', '1 + 1', 'last' })
end)

T.test('calc_line replaces an old result and prints clean numbers', function()
  T.buffer({ '' })
  local cases = {
    { '1+1 = 99', '1+1 = 2' },
    { '1+1 =', '1+1 = 2' },
    { '2*(3+4) = 14', '2*(3+4) = 14' },
    { '2^10', '2^10 = 1024' },
    { '0.1+0.2', '0.1+0.2 = 0.30000000000000004' },
    { '1/4', '1/4 = 0.25' },
    { '2^53', '2^53 = 9007199254740992' },
    { '2^70', '2^70 = 1.1805916207174113e+21' },
    { '-1/2^20', '-1/2^20 = -9.5367431640625e-07' },
    { '-0', '-0 = 0' },
  }
  for _, case in ipairs(cases) do
    vim.api.nvim_set_current_line(case[1])
    T.eq(wasm.calc.calc_line().error, nil, case[1])
    T.eq(vim.api.nvim_get_current_line(), case[2], case[1])
  end
end)

T.test('calc_line leaves the line alone on an error', function()
  local buf = T.buffer({ 'a', '2*(3+ = 5', 'c' })
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  local tick = vim.b[buf].changedtick
  T.eq(wasm.calc.calc_line(), { error = 'unexpected end of input at position 6' })
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  T.eq(wasm.calc.calc_line(), { error = "unknown name 'c' at position 1" })
  T.buffer({ '' })
  T.eq(wasm.calc.calc_line(), { error = 'empty expression' })
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'a', '2*(3+ = 5', 'c' })
  T.eq(vim.b[buf].changedtick, tick, 'changedtick')
end)

T.test('calc_line keeps quotes, backslashes and non-ASCII text intact', function()
  T.buffer({ '' })
  vim.api.nvim_set_current_line('3*3 = "x\\y" ünïcödé')
  T.eq(wasm.calc.calc_line(), { value = 9 })
  T.eq(vim.api.nvim_get_current_line(), '3*3 = 9')
  vim.api.nvim_set_current_line('é')
  T.eq(wasm.calc.calc_line(), { error = 'unexpected character at position 1' })
  T.eq(vim.api.nvim_get_current_line(), 'é')
end)

T.test('calc_line on a non-modifiable buffer raises the API error', function()
  local buf = T.buffer({ '1+1' })
  vim.bo[buf].modifiable = false
  T.fails({ 'wasm_nvim: calc.calc_line', "Buffer is not 'modifiable'" }, wasm.calc.calc_line)
  vim.bo[buf].modifiable = true
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { '1+1' })
  T.eq(wasm.calc.calc_line(), { value = 2 }, 'works again afterwards')
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { '1+1 = 2' })
end)

vim.cmd.runtime('plugin/calc.lua')

T.test(':Calc echoes the result', function()
  T.eq(vim.fn.exists(':Calc'), 2)
  local function run(cmd)
    return vim.api.nvim_exec2(cmd, { output = true }).output
  end
  local notes = T.notified(function()
    T.eq(run('Calc 2*(3+4)'), '2*(3+4) = 14')
    T.eq(run('Calc 0.1 + 0.2'), '0.1 + 0.2 = 0.30000000000000004')
    T.eq(run('Calc 2^53'), '2^53 = 9007199254740992')
    T.eq(run('Calc -1/8'), '-1/8 = -0.125')
  end)
  T.eq(notes, {})
end)

T.test(':Calc reports errors with vim.notify at ERROR level', function()
  local notes = T.notified(function()
    vim.cmd('Calc 1/0')
    vim.cmd('Calc 2*(3+')
  end)
  T.eq(notes, {
    { msg = 'Calc: division by zero at position 2', level = vim.log.levels.ERROR },
    { msg = 'Calc: unexpected end of input at position 6', level = vim.log.levels.ERROR },
  })
  T.fails('Argument required', vim.cmd, 'Calc')
end)

T.test(':CalcLine evaluates the current line in place', function()
  local buf = T.buffer({ 'x', 'max(2, 3) * 2 = ?', 'y' })
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  T.eq(
    T.notified(function()
      vim.cmd('CalcLine')
    end),
    {}
  )
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'x', 'max(2, 3) * 2 = 6', 'y' })

  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  local notes = T.notified(function()
    vim.cmd('CalcLine')
  end)
  T.eq(notes, { { msg = "Calc: unknown name 'y' at position 1", level = vim.log.levels.ERROR } })
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'x', 'max(2, 3) * 2 = 6', 'y' })
end)

T.test('10,000 calls in a row', function()
  local sum = 0
  for i = 1, 10000 do
    local r = calc(('%d * 2 + 0.5'):format(i))
    if r.value ~= i * 2 + 0.5 then
      T.eq(r, { value = i * 2 + 0.5 }, 'call ' .. i)
    end
    sum = sum + r.value
  end
  T.eq(sum, 10000 * 10001 + 5000)
  for i = 1, 10000 do
    if i % 1000 == 0 then
      T.eq(calc('1/0'), { error = 'division by zero at position 2' }, 'error call ' .. i)
    else
      calc('1/0')
    end
  end
  T.eq(calc('2*(3+4)'), { value = 14 })
end)
