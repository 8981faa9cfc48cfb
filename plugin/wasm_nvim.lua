-- :Wasm {list|info|reload|call|log} (lua/wasm_nvim/commands.lua). Defining
-- the command does not load the library: that waits for the first use.
if vim.g.loaded_wasm_nvim then
  return
end
vim.g.loaded_wasm_nvim = true

vim.api.nvim_create_user_command('Wasm', function(opts)
  require('wasm_nvim.commands').run(opts)
end, {
  nargs = '+',
  desc = 'wasm_nvim: list, info, reload, call, log',
  complete = function(lead, line, pos)
    return require('wasm_nvim.commands').complete(lead, line, pos)
  end,
})
