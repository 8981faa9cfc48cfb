-- build.lua downloads first: a fresh packpath install with no cargo on PATH
-- fetches the library for this OS/CPU/version from a local HTTP server
-- (python3 -m http.server on 127.0.0.1, serving what `make dist` makes: the
-- library under its release name and SHA256SUMS), verifies it, installs it
-- and passes :checkhealth; a corrupted artifact is refused and nothing is
-- replaced; without an artifact and without cargo it says what to do.

if T.unix_only('runs python3 http.server, git and POSIX tools') then
  return
end

local version = dofile(T.root .. '/lua/wasm_nvim/version.lua')
local target = ({ x64 = 'x86_64', arm64 = 'aarch64' })[jit.arch]
  .. '-'
  .. (jit.os == 'OSX' and 'apple-darwin' or 'unknown-linux-gnu')
local artifact = ('wasm_nvim-%s-%s.so'):format(version, target)
local user = T.user_home()
local home = user.home
local repo = user.site .. '/wasm_nvim'
local installed = repo .. '/lua/wasm_nvim.so'

local function read(path)
  local f = assert(io.open(path, 'rb'))
  local data = f:read('*a')
  f:close()
  return data
end

local function write(path, data)
  vim.fn.mkdir(vim.fn.fnamemodify(path, ':h'), 'p')
  local f = assert(io.open(path, 'wb'))
  f:write(data)
  f:close()
end

-- The checkout's files (no library, no target/).
T.copy_checkout(repo)

-- Two release directories: the real one and one with a corrupted library.
local library = read(T.root .. '/lua/wasm_nvim.so')
local function release(dir, bytes)
  write(dir .. '/' .. artifact, bytes)
  local sum = vim.system({ 'sha256sum', artifact }, { cwd = dir, text = true }):wait().stdout
  -- the manifest always holds the real library's checksum
  write(dir .. '/SHA256SUMS', sum)
end
local served = home .. '/www'
release(served .. '/good', library)
release(served .. '/bad', library)
local corrupted = library:sub(1, 5000) .. 'XXXX' .. library:sub(5005)
write(served .. '/bad/' .. artifact, corrupted)
vim.fn.mkdir(served .. '/empty', 'p')
write(served .. '/empty/SHA256SUMS', '')

-- A free port, then the server.
local probe = assert(vim.uv.new_tcp())
assert(probe:bind('127.0.0.1', 0))
local port = probe:getsockname().port
probe:close()
-- (timeout: it goes away even if a test fails before the last one stops it)
local server = vim.system({
  'timeout',
  '300',
  'python3',
  '-m',
  'http.server',
  '--bind',
  '127.0.0.1',
  '--directory',
  served,
  tostring(port),
})
local base = ('http://127.0.0.1:%d'):format(port)
T.ok(
  vim.wait(10000, function()
    return vim.system({ 'curl', '-fs', '-o', '/dev/null', base .. '/good/SHA256SUMS' }):wait().code == 0
  end, 100),
  'the HTTP server answers'
)

-- A PATH with what a user has (curl, sha256sum, python not needed) but no cargo.
local bin = home .. '/bin'
vim.fn.mkdir(bin, 'p')
for _, tool in ipairs({ 'curl', 'sha256sum', 'ldd' }) do
  local path = vim.fn.exepath(tool)
  if path ~= '' then
    vim.uv.fs_symlink(path, bin .. '/' .. tool)
  end
end
local env = vim.tbl_extend('force', user.env, { PATH = bin })

local function build(url, extra)
  local e = vim.tbl_extend('force', env, { WASM_NVIM_DOWNLOAD_URL = url }, extra or {})
  return vim.system({ vim.v.progpath, '-l', 'build.lua' }, { cwd = repo, env = e, text = true }):wait()
end

T.test('no cargo on PATH: downloads, verifies, installs, and :checkhealth has no ERROR', function()
  T.eq(vim.fn.executable(bin .. '/cargo'), 0)
  local t0 = vim.uv.hrtime()
  local r = build(base .. '/good')
  local seconds = (vim.uv.hrtime() - t0) / 1e9
  T.eq(r.code, 0, r.stderr)
  T.contains(
    r.stdout,
    'wasm_nvim: downloading ' .. base .. '/good/' .. artifact,
    'wasm_nvim: downloaded and verified ' .. installed
  )
  io.stdout:write(('       (install by download: %.1f s)\n'):format(seconds))
  T.ok(read(installed) == library, 'the installed library is the served one')
  T.ok(vim.uv.fs_stat(repo .. '/doc/tags'), 'help tags generated')
  T.eq(vim.fn.glob(repo .. '/lua/.*.tmp', true, true), {})

  vim.fn.mkdir(env.XDG_CONFIG_HOME .. '/nvim', 'p')
  vim.fn.writefile({ 'require("wasm_nvim").setup({})' }, env.XDG_CONFIG_HOME .. '/nvim/init.lua')
  local out = home .. '/health'
  local run = vim
    .system({
      vim.v.progpath,
      '--headless',
      '-c',
      'checkhealth wasm_nvim',
      '-c',
      ('lua vim.fn.writefile(vim.api.nvim_buf_get_lines(0, 0, -1, true), %q)'):format(out),
      '-c',
      'qa!',
    }, { env = env, text = true })
    :wait()
  T.eq(run.code, 0, run.stderr)
  local health = table.concat(vim.fn.readfile(out), '\n')
  T.contains(health, 'library ', 'the Lua files match the library')
  T.ok(not health:find('ERROR', 1, true), health)
end)

T.test('a corrupted artifact is refused and nothing is replaced', function()
  local before = read(installed)
  local r = build(base .. '/bad')
  T.ok(r.code ~= 0, 'fails')
  T.contains(r.stderr, base .. '/bad/' .. artifact .. ' does not match its checksum', 'nothing was installed')
  T.ok(read(installed) == before, 'the installed library is unchanged')
  T.eq(vim.fn.glob(repo .. '/lua/.*.tmp', true, true), {})
end)

T.test('no artifact and no cargo: says why and what to install; nothing replaced', function()
  local before = read(installed)
  local r = build(base .. '/empty')
  T.ok(r.code ~= 0, 'fails')
  T.contains(
    r.stderr,
    base .. '/empty/SHA256SUMS lists no ' .. artifact,
    'building with cargo instead, but cargo (Rust) is needed to build the library: install it from https://rustup.rs (Rust 1.95 or newer)'
  )
  r = build(base .. '/empty', { WASM_NVIM_BUILD = 'download' })
  T.contains(r.stderr, 'lists no ' .. artifact, 'WASM_NVIM_BUILD=download: not building with cargo')
  T.ok(read(installed) == before, 'unchanged')
end)

T.test('the network is off (nothing listening): falls back to cargo with a clear message', function()
  local r = build('http://127.0.0.1:1')
  T.ok(r.code ~= 0, 'fails (no cargo either)')
  T.contains(r.stderr, 'cannot download http://127.0.0.1:1/SHA256SUMS:', 'building with cargo instead')
  server:kill('sigterm')
end)
