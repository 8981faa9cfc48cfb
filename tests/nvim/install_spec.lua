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

T.test('an older Neovim than 0.11 is refused at require time, saying which is needed', function()
  -- A fresh Neovim that claims not to be 0.11 (vim.fn.has answers no),
  -- loading the library for the first time. Debian's real 0.7.2 is tried
  -- by scripts/test.sh when it is installed.
  local fake =
    "local has = vim.fn.has; vim.fn.has = function(f) if f == 'nvim-0.11' then return 0 end return has(f) end"
  local r = T.nvim({
    '--cmd',
    'set rtp^=' .. dir,
    '-c',
    'lua ' .. fake,
    '-c',
    "lua local ok, err = pcall(require, 'wasm_nvim'); io.stdout:write(tostring(ok), '|', tostring(err))",
    '-c',
    'qa!',
  })
  T.eq(r.code, 0, r.stderr)
  local v = vim.version()
  T.contains(
    r.stdout,
    'false|',
    'wasm_nvim needs Neovim 0.11 or newer; this is Neovim ' .. ('%d.%d.%d'):format(v.major, v.minor, v.patch),
    'Update Neovim'
  )
end)
