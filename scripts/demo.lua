-- The demo: loads the example plugins (Zig, Rust, C) into this headless
-- Neovim and shows what each one does. Run through `make demo` (and by
-- tests/nvim/demo_spec.lua, so it keeps working).
local root = assert(vim.env.WASM_NVIM_ROOT)
vim.opt.rtp:prepend(root)
for _, dir in ipairs(vim.fn.glob(root .. '/examples/*', false, true)) do
  vim.opt.rtp:append(dir)
end

local function say(fmt, ...)
  io.stdout:write(fmt:format(...) .. '\n')
end

local function show(v)
  return vim.inspect(v, { newline = ' ', indent = '' })
end

local function lines()
  return vim.api.nvim_buf_get_lines(0, 0, -1, true)
end

-- notifications (the reverse plugins report their count) show inline
vim.notify = function(msg)
  say('  vim.notify: %s', msg)
end

local wasm = require('wasm_nvim')
local t0 = vim.uv.hrtime()
wasm.setup({ lazy = false }) -- load them all now, to list their functions
local plugins = wasm.plugins()
say(
  '%s: wasm_nvim %s loaded %d plugins in %.0f ms:',
  vim.fn.execute('version'):match('NVIM v[^\n]+'),
  wasm.version,
  #plugins,
  (vim.uv.hrtime() - t0) / 1e6
)
for _, p in ipairs(plugins) do
  say(
    '  %-12s %-4s %s  (%s)',
    p.name,
    p.abi or p.state,
    vim.fn.fnamemodify(p.path, ':~:.'),
    table.concat(
      vim.tbl_map(function(f)
        return f.name
      end, p.functions or {}),
      ', '
    )
  )
end

say('\n== wordcount (Zig): statistics of the current buffer')
vim.api.nvim_buf_set_lines(0, 0, -1, true, { 'The quick brown fox', '', 'jumps över the lazy dög 🦊' })
say('buffer: %s', show(lines()))
say('wasm.wordcount.stats() -> %s', show(wasm.wordcount.stats()))
wasm.wordcount.report()
say('wasm.wordcount.report() printed to :messages -> %q', vim.trim(vim.fn.execute('messages')):match('[^\n]*$'))

say('\n== sortlines (Rust): sorting buffer lines in place')
vim.api.nvim_buf_set_lines(0, 0, -1, true, { 'pear', 'Apple', 'banana', 'apple', 'pear', 'Cherry' })
say('before: %s', show(lines()))
local r = wasm.sortlines.sort_lines({ ignore_case = true, unique = true })
say('wasm.sortlines.sort_lines({ ignore_case = true, unique = true }) -> %s', show(r))
say('after:  %s', show(lines()))
say(
  'wasm.sortlines.sort_text({ lines = { "10 b", "9 a", "100 c" }, numeric = true }) -> %s',
  show(wasm.sortlines.sort_text({ lines = { '10 b', '9 a', '100 c' }, numeric = true }))
)

say('\n== calc (C): a calculator')
for _, expr in ipairs({ '2 * (3 + 4)', '2^10 - 1', 'sqrt(2) * sqrt(2)', 'max(3, pi, e)', '1 / 0' }) do
  say('wasm.calc.calc(%q) -> %s', expr, show(wasm.calc.calc(expr)))
end
vim.api.nvim_buf_set_lines(0, 0, -1, true, { '19.99 * 3 + 4.5' })
wasm.calc.calc_line()
say('wasm.calc.calc_line() on "19.99 * 3 + 4.5" -> line is now %q', lines()[1])

say('\n== whitespace (Rust): callbacks — an autocmd, an on_lines attachment, a user command')
wasm.whitespace.setup({})
local file = vim.fn.tempname() .. '.txt'
vim.cmd.edit(file)
vim.api.nvim_buf_set_lines(0, 0, -1, true, { 'trailing spaces   ', 'clean', 'a tab\t' })
say('buffer: %s', show(lines()))
say('b:trailing_whitespace (kept live by an on_lines callback) = %s', show(vim.b.trailing_whitespace))
vim.cmd('silent write')
say(':write ran the BufWritePre callback; file is now %s', show(vim.fn.readfile(file)))
say(
  'b:trailing_whitespace = %s; :Whitespace completions for "t": %s',
  show(vim.b.trailing_whitespace),
  show(vim.fn.getcompletion('Whitespace t', 'cmdline'))
)

say('\n== reverse: the same plugin written with the Rust, Zig and C SDKs (fast ABI)')
for _, name in ipairs({ 'reverse_rust', 'reverse_zig', 'reverse_c' }) do
  vim.api.nvim_buf_set_lines(0, 0, -1, true, { 'one', 'two', 'three', 'four' })
  local n = wasm[name].reverse(2, 4)
  say('wasm.%s.reverse(2, 4) -> %s; buffer: %s', name, n, show(lines()))
end

say('\n== finder (Rust, nucleo-matcher): fuzzy matching, and a worker job off the editor thread')
local files = { 'src/main.rs', 'README.md', 'crates/wasm_nvim/src/lib.rs', 'docs/guide.md', 'tests/main_test.rs' }
local best = wasm.finder.match_list('mainrs', files, 3)
say(
  'wasm.finder.match_list("mainrs", files, 3) -> %s',
  show(vim.tbl_map(function(h)
    return ('%s %s'):format(h.text, show(h.positions))
  end, best.items))
)
local worker = wasm.worker('finder')
worker:call('add', { table.concat(files, '\n') })
local job = worker:call('query', { 'lib', 1 }, function(err, r)
  say('worker query "lib" -> %s (err: %s)', r and r.items[1].text, show(err))
end)
job:wait(10000)
worker:close()

say('\n== errors are Lua errors naming plugin and function; Neovim carries on')
local ok, err = pcall(wasm.sortlines.sort_text, { lines = { 'x' }, reverse = 'yes' })
say('sort_text with a bad option -> %s', ok and show(err) or err)
ok, err = pcall(wasm.wordcount.count_text, 42)
say('count_text(42) -> %s', err)

say('\n== speed: 10,000 calls of calc.calc("1+2*3") (JSON in, JSON out)')
local started = vim.uv.hrtime()
for _ = 1, 10000 do
  wasm.calc.calc('1+2*3')
end
say('%.2f us per call', (vim.uv.hrtime() - started) / 1e3 / 10000)
-- what the plugins printed is shown above; do not print it again on exit
vim.cmd('silent messages clear')
