-- :Wasm and its subcommands.
local M = {}

local function wasm()
  return require('wasm_nvim')
end

local function echo(lines)
  vim.api.nvim_echo({ { table.concat(lines, '\n') } }, true, {})
end

local function plugin_info(name)
  for _, p in ipairs(wasm().plugins()) do
    if p.name == name then
      return p
    end
  end
end

local function describe(p)
  local fns = vim.tbl_map(function(f)
    return f.name
  end, p.functions or {})
  local what = p.state == 'loaded' and ('%s, %d function(s)'):format(p.abi, #fns) or p.state
  if p.disabled then
    what = what .. ', DISABLED'
  end
  return ('%-16s %s%s'):format(p.name, what, #fns > 0 and (': ' .. table.concat(fns, ', ')) or '')
end

local commands = {}

function commands.list()
  local lines = {}
  for _, p in ipairs(wasm().plugins()) do
    lines[#lines + 1] = describe(p)
  end
  if #lines == 0 then
    lines[1] = 'no wasm plugins: no wasm/*.wasm on the runtimepath'
  end
  echo(lines)
end

function commands.info(name)
  if not name then
    error('usage: :Wasm info {plugin}', 0)
  end
  if not plugin_info(name) then
    error(("no plugin named '%s' (see :Wasm list)"):format(name), 0)
  end
  pcall(function()
    return wasm()[name] -- loads it, so the details are there
  end)
  local p = assert(plugin_info(name))
  local lines = {
    ('%s (%s)'):format(p.name, p.state),
    '  path:     ' .. p.path,
  }
  if p.error then
    lines[#lines + 1] = '  error:    ' .. p.error
  end
  if p.state == 'loaded' then
    lines[#lines + 1] = ('  ABI:      %s'):format(p.abi)
    lines[#lines + 1] = ('  code:     %s in %.1f ms; loaded in %.1f ms'):format(
      p.compiled,
      p.compile_ms,
      p.load_ms or 0
    )
  end
  lines[#lines + 1] = ('  limits:   timeout %s, memory %d MiB%s'):format(
    p.timeout_ms and (p.timeout_ms .. ' ms') or 'none',
    p.memory_mb,
    p.data_dir and (', data dir ' .. p.data_dir) or ''
  )
  if p.disabled then
    lines[#lines + 1] = '  disabled: ' .. p.disabled
  end
  if p.imports then
    lines[#lines + 1] = '  imports:  ' .. (#p.imports > 0 and table.concat(p.imports, ', ') or '(nothing from Neovim)')
    lines[#lines + 1] = '  allowed:  ' .. p.allow
  end
  if (p.slow_calls or 0) > 0 then
    lines[#lines + 1] = ('  slow:     %d call(s), the slowest %s (%d ms); see :Wasm log'):format(
      p.slow_calls,
      p.slowest.name,
      p.slowest.ms
    )
  end
  for _, f in ipairs(p.functions or {}) do
    lines[#lines + 1] = ('  function  %s %s%s'):format(f.name, f.type, f.doc and ('  -- ' .. f.doc) or '')
  end
  for _, w in ipairs(wasm().jobs().workers) do
    if w.plugin == p.name then
      lines[#lines + 1] = ('  worker %d: %s, %d queued, memory %.1f MiB%s'):format(
        w.id,
        w.running and ('running %s (job %d, %d ms)'):format(w.running['function'], w.running.id, w.running.ms) or 'idle',
        w.queued,
        w.memory / 2 ^ 20,
        w.one_shot and ', one job' or ''
      )
    end
  end
  echo(lines)
end

function commands.reload(name)
  wasm().reload(name)
  vim.notify(name and ("wasm_nvim: reloaded '%s'"):format(name) or 'wasm_nvim: reloaded all plugins')
end

--- Splits `text` into JSON values separated by whitespace or commas at the
--- top level (not inside a string, array or object): `1 3`, `"a  b", 2`
--- and `{"a": [1, 2]}` are 2, 2 and 1 values. Returns nil and a message if
--- a string, array or object is not closed.
local function json_values(text)
  local values, depth, in_string, escaped, start = {}, 0, false, false, nil
  for i = 1, #text do
    local c = text:sub(i, i)
    if in_string then
      if escaped then
        escaped = false
      elseif c == '\\' then
        escaped = true
      elseif c == '"' then
        in_string = false
      end
    elseif depth == 0 and (c:match('%s') or c == ',') then
      if start then
        values[#values + 1] = text:sub(start, i - 1)
        start = nil
      end
    else
      start = start or i
      if c == '"' then
        in_string = true
      elseif c == '[' or c == '{' then
        depth = depth + 1
      elseif c == ']' or c == '}' then
        depth = depth - 1
      end
    end
  end
  if in_string or depth ~= 0 then
    return nil, in_string and 'a string is not closed' or 'brackets do not match'
  end
  if start then
    values[#values + 1] = text:sub(start)
  end
  return values
end

--- :Wasm call {plugin} {function} [{json} ...]: the rest of the line, as
--- it was typed, is the arguments: JSON values separated by spaces or commas.
function commands.call(name, fn, rest)
  if not name or not fn then
    error('usage: :Wasm call {plugin} {function} [{json} ...]', 0)
  end
  local texts, problem = json_values(rest or '')
  if not texts then
    error(('arguments are not JSON: %s'):format(problem), 0)
  end
  local args = {}
  for i, text in ipairs(texts) do
    local ok, value = pcall(vim.json.decode, text, { luanil = { object = true, array = true } })
    if not ok then
      error(('argument %d is not JSON: %s'):format(i, text), 0)
    end
    if value ~= vim.NIL then -- null is nil, as inside arrays and objects
      args[i] = value
    end
  end
  local f = wasm()[name] and wasm()[name][fn]
  if not f then
    error(("plugin '%s' has no function '%s'"):format(name, fn), 0)
  end
  echo({ vim.inspect(f(unpack(args, 1, #texts))) })
end

function commands.log()
  local entries = wasm()._log()
  echo(#entries > 0 and entries or { 'wasm_nvim: nothing logged yet' })
end

function M.run(opts)
  local sub, args = opts.fargs[1], vim.list_slice(opts.fargs, 2)
  local command = commands[sub]
  if not command then
    vim.notify(
      ('wasm_nvim: unknown subcommand %q; use list, info, reload, call or log'):format(sub),
      vim.log.levels.ERROR
    )
    return
  end
  if sub == 'call' then
    -- the arguments as typed: fargs would collapse spaces inside strings
    local plugin, fn, rest = opts.args:match('^%s*%S+%s+(%S+)%s+(%S+)%s*(.-)%s*$')
    args = { plugin or args[1], fn, rest }
  end
  local ok, err = pcall(command, unpack(args, 1, 3))
  if not ok then
    -- an error raised for the caller (level 2) names this file: not news to the user
    vim.notify((tostring(err):gsub('^[^\n]-commands%.lua:%d+: ', '')), vim.log.levels.ERROR)
  end
end

local function starting(list, lead)
  return vim.tbl_filter(function(s)
    return vim.startswith(s, lead)
  end, list)
end

function M.complete(lead, line, pos)
  local words = vim.split(line:sub(1, pos), '%s+', { trimempty = false })
  local n = #words -- the word being completed is words[n]
  if n <= 2 then
    return starting({ 'list', 'info', 'reload', 'call', 'log' }, lead)
  end
  local sub = words[2]
  if n == 3 and (sub == 'info' or sub == 'reload' or sub == 'call') then
    return starting(
      vim.tbl_map(function(p)
        return p.name
      end, wasm().plugins()),
      lead
    )
  end
  if n == 4 and sub == 'call' then
    local ok, plugin = pcall(function()
      return wasm()[words[3]]
    end)
    if ok and type(plugin) == 'table' then
      local names = vim.tbl_keys(plugin)
      table.sort(names)
      return starting(names, lead)
    end
  end
  return {}
end

return M
