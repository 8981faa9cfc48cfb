-- Generates the Zig and C SDKs' typed Neovim API bindings from the running
-- Neovim's API metadata (the sibling of gen_rust_api.lua, same functions:
-- every `nvim_*` function Lua can call), and their ABI constants from the
-- `wasm_nvim_abi` crate (crates/abi/src/lib.rs, which the host and the Rust
-- SDK use):
--
--   nvim --headless -u NONE -l scripts/gen_guest_api.lua guest/zig/wasm_nvim_api.zig \
--     guest/c/wasm_nvim_api.h guest/zig/wasm_nvim_abi.zig guest/c/wasm_nvim_abi.h
--
-- `make gen` runs it with the pinned Neovim; tests/nvim/sdk_bindings_spec.lua
-- checks that the checked-in files are what it produces. What it shares
-- with gen_rust_api.lua is in gen_common.lua.

local usage = 'usage: nvim -l gen_guest_api.lua <api.zig> <api.h> <abi.zig> <abi.h>'
local zig_path, c_path = assert(_G.arg[1], usage), assert(_G.arg[2], usage)
local zig_abi_path, c_abi_path = assert(_G.arg[3], usage), assert(_G.arg[4], usage)
local gen = dofile(vim.fn.fnamemodify(_G.arg[0], ':p:h') .. '/gen_common.lua')

local fns = gen.functions()

