-- The seed's install: only the built library, copied to lua/wasm_nvim.so in
-- some runtimepath directory (the repository itself is not on the path).

local dir = vim.fn.tempname()
vim.fn.mkdir(dir .. '/lua', 'p')
assert(vim.uv.fs_copyfile(T.root .. '/lua/wasm_nvim.so', dir .. '/lua/wasm_nvim.so'))
vim.opt.rtp:append(dir)
vim.opt.rtp:append(T.build .. '/conformance')

T.test('require finds lua/wasm_nvim.so on the runtimepath', function()
  T.eq(vim.api.nvim_get_runtime_file('lua/wasm_nvim.so', true), { dir .. '/lua/wasm_nvim.so' })
  local wasm = require('wasm_nvim')
  wasm.setup({ debug = false })
  T.eq(wasm.conformance.ping(), 'pong')
  T.eq(wasm.conformance.echo({ 1, { a = 'b' } }), { 1, { a = 'b' } })
end)

T.test('requiring it again returns the same module', function()
  T.eq(require('wasm_nvim'), require('wasm_nvim'))
end)
