-- Installs the library for this checkout as lua/wasm_nvim.so (lua/wasm_nvim.dll
-- on Windows), where `require` finds it, then generates the help tags.
-- lazy.nvim runs this file after install and update; by hand: `nvim -l build.lua`.
--
-- First it downloads the prebuilt library for this OS, CPU and version of the
-- Lua files and checks its SHA-256 against the release's manifest before
-- putting it in place (a mismatch is an error and nothing is replaced). When
-- no prebuilt library fits or the download fails, it builds with cargo.
--   WASM_NVIM_BUILD=cargo           always build with cargo
--   WASM_NVIM_BUILD=download        download only, never cargo
--   WASM_NVIM_DOWNLOAD_URL=<base>   where the files are (default: the GitHub
--                                   release of this version); https://, http://
--                                   or file:// — a mirror or an air-gapped copy
--                                   of `make dist` output
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local version = dofile(root .. '/lua/wasm_nvim/version.lua')
local windows = jit and jit.os == 'Windows' or vim.fn.has('win32') == 1
local ext = windows and 'dll' or 'so'
local dest = root .. '/lua/wasm_nvim.' .. ext

--- The Rust toolchain the library needs (also in README "Install").
local RUST_MIN = { 1, 95, 0 }

local function fail(msg)
  error('wasm_nvim build: ' .. msg, 0)
end

local function say(msg)
  if coroutine.running() then
    coroutine.yield(msg) -- lazy.nvim shows it as progress
  else
    io.stdout:write(msg .. '\n')
  end
end

--- Runs a command, collecting its output. Inside lazy.nvim's build task (a
--- coroutine it resumes from the main loop) it yields while the command
--- runs, so the editor stays responsive and lazy shows the last line of
--- stderr as progress; from `nvim -l build.lua` it simply waits.
local function run(cmd, opts)
  local chunks, last_line = {}, nil
  local done
  local ok, proc = pcall(vim.system, cmd, {
    cwd = opts and opts.cwd,
    text = true,
    stderr = function(_, data)
      if data then
        chunks[#chunks + 1] = data
        last_line = data:match('([^\n]*%S[^\n]*)\n?$') or last_line
      end
    end,
  }, function(result)
    done = result
  end)
  if not ok then -- not executable
    return { code = -1, stdout = '', stderr = tostring(proc) }
  end
  if coroutine.running() then
    -- lazy.nvim's task can sleep without spinning the event loop
    local has_async, async = pcall(require, 'lazy.async')
    local task = has_async and type(async) == 'table' and async.running and async.running()
    local shown
    while not done do
      if opts and opts.progress and last_line ~= shown then
        shown = last_line
        coroutine.yield(vim.trim(shown))
      elseif task then
        task:sleep(100)
      else
        coroutine.yield()
      end
    end
  else
    done = proc:wait()
  end
  return { code = done.code, stdout = done.stdout or '', stderr = table.concat(chunks) }
end

--- Puts the file `tmp` (in lua/) at `dest`. A running Neovim may have the
--- old library loaded: on Linux and macOS a rename leaves its mapping
--- alone; Windows refuses to replace or delete a loaded DLL but allows
--- renaming it, so the old one moves aside first (and is deleted by a later
--- install, once nothing has it loaded).
local function install(tmp)
  if windows then
    for _, old in ipairs(vim.fn.glob(dest .. '.old-*', true, true)) do
      os.remove(old) -- fails while still loaded: left for next time
    end
    if vim.uv.fs_stat(dest) and not os.remove(dest) then
      local aside = ('%s.old-%d'):format(dest, vim.uv.hrtime())
      local ok, err = vim.uv.fs_rename(dest, aside)
      if not ok then
        os.remove(tmp)
        fail(('cannot replace %s: %s'):format(dest, err))
      end
    end
  end
  local ok, err = vim.uv.fs_rename(tmp, dest)
  if not ok then
    os.remove(tmp)
    fail(('cannot install %s: %s'):format(dest, err))
  end
end

-- ---- download ---------------------------------------------------------------

--- The Rust target of a release artifact for the running Neovim, or nil.
--- The Neovim process's own CPU counts (an x86_64 Neovim on an arm64 Mac
--- loads x86_64 libraries), hence jit.arch rather than the machine's.
local function artifact_target()
  local arch = ({ x64 = 'x86_64', arm64 = 'aarch64' })[jit and jit.arch or '']
  local os_name = ({ Linux = 'unknown-linux-gnu', OSX = 'apple-darwin', Windows = 'pc-windows-gnu' })[jit and jit.os or '']
  if not arch or not os_name or (os_name == 'pc-windows-gnu' and arch ~= 'x86_64') then
    return nil, ('%s/%s'):format(jit and jit.os or '?', jit and jit.arch or '?')
  end
  if os_name == 'unknown-linux-gnu' and vim.fn.executable('ldd') == 1 then
    -- built against glibc; musl systems (Alpine) build with cargo
    local r = run({ 'ldd', '--version' })
    if not (r.stdout .. r.stderr):lower():find('glibc') and not (r.stdout .. r.stderr):find('GNU') then
      return nil, 'Linux without glibc'
    end
  end
  return arch .. '-' .. os_name
