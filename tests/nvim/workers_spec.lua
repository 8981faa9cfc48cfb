-- Workers: plugin functions run off the editor's thread (tests/plugins/workload).
-- Results and errors reach callbacks on the main loop; jobs can be
-- cancelled and report progress; a worker cannot use Lua or the API; a
-- trap, a runaway loop or a memory bomb leaves the pool healthy; reload and
-- exit end the jobs.

T.rtp('workload')
local wasm = require('wasm_nvim')
wasm.setup({ workers = { threads = 2 } })

--- Runs `fn(done)` and waits until it calls done(...) (processing events);
--- returns what it was called with.
local function await(fn, ms)
  local got
  fn(function(...)
    got = { n = select('#', ...), ... }
  end)
  T.ok(
    vim.wait(ms or 10000, function()
      return got ~= nil
    end, 1),
    'callback within the time'
  )
  return unpack(got, 1, got.n)
end

local function running_jobs()
  local n = 0
  for _, w in ipairs(wasm.jobs().workers) do
    n = n + (w.running and 1 or 0)
  end
  return n
end

T.test('a job runs off the editor thread; its result reaches a callback on the main loop', function()
  local w = wasm.worker('workload')
  local called_in_fast
  local err, sum = await(function(done)
    w:call('sum', { 1000000 }, function(e, v)
      called_in_fast = vim.in_fast_event()
      done(e, v)
    end)
  end)
  T.eq(err, nil)
  T.eq(sum, 1000000 * 999999 / 2)
  T.eq(called_in_fast, false, 'the callback may use the whole API')
  w:close()
end)

T.test('the editor thread keeps running while a job works (a timer fires meanwhile)', function()
  local w = wasm.worker('workload')
  local t0 = vim.uv.hrtime()
  local ticks, last, longest = 0, vim.uv.hrtime(), 0
  local timer = vim.uv.new_timer()
  timer:start(1, 1, function()
    local now = vim.uv.hrtime()
    longest = math.max(longest, (now - last) / 1e6)
    last = now
    ticks = ticks + 1
  end)
  local job = w:call('sum', { 3e8 })
  local submitted_ms = (vim.uv.hrtime() - t0) / 1e6
  T.ok(job:wait(30000), 'done')
  timer:stop()
  timer:close()
  T.ok(submitted_ms < 50, 'call() returns at once, took ' .. submitted_ms .. ' ms')
  T.ok(ticks > 10, 'the timer ticked while the job ran: ' .. ticks)
  T.ok(longest < 100, 'no long stall on the editor thread: ' .. longest .. ' ms')
  T.eq(job:status(), 'done')
  w:close()
end)

