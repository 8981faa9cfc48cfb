-- :[range]ReverseZig   reverses the lines of the range (default: the whole
--                      buffer, like :sort) with the Zig SDK example plugin.
if vim.g.loaded_reverse_zig then
  return
end
vim.g.loaded_reverse_zig = true

vim.api.nvim_create_user_command('ReverseZig', function(opts)
  local ok, err = pcall(require('wasm_nvim').reverse_zig.reverse, opts.line1, opts.line2)
  if not ok then
    vim.notify(tostring(err), vim.log.levels.ERROR)
  end
end, { range = '%', desc = 'Reverse the lines of the range (wasm_nvim zig-reverse example)' })
