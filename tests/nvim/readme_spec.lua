-- The README stays true: its 20-line plugin is the file the specs build.

local function readme_block(after_heading, lang)
  local text = table.concat(vim.fn.readfile(T.root .. '/README.md'), '\n')
  local from = assert(text:find(after_heading, 1, true), 'README has no heading ' .. after_heading)
  return assert(text:match('```' .. lang .. '\n(.-)\n```', from), 'no ' .. lang .. ' block after ' .. after_heading)
end

T.test('the plugin in 20 lines is tests/plugins/hello/src/lib.rs, and is 20 lines', function()
  local block = readme_block('## A plugin in 20 lines', 'rust')
  local file = table.concat(vim.fn.readfile(T.root .. '/tests/plugins/hello/src/lib.rs'), '\n')
  T.eq(block, file)
  T.eq(#vim.split(block, '\n'), 20)
end)

T.test('and it works', function()
  T.rtp('hello')
  T.eq(require('wasm_nvim').hello.greet('Neovim'), 'Hello, Neovim!')
  T.eq(require('wasm_nvim').hello.greet('"quoted" ✓'), 'Hello, "quoted" ✓!')
end)

T.test('the README names the two commands, and CI runs its test command', function()
  local block = readme_block('## Two commands', 'sh')
  T.contains(block, 'make demo', 'make test')
  T.contains(table.concat(vim.fn.readfile(T.root .. '/.ci/run'), '\n'), '\nmake test')
end)

--- The help file in a fresh runtime directory with its tags generated
--- (what the build step does); returns that directory.
local function help_dir()
  local doc = vim.fn.tempname()
  vim.fn.mkdir(doc .. '/doc', 'p')
  vim.uv.fs_copyfile(T.root .. '/doc/wasm_nvim.txt', doc .. '/doc/wasm_nvim.txt')
  vim.cmd.helptags(doc .. '/doc')
  return doc
end

T.test(':help wasm_nvim works once helptags are generated', function()
  vim.opt.rtp:append(help_dir())
  for _, tag in ipairs({
    'wasm_nvim.txt',
    'wasm_nvim-install',
    'wasm_nvim.setup()',
    'wasm_nvim-options',
    ':Wasm',
    ':Wasm-reload',
    'wasm_nvim-health',
    'wasm_nvim-sdk-rust',
    'wasm_nvim-sdk-zig',
    'wasm_nvim-sdk-c',
    'wasm_nvim-seed-abi',
    'wasm_nvim-fast-abi',
    'wasm_nvim-msgpack-abi',
    'wasm_nvim-values',
    'wasm_nvim-callbacks',
    'wasm_nvim-autocmd',
    'wasm_nvim-limits',
    'wasm_nvim-errors',
    'wasm_nvim-troubleshooting',
  }) do
    vim.cmd.help(tag)
    T.eq(vim.bo.buftype, 'help', tag)
    T.eq(vim.fn.expand('%:t'), 'wasm_nvim.txt', tag)
    vim.cmd.helpclose()
  end
end)

T.test('every |link| in the help file leads to a tag', function()
  local doc = help_dir()
  local tags = {}
  for _, file in ipairs({ doc .. '/doc/tags', vim.env.VIMRUNTIME .. '/doc/tags' }) do
    for _, line in ipairs(vim.fn.readfile(file)) do
      tags[line:match('^[^\t]+')] = true
    end
  end
  local text = table.concat(vim.fn.readfile(T.root .. '/doc/wasm_nvim.txt'), '\n')
  local links = 0
  for link in text:gmatch('|([^|%s]+)|') do
    T.ok(tags[link], 'no help tag for |' .. link .. '|')
    links = links + 1
  end
  T.ok(links > 30, 'links found: ' .. links)
end)

T.test('the help file parses as vimdoc without errors', function()
  vim.cmd.edit(T.root .. '/doc/wasm_nvim.txt')
  local tree = vim.treesitter.get_parser(0, 'vimdoc'):parse()[1]
  local problems = {}
  local function walk(node)
    if node:type() == 'ERROR' or node:missing() then
      problems[#problems + 1] = ('line %d: %s'):format(
        node:range() + 1,
        node:missing() and ('missing ' .. node:type()) or 'error'
      )
    elseif node:has_error() then
      for child in node:iter_children() do
        walk(child)
      end
    end
  end
  walk(tree:root())
  T.eq(problems, {})
  vim.cmd.bwipeout()
end)

-- These run bash and zig: not under Wine.
if not T.windows then
  -- The Zig and C SDK READMEs: their hello world, built with their build line
  -- as written (`path/to/guest/...` pointing here, zig from PATH) in an empty
  -- directory, loads and answers.
  for _, sdk in ipairs({
    { dir = 'zig', lang = 'zig', src = 'src/greet.zig', name = 'greet' },
    { dir = 'c', lang = 'c', src = 'src/hello.c', name = 'hello' },
  }) do
    T.test(
      'guest/' .. sdk.dir .. '/README.md: the hello world builds with its build line in an empty directory',
      function()
        local text = table.concat(vim.fn.readfile(T.root .. '/guest/' .. sdk.dir .. '/README.md'), '\n')
        local source = assert(text:match('```' .. sdk.lang .. '\n(.-)\n```'), 'no ' .. sdk.lang .. ' block')
        local build = assert(text:match('```sh\n(.-)\n```'), 'no sh block')
        build = build:gsub('path/to/guest/', T.root .. '/guest/')
        local dir = vim.fn.tempname()
        vim.fn.mkdir(dir .. '/src', 'p')
        vim.fn.writefile(vim.split(source, '\n'), dir .. '/' .. sdk.src)
        local cache = T.root .. '/target/guests/zig-cache'
        local r = vim
          .system({ 'bash', '-c', build }, {
            cwd = dir,
            env = {
              PATH = T.root .. '/.deps/bin:' .. vim.env.PATH,
              ZIG_LOCAL_CACHE_DIR = cache,
              ZIG_GLOBAL_CACHE_DIR = cache .. '/global',
            },
          })
          :wait()
        T.eq(r.code, 0, build .. '\n' .. r.stderr)
        vim.opt.rtp:prepend(T.root)
        vim.opt.rtp:append(dir)
        local wasm = require('wasm_nvim')
        wasm.setup()
        T.notified(function()
          T.eq(wasm[sdk.name].greet('you'), 'Hello, you!')
        end)
      end
    )
  end

  T.test('the Zig and C examples build from a copy without .deps/, with zig on PATH', function()
    local copy = vim.fn.tempname()
    for _, dir in ipairs({ 'scripts', 'guest/zig', 'guest/c', 'examples/zig-reverse/src', 'examples/c-reverse/src' }) do
      vim.fn.mkdir(copy .. '/' .. dir, 'p')
    end
    local files = {
      'scripts/env.sh',
      'guest/zig/wasm_nvim.zig',
      'guest/zig/wasm_nvim_api.zig',
      'guest/zig/wasm_nvim_abi.zig',
      'guest/c/wasm_nvim.h',
      'guest/c/wasm_nvim_api.h',
      'guest/c/wasm_nvim_abi.h',
      'examples/zig-reverse/build.sh',
      'examples/zig-reverse/src/reverse.zig',
      'examples/c-reverse/build.sh',
      'examples/c-reverse/src/reverse.c',
    }
    for _, f in ipairs(files) do
      T.ok(vim.uv.fs_copyfile(T.root .. '/' .. f, copy .. '/' .. f), f)
    end
    local bin = vim.fn.tempname()
    vim.fn.mkdir(bin, 'p')
    vim.uv.fs_symlink(vim.fn.resolve(T.root .. '/.deps/bin/zig'), bin .. '/zig')
    local cache = T.root .. '/target/guests/zig-cache'
    for _, example in ipairs({ 'zig-reverse', 'c-reverse' }) do
      local r = vim
        .system({ 'bash', copy .. '/examples/' .. example .. '/build.sh' }, {
          env = {
            PATH = bin .. ':' .. vim.env.PATH,
            ZIG = '',
            ZIG_GLOBAL_CACHE_DIR = cache .. '/global',
          },
        })
        :wait()
      T.eq(r.code, 0, example .. ': ' .. r.stderr)
      T.eq(#vim.fn.glob(copy .. '/examples/' .. example .. '/wasm/*.wasm', false, true), 1, example)
    end
  end)
end
