-- Compile vs cached load of each example plugin: setup() five times with
-- the cache off (Cranelift compiles) and five times with it warm.
local root = assert(vim.env.WASM_NVIM_ROOT)
vim.opt.rtp:prepend(root)
for _, dir in ipairs(vim.fn.glob(root .. '/examples/*', false, true)) do
  vim.opt.rtp:append(dir)
end
local wasm = require('wasm_nvim')
local times = {}
for _, mode in ipairs({ 'compile', 'cached' }) do
  wasm.setup({ cache = true, lazy = false }) -- warms the cache
  for _ = 1, 5 do
    wasm.setup({ cache = mode == 'cached', lazy = false })
    for _, p in ipairs(wasm.plugins()) do
      local key = ('startup.%s.%s'):format(p.name, mode)
      times[key] = times[key] or {}
      table.insert(times[key], p.compile_ms)
    end
  end
end
local results = {}
for key, list in pairs(times) do
  table.sort(list)
  results[key] = { min = list[1], median = list[3], runs = #list }
end
local out = assert(io.open(assert(vim.env.WASM_NVIM_BENCH_OUT), 'w'))
out:write(vim.json.encode(results))
out:close()
