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

function M.empty_dict_mt()
  return getmetatable(vim.empty_dict())
end

function M.vim_nil()
  return type(vim.NIL) == 'userdata' and vim.NIL or nil
end

function M.api_functions()
  local out = {}
  for _, f in ipairs(vim.fn.api_info().functions) do
    out[#out + 1] = {
      name = f.name,
      takes_args = #f.parameters > 0,
      returns = f.return_type ~= 'void',
      func = vim.api[f.name],
    }
  end
  return out
end

function M.wasm_files()
  return vim.api.nvim_get_runtime_file('wasm/*.wasm', true)
end

return M
