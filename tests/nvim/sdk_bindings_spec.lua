-- The Zig and C SDKs' generated API bindings (guest/zig/wasm_nvim_api.zig,
-- guest/c/wasm_nvim_api.h): up to date with the pinned Neovim's API (as
-- sdk_rust_spec checks api_gen.rs), the same functions as the Rust SDK's,
-- every one of them compiles, and plugins using them work
-- (tests/plugins/probe_zig, probe_c). Their ABI constants
-- (guest/zig/wasm_nvim_abi.zig, guest/c/wasm_nvim_abi.h) are the
-- wasm_nvim_abi crate's (crates/abi), and the SDKs use them.
T.rtp('probe_zig', 'probe_c')

local wasm = require('wasm_nvim')
local pinned = T.windows
  or assert(vim.env.WASM_NVIM_PINNED, 'WASM_NVIM_PINNED is not set (run through scripts/test.sh)')
local zig_file, c_file = T.root .. '/guest/zig/wasm_nvim_api.zig', T.root .. '/guest/c/wasm_nvim_api.h'
local zig_abi_file, c_abi_file = T.root .. '/guest/zig/wasm_nvim_abi.zig', T.root .. '/guest/c/wasm_nvim_abi.h'
local zig_exe = vim.env.ZIG or (T.root .. '/.deps/bin/zig')

local function read(path)
  return table.concat(vim.fn.readfile(path), '\n')
end

