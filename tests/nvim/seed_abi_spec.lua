-- Every seed-ABI import and export shape, through the conformance plugin
-- (tests/plugins/conformance, hand-written Rust against the seed README).

T.rtp('conformance')
local wasm = require('wasm_nvim')
wasm.setup()
local c = wasm.conformance

T.test('plugins() lists the plugin with the shapes functionality declared', function()
  local info = vim.tbl_filter(function(p)
    return p.name == 'conformance'
  end, wasm.plugins())
  T.eq(#info, 1)
  T.eq(info[1].name, 'conformance')
  T.contains(info[1].path, 'conformance/wasm/conformance.wasm')
  local shapes = {}
  for _, f in ipairs(info[1].functions) do
    shapes[f.name] = { f.params, f.returns }
  end
  T.eq(shapes.noop, { false, false })
  T.eq(shapes.ping, { false, true })
  T.eq(shapes.ignore_arg, { true, false })
  T.eq(shapes.echo, { true, true })
end)

T.test('export shapes: (), () -> u32, (u32), (u32) -> u32', function()
  T.eq(c.noop(), nil)
  T.eq(c.ping(), 'pong')
  T.eq(c.ignore_arg({ 1, 2, 3 }), nil)
  T.eq(c.echo({ a = { 1, 2, { b = 'c' } }, d = true }), { a = { 1, 2, { b = 'c' } }, d = true })
end)

T.test('a void-params function ignores its argument', function()
  T.eq(c.ping('ignored'), 'pong')
end)

T.test('get_id/set_value/get_value_size/get_value_addr carry values both ways', function()
  for _, v in ipairs({ 'text', 42, 1.5, true, { 1, 2 }, { k = 'v' }, '' }) do
    T.eq(c.echo(v), v)
  end
end)

T.test('state in the guest survives between calls', function()
  c.stash({ kept = 'yes' })
  c.noop()
  T.eq(c.unstash(), { kept = 'yes' })
end)

T.test('lua_exec runs a chunk', function()
  c.exec('_G.from_wasm = 40 + 2')
  T.eq(_G.from_wasm, 42)
end)

T.test('lua_eval returns the value of an expression, or of a chunk with return', function()
  T.eq(c.eval('1 + 1'), 2)
  T.eq(c.eval('{ a = 1, b = { 2, 3 } }'), { a = 1, b = { 2, 3 } })
  T.eq(c.eval('local x = 5; return x * 2'), 10)
  T.eq(c.eval('vim.api.nvim_get_current_buf()'), vim.api.nvim_get_current_buf())
  T.eq(c.eval('nil'), nil)
end)

T.test('lua_eval and lua_exec errors name plugin, function and import', function()
  T.fails({ 'wasm_nvim: conformance.eval:', 'lua_eval', "unexpected symbol near '*'" }, c.eval, '1 +* 2')
  T.fails({ 'wasm_nvim: conformance.exec:', 'lua_exec', 'wasm:conformance:1: nope' }, c.exec, 'error("nope")')
end)

T.test('nvim_* with () -> u32: nvim_get_current_line', function()
  T.buffer({ 'first line', 'second' })
  T.eq(c.current_line(), 'first line')
end)

T.test('nvim_* with (u32) -> (): nvim_set_current_line', function()
  local buf = T.buffer({ 'a', 'b' })
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  c.set_line('changed by wasm')
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'a', 'changed by wasm' })
end)

T.test('nvim_* with (u32) -> u32: nvim_buf_get_lines with a JSON array of args', function()
  local buf = T.buffer({ 'one', 'two', 'three' })
  T.eq(c.get_lines({ buf, 1, -1, true }), { 'two', 'three' })
end)

T.test('nvim_* with () -> (): nvim_del_current_line', function()
  local buf = T.buffer({ 'keep', 'drop', 'keep too' })
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  c.del_line()
  T.eq(vim.api.nvim_buf_get_lines(buf, 0, -1, true), { 'keep', 'keep too' })
end)

T.test('nvim_* returning a dictionary, and nvim_command', function()
  T.eq(c.mode(), { mode = 'n', blocking = false })
  c.command('let g:set_by_wasm = "yes"')
  T.eq(vim.g.set_by_wasm, 'yes')
end)

