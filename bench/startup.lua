-- Startup and memory with 10 wasm plugins installed. Run by scripts/bench.sh
-- as the init file of `nvim --startuptime`; WASM_NVIM_BENCH_MODE says what
-- to do: "none" (the baseline), "require" (load the library only),
-- "setup" (setup(): plugins found, each loaded on first use), "eager"
-- (setup({ lazy = false }): every plugin loaded now), "call" (load each and
-- record memory to $WASM_NVIM_BENCH_OUT).
local root = assert(vim.env.WASM_NVIM_ROOT)
local plugins = assert(vim.env.WASM_NVIM_BENCH_PLUGINS)
vim.opt.rtp:prepend(root)
for _, dir in ipairs(vim.fn.glob(plugins .. '/*', false, true)) do
  vim.opt.rtp:append(dir)
end
local mode = vim.env.WASM_NVIM_BENCH_MODE or 'none'
local rss0 = vim.uv.resident_set_memory()
if mode ~= 'none' then
  local wasm = require('wasm_nvim')
  local rss_lib = vim.uv.resident_set_memory()
  if mode ~= 'require' then
    wasm.setup({ lazy = mode ~= 'eager' })
  end
  if mode == 'call' then
    for _, p in ipairs(wasm.plugins()) do
      local _ = wasm[p.name] -- loads it
    end
    local out = assert(io.open(assert(vim.env.WASM_NVIM_BENCH_OUT), 'w'))
    out:write(vim.json.encode({
      plugins = #wasm.plugins(),
      rss_before_mb = rss0 / 2 ^ 20,
      rss_library_mb = rss_lib / 2 ^ 20,
      rss_after_mb = vim.uv.resident_set_memory() / 2 ^ 20,
      maxrss_mb = vim.uv.getrusage().maxrss / 1024,
      -- address space (each memory reserves 4 GiB + guard, virtual only)
      vm_size_mb = tonumber(io.open('/proc/self/status'):read('*a'):match('VmSize:%s*(%d+)')) / 1024,
    }))
    out:close()
  end
end
