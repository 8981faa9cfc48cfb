-- The in-Neovim half of `make bench`: every measurement that runs inside
-- Neovim, each repeated (min and median of at least 5 runs), written as
-- JSON to $WASM_NVIM_BENCH_OUT. Paths come from scripts/bench.sh.
local root = assert(vim.env.WASM_NVIM_ROOT)
local build = assert(vim.env.WASM_NVIM_TEST_BUILD)
vim.opt.rtp:prepend(root)
for _, dir in ipairs({ 'bench/kernels', 'bench/seedbench', 'bench/zkernels' }) do
  vim.opt.rtp:append(build .. '/' .. dir)
end

local wasm = require('wasm_nvim')
-- The compute kernels run both ways: with deadline checks (the default)
-- and without (a trusted plugin, timeout_ms = 0).
wasm.setup({ limits = { timeout_ms = 60000 } })
local results = {}

--- Runs f `runs` times; records min and median in ms (per `per` units if given).
local function measure(name, runs, f, per)
  local times = {}
  local value
  for i = 1, runs do
    collectgarbage()
    local t0 = vim.uv.hrtime()
    value = f()
    times[i] = (vim.uv.hrtime() - t0) / 1e6
  end
  table.sort(times)
  local scale = per or 1
  results[name] = { min = times[1] / scale, median = times[math.ceil(#times / 2)] / scale, runs = runs, per = per }
  if per then
    io.stderr:write(
      ('  %-40s min %10.1f  median %10.1f ns\n'):format(name, results[name].min * 1e6, results[name].median * 1e6)
    )
  else
    io.stderr:write(('  %-40s min %10.2f  median %10.2f ms\n'):format(name, results[name].min, results[name].median))
  end
  return value
end

local function check(got, want, what)
  if got ~= want then
    error(('%s: got %s, want %s'):format(what, tostring(got), tostring(want)))
  end
end

-- Kernels ------------------------------------------------------------------
local SUM_N, SIEVE_N = 1e9, 2e7
local SUM_WANT, SIEVE_WANT = 499999999500000000, 1270607

local function lua_sum(n)
  local total = 0
  for i = 0, n - 1 do
    total = total + i
  end
  return total
end

local new_table = require('table.new')
local function lua_sieve(n)
  local composite = new_table(n, 0)
  local count = 0
  for i = 2, n - 1 do
    if not composite[i] then
      count = count + 1
      for j = i * i, n - 1, i do
        composite[j] = true
      end
    end
  end
  return count
end

io.stderr:write('kernels\n')
-- LuaJIT numbers are doubles: past 2^53 the running sum rounds, so its
-- result is only close to the exact one.
local lsum = measure('sum.luajit', 5, function()
  return lua_sum(SUM_N)
end)
assert(math.abs(lsum - SUM_WANT) / SUM_WANT < 1e-6, 'LuaJIT sum far off: ' .. lsum)
check(
  measure('sieve.luajit', 5, function()
    return lua_sieve(SIEVE_N)
  end),
  SIEVE_WANT,
  'LuaJIT sieve'
)
for _, mode in ipairs({ 'metered', 'unmetered' }) do
  if mode == 'unmetered' then
    wasm.setup({ limits = { timeout_ms = 0 } })
  end
  local k, z = wasm.kernels, wasm.zkernels
  check(
    measure('sum.wasm_rust.' .. mode, 5, function()
      return k.sum(SUM_N)
    end),
    SUM_WANT,
    'Rust sum'
  )
  check(
    measure('sum.wasm_zig.' .. mode, 5, function()
      return z.zsum(SUM_N)
    end),
    SUM_WANT,
    'Zig sum'
  )
  check(
    measure('sieve.wasm_rust.' .. mode, 5, function()
      return k.sieve(SIEVE_N)
    end),
    SIEVE_WANT,
    'Rust sieve'
  )
  check(
    measure('sieve.wasm_zig.' .. mode, 5, function()
      return z.zsieve(SIEVE_N)
    end),
    SIEVE_WANT,
    'Zig sieve'
  )
end
wasm.setup({ limits = { timeout_ms = 60000 } })

-- Call overhead --------------------------------------------------------------
io.stderr:write('call overhead (ns per call)\n')
local N = 1e6
local function lua_noop() end
local rust_noop = wasm._noop
local k, s = wasm.kernels, wasm.seedbench
measure('call.lua_noop', 7, function()
  for _ = 1, N do
    lua_noop()
  end
end, N)
measure('call.mlua_noop', 7, function()
  for _ = 1, N do
    rust_noop()
  end
end, N)
measure('call.wasm_raw_noop', 7, function()
  for _ = 1, N do
    k.noop_raw()
  end
end, N)
measure('call.wasm_raw_add', 7, function()
  for i = 1, N do
    k.add(i, 1)
  end
end, N)
measure('call.wasm_fast_noop', 7, function()
  for _ = 1, N do
    k.noop()
  end
end, N)
measure('call.wasm_seed_noop', 7, function()
  for _ = 1, N do
    s.noop()
  end
end, N)
measure('call.wasm_seed_echo', 7, function()
  for _ = 1, N / 10 do
    s.echo(1)
  end
end, N / 10)

-- A guest calling the Neovim API vs Lua calling it ------------------------------
io.stderr:write('nvim_get_current_line (ns per call)\n')
vim.api.nvim_buf_set_lines(0, 0, -1, true, { ('x'):rep(80) })
local M = 1e5
local get_line = vim.api.nvim_get_current_line
measure('api.lua', 7, function()
  for _ = 1, M do
    get_line()
  end
end, M)
check(
  measure('api.wasm_fast', 7, function()
    return k.get_line_n(M)
  end, M),
  80 * M,
  'fast get_line_n'
)
check(
  measure('api.wasm_seed', 7, function()
    return s.get_line_n(M)
  end, M),
  80 * M,
  'seed get_line_n'
)

-- Marshaling: fetch a buffer, transform it, write it back ------------------------
io.stderr:write('buffer round trips (ms)\n')
for _, lines in ipairs({ 1e4, 1e5 }) do
  local content = {}
  for i = 1, lines do
    content[i] = ('line %07d '):format(i) .. ('abcdefghij'):rep(7):sub(1, 67)
  end
  local buf = vim.api.nvim_create_buf(false, true)
  local function reset()
    vim.api.nvim_buf_set_lines(buf, 0, -1, true, content)
  end
  local tag = lines == 1e4 and '10k' or '100k'
  measure('buffer.' .. tag .. '.lua', 5, function()
    reset()
    local l = vim.api.nvim_buf_get_lines(buf, 0, -1, true)
    for i = 1, #l do
      l[i] = l[i]:upper()
    end
    vim.api.nvim_buf_set_lines(buf, 0, -1, true, l)
  end)
  measure('buffer.' .. tag .. '.wasm_fast', 5, function()
    reset()
    check(k.upper_buffer(buf), lines, 'fast')
  end)
  measure('buffer.' .. tag .. '.wasm_seed', 5, function()
    reset()
    check(s.upper_buffer(buf), lines, 'seed')
  end)
  measure('buffer.' .. tag .. '.reset_only', 5, reset)
  check(vim.api.nvim_buf_get_lines(buf, 0, 1, true)[1], content[1], 'reset')
end

-- Marshaling alone: a list of 100,000 80-char strings into a plugin and back.
io.stderr:write('list round trips (ms)\n')
do
  local list = {}
  for i = 1, 1e5 do
    list[i] = ('item %07d '):format(i) .. ('abcdefghij'):rep(7):sub(1, 67)
  end
  check(#measure('list.100k.wasm_fast', 5, function()
    return k.echo_lines(list)
  end), 1e5, 'fast echo')
  check(#measure('list.100k.wasm_seed', 5, function()
    return s.echo(list)
  end), 1e5, 'seed echo')
  check(#measure('list.100k.vim_json', 5, function()
    return vim.json.decode(vim.json.encode(list))
  end), 1e5, 'vim.json')
  -- what the seed's original host did for every value
  check(#measure('list.100k.vim_fn_json', 5, function()
    return vim.fn.json_decode(vim.fn.json_encode(list))
  end), 1e5, 'vim.fn.json')
end

-- Memory -----------------------------------------------------------------------
results.memory = { rss_mb = vim.uv.resident_set_memory() / 2 ^ 20, maxrss_mb = vim.uv.getrusage().maxrss / 1024 }

local out = assert(io.open(assert(vim.env.WASM_NVIM_BENCH_OUT), 'w'))
out:write(vim.json.encode(results))
out:close()
