-- make bench, fuzzy finding: the finder example's wasm matcher against
-- telescope-fzf-native (C via LuaJIT FFI), vim.fn.matchfuzzy and the same
-- Rust code compiled natively, on real paths (Debian's Contents index).
-- Run by scripts/bench.sh:  nvim --headless -u NONE -l bench/finder.lua
-- Environment: WASM_NVIM_ROOT, WASM_NVIM_BUILD, FINDER_PATHS (the paths
-- file), FZF_NATIVE_LUA (the peer's lua dir, its libfzf.so in ../build),
-- FINDER_NATIVE_JSON (finder-native's output per size), WASM_NVIM_BENCH_OUT.
local root = assert(vim.env.WASM_NVIM_ROOT)
vim.opt.rtp:prepend(root)
vim.opt.rtp:append(root .. '/examples/rust-finder')
vim.opt.rtp:append(vim.env.WASM_NVIM_BUILD .. '/bench/finder_simd')
vim.opt.rtp:append(vim.env.WASM_NVIM_BUILD .. '/bench/finder_free')
package.path = vim.env.FZF_NATIVE_LUA .. '/?.lua;' .. package.path

local wasm = require('wasm_nvim')
wasm.setup({
  workers = { memory_mb = 1024 },
  plugins = {
    finder = { memory_mb = 1024, timeout_ms = 60000 },
    finder_simd = { memory_mb = 1024, timeout_ms = 60000 },
    finder_free = { memory_mb = 1024, timeout_ms = 0 },
  },
})
local finder = require('wasm_finder')
local fzf = require('fzf_lib')

local QUERIES = { 'init.lua', 'libc.so', 'usr bin python', 'gtk css', 'zz' }
local out = { queries = QUERIES, sizes = {}, quality = {} }
local function now()
  return vim.uv.hrtime() / 1e6
end
local function log(...)
  io.stderr:write(string.format(...), '\n')
end
local function median(t)
  table.sort(t)
  return t[math.ceil(#t / 2)]
end

local text_all = assert(io.open(vim.env.FINDER_PATHS)):read('a')
local native = vim.json.decode(assert(io.open(vim.env.FINDER_NATIVE_JSON)):read('a'))

local function load_sync(plugin, text)
  local p = wasm[plugin]
  p.clear()
  p.reserve(#text, 0)
  local pos, chunk = 1, 16 * 2 ^ 20
  while pos <= #text do
    local e = text:find('\n', math.min(pos + chunk, #text), true) or #text
    p.add(text:sub(pos, e))
    pos = e + 1
  end
  return p.stats()
end

local function wait_engine(engine)
  -- the load jobs run first; a trivial query waits for them
  local done = false
  engine:query('', 1, function()
    done = true
  end)
  assert(
    vim.wait(120000, function()
      return done
    end, 1),
    'loading timed out'
  )
end

for _, size in ipairs({ 100000, 'all' }) do
  local text = text_all
  if size ~= 'all' then
    local pos = 0
    for _ = 1, size do
      pos = text_all:find('\n', pos + 1, true)
    end
    text = text_all:sub(1, pos - 1)
  end
  local items = vim.split(text, '\n', { trimempty = true })
  local n = #items
  local runs = n > 200000 and 3 or 5
  log('[finder] %d paths', n)
  local row = { items = n, bytes = #text, q = {} }
  out.sizes[#out.sizes + 1] = row

  -- wasm on the editor thread (synchronous: the freeze a worker avoids)
  load_sync('finder', text)
  load_sync('finder_simd', text)
  load_sync('finder_free', text)
  local fzf_slab = fzf.allocate_slab()
  for _, q in ipairs(QUERIES) do
    local r = {}
    row.q[q] = r
    for _, variant in ipairs({ 'finder', 'finder_simd', 'finder_free' }) do
      local ms = {}
      for _ = 1, runs do
        local t = now()
        local res = wasm[variant].query(q, 10)
        ms[#ms + 1] = now() - t
        r.matched = res.matched
        if variant == 'finder' then
          r.top_wasm = vim.tbl_map(function(h)
            return { h.score, h.text }
          end, vim.list_slice(res.items, 1, 5))
        end
      end
      r[({ finder = 'wasm', finder_simd = 'wasm_simd', finder_free = 'wasm_free' })[variant]] = median(ms)
    end
    -- telescope-fzf-native via FFI: score every item, keep the best 10
    local ms = {}
    local top
    for _ = 1, runs do
      local t = now()
      local pattern = fzf.parse_pattern(q, 0, true)
      local best, matched = {}, 0
      for i = 1, n do
        local s = fzf.get_score(items[i], pattern, fzf_slab)
        if s > 0 then
          matched = matched + 1
          if #best < 10 or s > best[#best][1] then
            best[#best + 1] = { s, items[i] }
            table.sort(best, function(a, b)
              return a[1] > b[1] or (a[1] == b[1] and #a[2] < #b[2])
            end)
            best[11] = nil
          end
        end
      end
      fzf.free_pattern(pattern)
      ms[#ms + 1] = now() - t
      top, r.matched_fzf = best, matched
    end
    r.fzf_native = median(ms)
    r.top_fzf = vim.list_slice(top, 1, 5)
    -- vim.fn.matchfuzzy (Neovim's C; the list crosses into Vimscript each call)
    ms = {}
    for _ = 1, (n > 200000 and 1 or 3) do
      local t = now()
      vim.fn.matchfuzzy(items, q, { limit = 10 })
      ms[#ms + 1] = now() - t
    end
    r.matchfuzzy = median(ms)
    local nat = native[tostring(size)][q]
    r.native = median(vim.deepcopy(nat.ms))
    log(
      '  %-16s wasm %7.1f  simd %7.1f  no checks %7.1f  fzf-native %7.1f  matchfuzzy %8.1f  native %7.1f ms',
      q,
      r.wasm,
      r.wasm_simd,
      r.wasm_free,
      r.fzf_native,
      r.matchfuzzy,
      r.native
    )
  end
  fzf.free_slab(fzf_slab)
  wasm.finder.clear()
  wasm.finder_simd.clear()
  wasm.finder_free.clear()

  -- workers: 1 and N shards (N = the pool's threads), submit to merged result
  local threads = wasm.jobs().threads.size
  for _, shards in ipairs(threads > 1 and { 1, threads } or { 1 }) do
    local engine = finder.engine_from_text(text, { shards = shards })
    wait_engine(engine)
    if shards == 1 and size == 'all' then
      local info = engine.shards[1].worker:info()
      local stats
      engine.shards[1].worker
        :call('stats', {}, function(_, v)
          stats = v
        end)
        :wait()
      out.memory = { wasm_memory = info.memory, corpus_bytes = stats[2], text_bytes = #text, items = stats[1] }
    end
    for _, q in ipairs(QUERIES) do
      local ms = {}
      for _ = 1, runs do
        local t, got = now(), nil
        engine:query(q, 10, function(res)
          got = res
        end)
        assert(vim.wait(120000, function()
          return got ~= nil
        end, 1))
        ms[#ms + 1] = now() - t
      end
      row.q[q]['workers' .. shards] = median(ms)
    end
    -- the editor thread while a query runs: the longest gap between ticks
    -- of a 1 ms timer (the worst stall a user typing would feel)
    if size == 'all' then
      local longest, last, got = 0, now(), nil
      local timer = vim.uv.new_timer()
      timer:start(1, 1, function()
        local t = now()
        longest = math.max(longest, t - last)
        last = t
      end)
      local t0 = now()
      engine:query('usr bin python', 10, function(res)
        got = res
      end)
      assert(vim.wait(120000, function()
        return got ~= nil
      end, 1))
      local total = now() - t0
      timer:stop()
      timer:close()
      out['stall' .. shards] = { longest_ms = longest, query_ms = total }
      log('  %d worker(s): longest editor stall %.1f ms during a %.0f ms query', shards, longest, total)
    end
    engine:close()
  end
end

-- result quality: top 5 side by side (1.6M paths)
local all = out.sizes[#out.sizes]
for _, q in ipairs(QUERIES) do
  out.quality[q] = {
    wasm = all.q[q].top_wasm,
    fzf = all.q[q].top_fzf,
    matched = all.q[q].matched,
    matched_fzf = all.q[q].matched_fzf,
  }
end

local f = assert(io.open(vim.env.WASM_NVIM_BENCH_OUT, 'w'))
f:write(vim.json.encode(out))
f:close()
