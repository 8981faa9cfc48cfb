-- A new user's install, as the README describes it: the repository under
-- pack/*/start/ of a clean Neovim (XDG dirs in a temp dir), the documented
-- build step (`build.lua`: lazy.nvim loads it in a coroutine, by hand it is
-- `nvim -l build.lua`),
-- a config that calls setup(); then :checkhealth wasm_nvim has no errors
-- and :Wasm list shows the example plugins.

if T.unix_only('copies the checkout with git and builds with cargo') then
  return
end

local user = T.user_home()
local home, site = user.home, user.site
local repo = site .. '/wasm_nvim'

local env = vim.tbl_extend('force', user.env, {
  -- reuse this checkout's compiled dependencies
  CARGO_TARGET_DIR = T.root .. '/target',
  -- build from source (download_spec tests the download)
  WASM_NVIM_BUILD = 'cargo',
})

T.test('install under pack/*/start, build with `nvim -l build.lua`, set up from init.lua', function()
  T.copy_checkout(repo)
  -- the example plugins, installed the same way (each ships wasm/*.wasm)
  for _, example in ipairs({ 'zig-wordcount', 'rust-sortlines', 'c-calc' }) do
    local wasm = vim.fn.glob(T.root .. '/examples/' .. example .. '/wasm/*.wasm', false, true)[1]
    T.ok(wasm, 'built example ' .. example)
    vim.fn.mkdir(site .. '/' .. example .. '/wasm', 'p')
    assert(vim.uv.fs_copyfile(wasm, site .. '/' .. example .. '/wasm/' .. vim.fn.fnamemodify(wasm, ':t')))
  end
  local build = vim.system({ vim.v.progpath, '-l', 'build.lua' }, { cwd = repo, env = env, text = true }):wait()
  T.eq(build.code, 0, build.stderr)
  T.contains(build.stdout, 'wasm_nvim: built ' .. repo .. '/lua/wasm_nvim.so')
  T.ok(vim.uv.fs_stat(repo .. '/doc/tags'), 'help tags generated')

  vim.fn.mkdir(env.XDG_CONFIG_HOME .. '/nvim', 'p')
  vim.fn.writefile({ 'require("wasm_nvim").setup({})' }, env.XDG_CONFIG_HOME .. '/nvim/init.lua')
  local out = home .. '/out'
  local check = home .. '/check.lua'
  vim.fn.writefile({
    'vim.cmd("checkhealth wasm_nvim")',
    'local health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), "\\n")',
    'local list = vim.api.nvim_exec2("Wasm list", { output = true }).output',
    'vim.cmd.help("wasm_nvim")',
    'local help = vim.fn.expand("%:t")',
    ('vim.fn.writefile(vim.split(health .. "\\n----\\n" .. list .. "\\n----\\n" .. help, "\\n"), %q)'):format(out),
    'vim.cmd("qa!")',
  }, check)
  local run = vim.system({ vim.v.progpath, '--headless', '-c', 'luafile ' .. check }, { env = env, text = true }):wait()
  T.eq(run.code, 0, run.stderr)
  local health, list, help = unpack(vim.split(table.concat(vim.fn.readfile(out), '\n'), '\n----\n', { plain = true }))
  T.contains(
    health,
    'library ',
    'the Lua files match the library',
    'calc: seed (JSON) ABI',
    'sortlines: seed (JSON) ABI',
    'wordcount: seed (JSON) ABI'
  )
  T.ok(not health:find('ERROR', 1, true), health)
  T.contains(list, 'calc', 'sortlines', 'wordcount')
  T.eq(help, 'wasm_nvim.txt')
end)

T.test('without cargo, the build step says what to install', function()
  local r = vim
    .system({ vim.v.progpath, '-l', 'build.lua' }, {
      cwd = repo,
      env = vim.tbl_extend('force', env, { PATH = '/nonexistent' }),
      text = true,
    })
    :wait()
  T.ok(r.code ~= 0, 'fails')
  T.contains(r.stderr, 'cargo (Rust) is needed to build the library: install it from https://rustup.rs')
end)

T.test('as lazy.nvim runs it: loaded with loadfile in a coroutine, yielding progress', function()
  local chunk = assert(loadfile(repo .. '/build.lua'))
  local co = coroutine.create(chunk)
  local messages, done, err = {}, false, nil
  local function step() -- lazy resumes its build task from the main loop
    local ok, msg = coroutine.resume(co)
    if not ok then
      err, done = msg, true
    elseif coroutine.status(co) == 'dead' then
      done = true
    else
      messages[#messages + 1] = msg
      vim.defer_fn(step, 10)
    end
  end
  local saved = vim.env.CARGO_TARGET_DIR
  vim.env.CARGO_TARGET_DIR = env.CARGO_TARGET_DIR
  vim.env.WASM_NVIM_BUILD = 'cargo'
  step()
  T.ok(not done, 'returned to the event loop while cargo runs')
  vim.wait(600000, function()
    return done
  end, 20)
  vim.env.CARGO_TARGET_DIR = saved
  vim.env.WASM_NVIM_BUILD = nil
  T.eq(err, nil)
  T.contains(table.concat(messages, '\n'), 'wasm_nvim: cargo build', 'wasm_nvim: built ' .. repo .. '/lua/wasm_nvim.so')
end)
