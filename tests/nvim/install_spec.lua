-- The seed's install: only the built library, copied to lua/wasm_nvim.so
-- (.dll on Windows) in some runtimepath directory (the repository itself is
-- not on the path).

local dir = vim.fn.tempname()
vim.fn.mkdir(dir .. '/lua', 'p')
assert(vim.uv.fs_copyfile(T.root .. '/lua/' .. T.libname, dir .. '/lua/' .. T.libname))
vim.opt.rtp:append(dir)
vim.opt.rtp:append(T.build .. '/conformance')

T.test('require finds lua/' .. T.libname .. ' on the runtimepath', function()
  local found = vim.api.nvim_get_runtime_file('lua/' .. T.libname, true)
  T.eq(vim.tbl_map(T.slashes, found), { T.slashes(dir .. '/lua/' .. T.libname) })
  local wasm = require('wasm_nvim')
  wasm.setup({ debug = false })
  T.eq(wasm.conformance.ping(), 'pong')
  T.eq(wasm.conformance.echo({ 1, { a = 'b' } }), { 1, { a = 'b' } })
end)

T.test('requiring it again returns the same module', function()
  T.eq(require('wasm_nvim'), require('wasm_nvim'))
end)
