-- The Zig and C SDKs' generated API bindings (guest/zig/wasm_nvim_api.zig,
-- guest/c/wasm_nvim_api.h): up to date with the pinned Neovim's API (as
-- sdk_rust_spec checks api_gen.rs), the same functions as the Rust SDK's,
-- every one of them compiles, and plugins using them work
-- (tests/plugins/probe_zig, probe_c).
T.rtp('probe_zig', 'probe_c')

local wasm = require('wasm_nvim')
local pinned = T.windows or assert(vim.env.WASM_NVIM_PINNED, 'WASM_NVIM_PINNED is not set (run through scripts/test.sh)')
local zig_file, c_file = T.root .. '/guest/zig/wasm_nvim_api.zig', T.root .. '/guest/c/wasm_nvim_api.h'
local zig_exe = vim.env.ZIG or (T.root .. '/.deps/bin/zig')

local function read(path)
  return table.concat(vim.fn.readfile(path), '\n')
end

-- These run the pinned (Linux) Neovim and zig: not under Wine.
if not T.windows then
  T.test('wasm_nvim_api.zig and wasm_nvim_api.h are what `make gen` makes from the pinned Neovim', function()
    -- the generator runs in the pinned Neovim whichever Neovim runs this spec
    local zig, c = vim.fn.tempname() .. '.zig', vim.fn.tempname() .. '.h'
    local r = vim.system({ pinned, '--headless', '-u', 'NONE', '-i', 'NONE', '-l',
      T.root .. '/scripts/gen_guest_api.lua', zig, c }):wait()
    T.eq(r.code, 0, r.stderr)
    T.eq(vim.fn.readfile(zig_file), vim.fn.readfile(zig), 'checked-in Zig bindings differ: run `make gen`')
    T.eq(vim.fn.readfile(c_file), vim.fn.readfile(c), 'checked-in C bindings differ: run `make gen`')
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
    T.contains(zig,
      'pub fn nvim_buf_get_lines(buffer: nvim.Buffer, start: i64, end: i64, strict_indexing: bool) nvim.Error![][]const u8',
      'pub fn nvim_open_win(buffer: nvim.Buffer, enter: bool, config: anytype) nvim.Error!nvim.Window')
    T.contains(c, 'static inline wn_result wn_nvim_buf_set_var(int64_t buffer, wn_str name, wn_writer *value)',
      'deprecated since API level')
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
    local zig = vim.system({ zig_exe, 'build-obj', '-target', 'wasm32-freestanding', '-O', 'ReleaseSmall',
      '-fno-emit-bin', '--cache-dir', cache, '--global-cache-dir', cache .. '/global', '--dep', 'wasm_nvim',
      '-Mroot=' .. dir .. '/all.zig', '-Mwasm_nvim=' .. T.root .. '/guest/zig/wasm_nvim.zig' }):wait()
    T.eq(zig.code, 0, zig.stderr)
    vim.fn.writefile({ '#define WASM_NVIM_IMPLEMENTATION', '#include "wasm_nvim.h"' }, dir .. '/all.c')
    local c = vim.system({ zig_exe, 'cc', '--target=wasm32-wasi', '-c', '-o', dir .. '/all.o', '-std=c11', '-Wall', '-Wextra',
      '-Werror', '-I', T.root .. '/guest/c', dir .. '/all.c' }, { env = { ZIG_GLOBAL_CACHE_DIR = cache .. '/global' } })
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
