-- A small test harness for specs that run inside a real headless Neovim.
--
--   nvim --headless -u NONE -l tests/nvim/harness.lua tests/nvim/<name>_spec.lua
--
-- The spec file gets `T` as a global: T.test(name, fn) registers a test;
-- assertions raise errors; after the file has run, every test runs in order
-- and the process exits non-zero if any failed. Paths come from the
-- environment scripts/test.sh sets (WASM_NVIM_ROOT, WASM_NVIM_TEST_BUILD).

local root = assert(vim.env.WASM_NVIM_ROOT, 'WASM_NVIM_ROOT is not set (run through scripts/test.sh)')
-- T.test, the assertions and buffer helpers, and the test loop: shared
-- with scripts/plugin_test.lua (what plugin authors run).
local testing = dofile(root .. '/scripts/testing.lua')
local windows = vim.fn.has('win32') == 1

--- On Windows, paths in messages use `\` where the specs write `/`:
--- text compared by T.contains and T.fails has both made `/`.
local function slashes(s)
  return windows and type(s) == 'string' and (s:gsub('\\', '/')) or s
end

local T = testing.new({ normalize = slashes })
_G.T = T
T.slashes = slashes

T.root = root
T.build = vim.env.WASM_NVIM_TEST_BUILD or (T.root .. '/tests/build')

--- Windows Neovim (the specs also run under Wine, see scripts/wine.sh).
T.windows = windows
--- The library's file name as `require` finds it in lua/ on this OS.
T.libname = T.windows and 'wasm_nvim.dll' or 'wasm_nvim.so'

local skipped

--- Skips the whole spec file on Windows, saying why (it needs bash, git,
--- cargo or POSIX file semantics). Counts as passed. Returns true when
--- skipping: `if T.unix_only('why') then return end` at the top of a spec.
function T.unix_only(reason)
  if T.windows then
    skipped = reason
  end
  return T.windows
end

--- Whether `path` is absolute (`/x`, `C:/x`, `C:\x`, `\\server\x`).
function T.absolute(path)
  return vim.fn.isabsolutepath(path) == 1
end

--- Puts the repository (for lua/wasm_nvim.so or .dll) and the given directories
--- (relative to tests/build, or absolute) on the runtimepath.
function T.rtp(...)
  vim.opt.rtp:prepend(T.root)
  for _, dir in ipairs({ ... }) do
    local path = T.absolute(dir) and dir or (T.build .. '/' .. dir)
    T.ok(vim.uv.fs_stat(path), 'missing build directory ' .. path .. ' (run scripts/build.sh)')
    vim.opt.rtp:append(path)
  end
end

--- Runs a fresh headless Neovim with no config and no shada (`-u NONE -i
--- NONE`), then `args`, to its end; returns what vim.system reports.
function T.nvim(args, opts)
  return vim.system(vim.list_extend({ vim.v.progpath, '--headless', '-u', 'NONE', '-i', 'NONE' }, args), opts):wait()
end

--- A new user's Neovim in a temp dir: `home` holds its XDG directories,
--- `env` points a child Neovim at them, `site` is its pack/plugins/start/.
function T.user_home()
  local home = vim.fn.tempname()
  return {
    home = home,
    site = home .. '/data/nvim/site/pack/plugins/start',
    env = {
      XDG_CONFIG_HOME = home .. '/config',
      XDG_DATA_HOME = home .. '/data',
      XDG_STATE_HOME = home .. '/state',
      XDG_CACHE_HOME = home .. '/cache',
    },
  }
end

--- Copies this checkout to `dest` as a user's clone has it: the working
--- tree's files, tracked or not, minus ignored ones (no library, no
--- target/). Needs git (Unix-only specs).
function T.copy_checkout(dest)
  local files = vim
    .system({ 'git', '-C', T.root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard' }, { text = true })
    :wait().stdout
  for file in files:gmatch('[^%z]+') do
    local src, dst = T.root .. '/' .. file, dest .. '/' .. file
    if vim.uv.fs_stat(src) then
      vim.fn.mkdir(vim.fn.fnamemodify(dst, ':h'), 'p')
      assert(vim.uv.fs_copyfile(src, dst))
    end
  end
end

local function run(spec)
  local chunk = assert(loadfile(spec))
  chunk()
  if skipped then
    io.stdout:write(('%s: skipped on Windows: %s\n'):format(vim.fn.fnamemodify(spec, ':t'), skipped))
    return true
  end
  return testing.run(T, spec)
end

local spec = assert(_G.arg[1], 'usage: nvim --headless -u NONE -l harness.lua <spec.lua>')
local ok, passed = xpcall(run, debug.traceback, spec)
if not ok then
  io.stdout:write('ERROR loading ' .. spec .. ':\n' .. tostring(passed) .. '\n')
end
io.stdout:flush()
-- os.exit() skips Neovim's own cleanup: remove this Neovim's temp folder
-- (the homes, servers and copied checkouts specs made: ~300 MB a run).
vim.fn.delete(vim.fn.fnamemodify(vim.fn.tempname(), ':h'), 'rf')
os.exit((ok and passed) and 0 or 1)
