-- wasm_finder: a fuzzy finder whose matcher (nucleo-matcher, Rust) runs as
-- wasm. Small lists are matched on the editor's thread in one call; large
-- ones are loaded once into worker instances (one shard per pool thread)
-- and queried off the editor's thread, so the prompt never freezes.
local M = {}

M.config = {
  --- Lists shorter than this are matched on the editor's thread.
  sync_below = 20000,
  --- Results shown.
  limit = 200,
  --- Worker shards for a large list (default: the pool's threads).
  shards = nil,
}

local function wasm()
  return require('wasm_nvim')
end

vim.api.nvim_set_hl(0, 'WasmFindMatch', { default = true, link = 'Special' })
vim.api.nvim_set_hl(0, 'WasmFindSelected', { default = true, link = 'Visual' })

--- Matches `items` (strings) against `query` on the editor's thread:
--- `{ matched, total, items = { { index, text, score, positions } } }`,
--- best first; `positions` are 0-based byte offsets.
function M.match(items, query, limit, opts)
  return wasm().finder.match_list(query, items, limit or M.config.limit, opts)
end

--- The score of one item (higher is better), or nil: for sorters.
function M.score(query, item)
  return wasm().finder.score(query, item)
end

--- 0-based byte offsets of the matched characters of one item.
function M.positions(query, item)
  return wasm().finder.positions(query, item)
end

---------------------------------------------------------------------------
-- Engines: where the items live and how a query runs.

local Engine = {}
Engine.__index = Engine

--- An engine for `items` (a list of strings). `opts.paths`: score as paths.
function M.engine(items, opts)
  opts = opts or {}
  local self = setmetatable({ items = items, count = #items, paths = opts.paths ~= false, generation = 0 }, Engine)
  if #items < (opts.sync_below or M.config.sync_below) then
    return self
  end
  local n = opts.shards or M.config.shards or wasm().jobs().threads.size
  n = math.max(1, math.min(n, #items))
  self.shards = {}
  local per = math.ceil(#items / n)
  for s = 1, n do
    local first, last = (s - 1) * per + 1, math.min(s * per, #items)
    if first > last then
      break
    end
    local w = wasm().worker('finder')
    local blob = table.concat(items, '\n', first, last)
    w:call('reserve', { #blob, last - first + 1 })
    w:call('add', { blob })
    self.shards[#self.shards + 1] = { worker = w, offset = first - 1 }
  end
  return self
end

--- An engine over newline-separated text (e.g. a file list) without
--- making a Lua string per line: always in workers.
function M.engine_from_text(text, opts)
  opts = opts or {}
  local self = setmetatable({ count = 0, paths = opts.paths ~= false, generation = 0, shards = {} }, Engine)
  local n = opts.shards or M.config.shards or wasm().jobs().threads.size
  local per = math.ceil(#text / n)
  local pos = 1
  while pos <= #text do
    local stop = text:find('\n', math.min(pos + per, #text), true) or #text
    local w = wasm().worker('finder')
    -- 16 MiB per message: the worker's peak memory stays near the corpus
    local chunk_size = 16 * 2 ^ 20
    w:call('reserve', { stop - pos + 1, 0 })
    local p = pos
    while p <= stop do
      local e = math.min(stop, text:find('\n', math.min(p + chunk_size, stop), true) or stop)
      w:call('add', { text:sub(p, e) })
      p = e + 1
    end
    self.shards[#self.shards + 1] = { worker = w, offset = nil }
    pos = stop + 1
  end
  return self
end

--- Runs `query`; `on_result(result)` gets the merged best `limit` (a newer
--- query cancels this one: its callback is never called);
--- `on_progress(looked_at, total)` while workers run.
function Engine:query(query, limit, on_result, on_progress)
  limit = limit or M.config.limit
  self.generation = self.generation + 1
  local generation = self.generation
  for _, job in ipairs(self.running or {}) do
    job:cancel()
  end
  self.running = {}
  if not self.shards then
    local r = M.match(self.items, query, limit, { paths = self.paths })
    on_result(r)
    return
  end
  local parts, pending, progress = {}, #self.shards, {}
  for s, shard in ipairs(self.shards) do
    local job = shard.worker:call('query', { query, limit, { paths = self.paths } }, function(err, r)
      if generation ~= self.generation then
        return
      end
      if err then
        vim.notify(err, vim.log.levels.ERROR)
        r = { matched = 0, total = 0, items = {} }
      end
      for _, hit in ipairs(r and r.items or {}) do
        if shard.offset then
          hit.index = hit.index + shard.offset
        end
      end
      parts[s] = r
      pending = pending - 1
      if pending == 0 then
        on_result(M.merge(parts, limit))
      end
    end, {
      on_progress = on_progress and function(p)
        progress[s] = p
        local seen, total = 0, 0
        for _, q in pairs(progress) do
          seen, total = seen + q[1], total + q[2]
        end
        on_progress(seen, total)
      end,
    })
    self.running[#self.running + 1] = job
  end
end

--- Merges the results of shards: best first (score, then shorter text).
function M.merge(parts, limit)
  local all, matched, total = {}, 0, 0
  for _, r in pairs(parts) do
    matched, total = matched + r.matched, total + r.total
    vim.list_extend(all, r.items)
  end
  table.sort(all, function(a, b)
    if a.score ~= b.score then
      return a.score > b.score
    end
    return #a.text < #b.text
  end)
  for i = #all, limit + 1, -1 do
    all[i] = nil
  end
  return { matched = matched, total = total, items = all }
end

function Engine:close()
  for _, job in ipairs(self.running or {}) do
    job:cancel()
  end
  for _, shard in ipairs(self.shards or {}) do
    shard.worker:close()
  end
  self.shards = nil
end

---------------------------------------------------------------------------
-- The picker: a prompt above a results window.

local ns = vim.api.nvim_create_namespace('wasm_finder')

--- Opens a picker. `opts`: `items` (strings) or `text` (newline-separated),
--- `title`, `paths` (score as paths, default true), `on_choice(text, index)`
--- (called after the picker closed; nil when cancelled).
function M.pick(opts)
  local engine = opts.text and M.engine_from_text(opts.text, opts) or M.engine(opts.items or {}, opts)
  local columns, lines = vim.o.columns, vim.o.lines
  local width = math.max(20, math.floor(columns * 0.8))
  local height = math.max(3, math.floor(lines * 0.6))
  local col = math.floor((columns - width) / 2)
  local row = math.max(0, math.floor((lines - height - 3) / 2))
  local results_buf = vim.api.nvim_create_buf(false, true)
  local prompt_buf = vim.api.nvim_create_buf(false, true)
  vim.bo[prompt_buf].bufhidden = 'wipe'
  vim.bo[results_buf].bufhidden = 'wipe'
  local prompt_win = vim.api.nvim_open_win(prompt_buf, true, {
    relative = 'editor',
    row = row,
    col = col,
    width = width,
    height = 1,
    style = 'minimal',
    border = 'rounded',
    title = ' ' .. (opts.title or 'Find') .. ' ',
    title_pos = 'center',
  })
  local results_win = vim.api.nvim_open_win(results_buf, false, {
    relative = 'editor',
    row = row + 3,
    col = col,
    width = width,
    height = height,
    style = 'minimal',
    border = 'rounded',
    focusable = false,
  })
  local state = { selected = 1, result = { items = {} }, closed = false }
  M._current = state

  local function render()
    if state.closed then
      return
    end
    local items = state.result.items
    local text = {}
    for i, hit in ipairs(items) do
      text[i] = (hit.text:gsub('\n', ' '))
    end
    vim.api.nvim_buf_set_lines(results_buf, 0, -1, false, text)
    vim.api.nvim_buf_clear_namespace(results_buf, ns, 0, -1)
    for i, hit in ipairs(items) do
      for _, p in ipairs(hit.positions) do
        if p < #text[i] then
          vim.api.nvim_buf_set_extmark(results_buf, ns, i - 1, p, { end_col = p + 1, hl_group = 'WasmFindMatch' })
        end
      end
    end
    state.selected = math.max(1, math.min(state.selected, #items))
    if #items > 0 then
      vim.api.nvim_buf_set_extmark(
        results_buf,
        ns,
        state.selected - 1,
        0,
        { line_hl_group = 'WasmFindSelected', priority = 1 }
      )
      pcall(vim.api.nvim_win_set_cursor, results_win, { state.selected, 0 })
    end
    local footer = ('%d/%d'):format(
      state.result.matched or 0,
      engine.count > 0 and engine.count or (state.result.total or 0)
    )
    pcall(vim.api.nvim_win_set_config, results_win, { footer = ' ' .. footer .. ' ', footer_pos = 'right' })
  end

  local function update()
    local query = vim.api.nvim_buf_get_lines(prompt_buf, 0, 1, false)[1] or ''
    state.query = query
    state.pending = true
    engine:query(query, opts.limit or M.config.limit, function(result)
      state.pending = false
      state.result = result
      state.selected = 1
      render()
      if state.accept_when_ready then
        state.close(result.items[1])
      end
    end, function(seen, total)
      if not state.closed then
        pcall(
          vim.api.nvim_win_set_config,
          results_win,
          { footer = (' matching %d%% '):format(math.floor(100 * seen / math.max(1, total))), footer_pos = 'right' }
        )
      end
    end)
  end

  local function close(choice)
    if state.closed then
      return
    end
    state.closed = true
    engine:close()
    vim.cmd('stopinsert')
    pcall(vim.api.nvim_win_close, prompt_win, true)
    pcall(vim.api.nvim_win_close, results_win, true)
    if M._current == state then
      M._current = nil
    end
    if opts.on_choice then
      vim.schedule(function()
        if choice then
          opts.on_choice(choice.text, choice.index)
        else
          opts.on_choice(nil, nil)
        end
      end)
    end
  end

  local function move(delta)
    local n = #state.result.items
    if n == 0 then
      return
    end
    state.selected = (state.selected - 1 + delta) % n + 1
    render()
  end

  local map = function(lhs, fn)
    vim.keymap.set({ 'i', 'n' }, lhs, fn, { buffer = prompt_buf, nowait = true })
  end
  state.close = close
  map('<CR>', function()
    -- keys typed faster than TextChangedI fires: match what is typed now
    if (vim.api.nvim_buf_get_lines(prompt_buf, 0, 1, false)[1] or '') ~= state.query then
      update()
    end
    if state.pending then
      state.accept_when_ready = true
    else
      close(state.result.items[state.selected])
    end
  end)
  map('<Esc>', function()
    close(nil)
  end)
  map('<C-c>', function()
    close(nil)
  end)
  map('<C-n>', function()
    move(1)
  end)
  map('<Down>', function()
    move(1)
  end)
  map('<C-p>', function()
    move(-1)
  end)
  map('<Up>', function()
    move(-1)
  end)
  vim.api.nvim_create_autocmd({ 'TextChanged', 'TextChangedI' }, { buffer = prompt_buf, callback = update })
  vim.api.nvim_create_autocmd('WinLeave', {
    buffer = prompt_buf,
    once = true,
    callback = function()
      close(nil)
    end,
  })
  vim.cmd('startinsert')
  update()
  return state
end

---------------------------------------------------------------------------
-- Sources.

--- The files under `dir` (default: the current directory): `git ls-files`
--- in a repository, else a walk with vim.fs.dir (hidden directories and
--- .git skipped). Returns newline-separated text.
function M.files_text(dir)
  dir = dir or vim.fn.getcwd()
  local git = vim.fn.executable('git') == 1
    and vim
      .system({ 'git', 'ls-files', '--cached', '--others', '--exclude-standard' }, { cwd = dir, text = true })
      :wait()
  if git and git.code == 0 and git.stdout ~= '' then
    return git.stdout
  end
  local out = {}
  for name, kind in
    vim.fs.dir(dir, {
      depth = 50,
      skip = function(d)
        return not vim.startswith(vim.fs.basename(d), '.')
      end,
    })
  do
    if kind == 'file' then
      out[#out + 1] = name
    end
  end
  return table.concat(out, '\n')
end

local function open_file(path)
  if path then
    vim.cmd.edit(vim.fn.fnameescape(path))
  end
end

M.sources = {}

--- Files of the current directory (or `opts.dir`, or the list `opts.items`).
function M.sources.files(opts)
  opts = opts or {}
  if opts.items then
    return M.pick({ items = opts.items, title = 'Files', on_choice = open_file })
  end
  local text = M.files_text(opts.dir)
  local count = select(2, text:gsub('\n', '')) + 1
  if count < M.config.sync_below then
    return M.pick({ items = vim.split(text, '\n', { trimempty = true }), title = 'Files', on_choice = open_file })
  end
  return M.pick({ text = text, title = 'Files', on_choice = open_file })
end

--- Listed buffers, by name.
function M.sources.buffers()
  local names, bufs = {}, {}
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.bo[b].buflisted then
      local name = vim.api.nvim_buf_get_name(b)
      names[#names + 1] = name ~= '' and vim.fn.fnamemodify(name, ':~:.') or ('[No Name] ' .. b)
      bufs[#bufs + 1] = b
    end
  end
  return M.pick({
    items = names,
    title = 'Buffers',
    on_choice = function(_, index)
      if index then
        vim.api.nvim_set_current_buf(bufs[index])
      end
    end,
  })
end

--- Lines of the current buffer; the choice moves the cursor there.
function M.sources.lines()
  local win = vim.api.nvim_get_current_win()
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  return M.pick({
    items = lines,
    title = 'Lines',
    paths = false,
    on_choice = function(_, index)
      if index then
        vim.api.nvim_set_current_win(win)
        vim.api.nvim_win_set_cursor(win, { index, 0 })
      end
    end,
  })
end

--- A `vim.ui.select` replacement (`require('wasm_finder').setup({ ui_select = true })`).
function M.ui_select(items, opts, on_choice)
  opts = opts or {}
  local format = opts.format_item or tostring
  local texts = {}
  for i, item in ipairs(items) do
    texts[i] = format(item)
  end
  return M.pick({
    items = texts,
    title = opts.prompt and opts.prompt:gsub(':%s*$', '') or 'Select',
    paths = false,
    on_choice = function(_, index)
      on_choice(index and items[index] or nil, index)
    end,
  })
end

--- `opts`: `sync_below`, `limit`, `shards`, `ui_select = true` to replace
--- vim.ui.select.
function M.setup(opts)
  opts = opts or {}
  for k, v in pairs(opts) do
    if k ~= 'ui_select' then
      M.config[k] = v
    end
  end
  if opts.ui_select then
    vim.ui.select = M.ui_select
  end
end

return M
