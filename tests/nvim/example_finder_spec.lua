-- The fuzzy finder example (examples/rust-finder): the matcher's results,
-- and the picker driven like a user drives it — keys typed with nvim_input
-- into a child Neovim started as a user starts it (plugin files loaded,
-- a real main loop), checking that <CR> opens the selected file.

local finder_dir = T.root .. '/examples/rust-finder'
T.rtp(finder_dir)
local wasm = require('wasm_nvim')
wasm.setup()
local finder = require('wasm_finder')

T.test('matching: smart case, path bonuses, positions; best first', function()
  local items = { 'src/main.rs', 'README.md', 'crates/wasm_nvim/src/main.rs', 'domain/notes.txt', 'Main.rs' }
  local r = finder.match(items, 'mainrs', 10)
  T.eq(r.matched, 3)
  T.eq(r.total, 5)
  T.eq(
    vim.tbl_map(function(h)
      return h.text
    end, r.items),
    { 'Main.rs', 'src/main.rs', 'crates/wasm_nvim/src/main.rs' },
    'equal scores: shorter first'
  )
  T.eq(r.items[2].positions, { 4, 5, 6, 7, 9, 10 })
  T.eq(r.items[2].index, 1)
  T.ok(
    finder.score('smr', 'src/main.rs') > finder.score('smr', 'docs/some/random/file.rs'),
    'path bonuses: a match at the start of path segments scores higher'
  )
  T.eq(finder.match(items, 'Main', 10).matched, 1, 'an upper-case letter makes it case-sensitive')
  T.eq(finder.match(items, 'zzz', 10).items, {})
  T.eq(finder.score('qqq', 'src/main.rs'), nil)
  T.eq(finder.positions('mn', 'src/main.rs'), { 4, 7 })
  -- byte offsets for non-ASCII text
  T.eq(finder.positions('ü', 'aäü'), { 3 })
end)

