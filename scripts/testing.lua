-- The `T` a spec file gets, and the loop that runs its tests: shared by the
-- project's spec harness (tests/nvim/harness.lua) and the runner plugin
-- authors use (scripts/plugin_test.lua). A module, not a script: each
-- runner loads it with dofile and adds what only it needs.
--
--   local testing = dofile(root .. '/scripts/testing.lua')
--   local T = testing.new({ normalize = fn })  -- fn(s): text as compared
--   ... load the spec, which calls T.test(name, fn) ...
--   os.exit(testing.run(T, spec_path) and 0 or 1)

local M = {}

local function show(v)
  local s = vim.inspect(v, { newline = ' ', indent = '' })
  return #s > 600 and (s:sub(1, 600) .. ('... (%d chars)'):format(#s)) or s
end

--- A fresh T. `opts.normalize(s)` rewrites text before T.contains and
--- T.fails compare it (default: as it is).
function M.new(opts)
  local normalize = (opts and opts.normalize) or function(s)
    return s
  end
  local T = { tests = {} }

  --- Registers a test; they run in order after the spec file has run.
  function T.test(name, fn)
    T.tests[#T.tests + 1] = { name = name, fn = fn }
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

  --- Skips the running test, saying why (counts as passed).
  function T.skip(reason)
    error({ skip = reason }, 0)
  end

  --- The first of `needles` (plain text) that `s` does not contain.
  local function missing(s, needles)
    for _, needle in ipairs(needles) do
      if not normalize(s):find(normalize(needle), 1, true) then
        return needle
      end
    end
  end

  --- Asserts that `s` contains every plain-text needle.
  function T.contains(s, ...)
    T.ok(type(s) == 'string', 'expected a string, got ' .. type(s))
    local needle = missing(s, { ... })
    if needle then
      error(('expected %s to contain %s'):format(show(s), show(needle)), 2)
    end
    return s
  end

  --- Calls fn(...) and asserts it raises a string error containing every
  --- needle (one, or a list; plain text); returns the message.
  function T.fails(needles, fn, ...)
    local ok, err = pcall(fn, ...)
    if ok then
      error('expected an error containing ' .. show(needles) .. ', but the call succeeded', 2)
    end
    if type(err) ~= 'string' then
      error('expected a string error, got ' .. type(err) .. ': ' .. tostring(err), 2)
    end
    local needle = missing(err, type(needles) == 'table' and needles or { needles })
    if needle then
      error(('expected error to contain %s, got %s'):format(show(needle), show(err)), 2)
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
    return table.concat(
      vim.tbl_map(function(n)
        return n.msg
      end, notes),
      '\n'
    )
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

  return T
end

--- Runs the tests `T` registered (WASM_NVIM_TEST_FILTER=<text>: only those
--- whose name contains it), printing one line each and a summary. True when
--- there was at least one and none failed.
function M.run(T, spec)
  local tests = T.tests
  local only = vim.env.WASM_NVIM_TEST_FILTER
  if only and only ~= '' then
    tests = vim.tbl_filter(function(t)
      return t.name:find(only, 1, true) ~= nil
    end, tests)
  end
  local failed = 0
  local started = vim.uv.hrtime()
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
  io.stdout:write(
    ('%s: %d passed, %d failed (%.0f ms)\n'):format(
      vim.fn.fnamemodify(spec, ':t'),
      #tests - failed,
      failed,
      (vim.uv.hrtime() - started) / 1e6
    )
  )
  io.stdout:flush()
  return failed == 0 and #tests > 0
end

return M
