-- User commands for the sortlines wasm plugin (wasm/sortlines.wasm):
--   :[range]SortLines[!] [u] [i] [n]   sort lines, like :sort (default: whole buffer)
--                                      ! = reverse, u = unique, i = ignore case,
--                                      n = by the first number in the line
--   :[range]ReverseLines               reverse the order of lines
if vim.g.loaded_sortlines then
  return
end
vim.g.loaded_sortlines = true

local function fail(msg)
  vim.notify(msg, vim.log.levels.ERROR)
end

--- Calls `fn` of the wasm plugin; reports any error and returns nil.
local function call(command, fn, opts)
  local plugin = require('wasm_nvim').sortlines
  if not plugin then
    return fail(command .. ': the wasm plugin sortlines is not loaded (build it with examples/rust-sortlines/build.sh)')
  end
  local ok, result = pcall(plugin[fn], opts)
  if not ok then
    return fail(command .. ': ' .. tostring(result))
  end
  if type(result) == 'table' and result.error then
    return fail(command .. ': ' .. result.error)
  end
  return result
end

local flags = { u = 'unique', i = 'ignore_case', n = 'numeric' }

vim.api.nvim_create_user_command('SortLines', function(cmd)
  local opts = { first = cmd.line1, last = cmd.line2, reverse = cmd.bang }
  -- Flags may be separate (`u i`) or together (`ui`), as with :sort.
  for _, arg in ipairs(cmd.fargs) do
    for flag in arg:gmatch('.') do
      if not flags[flag] then
        return fail(('SortLines: unknown flag %q (expected u, i or n)'):format(flag))
      end
      opts[flags[flag]] = true
    end
  end
  call('SortLines', 'sort_lines', opts)
end, {
  range = '%',
  bang = true,
  nargs = '*',
  complete = function()
    return { 'u', 'i', 'n' }
  end,
  desc = 'Sort lines (wasm): ! reverse, u unique, i ignore case, n numeric',
})

vim.api.nvim_create_user_command('ReverseLines', function(cmd)
  call('ReverseLines', 'reverse_lines', { first = cmd.line1, last = cmd.line2 })
end, { range = '%', desc = 'Reverse the order of lines (wasm)' })
