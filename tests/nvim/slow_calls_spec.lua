-- Long-running plugins by default, and a record of what makes the editor
-- pause: honest heavy work finishes under the default deadline (10 s of wasm
-- time), and every call slower than `slow_ms` (100 ms) is noted with plugin,
-- function and duration in :Wasm log, plugins() and :checkhealth.

T.rtp('conformance')
vim.cmd.runtime('plugin/wasm_nvim.lua') -- :Wasm (nvim -l loads no plugins)
local wasm = require('wasm_nvim')
wasm.setup()
local c = wasm.conformance

local function log_text()
  return table.concat(wasm._log(), '\n')
end

local function info()
  for _, p in ipairs(wasm.plugins()) do
    if p.name == 'conformance' then
      return p
    end
  end
end

T.test('the default deadline lets 1.5 s of computing finish (the old 1 s default did not)', function()
  T.eq(wasm._status().default_timeout_ms, 10000)
  T.eq(wasm._status().timeout_ms, 10000)
  T.ok(c.busy(1500) > 0, 'finished')
end)

T.test('that call is recorded as slow: plugin, function, duration', function()
  T.contains(log_text(), '[conformance] slow call: conformance.busy took ', 'ms in wasm)')
  local ms = tonumber(log_text():match('conformance%.busy took (%d+) ms'))
  T.ok(ms >= 1400 and ms < 5000, 'recorded ' .. tostring(ms) .. ' ms')
  local p = info()
  T.eq(p.slow_calls, 1)
  T.eq(p.slowest.name, 'busy')
end)

T.test('time in Neovim counts (the user waits for it too), and fast calls are not recorded', function()
  for _ = 1, 100 do
    c.noop()
  end
  c.exec('vim.uv.sleep(150)')
  T.contains(log_text(), 'conformance.exec took ', '(0 ms in wasm)')
  T.eq(info().slow_calls, 2)
  T.ok(not log_text():find('conformance.noop', 1, true), 'no-ops are not slow')
end)

T.test(':checkhealth and :Wasm info name the slow plugin and its slowest function', function()
  vim.cmd('checkhealth wasm_nvim')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), '\n')
  vim.cmd.bwipeout()
  T.contains(
    text,
    'calls slower than 100 ms are recorded',
    'WARNING conformance: 2 call(s) slower than 100 ms, the slowest conformance.busy ('
  )
  local out = vim.api.nvim_exec2('Wasm info conformance', { output = true }).output
  T.contains(out, 'slow:     2 call(s), the slowest busy (')
end)

T.test('slow_ms = 0 records nothing; a lower threshold records more', function()
  wasm.setup({ slow_ms = 0 })
  wasm.conformance.busy(150)
  T.eq(info().slow_calls, 0)
  wasm.setup({ slow_ms = 20 })
  wasm.conformance.busy(50)
  T.eq(info().slow_calls, 1)
  T.fails("option 'slow_ms' must be an integer >= 0, got -1", wasm.setup, { slow_ms = -1 })
end)