end

--- The artifact's file name: version and target in it, e.g.
--- wasm_nvim-0.1.0-x86_64-unknown-linux-gnu.so (scripts/dist.sh makes them).
local function artifact_name(target)
  return ('wasm_nvim-%s-%s.%s'):format(version, target, target:find('windows') and 'dll' or 'so')
end

local function download_base()
  local base = vim.env.WASM_NVIM_DOWNLOAD_URL
  if not base or base == '' then
    base = ('https://github.com/wasm-nvim/wasm_nvim/releases/download/v%s'):format(version)
  end
  return (base:gsub('/+$', ''))
end

--- Fetches `url` into the file `out`; returns nil or why not.
local function fetch(url, out)
  if vim.fn.executable('curl') == 0 then
    return 'curl is not installed'
  end
  local r = run({
    'curl',
    '--fail',
    '--silent',
    '--show-error',
    '--location',
    '--retry',
    '2',
    '--connect-timeout',
    '15',
    '--max-time',
    '300',
    '--output',
    out,
    url,
  })
  if r.code ~= 0 then
    os.remove(out)
    return vim.trim(r.stderr) ~= '' and vim.trim(r.stderr) or ('curl exited with ' .. r.code)
  end
end

--- The SHA-256 of a file, in lower-case hex, with the tool the OS has.
local function sha256_file(path)
  local tools = {
    { 'sha256sum', path },
    { 'shasum', '-a', '256', path },
    { 'certutil', '-hashfile', path, 'SHA256' },
  }
  for _, cmd in ipairs(tools) do
    if vim.fn.executable(cmd[1]) == 1 then
      local r = run(cmd)
      local hex = r.code == 0 and r.stdout:gsub('%s', ''):match('^(%x+)') or nil
      -- certutil prints a header line, then the hash (maybe with spaces)
      if cmd[1] == 'certutil' and r.code == 0 then
        local line = vim.split(r.stdout, '\n')[2] or ''
        hex = line:gsub('%s', ''):match('^(%x+)$')
      end
      if hex and #hex >= 64 then
        return hex:sub(1, 64):lower()
      end
    end
  end
  return nil, 'no SHA-256 tool found (sha256sum, shasum or certutil)'
end

--- Downloads and verifies the prebuilt library, then installs it. Returns
--- true, or nil and why it could not (then cargo may build instead). A
--- checksum mismatch is an error: nothing is replaced and cargo is not tried.
local function download()
  local target, what = artifact_target()
  if not target then
    return nil, 'no prebuilt library for ' .. what
  end
  local name = artifact_name(target)
  local base = download_base()
  local manifest_file = root .. '/lua/.wasm_nvim.SHA256SUMS.tmp'
  local err = fetch(base .. '/SHA256SUMS', manifest_file)
  if err then
    return nil, ('cannot download %s/SHA256SUMS: %s'):format(base, err)
  end
  local manifest = table.concat(vim.fn.readfile(manifest_file), '\n')
  os.remove(manifest_file)
  local expected
  for line in (manifest .. '\n'):gmatch('([^\n]*)\n') do
    local hex, file = line:match('^(%x+)%s+%*?(%S+)%s*$')
    if file == name and #hex == 64 then
      expected = hex:lower()
    end
  end
  if not expected then
    return nil, ('%s/SHA256SUMS lists no %s'):format(base, name)
  end
  say(('wasm_nvim: downloading %s/%s'):format(base, name))
  local tmp = ('%s/lua/.%s.tmp'):format(root, name)
  err = fetch(base .. '/' .. name, tmp)
  if err then
    return nil, ('cannot download %s/%s: %s'):format(base, name, err)
  end
  local actual, why = sha256_file(tmp)
  if not actual then
    os.remove(tmp)
    return nil, why
  end
  if actual ~= expected then
    os.remove(tmp)
    fail(
      (
        '%s/%s does not match its checksum (SHA-256 %s, expected %s): nothing was installed; '
        .. 'check WASM_NVIM_DOWNLOAD_URL or build with WASM_NVIM_BUILD=cargo'
      ):format(base, name, actual, expected)
    )
  end
  install(tmp)
  return true
