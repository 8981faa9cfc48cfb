-- Lua helpers of the wasm_nvim host, compiled once when the library loads.
-- Kept in Lua where Lua is the natural tool (raising string errors, calling
-- vim.* with the fast-event rules); everything else is in Rust.
local M = {}

-- Turns a raw function returning (ok, value_or_message) into one raising a
-- plain string error that points at the caller's line.
function M.wrap(raw)
  return function(...)
    local ok, res = raw(...)
    if ok then
      return res
    end
    error(res, 2)
  end
end

local function later_if_fast(fn)
  if vim.in_fast_event() then
    vim.schedule(fn)
  else
    fn()
  end
end

--- A plugin's output in :messages, after its name (so the user knows who
--- printed it).
function M.echo(plugin, text, hl)
  later_if_fast(function()
    vim.api.nvim_echo({ { plugin .. ': ', 'Title' }, { text, hl } }, true, {})
  end)
end

function M.notify(msg, level)
  later_if_fast(function()
    vim.notify(msg, level)
  end)
end

-- For errors of event-driven callbacks: an ERROR-level message shown while
-- an API call is running (nvim_set_current_buf firing BufEnter ...) would
-- turn into an error of that API call, breaking whoever made it.
function M.notify_later(msg, level)
  vim.schedule(function()
    vim.notify(msg, level)
  end)
end

function M.empty_dict_mt()
  return getmetatable(vim.empty_dict())
end

function M.vim_nil()
  return type(vim.NIL) == 'userdata' and vim.NIL or nil
end

-- nvim_exec_lua is RPC-only, but plugins need it most: it is how a plugin
-- hands a callback to any Lua API (vim.defer_fn, vim.keymap.set ...).
local function exec_lua(code, args)
  local chunk, err = loadstring(code, '=nvim_exec_lua')
  if not chunk then
    error(err, 0)
  end
  args = type(args) == 'table' and args or {}
  return chunk(unpack(args, 1, table.maxn(args)))
end

local fallback = { nvim_exec_lua = exec_lua, nvim_execute_lua = exec_lua }

-- The running Neovim's API functions and version (api_info() is slow:
-- read once).
function M.api_functions()
  local info = vim.fn.api_info()
  local out = {}
  for _, f in ipairs(info.functions) do
    out[#out + 1] = {
      name = f.name,
      takes_args = #f.parameters > 0,
      return_type = f.return_type,
      func = vim.api[f.name] or fallback[f.name],
    }
  end
  local v = info.version
  local version = {
    major = v.major,
    minor = v.minor,
    patch = v.patch,
    api_level = v.api_level,
    text = ('%d.%d.%d%s'):format(v.major, v.minor, v.patch, v.prerelease and '-dev' or ''),
  }
  return out, version
end

M.current_buf = vim.api.nvim_get_current_buf

-- Deletes what an unloaded plugin registered with a callback.
function M.release(kind, a, b, buf)
  later_if_fast(function()
    if kind == 'autocmd' then
      pcall(vim.api.nvim_del_autocmd, a)
    elseif kind == 'command' and b then
      pcall(vim.api.nvim_buf_del_user_command, b, a)
    elseif kind == 'command' then
      pcall(vim.api.nvim_del_user_command, a)
    elseif kind == 'keymap' and buf then
      pcall(vim.api.nvim_buf_del_keymap, buf, a, b)
    elseif kind == 'keymap' then
      pcall(vim.api.nvim_del_keymap, a, b)
    end
  end)
end

-- The library and the repository's Lua files come from the same build;
-- after an update without a rebuild they differ: say how to fix it.
function M.check_version(library)
  local ok, files = pcall(require, 'wasm_nvim.version')
  if ok and type(files) == 'string' and files ~= library then
    M.notify(
      (
        'wasm_nvim: the library is version %s but the Lua files are %s: rebuild the library '
        .. '(`:Lazy build wasm_nvim`, or `nvim -l build.lua` in the plugin directory)'
      ):format(library, files),
      vim.log.levels.WARN
    )
  end
end

function M.data_root()
  return vim.fn.stdpath('data') .. '/wasm_nvim'
end

function M.cache_dir()
  return vim.fn.stdpath('cache') .. '/wasm_nvim'
end

function M.wasm_files()
  return vim.api.nvim_get_runtime_file('wasm/*.wasm', true)
end

-- The LuaJIT FFI fast path for raw exports (see ffi.rs). Returns nil when
-- the FFI is not available; the caller then uses `slow` itself.
local ffi_ok, ffi = pcall(require, 'ffi')
local C

local function ffi_lib(path)
  if not C then
    ffi.cdef([[
      double wasm_nvim_ffi_call(void *h, int32_t nargs, double a0, double a1, double a2, double a3, int32_t *status);
      const char *wasm_nvim_ffi_error(void);
      void wasm_nvim_ffi_free(void *h);
    ]])
    C = ffi.load(path)
  end
  return C
end

function M.ffi_wrap(path, handle, nargs, has_result, slow, flush)
  if not ffi_ok or not path then
    return nil
  end
  local lib = ffi_lib(path)
  local h = ffi.gc(ffi.cast('void *', handle), lib.wasm_nvim_ffi_free)
  local st = ffi.new('int32_t[1]')
  local call = lib.wasm_nvim_ffi_call
  -- status: 0 ok, 1 error, 2 use the regular function, 3 ok + show output
  local function finish(r, ...)
    local s = st[0]
    if s == 0 or s == 3 then
      if s == 3 then
        flush()
      end
      if has_result then
        return r
      end
      return nil
    elseif s == 1 then
      error(ffi.string(lib.wasm_nvim_ffi_error()), 2)
    end
    return slow(...)
  end
  local num = 'number'
  if nargs == 0 then
    return function()
      return finish(call(h, 0, 0, 0, 0, 0, st))
    end
  elseif nargs == 1 then
    return function(a)
      if type(a) ~= num then
        return slow(a)
      end
      return finish(call(h, 1, a, 0, 0, 0, st), a)
    end
  elseif nargs == 2 then
    return function(a, b)
      if type(a) ~= num or type(b) ~= num then
        return slow(a, b)
      end
      return finish(call(h, 2, a, b, 0, 0, st), a, b)
    end
  elseif nargs == 3 then
    return function(a, b, c)
      if type(a) ~= num or type(b) ~= num or type(c) ~= num then
        return slow(a, b, c)
      end
      return finish(call(h, 3, a, b, c, 0, st), a, b, c)
    end
  elseif nargs == 4 then
    return function(a, b, c, d)
      if type(a) ~= num or type(b) ~= num or type(c) ~= num or type(d) ~= num then
        return slow(a, b, c, d)
      end
      return finish(call(h, 4, a, b, c, d, st), a, b, c, d)
    end
  end
  return nil
end

return M
