-- The compiled-module cache under stdpath("cache")/wasm_nvim.

T.rtp('conformance')
local wasm = require('wasm_nvim')
local dir = vim.fn.stdpath('cache') .. '/wasm_nvim'
vim.fn.delete(dir, 'rf')

--- setup({ debug = true }) and what it said about loading conformance.
local function load(opts)
  local notes = T.notified(function()
    wasm.setup(vim.tbl_extend('force', { debug = true, lazy = false }, opts or {}))
  end)
  return T.notes_text(notes):match("loaded 'conformance'[^\n]*")
end

T.test('the first load compiles and stores, the next loads the stored code', function()
  T.contains(load(), '(compiled in ')
  local entries = vim.fn.glob(dir .. '/*.cwasm', false, true)
  T.eq(#entries, 1)
  T.contains(load(), '(cached in ')
  T.eq(wasm.conformance.ping(), 'pong')
end)

T.test('a corrupt entry is detected and rebuilt', function()
  local entry = vim.fn.glob(dir .. '/*.cwasm', false, true)[1]
  local f = assert(io.open(entry, 'r+b'))
  f:seek('set', 4000)
  f:write('garbage garbage garbage')
  f:close()
  T.contains(load(), '(rebuilt (corrupt cache entry) in ')
  T.eq(wasm.conformance.ping(), 'pong')
  T.contains(load(), '(cached in ')
  -- truncated
  -- each handle closed before the library replaces the file (Windows
  -- cannot rename over an open file)
  local f_in = assert(io.open(entry, 'rb'))
  local data = f_in:read('*a')
  f_in:close()
  local f_out = assert(io.open(entry, 'wb'))
  f_out:write(data:sub(1, 100))
  f_out:close()
  T.contains(load(), '(rebuilt (corrupt cache entry) in ')
  T.eq(wasm.conformance.ping(), 'pong')
end)

T.test('cache = false compiles every time and writes nothing', function()
  vim.fn.delete(dir, 'rf')
  T.contains(load({ cache = false }), '(compiled (no cache) in ')
  T.eq(vim.fn.isdirectory(dir), 0)
  T.eq(wasm.conformance.ping(), 'pong')
end)

T.test('plugins without a deadline are compiled separately (no deadline checks)', function()
  load()
  T.contains(load({ plugins = { conformance = { timeout_ms = 0 } } }), '(compiled in ')
  T.eq(#vim.fn.glob(dir .. '/*.cwasm', false, true), 2)
  T.eq(wasm.conformance.ping(), 'pong')
end)
