-- Generates the Rust SDK's typed Neovim API bindings from the running
-- Neovim's API metadata, and (given a second path) the host's table of the
-- API level each function appeared at:
--
--   nvim --headless -u NONE -l scripts/gen_rust_api.lua crates/sdk/src/api_gen.rs \
--     crates/wasm_nvim/src/api_levels_gen.rs
--
-- tests/nvim/sdk_rust_spec.lua checks that the checked-in file is what this
-- produces from the pinned Neovim. What it shares with gen_guest_api.lua is
-- in gen_common.lua.

local out_path = assert(_G.arg[1], 'usage: nvim -l gen_rust_api.lua <sdk out.rs> [<host levels.rs>]')
local levels_path = _G.arg[2]
local gen = dofile(vim.fn.fnamemodify(_G.arg[0], ':p:h') .. '/gen_common.lua')

local keywords = gen.set({
  'as',
  'break',
  'const',
  'continue',
  'crate',
  'else',
  'enum',
  'extern',
  'false',
  'fn',
  'for',
  'if',
  'impl',
  'in',
  'let',
  'loop',
  'match',
  'mod',
  'move',
  'mut',
  'pub',
  'ref',
  'return',
  'self',
  'Self',
  'static',
  'struct',
  'super',
  'trait',
  'true',
  'type',
  'unsafe',
  'use',
  'where',
  'while',
  'async',
  'await',
  'dyn',
})

local function param_type(t)
  return ({
    Integer = 'i64',
    Boolean = 'bool',
    String = '&str',
    Float = 'f64',
    Buffer = 'Buffer',
    Window = 'Window',
    Tabpage = 'Tabpage',
    LuaRef = 'Callback',
  })[t] or 'impl Serialize' -- Array, Dict, Object: a tuple, slice, struct, map ...
end

local rust = {
  results = {
    void = '()',
    Integer = 'i64',
    Boolean = 'bool',
    String = 'String',
    Float = 'f64',
    Buffer = 'Buffer',
    Window = 'Window',
    Tabpage = 'Tabpage',
    Array = 'Vec<Object>',
    Dict = 'Dict',
    Object = 'Object',
    LuaRef = 'Object',
  },
  array = function(t)
    return ('Vec<%s>'):format(t)
  end,
  pair = function(t)
    return ('(%s, %s)'):format(t, t)
  end,
  other = 'Object',
}

local header = gen.generated_by('gen_rust_api.lua', '// ', '// ')
table.insert(header, '')
local lines = vim.list_extend({}, header)
vim.list_extend(lines, {
  '//! One function per Neovim API function, calling the msgpack-ABI import of',
  '//! the same name. Functions Lua cannot call (RPC-only) are left out;',
  '//! deprecated ones are marked `#[deprecated]`.',
  '',
  '#![allow(clippy::too_many_arguments)]',
  '',
  'use serde::Serialize;',
  '',
  'use super::{call, call0};',
  'use crate::{Buffer, Callback, Dict, Object, Result, Tabpage, Window};',
  '',
})

local fns = gen.functions()
vim.list_extend(lines, { 'super::imports!(' })
for _, f in ipairs(fns) do
  lines[#lines + 1] = '    ' .. f.name .. ','
end
vim.list_extend(lines, { ');', '' })

for _, f in ipairs(fns) do
  local params, args = {}, {}
  for _, p in ipairs(gen.params(f, keywords)) do
    params[#params + 1] = ('%s: %s'):format(p.name, param_type(p.type))
    args[#args + 1] = p.name
  end
  lines[#lines + 1] = ('/// `%s` (since API level %d).'):format(f.name, f.since or 0)
  if f.deprecated_since then
    lines[#lines + 1] = ('#[deprecated(note = "deprecated since Neovim API level %d")]'):format(f.deprecated_since)
  end
  lines[#lines + 1] = ('pub fn %s(%s) -> Result<%s> {'):format(
    f.name,
    table.concat(params, ', '),
    gen.result_type(f, rust)
  )
  if #args == 0 then
    lines[#lines + 1] = ('    call0(sys::%s)'):format(f.name)
  else
    lines[#lines + 1] = ('    call(sys::%s, &(%s,))'):format(f.name, table.concat(args, ', '))
  end
  lines[#lines + 1] = '}'
  lines[#lines + 1] = ''
end
table.remove(lines)
gen.write(out_path, lines, #fns .. ' bindings')

if levels_path then
  local all = vim.deepcopy(gen.info.functions)
  table.sort(all, function(a, b)
    return a.name < b.name
  end)
  local out = vim.list_extend({}, header)
  vim.list_extend(out, {
    '//! The API level at which each function of the newest supported API',
    '//! appeared, sorted by name: for the error a plugin gets when it calls',
    '//! a function the running Neovim does not have.',
    '',
    'pub const SINCE: &[(&str, u32)] = &[',
  })
  for _, f in ipairs(all) do
    out[#out + 1] = ('    ("%s", %d),'):format(f.name, f.since or 0)
  end
  out[#out + 1] = '];'
  gen.write(levels_path, out, #all .. ' API levels')
end
