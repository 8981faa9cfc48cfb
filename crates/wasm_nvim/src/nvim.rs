//! Calling Lua and the Neovim API on a plugin's behalf.
//!
//! Everything that touches Lua from a host import goes through [`Nvim`], so
//! the conversions and the error wording live in one place. The handful of
//! Lua helpers it needs are compiled once, from `helpers.lua`.

use std::cell::RefCell;
use std::collections::HashMap;

use mlua::{Function, Lua, MultiValue, ObjectLike, Table, Value};

use crate::callbacks::{self, Maker, Resource};
use crate::convert::Conv;
use crate::error::{Error, Result};
use crate::msgpack::Handle;

/// One function of `api_info().functions`, resolved once.
#[derive(Debug)]
pub struct ApiFunction {
    pub name: String,
    /// Takes arguments: the import is `(u32)`, not `()`.
    pub takes_args: bool,
    /// Returns a value: the import is `-> u32`, not void.
    pub returns: bool,
    /// The result is a handle (or an array of them, `true`): the fast ABI
    /// writes it as Neovim's msgpack extension type.
    pub handle: Option<(Handle, bool)>,
    /// `vim.api[name]`; `None` for RPC-only functions Lua cannot call.
    func: Option<Function>,
}

/// `"Buffer"` -> the Buffer handle, `"ArrayOf(Window)"` -> arrays of Windows.
fn handle_of(return_type: &str) -> Option<(Handle, bool)> {
    match return_type.strip_prefix("ArrayOf(").and_then(|t| t.strip_suffix(')')) {
        Some(inner) => Handle::of_type(inner).map(|h| (h, true)),
        None => Handle::of_type(return_type).map(|h| (h, false)),
    }
}

/// The Lua side of the host: conversions, the API table, helpers.
#[derive(Debug)]
pub struct Nvim {
    pub lua: Lua,
    pub conv: Conv,
    pub api: Vec<ApiFunction>,
    helpers: Table,
    /// Lua chunks the fast ABI's `lua` import compiled, by source text.
    chunks: RefCell<HashMap<Vec<u8>, Function>>,
}

/// Most chunks kept compiled; past this the cache starts over.
const MAX_CHUNKS: usize = 256;

const HELPERS: &str = include_str!("helpers.lua");

impl Nvim {
    pub fn new(lua: &Lua) -> Result<Self> {
        let helpers: Table = lua.load(HELPERS).set_name("=wasm_nvim/helpers.lua").eval()?;
        let empty_dict_mt: Option<Table> = helpers.call_function("empty_dict_mt", ())?;
        let nil: Option<mlua::AnyUserData> = helpers.call_function("vim_nil", ())?;
        let listed: Vec<Table> = helpers.call_function("api_functions", ())?;
        let api = listed
            .into_iter()
            .map(|f| {
                let return_type: String = f.get("return_type")?;
                Ok(ApiFunction {
                    name: f.get("name")?,
                    takes_args: f.get("takes_args")?,
                    returns: return_type != "void",
                    handle: handle_of(&return_type),
                    func: f.get("func")?,
                })
            })
            .collect::<mlua::Result<Vec<_>>>()?;
        Ok(Nvim { lua: lua.clone(), conv: Conv { empty_dict_mt, nil }, api, helpers, chunks: RefCell::new(HashMap::new()) })
    }

    /// Wraps a raw function returning `(ok, value_or_message)` into one that
    /// raises a plain string error (mlua would raise a userdata, which Lua
    /// code cannot `:match()` or hand to `vim.notify`).
    pub fn wrap(&self, raw: Function) -> Result<Function> {
        Ok(self.helpers.call_function("wrap", raw)?)
    }

    /// Shows a plugin's output in `:messages` (scheduled when in a fast event).
    pub fn echo(&self, text: &str, highlight: &str) -> Result<()> {
        Ok(self.helpers.call_function("echo", (text, highlight))?)
    }

    /// `vim.notify` (scheduled when in a fast event).
    pub fn notify(&self, msg: &str, level: Level) -> Result<()> {
        Ok(self.helpers.call_function("notify", (msg, level as u8))?)
    }

    /// `vim.notify` on the next turn of the event loop, outside whatever
    /// API call is running now.
    pub fn notify_later(&self, msg: &str, level: Level) -> Result<()> {
        Ok(self.helpers.call_function("notify_later", (msg, level as u8))?)
    }

    /// Where plugins' data directories go: `stdpath("data")/wasm_nvim`.
    pub fn data_root(&self) -> Result<std::path::PathBuf> {
        let root: String = self.helpers.call_function("data_root", ())?;
        Ok(root.into())
    }

    /// Where compiled modules are kept: `stdpath("cache")/wasm_nvim`.
    pub fn cache_dir(&self) -> Result<std::path::PathBuf> {
        let dir: String = self.helpers.call_function("cache_dir", ())?;
        Ok(dir.into())
    }

    /// All `wasm/*.wasm` files on the runtimepath, in runtimepath order.
    pub fn runtime_wasm_files(&self) -> Result<Vec<String>> {
        Ok(self.helpers.call_function("wasm_files", ())?)
    }

    /// `lua_exec`: runs a chunk.
    pub fn exec(&self, plugin: &str, code: &[u8]) -> Result<()> {
        self.lua.load(code).set_name(chunk_name(plugin)).exec().map_err(|e| Error::from_lua(&e))
    }

