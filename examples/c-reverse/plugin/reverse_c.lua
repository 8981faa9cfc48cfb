-- :[range]ReverseC  reverses the lines of the range (default: the whole
-- buffer, like :sort) with the C plugin wasm/reverse_c.wasm (namespace "reverse_c").
if vim.g.loaded_wasm_reverse_c then
  return
end
vim.g.loaded_wasm_reverse_c = true

vim.api.nvim_create_user_command('ReverseC', function(opts)
  local ok, err = pcall(require('wasm_nvim').reverse_c.reverse, opts.line1, opts.line2)
  if not ok then
    vim.notify(tostring(err), vim.log.levels.ERROR)
  end
end, { range = '%', desc = 'Reverse the lines of the range (C plugin)' })
