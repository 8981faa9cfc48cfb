-- :[range]ReverseRust reverses the lines of the range (default: the whole
-- buffer, like :sort): the Rust SDK example.
vim.api.nvim_create_user_command('ReverseRust', function(opts)
  local ok, err = pcall(require('wasm_nvim').reverse_rust.reverse, opts.line1, opts.line2)
  if not ok then
    vim.notify(err, vim.log.levels.ERROR)
  end
end, { range = '%', desc = 'Reverse the lines of the range (wasm, Rust SDK)' })