T.test('every function of the newest API is importable with the shape its metadata implies', function()
  -- all_api.wasm (built from the pinned nightly's api_info) imports every
  -- function: (u32) when it takes parameters, () when not; -> u32 unless
  -- void. It loads on this Neovim too, whichever it is (versions_spec has
  -- what calling a function this one lacks does).
  vim.opt.rtp:append(T.build .. '/all_api')
  local notes = T.notified(function()
    wasm.setup()
  end)
  T.eq(T.notes_text(notes), '')
  local newest = vim.json.decode(table.concat(vim.fn.readfile(T.build .. '/api_info.json'), '\n'))
  T.ok(#newest.functions >= #vim.fn.api_info().functions, 'built from the newest API')
  T.eq(wasm.all_api.count(), #newest.functions)
  T.eq(wasm.conformance.ping(), 'pong')
end)

T.test('API functions Lua cannot call (RPC-only) link, and fail clearly when called', function()
  T.ok(vim.api.nvim_ui_detach == nil, 'nvim_ui_detach is RPC-only')
  T.fails({ 'wasm_nvim: all_api.rpc_only:', 'nvim_ui_detach is not available to Lua' }, wasm.all_api.rpc_only)
end)

T.test('an nvim_* error names plugin, function and API function', function()
  T.fails(
    { 'wasm_nvim: conformance.get_lines:', 'nvim_buf_get_lines', 'Invalid buffer id: 9999' },
    c.get_lines,
    { 9999, 0, -1, true }
  )
  T.fails({ 'nvim_buf_get_lines', 'arguments must be a JSON array, got "{\\"buf\\":1}"' }, c.get_lines, { buf = 1 })
end)

T.test('non-UTF-8 text from Neovim cannot cross the JSON ABI: a clear error', function()
  T.buffer({ 'caf\255' })
  T.fails({ 'conformance.current_line', 'nvim_get_current_line', 'not valid UTF-8' }, c.current_line)
end)

T.test('WASI stdout and stderr go to :messages', function()
  c.print('hello from stdout')
  c.eprint('hello from stderr')
  T.contains(T.messages(), 'hello from stdout', 'hello from stderr')
end)

T.test('re-entrancy: plugin -> Lua -> same plugin', function()
  c.exec("_G.inner = require('wasm_nvim').conformance.ping()")
  T.eq(_G.inner, 'pong')
  T.eq(c.recurse(30), 30)
  T.eq(_G.recurse_seen, 29)
end)

T.test('re-entrancy deeper than the limit is a clear error, and the plugin recovers', function()
  T.fails({ 'conformance.recurse', 'nested deeper than 100' }, c.recurse, 150)
  T.eq(c.ping(), 'pong')
end)

T.test('a panic in the guest is a trap naming plugin and function', function()
  T.fails({ 'wasm_nvim: conformance.panic:', 'unreachable' }, c.panic)
  T.eq(c.ping(), 'pong')
end)

T.test("set_error fails the call with the plugin's message, and the plugin keeps its state", function()
  c.stash({ kept = true })
  T.eq(
    T.fails('wasm_nvim: conformance.refuse: first line must be a number', c.refuse, 'first line must be a number'),
    'wasm_nvim: conformance.refuse: first line must be a number'
  )
  T.eq(c.unstash(), { kept = true }, 'no trap, no fresh instance')
end)

T.test('a consumed id is gone', function()
  T.fails({ 'conformance.reuse_consumed', 'get_value_size', 'unknown value id' }, c.reuse_consumed, 'x')
end)

T.test('large values cross intact', function()
  local s = c.big(10 * 1000 * 1000)
  T.eq(#s, 10 * 1000 * 1000)
  T.eq(s:sub(1, 3) .. s:sub(-3), 'xxxxxx')
  local lines = {}
  for i = 1, 20000 do
    lines[i] = ('line %d %s'):format(i, ('y'):rep(60))
  end
  T.eq(c.echo(lines), lines)
end)

T.test('a 10,000-call loop gives the right answer every time', function()
  for i = 1, 10000 do
    local got = c.sum({ i, 1, 2.5 })
    if got ~= i + 3.5 then
      T.eq(got, i + 3.5, 'call ' .. i)
    end
  end
end)

T.test('values a guest never consumes do not grow memory across calls', function()
  local arg = ('z'):rep(1024 * 1024)
  c.ignore_arg(arg) -- warm up
  collectgarbage()
  local before = vim.uv.resident_set_memory()
  for _ = 1, 2000 do
    c.ignore_arg(arg) -- 2 GB in total if the host kept them
  end
  collectgarbage()
  local grown = (vim.uv.resident_set_memory() - before) / 1024 / 1024
  T.ok(grown < 200, ('resident memory grew by %.0f MiB'):format(grown))
end)