end

-- ---- cargo ------------------------------------------------------------------

--- Checks that cargo and a new enough Rust are there, with a clear message.
local function check_toolchain(why_not_download)
  local prefix = why_not_download and (why_not_download .. '; building with cargo instead, but ') or ''
  if vim.fn.executable('cargo') == 0 then
    fail(
      prefix
        .. 'cargo (Rust) is needed to build the library: install it from https://rustup.rs '
        .. ('(Rust %d.%d or newer), then rebuild (`:Lazy build wasm_nvim`, or `nvim -l build.lua` in %s)'):format(
          RUST_MIN[1],
          RUST_MIN[2],
          root
        )
    )
  end
  local r = run({ 'rustc', '--version' }, { cwd = root })
  local a, b, c = (r.stdout or ''):match('rustc (%d+)%.(%d+)%.(%d+)')
  local have = { tonumber(a), tonumber(b), tonumber(c) }
  if not a then
    fail(prefix .. 'cannot run `rustc --version`: ' .. vim.trim(r.stderr))
  end
  for i = 1, 3 do
    if have[i] ~= RUST_MIN[i] then
      if have[i] < RUST_MIN[i] then
        fail(
          ('%sRust %d.%d.%d is too old: wasm_nvim needs %d.%d or newer (`rustup update`)'):format(
            prefix,
            have[1],
            have[2],
            have[3],
            RUST_MIN[1],
            RUST_MIN[2]
          )
        )
      end
      break
    end
  end
end

local function cargo_build()
  local r = run({ 'cargo', 'build', '--release', '-p', 'wasm_nvim' }, { cwd = root, progress = true })
  if r.code ~= 0 then
    fail('cargo build failed:\n' .. r.stderr)
  end
  local target = vim.env.CARGO_TARGET_DIR or (root .. '/target')
  for _, name in ipairs({ 'libwasm_nvim.so', 'libwasm_nvim.dylib', 'wasm_nvim.dll' }) do
    local built = target .. '/release/' .. name
    if vim.uv.fs_stat(built) then
      local tmp = dest .. '.tmp'
      local ok, err = vim.uv.fs_copyfile(built, tmp)
      if not ok then
        fail(('cannot copy %s: %s'):format(built, err))
      end
      install(tmp)
      return
    end
  end
  fail('cargo built nothing under ' .. target .. '/release')
end

-- ---- main -------------------------------------------------------------------

local mode = vim.env.WASM_NVIM_BUILD or ''
if mode ~= '' and mode ~= 'cargo' and mode ~= 'download' then
  fail(('WASM_NVIM_BUILD=%s: expected cargo, download or nothing'):format(mode))
end
local how
if mode ~= 'cargo' then
  local ok, why = download()
  if ok then
    how = 'downloaded and verified'
  elseif mode == 'download' then
    fail(why .. ' (WASM_NVIM_BUILD=download: not building with cargo)')
  else
    say('wasm_nvim: ' .. why .. '; building with cargo instead')
    check_toolchain(why)
  end
else
  check_toolchain()
end
if not how then
  say('wasm_nvim: cargo build --release -p wasm_nvim (a few minutes the first time)')
  cargo_build()
  how = 'built'
end
vim.cmd.helptags(vim.fn.fnameescape(root .. '/doc'))
say(('wasm_nvim: %s %s'):format(how, dest))
