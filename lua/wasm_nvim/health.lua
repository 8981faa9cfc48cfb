-- :checkhealth wasm_nvim
local M = {}

function M.check()
  local h = vim.health
  h.start('wasm_nvim')
  local ok, wasm = pcall(require, 'wasm_nvim')
  if not ok then
    h.error('cannot load the library: ' .. tostring(wasm), {
      'Build it: `nvim -l build.lua` in the plugin directory (lazy.nvim runs it), or `make build`',
      'It needs Rust (cargo): https://rustup.rs',
    })
    return
  end
  local st = wasm._status()
  h.ok(('library %s, wasmtime %s: %s'):format(st.version, st.wasmtime, st.library or '?'))
  local lua_ok, lua_version = pcall(require, 'wasm_nvim.version')
  if lua_ok and lua_version ~= st.version then
    h.error(('the library is %s but the Lua files are %s'):format(st.version, lua_version),
      { 'Rebuild the library: `:Lazy build wasm_nvim`, or `nvim -l build.lua` in the plugin directory' })
  elseif lua_ok then
    h.ok('the Lua files match the library')
  end
  local v = vim.version()
  h.info(('Neovim %d.%d.%d, API level %d'):format(v.major, v.minor, v.patch, vim.fn.api_info().version.api_level))
  if pcall(require, 'ffi') then
    h.ok('LuaJIT FFI available: raw exports use the fast path')
  else
    h.info('no LuaJIT FFI: raw exports use the regular path')
  end
  h.info(('limits: timeout %s, memory %d MiB, disabled after %d timeouts in a row (per-plugin settings below)'):format(
    st.timeout_ms and (st.timeout_ms .. ' ms') or 'none', st.memory_mb, st.max_timeouts))
  if st.cache_dir then
    h.ok(('compile cache: %s (%d entries, %.1f MiB)'):format(st.cache_dir, st.cache_entries or 0,
      (st.cache_bytes or 0) / 2 ^ 20))
  else
    h.info('compile cache: off (setup({ cache = false }))')
  end
  h.info(('loading: %s'):format(st.lazy and 'lazy (each plugin on first use)' or 'all in setup()'))
  for _, warning in ipairs(st.shadowed or {}) do
    h.warn(warning, { 'Two plugins have the same name; remove one, or name the one to load with plugins.<name>.path' })
  end

  h.start('wasm_nvim: plugins')
  local plugins = wasm.plugins()
  if #plugins == 0 then
    h.warn('no plugins: no wasm/*.wasm on the runtimepath')
    return
  end
  for _, p in ipairs(plugins) do
    pcall(function()
      return wasm[p.name] -- loads it, to check that it loads
    end)
  end
  for _, p in ipairs(wasm.plugins()) do
    if p.state == 'loaded' then
      local line = ('%s: %s ABI, %d function(s), %s in %.1f ms, loaded in %.1f ms (%s)'):format(p.name, p.abi,
        #p.functions, p.compiled, p.compile_ms, p.load_ms or 0, p.path)
      if p.disabled then
        h.warn(line .. ': ' .. p.disabled)
      else
        h.ok(line)
      end
    elseif p.state == 'failed' then
      h.error(('%s: %s'):format(p.name, p.error))
    else
      h.info(('%s: not loaded (%s)'):format(p.name, p.path))
    end
  end
end

return M
