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

function M.echo(text, hl)
  later_if_fast(function()
    vim.api.nvim_echo({ { text, hl } }, true, {})
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

function M.api_functions()
  local out = {}
  for _, f in ipairs(vim.fn.api_info().functions) do
    out[#out + 1] = {
      name = f.name,
      takes_args = #f.parameters > 0,
      return_type = f.return_type,
      func = vim.api[f.name] or fallback[f.name],
    }
  end
  return out
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

function M.data_root()
  return vim.fn.stdpath('data') .. '/wasm_nvim'
end

function M.cache_dir()
  return vim.fn.stdpath('cache') .. '/wasm_nvim'
end

function M.wasm_files()
  return vim.api.nvim_get_runtime_file('wasm/*.wasm', true)
end

return M
