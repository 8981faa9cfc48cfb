-- The native stack under plugins (crates/wasm_nvim/src/stack.rs): six
-- copies of one plugin, each recursing through most of its 2 MiB wasm stack,
-- nested through `User` autocmds fired with nvim_exec_autocmds — more than
-- Neovim's main stack holds (8 MiB on Linux, 1 MiB on Windows). Each fresh
-- entry into a plugin continues on a new stack segment when the thread's
-- stack could not hold its budget, so Neovim survives and every failure is
-- a clean error naming the plugin. Also run under Wine (scripts/wine.sh).

vim.env.WASM_NVIM_TEST_HOOKS = '1' -- enables host::__test_panic
T.rtp('divers', 'hostile', 'conformance')
local wasm = require('wasm_nvim')
wasm.setup({ plugins = { hostile = { timeout_ms = 2000 } } })
local editor_is_fine = T.unsaved_buffer()
local PLUGINS = 6

--- The deepest `probe` that does not exhaust a plugin's wasm stack, to
--- within 1/16 (measured, so frame sizes on this platform do not matter).
local function max_depth()
  local ok_depth, n = 0, 256
  while pcall(wasm.diver1.probe, n) do
    ok_depth, n = n, n * 2
    assert(n < 1e7, 'probe never exhausted the stack')
  end
  local fail_depth = n
  while fail_depth - ok_depth > ok_depth / 16 do
    local mid = math.floor((ok_depth + fail_depth) / 2)
    if pcall(wasm.diver1.probe, mid) then
      ok_depth = mid
    else
      fail_depth = mid
    end
  end
  return ok_depth
end

local depth -- 85% of the deepest a plugin can go
local level = 0 -- how many plugins deep the chain is
local on_dive = function() end -- what the autocmd does at each level
vim.api.nvim_create_autocmd('User', {
  pattern = 'Dive',
  callback = function()
    level = level + 1
    on_dive(level)
  end,
})

T.test('a plugin recursing past its wasm stack traps cleanly', function()
  T.fails({ 'wasm_nvim: diver1.probe:', 'call stack exhausted' }, wasm.diver1.probe, 10000000)
  depth = math.floor(max_depth() * 0.85)
  T.ok(depth > 1000, 'depth ' .. depth)
  wasm.diver1.dive(depth) -- fires Dive once, nobody continues
  editor_is_fine()
end)

T.test('outermost calls reuse their stack: no new one per call', function()
  -- Linux/macOS: they fit the main stack; Windows (1 MiB main stack): they
  -- run on one fiber kept for the thread, made at most once.
  wasm.diver1.probe(1)
  local before = wasm._status().stacks_made
  T.eq(type(before), 'number')
  for _ = 1, 200 do
    wasm.diver1.probe(1)
  end
  T.eq(wasm._status().stacks_made, before)
end)

T.test(('%d plugins, each deep in its own wasm stack, nested through User autocmds'):format(PLUGINS), function()
  level = 0
  on_dive = function(n)
    if n < PLUGINS then
      wasm['diver' .. (n + 1)].dive(depth)
    end
  end
  local made = wasm._status().stacks_made
  wasm.diver1.dive(depth)
  T.eq(level, PLUGINS)
  T.ok(wasm._status().stacks_made > made, 'nested entries took fresh segments')
  editor_is_fine()
  -- and again: the fresh segments were freed and can be had again
  level = 0
  wasm.diver1.dive(depth)
  T.eq(level, PLUGINS)
end)

T.test('a chain that never stops ends in a clean error naming a plugin', function()
  level = 0
  local errs = {}
  on_dive = function(n)
    local ok, err = pcall(wasm['diver' .. (n % PLUGINS + 1)].dive, depth)
    if not ok then
      errs[#errs + 1] = err
    end
  end
  wasm.diver1.dive(depth)
  T.ok(#errs >= 1, 'an error was raised')
  T.contains(errs[1], 'wasm_nvim: diver')
  -- diver1 re-entered from deeper than its own stack, Neovim's autocmd
  -- nesting limit, or the cross-plugin nesting cap: whichever comes first
  T.ok(
    errs[1]:find('call stack exhausted', 1, true) or errs[1]:find('E218', 1, true) or errs[1]:find('nested', 1, true),
    errs[1]
  )
  io.stdout:write('       (stopped at level ' .. level .. ': ' .. errs[1]:match('[^\n]*') .. ')\n')
  editor_is_fine()
  on_dive = function() end
  for i = 1, PLUGINS do
    wasm['diver' .. i].dive(10)
  end
end)

T.test('traps and panics deep in the chain surface as errors from a fresh segment', function()
  level = 0
  local seen = {}
  on_dive = function(n)
    if n < PLUGINS then
      return wasm['diver' .. (n + 1)].dive(depth)
    end
    seen.trap = select(2, pcall(wasm.hostile.recurse))
    seen.panic = select(2, pcall(wasm.hostile.host_panic))
    seen.ok = wasm.hostile.ok()
    seen.conformance = wasm.conformance.recurse(99) -- 100 calls deep
  end
  wasm.diver1.dive(depth)
  T.eq(level, PLUGINS)
  T.contains(seen.trap, 'wasm_nvim: hostile.recurse:', 'call stack exhausted')
  T.contains(seen.panic, 'wasm_nvim: hostile.host_panic:', 'internal error (please report): panic: test hook')
  T.eq(seen.ok, 'fine')
  T.eq(seen.conformance, 99, 'plugin -> Lua -> plugin, 100 calls deep at the bottom of the chain')
  editor_is_fine()
end)

T.test('re-entrancy still reaches the documented depth of 100', function()
  T.eq(wasm.conformance.recurse(99), 99) -- 100 calls deep
  T.fails({ 'wasm_nvim: conformance.recurse:', 'nested deeper than 100' }, wasm.conformance.recurse, 150)
  editor_is_fine()
end)
