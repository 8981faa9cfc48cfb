-- Living with it: lazy loading, :Wasm {list,info,reload,call,log} and their
-- completion, :checkhealth wasm_nvim, the version check.

T.rtp('conformance', 'fastabi')
vim.cmd.runtime('plugin/wasm_nvim.lua')
local wasm = require('wasm_nvim')
-- a plugin directory whose file the tests replace
local swap = vim.fn.tempname()
vim.fn.mkdir(swap .. '/wasm', 'p')
vim.uv.fs_copyfile(T.build .. '/faulty/wasm/faulty.wasm', swap .. '/wasm/swap.wasm')
vim.opt.rtp:append(swap)

--- What `:<cmd>` echoed.
local function output(cmd)
  return vim.api.nvim_exec2(cmd, { output = true }).output
end

local function state(name)
  for _, p in ipairs(wasm.plugins()) do
    if p.name == name then
      return p.state
    end
  end
end

T.test('plugins load lazily: setup() only finds them, the first use loads one', function()
  wasm.setup()
  T.eq(state('conformance'), 'not loaded')
  T.eq(rawget(wasm, 'conformance'), nil)
  T.eq(wasm.conformance.ping(), 'pong')
  T.eq(state('conformance'), 'loaded')
  T.eq(state('fastabi'), 'not loaded')
end)

T.test('a plugin that fails to load raises a clear error when used, every time', function()
  local broken = vim.fn.tempname()
  vim.fn.mkdir(broken .. '/wasm', 'p')
  vim.fn.writefile({ 'not wasm' }, broken .. '/wasm/broken.wasm')
  vim.opt.rtp:append(broken)
  wasm.setup()
  for _ = 1, 2 do
    T.fails(
      { "wasm_nvim: plugin 'broken' (" .. broken .. '/wasm/broken.wasm): cannot load: not a WebAssembly module' },
      function()
        return wasm.broken.anything
      end
    )
  end
  T.eq(state('broken'), 'failed')
  T.eq(wasm.conformance.ping(), 'pong')
  vim.opt.rtp:remove(broken)
  wasm.setup()
end)

T.test(':Wasm list shows every plugin and its state', function()
  wasm.conformance.ping()
  local text = output('Wasm list')
  T.contains(
    text,
    'conformance      seed (JSON), 39 function(s): noop, ping,',
    'fastabi          not loaded',
    'swap             not loaded'
  )
end)

T.test(':Wasm info loads the plugin and shows its details', function()
  local text = output('Wasm info fastabi')
  T.contains(
    text,
    'fastabi (loaded)',
    'ABI:      msgpack',
    'function  greet (name: String, punctuation: Option<String>) -> String',
    'function  add (a: f64, b: f64) -> f64',
    'limits:   timeout 10000 ms, memory 256 MiB'
  )
end)

T.test(':Wasm call passes JSON arguments and shows the result', function()
  T.contains(output('Wasm call fastabi greet "you", "?"'), '"Hello, you?"')
  T.contains(output('Wasm call conformance echo {"a": [1, 2]}'), 'a = { 1, 2 }')
  local notes = T.notified(function()
    vim.cmd('Wasm call fastabi refuse "no"')
  end)
  T.eq(notes[1].msg, 'wasm_nvim: fastabi.refuse: no', 'no commands.lua:NN: prefix')
end)

T.test(':Wasm call: arguments separated by spaces or commas, strings kept as typed', function()
  T.contains(output('Wasm call fastabi add 1 3'), '4')
  T.contains(output('Wasm call fastabi add 1,3'), '4')
  T.contains(output('Wasm call fastabi greet "two  spaces"   "\t!"'), '"Hello, two  spaces\\t!"')
  T.contains(output('Wasm call fastabi greet "a, b" null'), '"Hello, a, b!"')
  T.contains(output('Wasm call conformance echo [1, 2] {"a b": "c  d"}'), '{ 1, 2 }')
  local notes = T.notified(function()
    vim.cmd('Wasm call fastabi add 1 x')
    vim.cmd('Wasm call fastabi greet "open')
    vim.cmd('Wasm call fastabi add 1')
  end)
  T.eq(notes[1].msg, 'argument 2 is not JSON: x')
  T.eq(notes[2].msg, 'arguments are not JSON: a string is not closed')
  T.eq(notes[3].msg, 'wasm_nvim: fastabi.add: argument 2: bad value: expected a number, got nil')
end)

T.test(':Wasm log shows plugin output and errors', function()
  wasm.conformance.print('printed by conformance')
  pcall(wasm.fastabi.refuse, 'logged error')
  local text = output('Wasm log')
  T.contains(text, '[conformance] stdout: printed by conformance', '[fastabi] refuse: logged error')
end)

T.test('completion: subcommands, plugin names, function names', function()
  T.eq(vim.fn.getcompletion('Wasm ', 'cmdline'), { 'list', 'info', 'reload', 'call', 'log' })
  T.eq(vim.fn.getcompletion('Wasm re', 'cmdline'), { 'reload' })
  local plugins = vim.fn.getcompletion('Wasm info ', 'cmdline')
  T.ok(vim.tbl_contains(plugins, 'conformance') and vim.tbl_contains(plugins, 'swap'), vim.inspect(plugins))
  T.eq(vim.fn.getcompletion('Wasm call fas', 'cmdline'), { 'fastabi' })
  T.eq(vim.fn.getcompletion('Wasm call fastabi gre', 'cmdline'), { 'greet' })
end)

