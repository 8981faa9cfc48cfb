-- :TodoList and b:todo_count with the defaults; to configure, set
-- vim.g.loaded_wasm_todo = true first and call
-- require('wasm_nvim').todo.setup({ marker = 'FIXME' }) yourself.
if vim.g.loaded_wasm_todo then
  return
end
vim.g.loaded_wasm_todo = true
local ok, wasm = pcall(require, 'wasm_nvim')
if ok and wasm.todo then
  wasm.todo.setup()
end
