-- Sets up the whitespace wasm plugin (wasm/whitespace.wasm) with defaults:
--   * trailing whitespace is trimmed when a buffer is written
--     (off for one buffer with `vim.b.whitespace_disable = true`)
--   * b:trailing_whitespace holds the live count (for a statusline)
--   * :[range]Whitespace {trim|count|toggle|enable|disable}
-- To configure it, set `vim.g.loaded_wasm_whitespace = true` before this
-- file runs and call `require('wasm_nvim').whitespace.setup({ ... })`
-- yourself (options: trim_on_save = true, pattern = '*').
if vim.g.loaded_wasm_whitespace then
  return
end
vim.g.loaded_wasm_whitespace = true

-- Nothing to do (and no error) without wasm_nvim or without the built
-- plugin: `require('wasm_nvim').whitespace` is nil when no
-- wasm/whitespace.wasm is on the 'runtimepath'.
local ok, wasm = pcall(require, 'wasm_nvim')
local plugin = ok and wasm.whitespace
if not plugin then
  return
end
local set_up, err = pcall(plugin.setup, {})
if not set_up then
  vim.notify('whitespace: ' .. tostring(err), vim.log.levels.ERROR)
end
