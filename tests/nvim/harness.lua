-- A small test harness for specs that run inside a real headless Neovim.
--
--   nvim --headless -u NONE -l tests/nvim/harness.lua tests/nvim/<name>_spec.lua
--
-- The spec file gets `T` as a global: T.test(name, fn) registers a test;
-- assertions raise errors; after the file has run, every test runs in order
-- and the process exits non-zero if any failed. Paths come from the
-- environment scripts/test.sh sets (WASM_NVIM_ROOT, WASM_NVIM_TEST_BUILD).

local T = {}
_G.T = T

T.root = assert(vim.env.WASM_NVIM_ROOT, 'WASM_NVIM_ROOT is not set (run through scripts/test.sh)')
T.build = vim.env.WASM_NVIM_TEST_BUILD or (T.root .. '/tests/build')

--- Windows Neovim (the specs also run under Wine, see scripts/wine.sh).
T.windows = vim.fn.has('win32') == 1
--- The library's file name as `require` finds it in lua/ on this OS.
T.libname = T.windows and 'wasm_nvim.dll' or 'wasm_nvim.so'

local tests = {}
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

function T.test(name, fn)
  tests[#tests + 1] = { name = name, fn = fn }
end

local function fmt(v)
  local s = vim.inspect(v, { newline = ' ', indent = '' })
  return #s > 600 and (s:sub(1, 600) .. ('... (%d chars)'):format(#s)) or s
end

function T.eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(('%sexpected %s, got %s'):format(what and (what .. ': ') or '', fmt(expected), fmt(actual)), 2)
  end
end

function T.ok(cond, what)
  if not cond then
    error('assertion failed: ' .. (what or '?'), 2)
  end
  return cond
end

--- On Windows, paths in messages use `\` where the specs write `/`:
--- text compared by T.contains and T.fails has both made `/`.
function T.slashes(s)
  return T.windows and type(s) == 'string' and (s:gsub('\\', '/')) or s
end

--- Skips the running test, saying why (counts as passed).
function T.skip(reason)
  error({ skip = reason }, 0)
end

--- Asserts that `s` contains every plain-text needle.
function T.contains(s, ...)
  T.ok(type(s) == 'string', 'expected a string, got ' .. type(s))
  for _, needle in ipairs({ ... }) do
    if not T.slashes(s):find(T.slashes(needle), 1, true) then
      error(('expected %s to contain %s'):format(fmt(s), fmt(needle)), 2)
    end
  end
  return s
end

--- Calls fn(...) and asserts it raises a string error containing every
--- needle (plain text); returns the message.
function T.fails(needles, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then
    error('expected an error containing ' .. fmt(needles) .. ', but the call succeeded', 2)
  end
  if type(err) ~= 'string' then
    error('expected a string error, got ' .. type(err) .. ': ' .. tostring(err), 2)
  end
  for _, needle in ipairs(type(needles) == 'table' and needles or { needles }) do
    if not T.slashes(err):find(T.slashes(needle), 1, true) then
      error(('expected error to contain %s, got %s'):format(fmt(needle), fmt(err)), 2)
    end
  end
  return err
end

--- Runs fn with vim.notify captured (including notifications fn scheduled
--- for later); returns the list of { msg, level }.
function T.notified(fn)
  local seen, orig = {}, vim.notify
  vim.notify = function(msg, level)
    seen[#seen + 1] = { msg = msg, level = level }
  end
  local ok, err = pcall(fn)
  vim.wait(20) -- runs what fn scheduled
  vim.notify = orig
  if not ok then
    error(err, 0)
  end
  return seen
end

--- The text of every notification, joined by newlines.
function T.notes_text(notes)
  return table.concat(vim.tbl_map(function(n)
    return n.msg
  end, notes), '\n')
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

--- A scratch buffer with `lines`, made current; returns its number.
function T.buffer(lines)
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_buf_set_lines(buf, 0, -1, true, lines or {})
  vim.api.nvim_set_current_buf(buf)
  return buf
end

--- A buffer made with T.buffer whose creation is its own undo step, and
--- unmodified: what a user's freshly opened file looks like.
function T.fresh_buffer(lines)
  local buf = T.buffer(lines)
  vim.bo[buf].modified = false
  -- Setting 'undolevels' to itself closes the undo block (:help
  -- undo-break), so the next change is a separate undo step even though no
  -- command boundary separates them in a script.
  vim.bo[buf].undolevels = vim.bo[buf].undolevels
  return buf
end

--- All lines of buffer `buf` (default: the current one).
function T.lines(buf)
  return vim.api.nvim_buf_get_lines(buf or 0, 0, -1, true)
end

--- A modified, unsaved buffer; returns a function asserting that Neovim
--- still answers and that the buffer is exactly as it was.
function T.unsaved_buffer()
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_buf_set_lines(buf, 0, -1, true, { 'unsaved work', 'must survive' })
  vim.bo[buf].modified = true
  return function()
    T.eq(vim.api.nvim_eval('1+1'), 2, 'Neovim answers')
    T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'unsaved work', 'must survive' }, 'unsaved buffer')
    T.ok(vim.bo[buf].modified, 'buffer still modified')
  end
end

--- `:messages` as a string.
function T.messages()
  return vim.api.nvim_exec2('messages', { output = true }).output
end

local function run(spec)
  local chunk = assert(loadfile(spec))
  chunk()
  if skipped then
    io.stdout:write(('%s: skipped on Windows: %s\n'):format(vim.fn.fnamemodify(spec, ':t'), skipped))
    return true
  end
  local failed = 0
  local started = vim.uv.hrtime()
  -- WASM_NVIM_TEST_FILTER=<text>: only the tests whose name contains it
  local only = vim.env.WASM_NVIM_TEST_FILTER
  if only and only ~= '' then
    tests = vim.tbl_filter(function(t)
      return t.name:find(only, 1, true) ~= nil
    end, tests)
  end
  for _, t in ipairs(tests) do
    local t0 = vim.uv.hrtime()
    local ok, err = xpcall(t.fn, debug.traceback)
    local ms = (vim.uv.hrtime() - t0) / 1e6
    if not ok and type(err) == 'table' and err.skip then
      io.stdout:write(('  skip %s: %s\n'):format(t.name, err.skip))
    elseif ok then
      io.stdout:write(('  ok   %s (%.0f ms)\n'):format(t.name, ms))
    else
      failed = failed + 1
      io.stdout:write(('  FAIL %s\n%s\n'):format(t.name, tostring(err):gsub('\n', '\n       ')))
    end
  end
  io.stdout:write(('%s: %d passed, %d failed (%.0f ms)\n'):format(
    vim.fn.fnamemodify(spec, ':t'), #tests - failed, failed, (vim.uv.hrtime() - started) / 1e6))
  return failed == 0 and #tests > 0
end

local spec = assert(_G.arg[1], 'usage: nvim --headless -u NONE -l harness.lua <spec.lua>')
local ok, passed = xpcall(run, debug.traceback, spec)
if not ok then
  io.stdout:write('ERROR loading ' .. spec .. ':\n' .. tostring(passed) .. '\n')
end
io.stdout:flush()
os.exit((ok and passed) and 0 or 1)