T.test('a large list is matched in workers, the same results as on the editor thread', function()
  local items = {}
  for i = 1, 30000 do
    items[i] = ('dir%d/sub%d/file_%d.%s'):format(i % 97, i % 13, i, ({ 'rs', 'lua', 'c' })[i % 3 + 1])
  end
  items[12345] = 'the/needle/haystack.txt'
  local engine = finder.engine(items, { shards = 2 })
  T.ok(engine.shards and #engine.shards == 2, 'two worker shards')
  local got
  engine:query('needlehay', 5, function(r)
    got = r
  end)
  T.ok(
    vim.wait(10000, function()
      return got ~= nil
    end, 1),
    'result arrived'
  )
  T.eq(got.total, 30000)
  T.eq(got.items[1].text, 'the/needle/haystack.txt')
  T.eq(got.items[1].index, 12345, 'index into the whole list')
  local sync = finder.match(items, 'file_1234 rs', 5)
  local async
  engine:query('file_1234 rs', 5, function(r)
    async = r
  end)
  T.ok(vim.wait(10000, function()
    return async ~= nil
  end, 1))
  T.eq(
    vim.tbl_map(function(h)
      return h.text
    end, async.items),
    vim.tbl_map(function(h)
      return h.text
    end, sync.items)
  )
  T.eq(async.matched, sync.matched)
  engine:close()
end)

T.test('newer queries cancel older ones: only the last result arrives', function()
  local items = {}
  for i = 1, 50000 do
    items[i] = ('a/b/c/%d'):format(i)
  end
  local engine = finder.engine(items, { shards = 2 })
  local results = {}
  for _, q in ipairs({ '1', '12', '123', '1234' }) do
    engine:query(q, 3, function(r)
      results[#results + 1] = { q = q, r = r }
    end)
  end
  T.ok(vim.wait(10000, function()
    return #results > 0
  end, 1))
  vim.wait(100)
  T.eq(#results, 1)
  T.eq(results[1].q, '1234')
  engine:close()
end)

--- A child Neovim started like a user's (plugins load), driven over RPC.
local function child(dir, extra)
  local nvim = vim.v.progpath
  local init = vim.fn.tempname() .. '.lua'
  vim.fn.writefile({
    ('vim.opt.rtp:prepend(%q)'):format(T.root),
    ('vim.opt.rtp:append(%q)'):format(finder_dir),
    ('vim.cmd.cd(%q)'):format(dir),
    extra or '',
  }, init)
  local chan = vim.fn.jobstart({ nvim, '--embed', '--headless', '-i', 'NONE', '-u', init }, { rpc = true })
  T.ok(chan > 0, 'child started')
  return chan
end

local function rpc_eval(chan, expr)
  return vim.rpcrequest(chan, 'nvim_exec_lua', 'return ' .. expr, {})
end

local function wait_for(chan, expr, what)
  T.ok(
    vim.wait(10000, function()
      return rpc_eval(chan, expr)
    end, 20),
    what or expr
  )
end

T.test(
  ':WasmFind files (matched in workers): typing filters live, <C-n> moves, <CR> opens the selected file',
  function()
    local dir = vim.fn.tempname()
    for _, f in ipairs({ 'src/main.rs', 'src/lib.rs', 'docs/guide.md', 'README.md', 'tests/main_test.rs' }) do
      vim.fn.mkdir(vim.fs.dirname(dir .. '/' .. f), 'p')
      vim.fn.writefile({ 'this is ' .. f }, dir .. '/' .. f)
    end
    -- every list goes to the workers, as a large one would
    local chan = child(dir, "require('wasm_finder').setup({ sync_below = 0 })")
    T.eq(rpc_eval(chan, "vim.fn.exists(':WasmFind')"), 2, 'the command comes from plugin/wasm_finder.lua')
    vim.rpcrequest(chan, 'nvim_input', ':WasmFind files<CR>')
    wait_for(chan, "require('wasm_finder')._current ~= nil", 'picker open')
    wait_for(chan, "#require('wasm_finder')._current.result.items == 5", 'all five files listed')
    vim.rpcrequest(chan, 'nvim_input', 'mainrs')
    wait_for(
      chan,
      "require('wasm_finder')._current.query == 'mainrs' and not require('wasm_finder')._current.pending",
      'query typed'
    )
    local shown =
      rpc_eval(chan, "vim.api.nvim_buf_get_lines(vim.fn.winbufnr(vim.fn.win_getid(vim.fn.winnr('$'))), 0, -1, false)")
    T.eq(
      rpc_eval(chan, "vim.tbl_map(function(h) return h.text end, require('wasm_finder')._current.result.items)"),
      { 'src/main.rs', 'tests/main_test.rs' }
    )
    T.ok(type(shown) == 'table')
    local marks = rpc_eval(
      chan,
      [[(function()
    local st = require('wasm_finder')._current
    local ns = vim.api.nvim_get_namespaces().wasm_finder
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      local b = vim.api.nvim_win_get_buf(w)
      local m = vim.api.nvim_buf_get_extmarks(b, ns, 0, -1, { details = true })
      if #m > 0 then return #vim.tbl_filter(function(x) return x[4].hl_group == 'WasmFindMatch' end, m) end
    end
    return 0 end)()]]
    )
    T.eq(marks, 12, 'six highlighted positions per result')
    T.ok(rpc_eval(chan, "#require('wasm_nvim').jobs().workers") >= 1, 'the list is in workers')
    vim.rpcrequest(chan, 'nvim_input', '<C-n><CR>')
    wait_for(chan, "vim.fn.expand('%') == 'tests/main_test.rs'", 'the second result opened')
    T.eq(rpc_eval(chan, 'vim.api.nvim_get_current_line()'), 'this is tests/main_test.rs')
    T.eq(rpc_eval(chan, 'vim.fn.mode()'), 'n', 'back in normal mode')
    T.eq(rpc_eval(chan, '#vim.api.nvim_list_wins()'), 1, 'picker windows closed')
    wait_for(chan, "#require('wasm_nvim').jobs().workers == 0", 'its workers closed')
    vim.fn.jobstop(chan)
  end
)

T.test(':WasmFind buffers and lines, and vim.ui.select through the picker', function()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  local chan = child(dir)
  vim.rpcrequest(
    chan,
    'nvim_exec_lua',
    [[
    vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'alpha', 'beta', 'gamma delta', 'epsilon' })
    vim.cmd('file one.txt | enew | file two.txt')
  ]],
    {}
  )
  vim.rpcrequest(chan, 'nvim_input', ':WasmFind buffers<CR>')
  wait_for(chan, "require('wasm_finder')._current ~= nil")
  vim.rpcrequest(chan, 'nvim_input', 'one<CR>')
  wait_for(chan, "vim.fn.expand('%') == 'one.txt'", 'switched to one.txt')
  vim.rpcrequest(chan, 'nvim_input', ':WasmFind lines<CR>')
  wait_for(chan, "require('wasm_finder')._current ~= nil")
  vim.rpcrequest(chan, 'nvim_input', 'gmd<CR>')
  wait_for(chan, 'vim.fn.line(".") == 3', 'cursor on "gamma delta"')
  vim.rpcrequest(
    chan,
    'nvim_exec_lua',
    [[
    require('wasm_finder').setup({ ui_select = true })
    vim.ui.select({ { n = 'red' }, { n = 'green' }, { n = 'blue' } }, {
      prompt = 'Colour:', format_item = function(c) return c.n end,
    }, function(item, idx) _G.chosen = { item and item.n, idx } end)
  ]],
    {}
  )
  wait_for(chan, "require('wasm_finder')._current ~= nil")
  vim.rpcrequest(chan, 'nvim_input', 'gre<CR>')
  wait_for(chan, '_G.chosen ~= nil')
  T.eq(rpc_eval(chan, '_G.chosen'), { 'green', 2 })
  vim.rpcrequest(
    chan,
    'nvim_exec_lua',
    [[
    vim.ui.select({ 'x', 'y' }, {}, function(item, idx) _G.cancelled = { item == nil, idx == nil } end)
  ]],
    {}
  )
  wait_for(chan, "require('wasm_finder')._current ~= nil")
  vim.rpcrequest(chan, 'nvim_input', '<Esc>')
  wait_for(chan, '_G.cancelled ~= nil')
  T.eq(rpc_eval(chan, '_G.cancelled'), { true, true }, 'cancelled: nil')
  vim.fn.jobstop(chan)
end)
