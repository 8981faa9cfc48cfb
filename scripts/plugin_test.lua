-- Runs one spec file of a wasm plugin inside this (headless) Neovim, started
-- by scripts/plugin-test.sh the way a user's Neovim starts: wasm_nvim and the
-- plugin on the runtimepath, their plugin/*.lua sourced.
--
--   nvim --headless -u NONE -i NONE -l scripts/plugin_test.lua <plugin dir> <spec>
--
-- The spec gets `T`: T.test(name, fn) registers a test; T.eq, T.ok,
-- T.contains, T.fails assert; T.buffer(lines) makes a scratch buffer;
-- T.notified(fn) returns what vim.notify received during fn.
local root = assert(vim.env.WASM_NVIM_ROOT, 'WASM_NVIM_ROOT is not set (run scripts/plugin-test.sh)')
local dir, spec = arg[1], arg[2]
vim.opt.rtp:prepend(root)
vim.opt.rtp:prepend(dir)
-- `nvim -l` loads no plugins; a user's Neovim does
vim.cmd('runtime! plugin/**/*.lua')

local T, tests = {}, {}
_G.T = T
T.dir = dir

function T.test(name, fn)
  tests[#tests + 1] = { name = name, fn = fn }
end

local function show(v)
  return vim.inspect(v, { newline = ' ', indent = '' })
end

function T.eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(('%sexpected %s, got %s'):format(what and (what .. ': ') or '', show(expected), show(actual)), 2)
  end
end

function T.ok(cond, what)
  if not cond then
    error('assertion failed: ' .. (what or '?'), 2)
  end
  return cond
end

function T.contains(s, ...)
  T.ok(type(s) == 'string', 'expected a string, got ' .. type(s))
  for _, needle in ipairs({ ... }) do
    if not s:find(needle, 1, true) then
      error(('expected %s to contain %s'):format(show(s), show(needle)), 2)
    end
  end
  return s
end

function T.fails(needle, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then
    error('expected an error containing ' .. show(needle) .. ', but the call succeeded', 2)
  end
  T.contains(tostring(err), needle)
  return err
end

function T.buffer(lines)
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, true, lines or {})
  return buf
end

function T.notified(fn)
  local seen, orig = {}, vim.notify
  vim.notify = function(msg, level)
    seen[#seen + 1] = { msg = msg, level = level }
  end
  local ok, err = pcall(fn)
  vim.wait(20)
  vim.notify = orig
  if not ok then
    error(err, 0)
  end
  return seen
end

local ok, err = pcall(dofile, spec)
if not ok then
  io.stdout:write(('FAIL loading %s: %s\n'):format(spec, err))
  os.exit(1)
end
local failed = 0
for _, t in ipairs(tests) do
  local started = vim.uv.hrtime()
  local passed, why = xpcall(t.fn, debug.traceback)
  local ms = (vim.uv.hrtime() - started) / 1e6
  if passed then
    io.stdout:write(('  ok   %s (%d ms)\n'):format(t.name, ms))
  else
    failed = failed + 1
    io.stdout:write(('  FAIL %s\n%s\n'):format(t.name, why))
  end
end
io.stdout:write(('%s: %d passed, %d failed\n'):format(vim.fs.basename(spec), #tests - failed, failed))
os.exit(failed == 0 and 0 or 1)