T.test(':Wasm reload picks up a rebuilt plugin; its callbacks stay (reload_spec has the details)', function()
  T.eq(wasm.swap.ok(), 'fine')
  vim.uv.fs_copyfile(T.build .. '/conformance/wasm/conformance.wasm', swap .. '/wasm/swap.wasm')
  vim.cmd('Wasm reload swap')
  T.eq(wasm.swap.ping(), 'pong', 'the new file is loaded')
  T.eq(wasm.swap.ok, nil)
  -- the plugin registers an autocmd through a callback; a reload keeps it
  wasm.swap.create_autocmd({ 'User', { pattern = 'SwapReload', callback = { __wasm_callback = 'on_event' } } })
  T.eq(#vim.api.nvim_get_autocmds({ event = 'User', pattern = 'SwapReload' }), 1)
  vim.cmd('Wasm reload swap')
  T.eq(#vim.api.nvim_get_autocmds({ event = 'User', pattern = 'SwapReload' }), 1, 'kept on reload')
  vim.api.nvim_exec_autocmds('User', { pattern = 'SwapReload' })
  T.eq(#wasm.swap.log(), 1, 'and it reaches the new code')
  T.eq(wasm.conformance.ping(), 'pong', 'other plugins untouched')
end)

T.test(':Wasm reload of a file that no longer loads keeps the old plugin and says why', function()
  vim.fn.writefile({ 'garbage' }, swap .. '/wasm/swap.wasm')
  local notes = T.notified(function()
    vim.cmd('Wasm reload swap')
  end)
  T.contains(notes[1].msg, "wasm_nvim.reload: reloading 'swap': cannot load: not a WebAssembly module")
  T.eq(wasm.swap.ping(), 'pong')
end)

T.test(':Wasm with a wrong subcommand or plugin says so', function()
  local notes = T.notified(function()
    vim.cmd('Wasm frobnicate')
    vim.cmd('Wasm info nosuch')
  end)
  T.contains(notes[1].msg, 'unknown subcommand "frobnicate"')
  T.contains(notes[2].msg, "no plugin named 'nosuch'")
end)

T.test(':checkhealth wasm_nvim reports library, limits, cache and each plugin', function()
  vim.uv.fs_copyfile(T.build .. '/conformance/wasm/conformance.wasm', swap .. '/wasm/swap.wasm')
  wasm.setup()
  vim.cmd('checkhealth wasm_nvim')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), '\n')
  vim.cmd.bwipeout()
  T.contains(
    text,
    'library ' .. wasm.version .. ', wasmtime 48.0.8',
    'the Lua files match the library',
    'API level',
    'LuaJIT FFI available',
    'limits: timeout 10000 ms, memory 256 MiB',
    'compile cache: ',
    'conformance: seed (JSON) ABI',
    'fastabi: msgpack ABI',
    'swap: seed (JSON) ABI',
    '(the limits and permissions of each plugin: below)',
    'timeout 10000 ms, memory 256 MiB, allowed: lua, api ('
  )
  T.ok(not text:find('ERROR', 1, true), text)
end)

T.test(':checkhealth shows each plugin its own settings: limits, permissions', function()
  wasm.setup({
    plugins = { fastabi = { timeout_ms = 500, memory_mb = 32, allow = { lua = false, api = { 'nvim_echo' } } } },
  })
  vim.cmd('checkhealth wasm_nvim')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), '\n')
  vim.cmd.bwipeout()
  T.contains(text, 'timeout 500 ms, memory 32 MiB, allowed: api (nvim_echo) (', 'conformance: seed (JSON) ABI')
  wasm.setup()
end)

T.test(':checkhealth reports a plugin that fails to load as an error', function()
  vim.fn.writefile({ 'garbage' }, swap .. '/wasm/swap.wasm')
  wasm.setup()
  vim.cmd('checkhealth wasm_nvim')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), '\n')
  vim.cmd.bwipeout()
  T.contains(text, "ERROR swap: plugin 'swap' (" .. swap .. '/wasm/swap.wasm): cannot load: not a WebAssembly module')
end)

T.test('the version check: Lua files of another version are reported with the fix', function()
  local other = vim.fn.tempname()
  vim.fn.mkdir(other .. '/lua/wasm_nvim', 'p')
  vim.fn.writefile({ "return '9.9.9'" }, other .. '/lua/wasm_nvim/version.lua')
  local r = T.nvim({
    '--cmd',
    'set rtp^=' .. other .. ',' .. T.root,
    '-c',
    'lua require("wasm_nvim")',
    '-c',
    'lua vim.wait(50)',
    '-c',
    'qa!',
  }, { text = true })
  T.contains(
    r.stderr .. r.stdout,
    'the library is version ' .. wasm.version .. ' but the Lua files are 9.9.9',
    'rebuild the library'
  )
end)

T.test('the Lua files, the library and Cargo.toml agree on the version', function()
  local cargo = table.concat(vim.fn.readfile(T.root .. '/Cargo.toml'), '\n')
  T.eq(require('wasm_nvim.version'), wasm.version)
  T.contains(cargo, ('version = "%s"'):format(wasm.version))
end)