--- "nvim_x(buffer: Buffer, ...) -> Integer; since API level 1": the
--- metadata's own words, for the doc comments.
local function described(f)
  local params = {}
  for _, p in ipairs(f.parameters) do
    params[#params + 1] = p[2] .. ': ' .. p[1]
  end
  local text = ('`%s(%s) -> %s`, since API level %d'):format(
    f.name,
    table.concat(params, ', '),
    f.return_type,
    f.since or 0
  )
  if f.deprecated_since then
    text = text .. (', deprecated since API level %d'):format(f.deprecated_since)
  end
  return text
end

-- ---------------------------------------------------------------------------
-- Zig: `nvim.api.nvim_buf_get_lines(buf, 0, -1, false)`, each a call of
-- `nvim.call` (an import is declared only for the functions a plugin uses).

local zig_keywords = gen.set({
  'addrspace',
  'align',
  'allowzero',
  'and',
  'anyframe',
  'anytype',
  'asm',
  'break',
  'callconv',
  'catch',
  'comptime',
  'const',
  'continue',
  'defer',
  'else',
  'enum',
  'errdefer',
  'error',
  'export',
  'extern',
  'fn',
  'for',
  'if',
  'inline',
  'linksection',
  'noalias',
  'noinline',
  'nosuspend',
  'opaque',
  'or',
  'orelse',
  'packed',
  'pub',
  'resume',
  'return',
  'struct',
  'suspend',
  'switch',
  'test',
  'threadlocal',
  'try',
  'union',
  'unreachable',
  'usingnamespace',
  'var',
  'volatile',
  'while',
  'type',
  'nvim',
})

-- The Zig types of the metadata's scalar types, parameters and results alike.
local zig_scalars = {
  Integer = 'i64',
  Boolean = 'bool',
  String = '[]const u8',
  Float = 'f64',
  Buffer = 'nvim.Buffer',
  Window = 'nvim.Window',
  Tabpage = 'nvim.Tabpage',
}

local function zig_param(t)
  -- Array, Dict, Object: a tuple, slice, struct, `nvim.Raw` ...
  return t == 'LuaRef' and 'nvim.Callback' or zig_scalars[t] or 'anytype'
end

local zig = {
  results = vim.tbl_extend('error', zig_scalars, { void = 'void' }),
  array = function(t)
    return '[]' .. t
  end,
  pair = function(t)
    return ('struct { %s, %s }'):format(t, t)
  end,
  other = 'nvim.Raw', -- Array, Dict, Object: the msgpack bytes, for a `Reader`
}

local zig_lines = gen.generated_by('gen_guest_api.lua', '// ', '// ')
vim.list_extend(zig_lines, {
  '',
  '//! One function per Neovim API function Lua can call, `nvim.api.<name>`:',
  '//! typed parameters (Array, Dict and Object ones take anything',
  '//! `Writer.write` writes: a tuple, a slice, a struct, `nvim.Raw`), the',
  '//! result decoded into `nvim.scratch()` (`nvim.Raw` where the metadata',
  '//! gives no type). Each calls `nvim.call`: only the functions a plugin',
  '//! uses become imports.',
  '',
  'const nvim = @import("wasm_nvim.zig");',
  '',
})
for _, f in ipairs(fns) do
  local params, args = {}, {}
  for _, p in ipairs(gen.params(f, zig_keywords)) do
    params[#params + 1] = ('%s: %s'):format(p.name, zig_param(p.type))
    args[#args + 1] = p.name
  end
  local ret = gen.result_type(f, zig)
  zig_lines[#zig_lines + 1] = '/// ' .. described(f) .. '.'
  zig_lines[#zig_lines + 1] = ('pub fn %s(%s) nvim.Error!%s {'):format(f.name, table.concat(params, ', '), ret)
  local tuple = #args == 0 and '.{}' or ('.{ %s }'):format(table.concat(args, ', '))
  zig_lines[#zig_lines + 1] = ('    return nvim.call(%s, "%s", %s);'):format(ret, f.name, tuple)
  zig_lines[#zig_lines + 1] = '}'
  zig_lines[#zig_lines + 1] = ''
end
table.remove(zig_lines)

-- ---------------------------------------------------------------------------
-- C: every import declared (WASM_NVIM_IMPORT: only those called become
-- imports), and `wn_nvim_<name>(...)` writing the arguments for you.

local c_keywords = gen.set({
  'auto',
  'break',
  'case',
  'char',
  'const',
  'continue',
  'default',
  'do',
  'double',
  'else',
  'enum',
  'extern',
  'float',
  'for',
  'goto',
  'if',
  'inline',
  'int',
  'long',
  'register',
  'restrict',
  'return',
  'short',
  'signed',
  'sizeof',
  'static',
  'struct',
  'switch',
  'typedef',
  'union',
  'unsigned',
  'void',
  'volatile',
  'while',
  'bool',
  'true',
  'false',
  'args',
  'a',
})

--- The C parameter and the statement writing it into the writer `a`.
local function c_param(t, name)
  if t == 'Integer' or t == 'Buffer' or t == 'Window' or t == 'Tabpage' then
    return 'int64_t ' .. name, ('wn_write_int(&a, %s);'):format(name)
  elseif t == 'Boolean' then
    return 'bool ' .. name, ('wn_write_bool(&a, %s);'):format(name)
  elseif t == 'Float' then
    return 'double ' .. name, ('wn_write_double(&a, %s);'):format(name)
  elseif t == 'String' then
    return 'wn_str ' .. name, ('wn_write_str(&a, %s.ptr, %s.len);'):format(name, name)
  end
  -- Array, Dict, Object, LuaRef: one value already written (consumed; NULL: nil)
  return 'wn_writer *' .. name, ('wn_write_value(&a, %s);'):format(name)
end

local c = gen.generated_by('gen_guest_api.lua', '/* ', ' * ')
vim.list_extend(c, {
  ' *',
  ' * Included by wasm_nvim.h. For each Neovim API function Lua can call:',
  ' *  - the import, WASM_NVIM_IMPORT(nvim_x), for wn_call(nvim_x, &args);',
  ' *  - wn_nvim_x(...): the same call with typed parameters, arguments',
  ' *    written for you. Integer and handle parameters are int64_t, strings',
  ' *    wn_str (wn_cstr("...")), Array/Dict/Object/LuaRef ones a wn_writer',
  ' *    holding one value (consumed; NULL for nil). Free the result with',
  ' *    wn_result_free().',
  ' * Only the functions a plugin calls become imports. */',
  '',
  '#ifndef WASM_NVIM_API_H',
  '#define WASM_NVIM_API_H',
  '',
})
for _, f in ipairs(fns) do
  local params, writes = {}, {}
  for _, p in ipairs(gen.params(f, c_keywords)) do
    local decl, write = c_param(p.type, p.name)
    params[#params + 1] = decl
    writes[#writes + 1] = write
  end
  c[#c + 1] = '/* ' .. described(f) .. '. */'
  c[#c + 1] = ('WASM_NVIM_IMPORT(%s);'):format(f.name)
  c[#c + 1] = ('static inline wn_result wn_%s(%s) {'):format(
    f.name,
    #params == 0 and 'void' or table.concat(params, ', ')
  )
  if #writes == 0 then
    c[#c + 1] = ('    return wn_call(%s, NULL);'):format(f.name)
  else
    c[#c + 1] = '    wn_writer a = WN_WRITER;'
    c[#c + 1] = ('    wn_write_array(&a, %d);'):format(#writes)
    for _, w in ipairs(writes) do
      c[#c + 1] = '    ' .. w
    end
    c[#c + 1] = ('    return wn_call(%s, &a);'):format(f.name)
  end
  c[#c + 1] = '}'
  c[#c + 1] = ''
end
c[#c + 1] = '#endif /* WASM_NVIM_API_H */'

-- ---------------------------------------------------------------------------
-- The ABI contract's constants: `pub const NAME: T = value;` of the crate
-- becomes Zig `pub const name: T = value;` and C `#define WN_NAME value`.

local abi = gen.abi_constants()
local from = 'Generated by scripts/gen_guest_api.lua from crates/abi/src/lib.rs (the wasm_nvim_abi crate).'
local zig_abi = {
  '// ' .. from,
  '// Do not edit: run `make gen` instead.',
  '',
  "//! The msgpack ABI's names and numbers, the values the host and the Rust",
  '//! SDK take from the `wasm_nvim_abi` crate. The ABI: doc/abi.md.',
}
local c_abi = {
  '/* ' .. from,
  ' * Do not edit: run `make gen` instead.',
  ' *',
  " * The msgpack ABI's names and numbers, the values the host and the Rust",
  ' * SDK take from the `wasm_nvim_abi` crate. The ABI: doc/abi.md.',
  ' * Included by wasm_nvim.h. */',
  '',
  '#ifndef WASM_NVIM_ABI_H',
  '#define WASM_NVIM_ABI_H',
}
local zig_types = { ['&str'] = '', u32 = ': u32', u64 = ': u64', i8 = ': i8' }
local c_suffixes = { ['&str'] = '', u32 = 'u', u64 = 'ull', i8 = '' }
for _, k in ipairs(abi) do
  assert(zig_types[k.type], ('%s: type %s has no Zig and C form here'):format(k.name, k.type))
  zig_abi[#zig_abi + 1] = ''
  c_abi[#c_abi + 1] = ''
  for i, d in ipairs(k.doc) do
    zig_abi[#zig_abi + 1] = '/// ' .. d
    c_abi[#c_abi + 1] = (i == 1 and '/* ' or ' * ') .. d .. (i == #k.doc and ' */' or '')
  end
  zig_abi[#zig_abi + 1] = ('pub const %s%s = %s;'):format(k.name:lower(), zig_types[k.type], k.value)
  local c_value = k.type == '&str' and k.value or (k.value:gsub('_', '') .. c_suffixes[k.type])
  c_abi[#c_abi + 1] = ('#define WN_%s %s'):format(k.name, c_value)
end
c_abi[#c_abi + 1] = ''
c_abi[#c_abi + 1] = '#endif /* WASM_NVIM_ABI_H */'

gen.write(zig_path, zig_lines, #fns .. ' Zig bindings')
gen.write(c_path, c, #fns .. ' C bindings')
gen.write(zig_abi_path, zig_abi, #abi .. ' Zig ABI constants')
gen.write(c_abi_path, c_abi, #abi .. ' C ABI constants')
