-- Runs one spec file of a wasm plugin inside this (headless) Neovim, started
-- by scripts/plugin-test.sh the way a user's Neovim starts: wasm_nvim and the
-- plugin on the runtimepath, their plugin/*.lua sourced.
--
--   nvim --headless -u NONE -i NONE -l scripts/plugin_test.lua <plugin dir> <spec>
--
-- The spec gets `T`: T.test(name, fn) registers a test; T.eq, T.ok,
-- T.contains, T.fails assert; T.buffer(lines) makes a scratch buffer;
-- T.notified(fn) returns what vim.notify received during fn; T.skip(why)
-- skips the running test (see scripts/testing.lua for the rest).
local root = assert(vim.env.WASM_NVIM_ROOT, 'WASM_NVIM_ROOT is not set (run scripts/plugin-test.sh)')
local dir, spec = arg[1], arg[2]
vim.opt.rtp:prepend(root)
vim.opt.rtp:prepend(dir)
-- `nvim -l` loads no plugins; a user's Neovim does
vim.cmd('runtime! plugin/**/*.lua')

-- T.test, the assertions and helpers, and the test loop are the spec
-- harness's own (scripts/testing.lua).
local testing = dofile(root .. '/scripts/testing.lua')
local T = testing.new()
_G.T = T
T.dir = dir

local ok, err = pcall(dofile, spec)
if not ok then
  io.stdout:write(('FAIL loading %s: %s\n'):format(spec, err))
  os.exit(1)
end
os.exit(testing.run(T, spec) and 0 or 1)
