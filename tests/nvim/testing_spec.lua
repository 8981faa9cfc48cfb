-- The test runners themselves (scripts/testing.lua, shared by this harness
-- and scripts/plugin_test.lua): a failing assertion fails its test and the
-- run, a skip is said, a spec with no test fails, and a plugin's spec sees
-- its plugin loaded as a user's Neovim would.

local dir = vim.fn.tempname()
vim.fn.mkdir(dir .. '/tests', 'p')
vim.fn.mkdir(dir .. '/plugin', 'p')
vim.fn.writefile({ 'vim.g.testing_plugin_loaded = true' }, dir .. '/plugin/testing_plugin.lua')

local function spec(lines)
  local path = dir .. '/tests/runner_spec.lua'
  vim.fn.writefile(lines, path)
  return path
end

local failing = {
  "T.test('eq', function() T.eq(1, 2, 'one') end)",
  "T.test('contains', function() T.contains('abc', 'a', 'zz') end)",
  "T.test('no error', function() T.fails('x', function() end) end)",
  "T.test('wrong error', function() T.fails({ 'boom', 'zap' }, error, 'boom!') end)",
  "T.test('table error', function() T.fails('x', error, {}) end)",
  "T.test('skipped', function() T.skip('not here') end)",
  "T.test('passes', function() T.eq(T.fails('boom', error, 'a boom', 0), 'a boom') end)",
}

local function harness(path)
  return T.nvim({ '-l', T.root .. '/tests/nvim/harness.lua', path }, { text = true })
end

local function plugin_test(path)
  return T.nvim({ '-l', T.root .. '/scripts/plugin_test.lua', dir, path }, { text = true })
end

for _, runner in ipairs({ { 'harness', harness }, { 'plugin_test', plugin_test } }) do
  local name, run = runner[1], runner[2]
  T.test(name .. ': failed assertions fail their test and the run, saying why', function()
    local r = run(spec(failing))
    local out = r.stdout:gsub('\r', '')
    T.eq(r.code, 1, out)
    T.contains(
      out,
      '  FAIL eq\n',
      'one: expected 2, got 1',
      'expected "abc" to contain "zz"',
      'expected an error containing "x", but the call succeeded',
      'expected error to contain "zap", got "boom!"',
      'expected a string error, got table',
      '  skip skipped: not here\n',
      '  ok   passes (',
      'runner_spec.lua: 2 passed, 5 failed ('
    )
  end)

  T.test(name .. ': a spec with no test fails; a passing one passes', function()
    T.eq(run(spec({ '-- nothing' })).code, 1, 'no test')
    local r = run(spec({ "T.test('fine', function() T.ok(true) end)" }))
    T.eq(r.code, 0, r.stdout)
    T.contains(r.stdout, 'runner_spec.lua: 1 passed, 0 failed (')
  end)
end

T.test('plugin_test: the plugin is on the runtimepath, its plugin/ sourced, T.dir set', function()
  local r = plugin_test(spec({
    "T.test('loaded', function()",
    "  T.eq(vim.g.testing_plugin_loaded, true, 'plugin/ sourced')",
    ("  T.eq(T.dir, %q, 'T.dir')"):format(dir),
    "  T.ok(vim.tbl_contains(vim.opt.rtp:get(), T.dir), 'on the runtimepath')",
    'end)',
  }))
  T.eq(r.code, 0, r.stdout)
  T.contains(r.stdout, '1 passed, 0 failed')
end)
