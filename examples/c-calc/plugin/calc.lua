-- :Calc {expr}  evaluates an expression and echoes "expr = result".
-- :CalcLine     evaluates the current line in place: "2*(3+4)" -> "2*(3+4) = 14".
-- Both call the C plugin wasm/calc.wasm through wasm_nvim (namespace "calc").
if vim.g.loaded_wasm_calc then
  return
end
vim.g.loaded_wasm_calc = true

local function calc()
  return require('wasm_nvim').calc
end

-- The shortest text that reads back as the same number (like the plugin's
-- own output): 0.5, 14, 0.30000000000000004.
local function show(v)
  if v == math.floor(v) and math.abs(v) < 1e16 then
    return ('%.0f'):format(v) -- integers never get a fraction or exponent
  end
  for _, digits in ipairs({ 15, 16, 17 }) do
    local s = ('%.' .. digits .. 'g'):format(v)
    if tonumber(s) == v then
      return s
    end
  end
  return tostring(v)
end

local function report(result)
  if result.error then
    vim.notify('Calc: ' .. result.error, vim.log.levels.ERROR)
  end
  return result.error == nil
end

vim.api.nvim_create_user_command('Calc', function(opts)
  local result = calc().calc(opts.args)
  if report(result) then
    vim.api.nvim_echo({ { opts.args .. ' = ' .. show(result.value) } }, true, {})
  end
end, { nargs = '+', desc = 'Evaluate an arithmetic expression' })

vim.api.nvim_create_user_command('CalcLine', function()
  report(calc().calc_line())
end, { nargs = 0, desc = 'Evaluate the current line and append " = result"' })
