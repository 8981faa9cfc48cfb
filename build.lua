-- Builds the library for this checkout: `cargo build --release`, then the
-- result goes to lua/wasm_nvim.so (where `require` finds it) and the help
-- tags are generated. lazy.nvim runs this file after install and update;
-- by hand: `nvim -l build.lua` (or `make build` for everything).
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')

local function fail(msg)
  error('wasm_nvim build: ' .. msg, 0)
end

if vim.fn.executable('cargo') == 0 then
  fail('cargo (Rust) is needed to build the library: install it from https://rustup.rs, then rebuild '
    .. '(`:Lazy build wasm_nvim`, or `nvim -l build.lua` in ' .. root .. ')')
end

local function say(msg)
  if coroutine.running() then
    coroutine.yield(msg) -- lazy.nvim shows it as progress
  else
    io.stdout:write(msg .. '\n')
  end
end

--- Runs cargo, collecting its stderr. Inside lazy.nvim's build task (a
--- coroutine it resumes from the main loop) it yields while cargo runs, so
--- the editor stays responsive and lazy shows cargo's progress; from
--- `nvim -l build.lua` it simply waits.
local function cargo_build()
  local chunks, last_line = {}, nil
  local done
  local proc = vim.system({ 'cargo', 'build', '--release', '-p', 'wasm_nvim' }, {
    cwd = root,
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
  if coroutine.running() then
    -- lazy.nvim's task can sleep without spinning the event loop
    local ok, async = pcall(require, 'lazy.async')
    local task = ok and type(async) == 'table' and async.running and async.running()
    local shown
    while not done do
      if last_line ~= shown then
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
  return done.code, table.concat(chunks)
end

say('wasm_nvim: cargo build --release -p wasm_nvim (a few minutes the first time)')
local code, stderr = cargo_build()
if code ~= 0 then
  fail('cargo build failed:\n' .. stderr)
end

local target = vim.env.CARGO_TARGET_DIR or (root .. '/target')
local built
for _, name in ipairs({ 'libwasm_nvim.so', 'libwasm_nvim.dylib', 'wasm_nvim.dll' }) do
  if vim.uv.fs_stat(target .. '/release/' .. name) then
    built = target .. '/release/' .. name
    break
  end
end
if not built then
  fail('cargo built nothing under ' .. target .. '/release')
end
-- Install by rename: a running Neovim may have the old file mapped.
local dest = root .. '/lua/wasm_nvim.so'
local tmp = dest .. '.tmp'
assert(vim.uv.fs_copyfile(built, tmp))
assert(vim.uv.fs_rename(tmp, dest))
vim.cmd.helptags(vim.fn.fnameescape(root .. '/doc'))
say('wasm_nvim: built ' .. dest)