    /// `lua_eval`: evaluates an expression (or, if it is not one, a chunk
    /// with `return`), and encodes its first result as JSON.
    pub fn eval(&self, plugin: &str, code: &[u8]) -> Result<Vec<u8>> {
        let name = chunk_name(plugin);
        let mut expr = Vec::with_capacity(code.len() + 7);
        expr.extend_from_slice(b"return ");
        expr.extend_from_slice(code);
        let func = match self.lua.load(&expr[..]).set_name(&name).into_function() {
            Ok(f) => f,
            // Not an expression: a chunk with its own `return`? If not that
            // either, the expression's syntax error is the one to report.
            Err(as_expr) => self.lua.load(code).set_name(&name).into_function().map_err(|_| Error::from_lua(&as_expr))?,
        };
        let value: Value = func.call(()).map_err(|e| Error::from_lua(&e))?;
        self.conv.to_json(&value)
    }

    /// The API function of an import.
    pub fn api(&self, index: usize) -> Result<&ApiFunction> {
        self.api.get(index).ok_or_else(|| Error::internal(format!("no API function #{index}")))
    }

    /// `nvim_*` (seed ABI): calls API function `index` with a JSON array of
    /// arguments, in which `{"__wasm_callback": ...}` objects become
    /// functions made by `maker`. Returns the JSON result (unless void) and
    /// what to delete when the plugin unloads, if it registered something.
    pub fn call_api(&self, index: usize, args: Option<&[u8]>, maker: &Maker) -> Result<(Option<Vec<u8>>, Option<Resource>)> {
        let args = match args {
            None => Vec::new(),
            Some(json) => {
                let is_array = json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
                let make = |name: &str| maker.make(&self.lua, name);
                match self.conv.from_json_with(&self.lua, json, Some(&make))? {
                    Value::Table(t) if is_array => t.sequence_values::<Value>().collect::<mlua::Result<Vec<_>>>()?,
                    _ => {
                        let start = String::from_utf8_lossy(&json[..json.len().min(40)]).into_owned();
                        return Err(Error::value(format!("arguments must be a JSON array, got {start:?}")));
                    }
                }
            }
        };
        let (result, registered) = self.call_api_values(index, args, maker)?;
        let json = if self.api(index)?.returns { Some(self.conv.to_json(&result)?) } else { None };
        Ok((json, registered))
    }

    /// Calls API function `index` with decoded arguments.
    pub fn call_api_values(&self, index: usize, args: Vec<Value>, maker: &Maker) -> Result<(Value, Option<Resource>)> {
        let api = self.api(index)?;
        let Some(func) = &api.func else {
            return Err(Error::lua(format!("{} is not available to Lua (RPC-only or deprecated)", api.name)));
        };
        if maker.made() == 0 {
            let result: Value = func.call(MultiValue::from_vec(args)).map_err(|e| Error::from_lua(&e))?;
            return Ok((result, None));
        }
        let result: Value = func.call(MultiValue::from_vec(args.clone())).map_err(|e| Error::from_lua(&e))?;
        let registered = self.resolve_buffer(callbacks::registered(&api.name, &args, &result))?;
        Ok((result, registered))
    }

    /// The fast ABI's `lua` import: runs a chunk (compiled once per source
    /// text) with `args` as its `...`; returns its first result.
    pub fn run_chunk(&self, plugin: &str, code: &[u8], args: Vec<Value>) -> Result<Value> {
        let cached = self.chunks.borrow().get(code).cloned();
        let func = match cached {
            Some(f) => f,
            None => {
                let f = self.lua.load(code).set_name(chunk_name(plugin)).into_function().map_err(|e| Error::from_lua(&e))?;
                let mut chunks = self.chunks.borrow_mut();
                if chunks.len() >= MAX_CHUNKS {
                    chunks.clear();
                }
                chunks.insert(code.to_vec(), f.clone());
                f
            }
        };
        func.call(MultiValue::from_vec(args)).map_err(|e| Error::from_lua(&e))
    }

    /// Buffer 0 means "the current one" only at the time of the call.
    fn resolve_buffer(&self, resource: Option<Resource>) -> Result<Option<Resource>> {
        let current = || -> Result<Option<i64>> { Ok(Some(self.helpers.call_function("current_buf", ())?)) };
        Ok(match resource {
            Some(Resource::Command { buffer: Some(0), name }) => Some(Resource::Command { buffer: current()?, name }),
            Some(Resource::Keymap { buffer: Some(0), mode, lhs }) => Some(Resource::Keymap { buffer: current()?, mode, lhs }),
            other => other,
        })
    }

    /// Deletes what a plugin registered with callbacks (errors ignored: the
    /// user may have deleted it already).
    pub fn release(&self, resource: &Resource) -> Result<()> {
        let args = match resource {
            Resource::Autocmd(id) => ("autocmd", Value::Integer(*id), Value::Nil, Value::Nil),
            Resource::Command { buffer, name } => {
                ("command", Value::String(self.lua.create_string(name)?), buffer.map_or(Value::Nil, Value::Integer), Value::Nil)
            }
            Resource::Keymap { buffer, mode, lhs } => (
                "keymap",
                Value::String(self.lua.create_string(mode)?),
                Value::String(self.lua.create_string(lhs)?),
                buffer.map_or(Value::Nil, Value::Integer),
            ),
        };
        Ok(self.helpers.call_function("release", args)?)
    }
}

fn chunk_name(plugin: &str) -> String {
    format!("=wasm:{plugin}")
}

/// `vim.log.levels`.
#[derive(Clone, Copy, Debug)]
pub enum Level {
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}
