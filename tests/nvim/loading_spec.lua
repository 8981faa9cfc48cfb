-- Discovery on the runtimepath, naming, setup() and its options.

T.rtp('conformance', 'names')
local wasm = require('wasm_nvim')

T.test('reading a plugin before setup() runs setup with defaults', function()
  local notes = T.notified(function()
    T.eq(wasm.conformance.ping(), 'pong')
  end)
  -- names/setup.wasm cannot be called "setup": that warning is expected.
  T.eq(#notes, 1)
  T.contains(notes[1].msg, 'names/wasm/setup.wasm', "'setup' is a field of the wasm_nvim module")
  T.eq(type(wasm.setup), 'function')
end)

T.test('a file stem that is not a Lua identifier is reachable with brackets', function()
  T.eq(wasm['my-plugin'].ok(), nil)
  T.eq(type(wasm['my-plugin'].ok), 'function')
end)

T.test('version is the crate version', function()
  T.ok(wasm.version:match('^%d+%.%d+%.%d+'), wasm.version)
end)

T.test('the first file with a stem on the runtimepath wins; debug says which was skipped', function()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/wasm', 'p')
  vim.uv.fs_copyfile(T.build .. '/faulty/wasm/faulty.wasm', dir .. '/wasm/conformance.wasm')
  vim.opt.rtp:append(dir)
  local notes = T.notified(function()
    wasm.setup({ debug = true, lazy = false })
  end)
  T.eq(wasm.conformance.ping(), 'pong', 'the earlier conformance.wasm is the one loaded')
  T.eq(wasm.conformance.trap, nil)
  local text = T.notes_text(notes)
  T.contains(
    text,
    'skipping ' .. dir .. '/wasm/conformance.wasm: same name as ' .. T.build .. '/conformance/wasm/conformance.wasm'
  )
  T.contains(text, "loaded 'conformance' from " .. T.build .. '/conformance/wasm/conformance.wasm in ')
  vim.opt.rtp:remove(dir)
end)

T.test('setup() again picks up plugins added to and removed from the runtimepath', function()
  T.eq(rawget(wasm, 'faulty'), nil)
  vim.opt.rtp:append(T.build .. '/faulty')
  wasm.setup()
  T.eq(wasm.faulty.ok(), 'fine')
  vim.opt.rtp:remove(T.build .. '/faulty')
  wasm.setup()
  T.eq(rawget(wasm, 'faulty'), nil)
  T.eq(wasm.conformance.ping(), 'pong')
end)

T.test('a function kept from before a reload still works', function()
  local ping = wasm.conformance.ping
  wasm.setup()
  T.eq(ping(), 'pong')
end)

T.test('options: unknown keys warn, wrong types fail', function()
  local notes = T.notified(function()
    wasm.setup({ debgu = true })
  end)
  T.contains(T.notes_text(notes), "wasm_nvim.setup: unknown option 'debgu' (ignored)")
  T.fails("wasm_nvim.setup: bad value: option 'debug' must be a boolean, got string", wasm.setup, { debug = 'yes' })
  T.fails('wasm_nvim.setup: bad value: options must be a table, got integer', wasm.setup, 5)
end)

T.test('plugins() describes each plugin', function()
  wasm.setup()
  local names = vim.tbl_map(function(p)
    return p.name
  end, wasm.plugins())
  table.sort(names)
  T.eq(names, { 'conformance', 'my-plugin' })
end)

T.test('a plugin directory added to the runtimepath after setup() works without another setup()', function()
  wasm.setup({ plugins = { late_off = { enabled = false } } })
  local before = wasm.conformance
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/wasm', 'p')
  vim.uv.fs_copyfile(T.build .. '/hello/wasm/hello.wasm', dir .. '/wasm/late.wasm')
  vim.uv.fs_copyfile(T.build .. '/hello/wasm/hello.wasm', dir .. '/wasm/late_off.wasm')
  T.eq(rawget(wasm, 'late'), nil, 'not known yet')
  vim.opt.rtp:append(dir) -- what a plugin manager does when it loads a plugin on demand (:packadd)
  T.eq(wasm.late.greet('later'), 'Hello, later!')
  T.eq(wasm.late_off, nil, 'disabled in setup() stays off')
  T.eq(wasm.conformance, before, 'the plugins already loaded are untouched')
  local names = vim.tbl_map(function(p)
    return p.name
  end, wasm.plugins())
  T.ok(vim.tbl_contains(names, 'late') and not vim.tbl_contains(names, 'late_off'), vim.inspect(names))
  vim.opt.rtp:remove(dir)
end)

T.test(':Wasm list and plugins() see a directory added after setup() before it is used', function()
  wasm.setup()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/wasm', 'p')
  vim.uv.fs_copyfile(T.build .. '/hello/wasm/hello.wasm', dir .. '/wasm/later2.wasm')
  vim.opt.rtp:append(dir)
  local found
  for _, p in ipairs(wasm.plugins()) do
    if p.name == 'later2' then
      found = p
    end
  end
  T.ok(found, 'listed')
  T.eq(found.state, 'not loaded')
  vim.opt.rtp:remove(dir)
end)
