-- The Rust SDK: its generated API bindings are up to date, and a plugin
-- made from the template builds and loads.

if T.unix_only('runs bash and cargo') then
  return
end

T.test('crates/sdk/src/api_gen.rs is what scripts/gen_rust_api.lua makes from this Neovim', function()
  local tmp = vim.fn.tempname() .. '.rs'
  local r = vim.system({ vim.v.progpath, '--headless', '-u', 'NONE', '-i', 'NONE', '-l',
    T.root .. '/scripts/gen_rust_api.lua', tmp }):wait()
  T.eq(r.code, 0, r.stderr)
  local want = vim.fn.readfile(tmp)
  local have = vim.fn.readfile(T.root .. '/crates/sdk/src/api_gen.rs')
  T.ok(#want > 1000, 'the generator produced the bindings')
  T.eq(have, want, 'checked-in bindings differ: run `make gen`')
end)

T.test('the bindings cover the API, mark deprecated functions and say since when', function()
  local text = table.concat(vim.fn.readfile(T.root .. '/crates/sdk/src/api_gen.rs'), '\n')
  T.contains(text, 'pub fn nvim_buf_get_lines(buffer: Buffer, start: i64, end: i64, strict_indexing: bool) -> Result<Vec<String>>')
  T.contains(text, '/// `nvim_open_win` (since API level 6).', 'pub fn nvim_open_win(buffer: Buffer, enter: bool, config: impl Serialize) -> Result<Window>')
  T.contains(text, '#[deprecated(note = "deprecated since Neovim API level')
  local n = select(2, text:gsub('\npub fn nvim_', ''))
  local callable = 0
  for _, f in ipairs(vim.fn.api_info().functions) do
    if f.name:match('^nvim_') and vim.api[f.name] then
      callable = callable + 1
    end
  end
  T.eq(n, callable)
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
  local build = vim.system({ dir .. '/build.sh' }, {
    env = { CARGO_TARGET_DIR = T.root .. '/target/guests' },
  }):wait()
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
end)
