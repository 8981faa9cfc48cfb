-- Hostile plugins: each test is one attack from issue 12 (a plugin or a
-- file crafted to crash, freeze or exhaust the editor). Each must end in a
-- clear Lua error naming plugin and function (or be cut to a bound), fast;
-- Neovim must keep answering with an unsaved buffer intact. The fixtures
-- are WAT modules built by crates/fixtures into tests/build/attacks/ (and
-- ident_*/, cache_*/).

vim.env.WASM_NVIM_TEST_HOOKS = '1' -- enables host::__test_protected_panic, _msgpack_decode
T.rtp('attacks', 'conformance')
local wasm = require('wasm_nvim')
local editor_is_fine = T.unsaved_buffer()
local scratch = vim.fn.tempname()
vim.fn.mkdir(scratch, 'p')
local cache_dir = vim.fn.stdpath('cache') .. '/wasm_nvim'

-- the sleeper's 1 s deadline keeps its 3 s sleep "longer than the call may run"
local base =
  { plugins = { fastbad = { timeout_ms = 200 }, fastbad2 = { timeout_ms = 200 }, sleeper = { timeout_ms = 1000 } } }

--- setup() with the base options and `extra`; returns what it notified.
local function setup(extra)
  return T.notified(function()
    wasm.setup(vim.tbl_deep_extend('force', base, extra or {}))
  end)
end
setup()

local function ms_since(t0)
  return (vim.uv.hrtime() - t0) / 1e6
end

--- A directory on the runtimepath holding `wasm/<name>.wasm` made by `make(path)`.
local function plugin_file(dir, name, make)
  local path = scratch .. '/' .. dir .. '/wasm/' .. name .. '.wasm'
  vim.fn.mkdir(vim.fs.dirname(path), 'p')
  make(path)
  vim.opt.rtp:append(scratch .. '/' .. dir)
  return path
end

local function load_error(name)
  local ok, err = pcall(function()
    return wasm[name]
  end)
  T.ok(not ok, 'loading ' .. name .. ' should fail')
  return err
end

-- 2 ---------------------------------------------------------------------------
T.test('a panic inside a protected Lua section is an internal error, not an abort', function()
  T.fails({
    'wasm_nvim: panicky.protected_panic:',
    'internal error (please report): panic: test hook: a panic inside a protected Lua section',
  }, wasm.panicky.protected_panic)
  editor_is_fine()
  T.eq(wasm.panicky.ok(), 'fine')
end)

-- 3 ---------------------------------------------------------------------------
T.test('a WASI sleep longer than the call may run is refused at once', function()
  local t0 = vim.uv.hrtime()
  T.fails({ 'wasm_nvim: sleeper.sleep_long:', 'limit exceeded: timeout:', 'sleep 3000 ms' }, wasm.sleeper.sleep_long)
  T.ok(ms_since(t0) < 500, ('took %.0f ms'):format(ms_since(t0)))
  editor_is_fine()
  -- a short sleep sleeps, reports its event, and counts as the plugin's time
  t0 = vim.uv.hrtime()
  wasm.sleeper.nap()
  T.ok(ms_since(t0) >= 45, ('napped %.0f ms'):format(ms_since(t0)))
  T.eq(wasm.sleeper.nap_events(), { 0, 1, 7 })
end)

