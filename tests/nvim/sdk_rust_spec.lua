-- The Rust SDK: its generated API bindings are up to date with the newest
-- supported API (the pinned nightly's), work on every Neovim the suite
-- runs on, and a plugin made from the template builds and loads.

if T.unix_only('runs bash and cargo') then
  return
end

local pinned = assert(vim.env.WASM_NVIM_PINNED, 'WASM_NVIM_PINNED is not set (run through scripts/test.sh)')
local bindings = table.concat(vim.fn.readfile(T.root .. '/crates/sdk/src/api_gen.rs'), '\n')

T.test('api_gen.rs and the host API levels are what `make gen` makes from the pinned Neovim', function()
  -- the generator runs in the pinned Neovim whichever Neovim runs this spec
  local sdk, levels = vim.fn.tempname() .. '.rs', vim.fn.tempname() .. '.rs'
  local r = vim
    .system({ pinned, '--headless', '-u', 'NONE', '-i', 'NONE', '-l', T.root .. '/scripts/gen_rust_api.lua', sdk, levels })
    :wait()
  T.eq(r.code, 0, r.stderr)
  local want = vim.fn.readfile(sdk)
  T.ok(#want > 1000, 'the generator produced the bindings')
  T.eq(vim.fn.readfile(T.root .. '/crates/sdk/src/api_gen.rs'), want, 'checked-in bindings differ: run `make gen`')
  T.eq(
    vim.fn.readfile(T.root .. '/crates/wasm_nvim/src/api_levels_gen.rs'),
    vim.fn.readfile(levels),
    'checked-in API levels differ: run `make gen`'
  )
end)

T.test('the bindings cover the API, mark deprecated functions and say since when', function()
  T.contains(
    bindings,
    'pub fn nvim_buf_get_lines(buffer: Buffer, start: i64, end: i64, strict_indexing: bool) -> Result<Vec<String>>'
  )
  T.contains(
    bindings,
    '/// `nvim_open_win` (since API level 6).',
    'pub fn nvim_open_win(buffer: Buffer, enter: bool, config: impl Serialize) -> Result<Window>'
  )
  T.contains(bindings, '#[deprecated(note = "deprecated since Neovim API level')
  local n = select(2, bindings:gsub('\npub fn nvim_', ''))
  T.ok(n >= 150, n .. ' bindings')
  if vim.fn.resolve(vim.v.progpath) == vim.fn.resolve(pinned) then
    local here = 0
    for _, f in ipairs(vim.fn.api_info().functions) do
      if f.name:match('^nvim_') and vim.api[f.name] then
        here = here + 1
      end
    end
    T.eq(n, here, 'one binding per function Lua can call in the pinned Neovim')
  end
end)

T.test('on this Neovim every binding is callable, or is newer than it (and fails as versions_spec shows)', function()
  local level = vim.fn.api_info().version.api_level
  local newer = {}
  for name, since in bindings:gmatch('/// `(nvim_[%w_]+)` %(since API level (%d+)%)') do
    if not vim.api[name] then
      T.ok(
        tonumber(since) > level,
        ('%s (since %s) is neither callable here nor newer than API level %d'):format(name, since, level)
      )
      newer[#newer + 1] = name
    end
  end
  if vim.fn.has('nvim-0.12') == 0 then
    T.eq(newer, { 'nvim_ui_send' }, 'what 0.11 lacks')
  else
    T.eq(newer, {})
  end
end)

T.test('make new-plugin: a Rust plugin skeleton that builds, loads and answers', function()
  local dir = vim.fn.tempname() .. '/greeter'
  local r = vim.system({ 'bash', T.root .. '/scripts/new-plugin.sh', 'greeter', dir }):wait()
  T.eq(r.code, 0, r.stderr)
  local toml = table.concat(vim.fn.readfile(dir .. '/Cargo.toml'), '\n')
  T.contains(toml, 'wasm_nvim_sdk = { version = "0.1.0", path = "../')
  T.ok(not toml:find('"/', 1, true), 'no absolute path in Cargo.toml:\n' .. toml)
  local src = vim.fn.readfile(dir .. '/src/lib.rs')
  T.ok(#src <= 15, 'hello world is ' .. #src .. ' lines')
  local build = vim
    .system({ dir .. '/build.sh' }, {
      env = { CARGO_TARGET_DIR = T.root .. '/target/guests' },
    })
    :wait()
  T.eq(build.code, 0, build.stderr)
  vim.opt.rtp:prepend(T.root)
  vim.opt.rtp:append(dir)
  local wasm = require('wasm_nvim')
  wasm.setup()
  T.eq(wasm.greeter.greet('you'), 'Hello, you!')
  vim.cmd.runtime('plugin/greeter.lua')
  local notes = T.notified(function()
    vim.cmd('GreeterHello Neovim')
  end)
  T.eq(notes[1].msg, 'Hello, Neovim!')
  -- its tests, in a fresh headless Neovim, through the command authors use
  local test = vim
    .system({ 'bash', T.root .. '/scripts/plugin-test.sh', '--no-build', dir }, { env = { NVIM = vim.v.progpath } })
    :wait()
  T.eq(test.code, 0, test.stdout .. test.stderr)
  T.contains(test.stdout, 'greeter_spec.lua: 2 passed, 0 failed', 'plugin-test: all 1 spec file(s) passed')
end)