T.test('progress reaches on_progress; cancel() stops a job that checks, and its callback is not called', function()
  local w = wasm.worker('workload')
  local progress, finished = {}, false
  local job = w:call('sum', { 1e12 }, function()
    finished = true
  end, {
    on_progress = function(v)
      progress[#progress + 1] = v
    end,
  })
  T.ok(
    vim.wait(10000, function()
      return #progress >= 2
    end, 1),
    'progress reports arrived'
  )
  T.ok(progress[2] > progress[1], 'increasing')
  job:cancel()
  T.ok(
    vim.wait(5000, function()
      return job:status() == 'cancelled'
    end, 1),
    'cancelled: ' .. job:status()
  )
  vim.wait(50)
  T.eq(finished, false, 'no callback after cancel()')
  -- the instance kept its state: it stopped by itself, no trap
  local err, n = await(function(done)
    w:call('keep', { 'abc' }, done)
  end)
  T.eq({ err, n }, { nil, 3 })
  T.eq(w:info().instantiations, 1, 'same instance')
  w:close()
end)

T.test('a newer query cancels the older one; queued jobs never run', function()
  local w = wasm.worker('workload')
  local results = {}
  local first = w:call('sum', { 1e12 }, function(e, v)
    results.first = { e, v }
  end)
  local second = w:call('sum', { 1e12 }, function(e, v)
    results.second = { e, v }
  end)
  first:cancel()
  second:cancel()
  local err, v = await(function(done)
    w:call('sum', { 10 }, done)
  end)
  T.eq({ err, v }, { nil, 45 })
  T.eq(results, {}, 'the cancelled ones report nothing')
  T.eq(second:status(), 'cancelled')
  w:close()
end)

T.test('a job that never checks is interrupted after cancel(); the worker starts afresh and works', function()
  local w = wasm.worker('workload')
  T.eq(
    select(
      2,
      await(function(done)
        w:call('keep', { 'state' }, done)
      end)
    ),
    5
  )
  local job = w:call('spin', {})
  T.ok(
    vim.wait(5000, function()
      return job:status() == 'running'
    end, 1),
    'running'
  )
  local t0 = vim.uv.hrtime()
  job:cancel()
  T.ok(
    vim.wait(5000, function()
      return job:status() == 'cancelled'
    end, 1),
    'interrupted: ' .. job:status()
  )
  T.ok((vim.uv.hrtime() - t0) / 1e6 < 2000, 'within the grace period and a tick')
  local err, v = await(function(done)
    w:call('kept_reversed', {}, done)
  end)
  T.eq({ err, v }, { nil, '' }, 'a fresh instance: the state is gone')
  T.eq(w:info().instantiations, 2)
  w:close()
end)

T.test('a trapping job fails with the plugin, function and panic message; the pool stays healthy', function()
  local check = T.unsaved_buffer()
  local w = wasm.worker('workload')
  local err = await(function(done)
    w:call('boom', {}, done)
  end)
  T.contains(err, 'wasm_nvim: workload.boom (job ', 'boom in a job')
  local err2, v = await(function(done)
    w:call('sum', { 100 }, done)
  end)
  T.eq({ err2, v }, { nil, 4950 }, 'the same worker works again')
  local e3, v3 = await(function(done)
    wasm.spawn('workload', 'sum', { 10 }, done)
  end)
  T.eq({ e3, v3 }, { nil, 45 }, 'and so does a new one')
  T.ok(
    vim.tbl_contains(wasm._log(), function(l)
      return l:find('boom in a job', 1, true) ~= nil
    end, { predicate = true }),
    ':Wasm log has the failure'
  )
  check()
  w:close()
end)

T.test('a worker cannot call the Neovim API or Lua: a clear error naming plugin, function and why', function()
  local err, text = await(function(done)
    wasm.spawn('workload', 'api', {}, done)
  end)
  T.eq(err, nil)
  T.contains(
    text,
    'error: ',
    'nvim_get_current_line',
    'not available in a worker job',
    'workload.api',
    "runs off the editor's thread"
  )
  local _, probe = await(function(done)
    wasm.spawn('workload', 'probe', {}, done)
  end)
  T.eq(probe[1], false, 'has() is false for every API function in a job')
  T.eq(probe[2], vim.fn.api_info().version.api_level, 'version() works')
  T.eq(wasm.workload.api():sub(1, 4), 'ok: ', 'on the editor thread the same function works')
end)

T.test('data is binary-safe and stays in the worker between jobs', function()
  local w = wasm.worker('workload')
  local blob = '\0\255\1binary' .. string.rep('x', 100000)
  T.eq(
    select(
      2,
      await(function(done)
        w:call('keep', { blob }, done)
      end)
    ),
    #blob
  )
  T.eq(
    select(
      2,
      await(function(done)
        w:call('keep', { '\254' }, done)
      end)
    ),
    #blob + 1
  )
  local _, back = await(function(done)
    w:call('kept_reversed', {}, done)
  end)
  T.eq(back, (blob .. '\254'):reverse())
  T.ok(w:info().memory >= #blob, 'memory is reported')
  w:close()
end)

T.test('per-job limits: a deadline, and the memory cap', function()
  local w = wasm.worker('workload')
  local err = await(function(done)
    w:call('spin', {}, done, { timeout_ms = 200 })
  end)
  T.contains(err, 'workload.spin (job ', 'limit exceeded: timeout', '200 ms')
  local err2 = await(function(done)
    w:call('grow', { 1024 }, done)
  end)
  T.contains(err2, 'workload.grow (job ', 'limit exceeded: memory', 'limit is 256 MiB')
  T.eq(
    select(
      2,
      await(function(done)
        w:call('sum', { 4 }, done)
      end)
    ),
    6,
    'still works'
  )
  w:close()
end)

T.test('errors: unknown plugin or function, bad arguments', function()
  T.fails("no plugin named 'nope'", wasm.worker, 'nope')
  local w = wasm.worker('workload')
  T.fails({ 'workload.nope (job)', "'nope' is not an exported function" }, function()
    w:call('nope', {})
  end)
  local err = await(function(done)
    w:call('sum', { 'x' }, done)
  end)
  T.contains(err, 'workload.sum (job ', 'argument 1 (n): expected an integer')
  w:close()
  T.fails('the worker is closed', function()
    w:call('sum', { 1 })
  end)
end)

T.test('output of a job goes to :messages after the plugin name', function()
  await(function(done)
    wasm.spawn('workload', 'say', { 'hello from a worker' }, done)
  end)
  vim.wait(20)
  T.contains(T.messages(), 'workload: hello from a worker')
end)

T.test('jobs() and :Wasm info show the pool, workers and running jobs', function()
  local w = wasm.worker('workload')
  local job = w:call('sum', { 1e12 })
  T.ok(vim.wait(5000, function()
    return job:status() == 'running'
  end, 1))
  local info = wasm.jobs()
  T.eq(info.threads.size, 2)
  local mine = w:info()
  T.eq(mine.plugin, 'workload')
  T.eq(mine.running['function'], 'sum')
  vim.cmd('runtime plugin/wasm_nvim.lua')
  local out = vim.api.nvim_exec2('Wasm info workload', { output = true }).output
  T.contains(out, 'worker ' .. w.id, 'running sum')
  job:cancel()
  w:close()
  T.ok(
    vim.wait(5000, function()
      return running_jobs() == 0
    end, 1),
    'nothing runs after close()'
  )
end)

T.test('reload with jobs running: they end with an error saying why; the new plugin works', function()
  local w = wasm.worker('workload')
  local errs = {}
  w:call('spin', {}, function(e)
    errs.running = e
  end)
  w:call('sum', { 5 }, function(e)
    errs.queued = e
  end)
  T.ok(
    vim.wait(5000, function()
      return running_jobs() == 1
    end, 1),
    'running'
  )
  wasm.reload('workload')
  T.ok(
    vim.wait(5000, function()
      return errs.running and errs.queued
    end, 1),
    'both told'
  )
  T.contains(errs.running, 'workload.spin (job ', 'cancelled (the plugin was reloaded)')
  T.contains(errs.queued, 'workload.sum (job ', 'cancelled (the plugin was reloaded)')
  T.eq(running_jobs(), 0, 'no job of the old plugin runs')
  T.fails('was reloaded', function()
    w:call('sum', { 1 })
  end)
  local e, v = await(function(done)
    wasm.worker('workload'):call('sum', { 3 }, done)
  end)
  T.eq({ e, v }, { nil, 3 })
end)

T.test('exit with jobs running: Neovim quits at once and cleanly', function()
  local nvim = vim.v.progpath
  local script = table.concat({
    ('vim.opt.rtp:prepend(%q); vim.opt.rtp:append(%q)'):format(T.root, T.build .. '/workload'),
    'local wasm = require("wasm_nvim")',
    'for i = 1, 3 do wasm.worker("workload"):call("spin", {}) end',
    'local w = wasm.worker("workload"); for i = 1, 5 do w:call("sum", { 1e12 }) end',
    'vim.wait(300)',
    'io.stdout:write(#wasm.jobs().workers, " workers\\n")',
    'vim.cmd("qa!")',
  }, '\n')
  local path = vim.fn.tempname() .. '.lua'
  vim.fn.writefile(vim.split(script, '\n'), path)
  local t0 = vim.uv.hrtime()
  local r = vim
    .system({ nvim, '--headless', '-u', 'NONE', '-i', 'NONE', '-c', 'luafile ' .. path }, { text = true })
    :wait(20000)
  local ms = (vim.uv.hrtime() - t0) / 1e6
  T.eq(r.code, 0, 'exit code (stderr: ' .. tostring(r.stderr) .. ')')
  T.eq(r.signal, 0)
  T.contains(r.stdout .. r.stderr, '4 workers')
  T.ok(ms < 5000, 'quit quickly: ' .. ms .. ' ms')
end)
