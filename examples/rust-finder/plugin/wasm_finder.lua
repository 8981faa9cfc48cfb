-- :WasmFind files [dir] | buffers | lines: fuzzy finding with a wasm matcher.
if vim.g.loaded_wasm_finder then
  return
end
vim.g.loaded_wasm_finder = true

local subcommands = { 'files', 'buffers', 'lines' }

vim.api.nvim_create_user_command('WasmFind', function(cmd)
  local sub, arg = cmd.fargs[1] or 'files', cmd.fargs[2]
  local finder = require('wasm_finder')
  if sub == 'files' then
    finder.sources.files({ dir = arg })
  elseif sub == 'buffers' or sub == 'lines' then
    finder.sources[sub]()
  else
    vim.notify(
      ('WasmFind: unknown source %q; use %s'):format(sub, table.concat(subcommands, ', ')),
      vim.log.levels.ERROR
    )
  end
end, {
  nargs = '*',
  complete = function(lead, line)
    if #vim.split(line, '%s+', { trimempty = false }) > 2 then
      return vim.fn.getcompletion(lead, 'dir')
    end
    return vim.tbl_filter(function(s)
      return vim.startswith(s, lead)
    end, subcommands)
  end,
  desc = 'Fuzzy find files, buffers or lines (wasm matcher)',
})