-- These run the pinned (Linux) Neovim and zig: not under Wine.
if not T.windows then
  T.test('wasm_nvim_api.zig, wasm_nvim_api.h and the ABI constants are what `make gen` makes', function()
    -- the generator runs in the pinned Neovim whichever Neovim runs this spec
    local zig, c = vim.fn.tempname() .. '.zig', vim.fn.tempname() .. '.h'
    local zig_abi, c_abi = vim.fn.tempname() .. '.zig', vim.fn.tempname() .. '.h'
    local r = vim
      .system({
        pinned,
        '--headless',
        '-u',
        'NONE',
        '-i',
        'NONE',
        '-l',
        T.root .. '/scripts/gen_guest_api.lua',
        zig,
        c,
        zig_abi,
        c_abi,
      })
      :wait()
    T.eq(r.code, 0, r.stderr)
    T.eq(vim.fn.readfile(zig_file), vim.fn.readfile(zig), 'checked-in Zig bindings differ: run `make gen`')
    T.eq(vim.fn.readfile(c_file), vim.fn.readfile(c), 'checked-in C bindings differ: run `make gen`')
    T.eq(vim.fn.readfile(zig_abi_file), vim.fn.readfile(zig_abi), 'checked-in Zig ABI constants differ: run `make gen`')
    T.eq(vim.fn.readfile(c_abi_file), vim.fn.readfile(c_abi), 'checked-in C ABI constants differ: run `make gen`')
  end)

  T.test('the Zig and C ABI constants are every constant of the wasm_nvim_abi crate, with its values', function()
    local crate = read(T.root .. '/crates/abi/src/lib.rs')
    local zig, c = read(zig_abi_file) .. '\n', read(c_abi_file) .. '\n'
    local n = 0
    for name, type, value in crate:gmatch('\npub const ([%u%d_]+): ([^=\n]-) = ([^;\n]+);') do
      n = n + 1
      T.contains(zig, ('\npub const %s%s = %s;\n'):format(name:lower(), type == '&str' and '' or ': ' .. type, value))
      local suffix = ({ u32 = 'u', u64 = 'ull' })[type] or ''
      T.contains(c, ('\n#define WN_%s %s\n'):format(name, type == '&str' and value or value:gsub('_', '') .. suffix))
    end
    T.ok(n >= 30, n .. ' constants')
    T.eq(select(2, zig:gsub('\npub const ', '')), n)
    T.eq(select(2, c:gsub('\n#define WN_', '')), n)
    -- the values the SDKs rely on, spelled out: a change here is an ABI change
    T.contains(
      c,
      '\n#define WN_ABI_VERSION 1u',
      '\n#define WN_MSGPACK_MODULE "nvim"',
      '\n#define WN_CALLBACK_KEY "__wasm_callback"',
      '\n#define WN_PACKED_LEN_SHIFT 32u',
      '\n#define WN_PACKED_ERROR_BIT 0x8000000000000000ull',
      '\n#define WN_PACKED_MAX_LEN 0x7fffffffu',
      '\n#define WN_VERSION_MAJOR_SHIFT 48u',
      '\n#define WN_FUNCTIONS_SECTION "wasm_nvim_functions"'
    )
  end)

  T.test('the Zig and C SDKs use the generated ABI constants, not copies of them', function()
    local zig, c = read(T.root .. '/guest/zig/wasm_nvim.zig'), read(T.root .. '/guest/c/wasm_nvim.h')
    T.contains(zig, '@import("wasm_nvim_abi.zig")')
    T.contains(c, '#include "wasm_nvim_abi.h"')
    -- code lines only: comments may show the layout
    local function code(text)
      local lines = {}
      for line in vim.gsplit(text, '\n', { plain = true }) do
        if not (line:match('^%s*//') or line:match('^%s*/?%*')) then
          lines[#lines + 1] = line
        end
      end
      return table.concat(lines, '\n')
    end
    zig, c = code(zig), code(c)
    for _, copy in ipairs({
      '"nvim"',
      '"__wasm_callback"',
      '"wasm_nvim_abi"',
      '"wasm_nvim_functions"',
      '"alloc"',
      '<< 63',
      '>> 63',
      '<< 48',
      '>> 48',
      '0x7fff',
    }) do
      T.eq(zig:find(copy, 1, true), nil, 'wasm_nvim.zig copies ' .. copy)
      T.eq(c:find(copy, 1, true), nil, 'wasm_nvim.h copies ' .. copy)
    end
  end)

  T.test('the Zig and C bindings cover the functions the Rust SDK binds, typed', function()
    local rust, zig, c = read(T.root .. '/crates/sdk/src/api_gen.rs'), read(zig_file), read(c_file)
    local names = {}
    for name in rust:gmatch('\npub fn (nvim_[%w_]+)%(') do
      names[#names + 1] = name
    end
    T.ok(#names >= 150, #names .. ' functions')
    for _, name in ipairs(names) do
      T.contains(zig, '\npub fn ' .. name .. '(')
      T.contains(c, '\nWASM_NVIM_IMPORT(' .. name .. ');', '\nstatic inline wn_result wn_' .. name .. '(')
    end
    T.eq(select(2, zig:gsub('\npub fn nvim_', '')), #names)
    T.eq(select(2, c:gsub('\nWASM_NVIM_IMPORT%(', '')), #names)
    T.contains(
      zig,
      'pub fn nvim_buf_get_lines(buffer: nvim.Buffer, start: i64, end: i64, strict_indexing: bool) nvim.Error![][]const u8',
      'pub fn nvim_open_win(buffer: nvim.Buffer, enter: bool, config: anytype) nvim.Error!nvim.Window'
    )
    T.contains(
      c,
      'static inline wn_result wn_nvim_buf_set_var(int64_t buffer, wn_str name, wn_writer *value)',
      'deprecated since API level'
    )
  end)

  T.test('every generated binding compiles (Zig: each non-generic one analysed; C: -Wall -Wextra -Werror)', function()
    local dir = vim.fn.tempname()
    vim.fn.mkdir(dir, 'p')
    vim.fn.writefile({
      'const nvim = @import("wasm_nvim");',
      'export fn check(i: u32) usize {',
      '    var sum: usize = i;',
      '    inline for (@typeInfo(nvim.api).@"struct".decl_names) |name| {',
      '        const f = @field(nvim.api, name);',
      '        if (comptime !@typeInfo(@TypeOf(f)).@"fn".is_generic) sum +%= @intFromPtr(&f);',
      '    }',
      '    return sum;',
      '}',
    }, dir .. '/all.zig')
    local cache = T.root .. '/target/guests/zig-cache'
    local zig = vim
      .system({
        zig_exe,
        'build-obj',
        '-target',
        'wasm32-freestanding',
        '-O',
        'ReleaseSmall',
        '-fno-emit-bin',
        '--cache-dir',
        cache,
        '--global-cache-dir',
        cache .. '/global',
        '--dep',
        'wasm_nvim',
        '-Mroot=' .. dir .. '/all.zig',
        '-Mwasm_nvim=' .. T.root .. '/guest/zig/wasm_nvim.zig',
      })
      :wait()
    T.eq(zig.code, 0, zig.stderr)
    vim.fn.writefile({ '#define WASM_NVIM_IMPLEMENTATION', '#include "wasm_nvim.h"' }, dir .. '/all.c')
    local c = vim
      .system({
        zig_exe,
        'cc',
        '--target=wasm32-wasi',
        '-c',
        '-o',
        dir .. '/all.o',
        '-std=c11',
        '-Wall',
        '-Wextra',
        '-Werror',
        '-I',
        T.root .. '/guest/c',
        dir .. '/all.c',
      }, { env = { ZIG_GLOBAL_CACHE_DIR = cache .. '/global' } })
      :wait()
    T.eq(c.code, 0, c.stderr)
  end)
end

for sdk, name in pairs({ Zig = 'probe_zig', C = 'probe_c' }) do
  T.test(sdk .. ' SDK: a plugin calling generated bindings (Integer, Buffer, String and Array parameters)', function()
    local buf = T.fresh_buffer({ 'first line', 'two', 'three' })
    T.eq(wasm[name].buf_summary(4, 5), { 3, 'first line' })
    T.eq(vim.b[buf].probe, { 4, 5 })
  end)
end
