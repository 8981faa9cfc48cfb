-- The public API of workers, built on the Rust functions of module/workers.rs.
-- Results reach Lua through a timer that runs only while jobs are out: in
-- its (fast) callback it asks Rust whether anything finished (one atomic
-- load) and schedules the dispatch, which calls the callbacks on the main
-- loop, where they may use the whole API.
local raw = ...
local M = {}

-- open() and submit() return (ok, value or message): raise at the caller
-- of the public function (level 3: past this wrapper and the method).
for _, name in ipairs({ 'open', 'submit' }) do
  local f = raw[name]
  raw[name] = function(...)
    local ok, v = f(...)
    if ok then
      return v
    end
    error(v, 3)
  end
end

--- Polling interval while jobs are out, in ms.
local POLL_MS = 4

local jobs = {} -- id -> { on_done, on_progress, dropped, job }
local outstanding = 0
local timer, scheduled = nil, false

local function report(what, err)
  vim.notify(('wasm_nvim: %s: %s'):format(what, err), vim.log.levels.ERROR)
end

local function dispatch()
  scheduled = false
  for _, ev in ipairs(raw.poll()) do
    local entry = jobs[ev.id]
    if entry and ev.done then
      jobs[ev.id] = nil
      outstanding = outstanding - 1
      entry.job._status = ev.status
      entry.job._done = true
      if not entry.dropped and entry.on_done then
        local ok, err = pcall(entry.on_done, ev.err, ev.value)
        if not ok then
          report('a job callback failed', err)
        end
      end
    elseif entry and not entry.dropped and entry.on_progress then
      local ok, err = pcall(entry.on_progress, ev.progress)
      if not ok then
        report('a job progress callback failed', err)
      end
    end
  end
  if outstanding <= 0 and timer and timer:is_active() then
    timer:stop()
  end
end

local function tick()
  if not scheduled and raw.pending() then
    scheduled = true
    vim.schedule(dispatch)
  end
end

local function track(id, on_done, opts)
  local job = setmetatable({ id = id }, M.Job)
  jobs[id] = { on_done = on_done, on_progress = opts and opts.on_progress, job = job }
  outstanding = outstanding + 1
  timer = timer or vim.uv.new_timer()
  if not timer:is_active() then
    timer:start(0, POLL_MS, tick)
  end
  return job
end

--- A job: `cancel()`, `status()`, `wait(ms)`.
M.Job = {}
M.Job.__index = M.Job

--- Stops the job: its callback is not called. A queued job never runs; a
--- running one sees `job::cancelled()` and should return, else it is
--- interrupted shortly after (and its worker's instance starts afresh).
function M.Job:cancel()
  local entry = jobs[self.id]
  if entry then
    entry.dropped = true
  end
  raw.cancel(self.id)
end

--- "queued", "running", "done", "failed" or "cancelled".
function M.Job:status()
  return raw.status(self.id) or self._status or 'done'
end

--- Waits (processing events: callbacks run) until the job is done or `ms`
--- pass; true when done. For scripts and tests: a plugin passes a callback.
function M.Job:wait(ms)
  return vim.wait(ms or 60000, function()
    return self._done == true
  end, 1)
end

local Worker = {}
Worker.__index = Worker

--- Runs export `fn` of this worker's instance with the arguments in the
--- list `args`; `on_done(err, result)` is called on the main loop.
--- `opts`: `on_progress(value)`, `timeout_ms` (this job's deadline).
function Worker:call(fn, args, on_done, opts)
  vim.validate('fn', fn, 'string')
  vim.validate('args', args, 'table', true)
  vim.validate('on_done', on_done, 'function', true)
  vim.validate('opts', opts, 'table', true)
  args = args or {}
  local id = raw.submit(self.id, fn, opts and opts.timeout_ms, unpack(args, 1, args.n or #args))
  local job = track(id, on_done, opts)
  jobs[id].worker = self.id
  job.worker = self -- a worker with jobs out is not collected
  return job
end

--- Ends the worker: queued jobs are dropped, a running one is cancelled,
--- the instance and its memory are freed.
function Worker:close()
  for _, entry in pairs(jobs) do
    if entry.worker == self.id then
      entry.dropped = true
    end
  end
  raw.close(self.id)
end

--- This worker in `jobs()`, or nil once closed.
function Worker:info()
  for _, w in ipairs(raw.info().workers) do
    if w.id == self.id then
      return w
    end
  end
end

--- A worker: an instance of plugin `name` of its own, off the editor's
--- thread, keeping its state between jobs. Closed by `close()`, when it is
--- garbage collected, or when the plugin is reloaded.
function M.worker(name)
  vim.validate('name', name, 'string')
  local id = raw.open(name, false)
  local w = setmetatable({ id = id, plugin = name }, Worker)
  -- close the instance when the handle is collected
  local proxy = newproxy(true)
  getmetatable(proxy).__gc = function()
    raw.close(id)
  end
  w._gc = proxy
  return w
end

--- One job in a fresh instance of plugin `name`, dropped afterwards.
function M.spawn(name, fn, args, on_done, opts)
  vim.validate('name', name, 'string')
  local id = raw.open(name, true)
  local w = setmetatable({ id = id, plugin = name }, Worker)
  return w:call(fn, args, on_done, opts)
end

--- The pool: `{ threads = { size, live, idle }, workers = { { id, plugin,
--- queued, running = { id, function, ms }, memory, instantiations } } }`.
function M.jobs()
  return raw.info()
end

vim.api.nvim_create_autocmd('VimLeavePre', {
  group = vim.api.nvim_create_augroup('wasm_nvim_workers', {}),
  desc = 'wasm_nvim: interrupt jobs and wait for the worker threads',
  callback = function()
    if timer then
      timer:stop()
    end
    raw.shutdown()
  end,
})

return M
