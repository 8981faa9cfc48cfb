-- WASI capabilities: off by default except printing; a data directory under
-- stdpath("data") only for plugins the user opts in.

T.rtp('conformance', 'conformance2')
local wasm = require('wasm_nvim')
wasm.setup()

T.test('no environment variables, no arguments, no filesystem by default', function()
  local env = wasm.conformance.environment()
  T.eq(env.vars, {})
  T.eq(env.args, {})
  T.contains(env.root, 'No such file or directory')
  T.eq(wasm.conformance.write_file({ path = '/tmp/escape.txt', text = 'x' }), 'No such file or directory (os error 44)')
  T.eq(vim.uv.fs_stat('/tmp/escape.txt'), nil)
  T.eq(wasm.conformance.write_file({ path = '/data/x.txt', text = 'x' }), 'No such file or directory (os error 44)')
end)

T.test('data_dir = true gives the plugin stdpath("data")/wasm_nvim/<name> as /data', function()
  wasm.setup({ plugins = { conformance = { data_dir = true } } })
  T.eq(wasm.conformance.write_file({ path = '/data/notes.txt', text = 'kept' }), true)
  T.eq(wasm.conformance.read_file('/data/notes.txt'), 'kept')
  local dir = vim.fn.stdpath('data') .. '/wasm_nvim/conformance'
  T.eq(vim.fn.readfile(dir .. '/notes.txt'), { 'kept' })
end)

T.test('the data directory is a jail, and it is per plugin', function()
  T.contains(wasm.conformance.read_file('/data/../../../etc/passwd').error, 'Operation not permitted')
  T.eq(
    wasm.conformance2.write_file({ path = '/data/notes.txt', text = 'x' }),
    'No such file or directory (os error 44)'
  )
end)

T.test('what a plugin prints reaches :messages, stdout and stderr', function()
  wasm.conformance.print('line one\nline two')
  wasm.conformance.eprint('to stderr')
  T.contains(T.messages(), 'conformance: line one\nline two', 'conformance: to stderr')
end)

T.test('option errors name the option', function()
  T.fails(
    "option 'plugins.conformance.data_dir' must be a boolean, got string",
    wasm.setup,
    { plugins = { conformance = { data_dir = 'yes' } } }
  )
  T.fails("option 'limits.timeout_ms' must be an integer >= 0, got -1", wasm.setup, { limits = { timeout_ms = -1 } })
  T.fails("option 'limits.memory_mb' must be an integer >= 1, got 0.5", wasm.setup, { limits = { memory_mb = 0.5 } })
  local notes = T.notified(function()
    wasm.setup({ limits = { timeout = 5 }, plugins = { conformance = { memory = 1 } } })
  end)
  T.contains(T.notes_text(notes), "unknown option 'limits.timeout'", "unknown option 'plugins.conformance.memory'")
end)

T.test('a plugin can be turned off', function()
  wasm.setup({ plugins = { conformance2 = { enabled = false } } })
  T.eq(rawget(wasm, 'conformance2'), nil)
  T.eq(wasm.conformance.ping(), 'pong')
end)