-- 4 ---------------------------------------------------------------------------
T.test('a function list of 60,000 names, or a 100 KB name, is refused at once', function()
  local t0 = vim.uv.hrtime()
  local err = load_error('many_names')
  T.contains(err, "plugin 'many_names'", 'lists 60000 functions, more than 10000')
  T.ok(ms_since(t0) < 1500, ('took %.0f ms'):format(ms_since(t0)))
  err = load_error('long_name')
  T.contains(err, "plugin 'long_name'", 'a function name of 100000 bytes', 'at most 1024')
  T.ok(#err < 2000, ('a %d-byte message'):format(#err))
  editor_is_fine()
end)

-- 5, 8 ------------------------------------------------------------------------
T.test('module size is capped before anything is read or compiled (limits.module_mb)', function()
  T.eq(wasm._status().module_mb, 32, 'the default cap')
  setup({ plugins = { padded = { module_mb = 2 } } })
  T.contains(load_error('padded'), "plugin 'padded'", 'the file is 3.0 MiB, more than its limit of 2 MiB', 'module_mb')
  setup()
  T.eq(wasm.padded.ok(), 'fine', '3 MiB is under the default')
  -- the default bound, on a 40 MiB (sparse) file
  plugin_file('sparse', 'huge', function(path)
    local f = assert(io.open(path, 'wb'))
    f:write('\0asm\1\0\0\0')
    f:seek('set', 40 * 1024 * 1024)
    f:write('x')
    f:close()
  end)
  setup()
  T.contains(load_error('huge'), "plugin 'huge'", 'more than its limit of 32 MiB')
  editor_is_fine()
end)

T.test('a module defining 60,000 functions is refused before compiling (limits.module_functions)', function()
  T.eq(wasm._status().module_functions, 50000, 'the default cap')
  local t0 = vim.uv.hrtime()
  T.contains(load_error('many_funcs'), "plugin 'many_funcs'", 'defines 60000 functions, more than its limit of 50000')
  T.ok(ms_since(t0) < 1000, ('took %.0f ms'):format(ms_since(t0)))
  editor_is_fine()
end)

T.test('a plugin file that is a FIFO or a symlink to /dev/zero is refused, not read', function()
  if T.windows then
    T.skip('FIFOs and /dev/zero are POSIX')
  end
  plugin_file('special', 'fifo', function(path)
    T.eq(vim.fn.system({ 'mkfifo', path }), '')
  end)
  plugin_file('special', 'zero', function(path)
    assert(vim.uv.fs_symlink('/dev/zero', path))
  end)
  setup()
  T.contains(load_error('fifo'), "plugin 'fifo'", 'not a regular file')
  T.contains(load_error('zero'), "plugin 'zero'", 'not a regular file')
  editor_is_fine()
end)

T.test('a cache entry replaced by a FIFO is skipped and rebuilt, not read', function()
  if T.windows then
    T.skip('FIFOs are POSIX')
  end
  vim.fn.delete(cache_dir, 'rf')
  setup({ debug = false })
  T.eq(wasm.tiny.ok(), 'fine')
  local entries = vim.fn.glob(cache_dir .. '/*.cwasm', false, true)
  T.eq(#entries, 1)
  vim.fn.delete(entries[1])
  T.eq(vim.fn.system({ 'mkfifo', entries[1] }), '')
  setup()
  T.eq(wasm.tiny.ok(), 'fine')
  T.eq(
    vim.tbl_filter(function(p)
      return p.name == 'tiny'
    end, wasm.plugins())[1].compiled,
    'rebuilt (corrupt cache entry)'
  )
  vim.fn.delete(entries[1])
end)

-- 6 ---------------------------------------------------------------------------
T.test('an output flood is cut per call and does not freeze the editor', function()
  vim.cmd('messages clear')
  local t0 = vim.uv.hrtime()
  wasm.flood.flood(8) -- 8 x (1 MiB on stdout, then lua_exec)
  local ms = ms_since(t0)
  T.ok(ms < 2500, ('took %.0f ms'):format(ms))
  local messages = T.messages()
  T.ok(#messages < 200 * 1024, ('%d bytes in :messages'):format(#messages))
  T.contains(messages, 'flood: xxxx', 'output of this call cut')
  editor_is_fine()
end)

-- 7 ---------------------------------------------------------------------------
T.test('a huge error message is cut, and the journal is bounded in bytes', function()
  for _ = 1, 30 do
    local err = T.fails('wasm_nvim: shouter.shout: eeee', wasm.shouter.shout, 4) -- 4 MiB
    T.ok(#err < 20 * 1024, ('a %d-byte error'):format(#err))
  end
  local log, total = wasm._log(), 0
  for _, entry in ipairs(log) do
    T.ok(#entry <= 4200, ('a %d-byte entry'):format(#entry))
    total = total + #entry
  end
  T.ok(total <= 1024 * 1024, ('a %d-byte journal'):format(total))
  T.contains(log[#log], 'more bytes cut')
  editor_is_fine()
end)

-- 9 ---------------------------------------------------------------------------
local function mappings()
  local n = 0
  for _ in io.lines('/proc/self/maps') do
    n = n + 1
  end
  return n
end

T.test('2000 reloads do not grow the process mappings (no waiting for a Lua GC)', function()
  T.eq(wasm.tiny.ok(), 'fine')
  local kept = wasm.tiny.ok
  for _ = 1, 20 do
    wasm.reload('tiny')
  end
  collectgarbage('stop') -- what keeps old plugins alive must not matter
  local before = mappings()
  local t0 = vim.uv.hrtime()
  for _ = 1, 2000 do
    wasm.reload('tiny')
  end
  local after = mappings()
  collectgarbage('restart')
  T.ok(after - before < 50, ('mappings grew from %d to %d in %.0f ms'):format(before, after, ms_since(t0)))
  T.eq(wasm.tiny.ok(), 'fine')
  T.eq(kept(), 'fine', 'a function kept from before the reloads still works')
end)

T.test('a plugin reloading itself during its own call is refused cleanly, and works after', function()
  T.fails(
    "cannot reload 'conformance' while it is running",
    wasm.conformance.exec,
    "require('wasm_nvim').reload('conformance')"
  )
  T.eq(wasm.conformance.ping(), 'pong')
  editor_is_fine()
end)

-- 10 --------------------------------------------------------------------------
T.test('a shadowed name is always warned about, and settings stay with their file', function()
  local real = T.build .. '/ident_real'
  local impostor = T.build .. '/ident_impostor'
  vim.opt.rtp:append(real)
  setup({ plugins = { notes = { memory_mb = 64, data_dir = true } } })
  T.eq(wasm.notes.who(), 'real')
  -- an impostor named `notes` comes first on the runtimepath
  vim.opt.rtp:prepend(impostor)
  local notes = setup({ plugins = { notes = { memory_mb = 64, data_dir = true } } })
  local text = T.notes_text(notes)
  T.contains(text, impostor .. '/wasm/notes.wasm', real .. '/wasm/notes.wasm', 'same name')
  T.eq(wasm.notes.who(), 'real', 'the file the settings were made for keeps the name')
  local info = vim.tbl_filter(function(p)
    return p.name == 'notes'
  end, wasm.plugins())[1]
  T.eq(T.slashes(info.path), real .. '/wasm/notes.wasm')
  T.eq(info.memory_mb, 64)
  T.ok(info.data_dir, 'the real one keeps its data dir')
  -- :checkhealth says so too
  vim.cmd('checkhealth wasm_nvim')
  local health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  T.contains(T.slashes(health), 'notes', impostor .. '/wasm/notes.wasm')
  -- a user who wants the other file names it
  setup({ plugins = { notes = { path = impostor .. '/wasm/notes.wasm' } } })
  T.eq(wasm.notes.who(), 'impostor')
  vim.opt.rtp:remove(impostor)
  vim.opt.rtp:remove(real)
end)

T.test('settings made for a file that is gone are not given to another file of that name', function()
  local impostor = T.build .. '/ident_impostor'
  vim.fn.delete(vim.fn.stdpath('data') .. '/wasm_nvim/owners.json') -- a fresh start
  vim.opt.rtp:append(T.build .. '/ident_real')
  setup({ plugins = { notes = { memory_mb = 64, data_dir = true } } }) -- claimed by the real one
  vim.opt.rtp:remove(T.build .. '/ident_real')
  vim.opt.rtp:append(impostor)
  local text = T.notes_text(setup({ plugins = { notes = { memory_mb = 64, data_dir = true } } }))
  T.contains(text, "settings for 'notes'", T.build .. '/ident_real/wasm/notes.wasm')
  T.eq(wasm.notes.who(), 'impostor')
  local info = vim.tbl_filter(function(p)
    return p.name == 'notes'
  end, wasm.plugins())[1]
  T.eq(info.memory_mb, 256, "the defaults, not the real one's limits")
  T.eq(info.data_dir, nil, "not the real one's data dir")
  vim.opt.rtp:remove(impostor)
end)

T.test('...but a restriction made for that name holds for the other file, and a global one too', function()
  local impostor = T.build .. '/ident_impostor'
  vim.fn.delete(vim.fn.stdpath('data') .. '/wasm_nvim/owners.json')
  vim.opt.rtp:append(T.build .. '/ident_real')
  local restricted = { allow = { lua = false }, plugins = { notes = { data_dir = true, allow = { api = false } } } }
  setup(restricted) -- claimed by the real one
  vim.opt.rtp:remove(T.build .. '/ident_real')
  vim.opt.rtp:append(impostor)
  setup(restricted)
  T.eq(wasm.notes.who(), 'impostor')
  local info = vim.tbl_filter(function(p)
    return p.name == 'notes'
  end, wasm.plugins())[1]
  T.eq(info.allow, 'nothing (no API, no Lua)', "the real one's restriction and the global one both hold")
  T.eq(info.data_dir, nil, 'the grant does not pass')
  vim.opt.rtp:remove(impostor)
end)

-- 11 --------------------------------------------------------------------------
T.test("a cache entry of another module copied under a plugin's name is not run", function()
  vim.fn.delete(cache_dir, 'rf')
  vim.opt.rtp:append(T.build .. '/cache_a')
  vim.opt.rtp:append(T.build .. '/cache_b')
  setup()
  T.eq(wasm.alpha.who(), 'alpha')
  local a = vim.fn.glob(cache_dir .. '/*.cwasm', false, true)
  T.eq(wasm.beta.who(), 'beta')
  local b = vim.tbl_filter(function(f)
    return not vim.tbl_contains(a, f)
  end, vim.fn.glob(cache_dir .. '/*.cwasm', false, true))
  T.eq(#a, 1)
  T.eq(#b, 1)
  T.eq(vim.fn.writefile(vim.fn.readblob(a[1]), b[1]), 0) -- alpha's code under beta's name
  setup()
  T.eq(wasm.beta.who(), 'beta')
  vim.opt.rtp:remove(T.build .. '/cache_a')
  vim.opt.rtp:remove(T.build .. '/cache_b')
end)

-- 13 --------------------------------------------------------------------------
T.test('two plugins running the same Lua chunk each get their own chunk name', function()
  T.fails('wasm:fastbad:1: boom from a fast-ABI chunk', wasm.fastbad.lua_error)
  T.fails('wasm:fastbad2:1: boom from a fast-ABI chunk', wasm.fastbad2.lua_error)
end)

T.test('debug = true with a vim.notify that calls wasm_nvim: no RefCell panic, no endless recursion', function()
  local count, errors = 0, {}
  local orig = vim.notify
  vim.notify = function(msg)
    count = count + 1
    if count > 500 then
      return -- stop runaway recursion so the test can fail cleanly
    end
    local ok, err = pcall(function()
      return wasm.conformance.ping()
    end)
    if not ok then
      errors[#errors + 1] = err
    end
    local _ = msg
  end
  local ok, err = pcall(function()
    wasm.setup({ debug = true })
    wasm.conformance.ping()
    wasm.reload('conformance')
    wasm.conformance.ping()
  end)
  vim.wait(20)
  vim.notify = orig
  T.ok(ok, tostring(err))
  T.eq(errors, {})
  T.ok(count > 0 and count < 100, ('%d notifications'):format(count))
  setup()
end)

T.test('an error at the nesting limit keeps the first and last frames, not all 100', function()
  local err = T.fails(
    { 'wasm_nvim: conformance.recurse:', 'nested calls omitted', 'nested deeper than 100' },
    wasm.conformance.recurse,
    150
  )
  T.ok(#err < 3000, ('a %d-byte message'):format(#err))
  editor_is_fine()
end)

T.test('a table with both [1] and ["1"] is an error, not a lost key', function()
  T.fails(
    { 'wasm_nvim: conformance.echo:', 'bad value:', "key '1' twice" },
    wasm.conformance.echo,
    { [1] = 'a', ['1'] = 'b' }
  )
  T.eq(wasm.conformance.echo({ [1] = 'a', [3] = 'b' }), { ['1'] = 'a', ['3'] = 'b' })
end)

T.test('a cdata value is named in the error', function()
  T.fails(
    { 'wasm_nvim: conformance.echo:', 'cannot encode a cdata' },
    wasm.conformance.echo,
    require('ffi').new('int', 1)
  )
end)

-- 14 --------------------------------------------------------------------------
T.test('a hostile fast-ABI plugin: each broken call is an error naming it; the editor is intact', function()
  local f = wasm.fastbad
  local cases = {
    args_out_of_bounds = { 'nvim_buf_line_count', "outside the plugin's memory" },
    args_huge_len = { 'nvim_buf_line_count', "outside the plugin's memory" },
    args_garbage = { 'nvim_buf_line_count', 'invalid msgpack', 'arguments must be an array' },
    args_deep = { 'nvim_buf_line_count', 'nested deeper than 128' },
    args_huge_array = { 'nvim_buf_line_count', 'elements in' },
    args_trailing = { 'nvim_get_current_line', 'bytes after the arguments' },
    result_out_of_bounds = { 'result', "outside the plugin's memory" },
    result_huge_len = { 'result', "outside the plugin's memory" },
    result_garbage = { 'invalid msgpack' },
    result_deep = { 'nested deeper than 128' },
    error_bad_utf8 = { 'caf\u{fffd} error' },
    lua_error = { 'boom from a fast-ABI chunk' },
    spin = { 'limit exceeded: timeout' },
    alloc_garbage = { 'nvim_get_current_line', 'alloc returned', "outside the plugin's memory" },
  }
  for name, needles in pairs(cases) do
    table.insert(needles, 1, 'wasm_nvim: fastbad.' .. name .. ':')
    T.fails(needles, f[name])
    editor_is_fine()
    T.eq(wasm.fastbad.ok(), 'fine', 'after ' .. name)
  end
end)

T.test('the msgpack reader on random and mutated bytes: a value or an error, never a crash', function()
  local decode = wasm._msgpack_decode
  math.randomseed(12)
  local seeds = {
    '\x93\x01\xa2hi\x81\xa1k\xc3',
    '\xdc\x00\x03\xc0\xcb\x3f\xf0\0\0\0\0\0\0\xd4\x00\x05',
    '\x91\x91\x91\x90',
    '\xc7\x01\x01\x05',
    '\x82\xa1a\x90\xa1b\x80',
  }
  local ok_count, err_count = 0, 0
  for i = 1, 20000 do
    local bytes
    if i % 2 == 0 then
      local n = math.random(0, 24)
      local t = {}
      for j = 1, n do
        t[j] = string.char(math.random(0, 255))
      end
      bytes = table.concat(t)
    else
      local s = seeds[math.random(#seeds)]
      local pos = math.random(1, #s)
      bytes = s:sub(1, pos - 1) .. string.char(math.random(0, 255)) .. s:sub(pos + 1, math.random(pos, #s + 2))
    end
    local ok, res = pcall(decode, bytes)
    if ok then
      ok_count = ok_count + 1
    else
      err_count = err_count + 1
      T.ok(type(res) == 'string' and res:find('bad value: ', 1, true), 'error: ' .. tostring(res))
    end
  end
  T.ok(ok_count > 1000 and err_count > 1000, ('%d values, %d errors'):format(ok_count, err_count))
  editor_is_fine()
end)
