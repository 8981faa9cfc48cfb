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
    h.error(
      ('the library is %s but the Lua files are %s'):format(st.version, lua_version),
      { 'Rebuild the library: `:Lazy build wasm_nvim`, or `nvim -l build.lua` in the plugin directory' }
    )
  elseif lua_ok then
    h.ok('the Lua files match the library')
  end
  local v = vim.version()
  local tested = 'tested with Neovim 0.11.4 (stable) and 0.12.0-dev (a nightly); 0.11 or newer is required'
  local line = ('Neovim %d.%d.%d%s, API level %d (%s)'):format(
    v.major,
    v.minor,
    v.patch,
    v.prerelease and '-dev' or '',
    st.nvim.api_level,
    tested
  )
  if vim.fn.has('nvim-0.13') == 1 then
    h.warn(line, { 'Newer than any Neovim wasm_nvim was tested with: report what breaks' })
  else
    h.ok(line)
  end
  if pcall(require, 'ffi') then
    h.ok('LuaJIT FFI available: raw exports use the fast path')
  else
    h.info('no LuaJIT FFI: raw exports use the regular path')
  end
  h.info(
    ('limits: timeout %s, memory %d MiB, disabled after %d timeouts in a row (the limits and permissions of each plugin: below); calls slower than %s are recorded (:Wasm log)'):format(
      st.timeout_ms and (st.timeout_ms .. ' ms') or 'none',
      st.memory_mb,
      st.max_timeouts,
      st.slow_ms and (st.slow_ms .. ' ms') or 'nothing (slow_ms = 0)'
    )
  )
  if st.cache_dir then
    h.ok(
      ('compile cache: %s (%d entries, %.1f MiB)'):format(
        st.cache_dir,
        st.cache_entries or 0,
        (st.cache_bytes or 0) / 2 ^ 20
      )
    )
  else
    h.info('compile cache: off (setup({ cache = false }))')
  end
  h.info(('loading: %s'):format(st.lazy and 'lazy (each plugin on first use)' or 'all in setup()'))
  local jobs = wasm.jobs()
  local running, queued = 0, 0
  for _, w in ipairs(jobs.workers) do
    running = running + (w.running and 1 or 0)
    queued = queued + w.queued
  end
  h.info(
    ('workers: %d thread(s) at most, %d started (%d idle); %d worker instance(s), %d job(s) running, %d queued'):format(
      jobs.threads.size,
      jobs.threads.live,
      jobs.threads.idle,
      #jobs.workers,
      running,
      queued
    )
  )
  for _, w in ipairs(jobs.workers) do
    if w.running and w.running.ms > 10000 then
      h.warn(
        ('worker %d of %s: job %d (%s) has run for %d ms'):format(
          w.id,
          w.plugin,
          w.running.id,
          w.running['function'],
          w.running.ms
        )
      )
    end
  end
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
      local line = ('%s: %s ABI, %d function(s), %s in %.1f ms, loaded in %.1f ms; timeout %s, memory %d MiB, allowed: %s%s (%s)'):format(
        p.name,
        p.abi,
        #p.functions,
        p.compiled,
        p.compile_ms,
        p.load_ms or 0,
        p.timeout_ms and (p.timeout_ms .. ' ms') or 'none',
        p.memory_mb,
        p.allow or '?',
        p.data_dir and (', data dir ' .. p.data_dir) or '',
        p.path
      )
      if p.disabled then
        h.warn(line .. ': ' .. p.disabled)
      else
        h.ok(line)
      end
      if (p.slow_calls or 0) > 0 then
        h.warn(
          ('%s: %d call(s) slower than %d ms, the slowest %s.%s (%d ms): it makes the editor pause'):format(
            p.name,
            p.slow_calls,
            st.slow_ms or 0,
            p.name,
            p.slowest.name,
            p.slowest.ms
          ),
          {
            'See :Wasm log for each one',
            ("Give it more time with setup({ plugins = { %s = { timeout_ms = ... } } }), or report it to the plugin's author"):format(
              p.name
            ),
          }
        )
      end
    elseif p.state == 'failed' then
      h.error(('%s: %s'):format(p.name, p.error))
    else
      h.info(('%s: not loaded (%s)'):format(p.name, p.path))
    end
  end
end

return M
