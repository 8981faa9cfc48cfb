//! Calling Lua and the Neovim API on a plugin's behalf.
//!
//! Everything that touches Lua from a host import goes through [`Nvim`], so
//! the conversions and the error wording live in one place. The handful of
//! Lua helpers it needs are compiled once, from `helpers.lua`.

pub mod callbacks;

use std::cell::RefCell;
use std::collections::HashMap;

use std::ffi::c_int;

use mlua::{Function, Lua, MultiValue, ObjectLike, Table, Value, ffi};

use crate::codec::msgpack::{self, Handle, Parser};
use crate::codec::{self, Codec, Format, LuaSink};
use crate::error::{Error, Result};
use crate::protected::{error_message, protected, registry_ref};
use callbacks::{Maker, Resource};

/// One function of `api_info().functions`, resolved once.
#[derive(Debug)]
pub struct ApiFunction {
    pub name: String,
    /// Takes arguments: the import is `(u32)`, not `()`.
    pub takes_args: bool,
    /// Returns a value: the import is `-> u32`, not void.
    pub returns: bool,
    /// The result is a handle (or an array of them, `true`): the msgpack ABI
    /// writes it as Neovim's msgpack extension type.
    pub handle: Option<(Handle, bool)>,
    /// `vim.api[name]`; `None` for RPC-only functions Lua cannot call.
    func: Option<Function>,
    /// The same function as a registry reference, for the Lua C API path.
    func_ref: c_int,
}

/// `"Buffer"` -> the Buffer handle, `"ArrayOf(Window)"` -> arrays of Windows.
fn handle_of(return_type: &str) -> Option<(Handle, bool)> {
    match return_type.strip_prefix("ArrayOf(").and_then(|t| t.strip_suffix(')')) {
        Some(inner) => Handle::of_type(inner).map(|h| (h, true)),
        None => Handle::of_type(return_type).map(|h| (h, false)),
    }
}

/// The running Neovim's version, from `api_info()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub api_level: u32,
    /// `0.11.4`, `0.12.0-dev`.
    pub text: String,
}

impl Version {
    /// What the msgpack ABI's `nvim.version` import returns:
    /// `major << 48 | minor << 32 | patch << 16 | api_level`, 16 bits each.
    pub fn packed(&self) -> u64 {
        let field = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
        wasm_nvim_abi::pack_version(wasm_nvim_abi::Version {
            major: field(self.major),
            minor: field(self.minor),
            patch: field(self.patch),
            api_level: field(self.api_level),
        })
    }
}

/// The Lua side of the host: conversions, the API table, helpers.
#[derive(Debug)]
pub struct Nvim {
    pub lua: Lua,
    /// Lua values <-> JSON and msgpack.
    pub codec: Codec,
    pub api: Vec<ApiFunction>,
    /// Index into `api` by name.
    api_index: HashMap<String, usize>,
    pub version: Version,
    helpers: Table,
    /// Lua chunks the msgpack ABI's `lua` import compiled (registry
    /// references), by plugin and source text: the chunk's name says which
    /// plugin ran it, so two plugins never share one.
    chunks: RefCell<HashMap<String, HashMap<Vec<u8>, c_int>>>,
}

/// Most chunks kept compiled; past this the cache starts over.
const MAX_CHUNKS: usize = 256;

const HELPERS: &str = include_str!("helpers.lua");

impl Nvim {
    pub fn new(lua: &Lua) -> Result<Self> {
        let helpers: Table = lua.load(HELPERS).set_name("=wasm_nvim/helpers.lua").eval()?;
        let empty_dict_mt: Option<Table> = helpers.call_function("empty_dict_mt", ())?;
        let nil: Option<mlua::AnyUserData> = helpers.call_function("vim_nil", ())?;
        let (listed, version): (Vec<Table>, Table) = helpers.call_function("api_functions", ())?;
        let version = Version {
            major: version.get("major")?,
            minor: version.get("minor")?,
            patch: version.get("patch")?,
            api_level: version.get("api_level")?,
            text: version.get("text")?,
        };
        let api = listed
            .into_iter()
            .map(|f| -> Result<ApiFunction> {
                let return_type: String = f.get("return_type")?;
                let func: Option<Function> = f.get("func")?;
                Ok(ApiFunction {
                    name: f.get("name")?,
                    takes_args: f.get("takes_args")?,
                    returns: return_type != "void",
                    handle: handle_of(&return_type),
                    func_ref: registry_ref(lua, func.clone().map_or(Value::Nil, Value::Function))?,
                    func,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let api_index = api.iter().enumerate().map(|(i, f)| (f.name.clone(), i)).collect();
        Ok(Nvim {
            lua: lua.clone(),
            codec: Codec::new(lua, empty_dict_mt, nil)?,
            api,
            api_index,
            version,
            helpers,
            chunks: RefCell::new(HashMap::new()),
        })
    }

    /// The index of API function `name` in this Neovim, if it has it.
    pub fn api_index(&self, name: &str) -> Option<usize> {
        self.api_index.get(name).copied()
    }

    /// Whether a plugin can call API function `name` here: this Neovim
    /// has it and Lua can call it (RPC-only functions cannot be).
    pub fn api_callable(&self, name: &str) -> bool {
        self.api_index(name).and_then(|i| self.api.get(i)).is_some_and(|f| f.func.is_some())
    }

    /// Wraps a function returning `(ok, value_or_message)` into one that
    /// raises a plain string error (mlua would raise a userdata, which Lua
    /// code cannot `:match()` or hand to `vim.notify`).
    pub fn wrap(&self, unwrapped: Function) -> Result<Function> {
        Ok(self.helpers.call_function("wrap", unwrapped)?)
    }

    /// A raw function's FFI wrapper (helpers.lua `ffi_wrap`), or `None`
    /// when LuaJIT's FFI is not there.
    pub fn ffi_wrap(
        &self,
        path: &str,
        handle: usize,
        nargs: usize,
        has_result: bool,
        slow: &Function,
        flush: Function,
    ) -> Result<Option<Function>> {
        Ok(self.helpers.call_function("ffi_wrap", (path, handle as f64, nargs, has_result, slow, flush))?)
    }

    /// Shows a plugin's output in `:messages`, after its name (scheduled
    /// when in a fast event).
    pub fn echo(&self, plugin: &str, text: &str, highlight: &str) -> Result<()> {
        Ok(self.helpers.call_function("echo", (plugin, text, highlight))?)
    }

    /// Warns when the repository's Lua files are another version.
    pub fn check_version(&self, library: &str) {
        let _ = self.helpers.call_function::<()>("check_version", library);
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

    /// For the fault specs (`WASM_NVIM_TEST_HOOKS=1`): a panic inside a
    /// protected section, which must become an error, not an abort.
    pub fn test_panic_in_protected(&self) -> Result<()> {
        self.lua.exec_raw_lua(|raw| {
            // SAFETY: pushes nothing.
            unsafe {
                protected(raw.state(), |_| {
                    #[allow(clippy::panic)]
                    {
                        panic!("test hook: a panic inside a protected Lua section")
                    }
                })
            }
        })
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
            Err(as_expr) => {
                self.lua.load(code).set_name(&name).into_function().map_err(|_| Error::from_lua(&as_expr))?
            }
        };
        let value: Value = func.call(()).map_err(|e| Error::from_lua(&e))?;
        self.codec.encode(&self.lua, Format::Json, &value)
    }

    /// The API function of an import.
    pub fn api(&self, index: usize) -> Result<&ApiFunction> {
        self.api.get(index).ok_or_else(|| Error::internal(format!("no API function #{index}")))
    }

    /// `nvim_*` (seed ABI): calls API function `index` with a JSON array of
    /// arguments, in which `{"__wasm_callback": ...}` objects become
    /// functions made by `maker`. Returns the JSON result (unless void) and
    /// what to delete when the plugin unloads, if it registered something.
    /// The result is converted only when `want_result` (the plugin's import
    /// has a result) and the function returns one.
    pub fn call_api(
        &self,
        index: usize,
        args: Option<&[u8]>,
        maker: &Maker,
        want_result: bool,
    ) -> Result<(Option<Vec<u8>>, Option<Resource>)> {
        let args = match args {
            None => Vec::new(),
            Some(json) => {
                let is_array = json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
                let functions = self.callbacks(Format::Json, json, maker)?;
                match self.codec.decode_with(&self.lua, Format::Json, json, &functions)? {
                    Value::Table(t) if is_array => t.sequence_values::<Value>().collect::<mlua::Result<Vec<_>>>()?,
                    _ => {
                        let start = String::from_utf8_lossy(&json[..json.len().min(40)]).into_owned();
                        return Err(Error::value(format!("arguments must be a JSON array, got {start:?}")));
                    }
                }
            }
        };
        let (result, registered) = self.call_api_values(index, args, maker)?;
        let json = if want_result && self.api(index)?.returns {
            Some(self.codec.encode(&self.lua, Format::Json, &result)?)
        } else {
            None
        };
        Ok((json, registered))
    }

    /// API function `index` and its Lua function, if Lua can call it.
    fn lua_api(&self, index: usize) -> Result<(&ApiFunction, &Function)> {
        let api = self.api(index)?;
        let func = api
            .func
            .as_ref()
            .ok_or_else(|| Error::lua(format!("{} is not available to Lua (RPC-only or deprecated)", api.name)))?;
        Ok((api, func))
    }

    /// Calls API function `index` with decoded arguments.
    pub fn call_api_values(&self, index: usize, args: Vec<Value>, maker: &Maker) -> Result<(Value, Option<Resource>)> {
        let (api, func) = self.lua_api(index)?;
        if maker.made() == 0 {
            let result: Value = func.call(MultiValue::from_vec(args)).map_err(|e| Error::from_lua(&e))?;
            return Ok((result, None));
        }
        let result: Value = func.call(MultiValue::from_vec(args.clone())).map_err(|e| Error::from_lua(&e))?;
        let registered = self.resolve_buffer(callbacks::registered(&api.name, &args, &result))?;
        Ok((result, registered))
    }

    /// The functions for the callback maps in `bytes`, in order, made by
    /// `maker`.
    #[inline]
    fn callbacks(&self, format: Format, bytes: &[u8], maker: &Maker) -> Result<Vec<Value>> {
        let names = codec::callback_names(format, bytes)?;
        let mut functions = Vec::with_capacity(names.len());
        for name in &names {
            functions.push(maker.make(&self.lua, name).map(Value::Function).map_err(|e| Error::from_lua(&e))?);
        }
        Ok(functions)
    }

    /// The msgpack arguments of a msgpack-ABI import as Lua values, their
    /// callback maps made into functions by `maker`; `None` when they hold
    /// no callback (the C API path needs no values then).
    fn callback_args(&self, args: &[u8], maker: &Maker) -> Result<Option<Vec<Value>>> {
        let functions = self.callbacks(Format::Msgpack, args, maker)?;
        if functions.is_empty() {
            return Ok(None);
        }
        match self.codec.decode_with(&self.lua, Format::Msgpack, args, &functions)? {
            Value::Table(t) => Ok(Some(t.sequence_values::<Value>().collect::<mlua::Result<Vec<_>>>()?)),
            _ => Err(Error::value("arguments must be an array")),
        }
    }

    /// `nvim.<api function>` of the msgpack ABI: calls API function `index`
    /// with a msgpack array of arguments and appends the msgpack result to
    /// `out`. Without callbacks it stays on the Lua C API; with them it
    /// goes through `call_api_values`, which tracks what they register.
    pub fn call_api_msgpack(
        &self,
        index: usize,
        args: &[u8],
        maker: &Maker,
        out: &mut Vec<u8>,
    ) -> Result<Option<Resource>> {
        let (api, _) = self.lua_api(index)?;
        if let Some(values) = self.callback_args(args, maker)? {
            let (result, registered) = self.call_api_values(index, values, maker)?;
            self.codec.encode_result(&self.lua, &result, api.handle, out)?;
            return Ok(registered);
        }
        self.call_on_stack(api.func_ref, args, if api.returns { Some(api.handle) } else { None }, out)?;
        Ok(None)
    }

    /// Calls the function under registry reference `func` with a msgpack
    /// array of arguments, all on the raw C API; appends its first result
    /// (`Some(handle type)`) or nothing (`None`) to `out`.
    fn call_on_stack(
        &self,
        func: c_int,
        args: &[u8],
        result: Option<Option<(Handle, bool)>>,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let codec = &self.codec;
        self.lua.exec_raw_lua(|raw| {
            // SAFETY: everything pushed here is popped before returning; the
            // stack is grown before each push sequence.
            unsafe {
                protected(raw.state(), |l| -> Result<()> {
                    let base = ffi::lua_gettop(l);
                    ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, func as ffi::lua_Integer);
                    let mut p = Parser::new(args, false);
                    let n = if args.is_empty() { 0 } else { p.array_len().map_err(Error::value)? };
                    if ffi::lua_checkstack(l, n as c_int + 4) == 0 {
                        return Err(Error::value("too many arguments"));
                    }
                    let mut sink = LuaSink::new(l, codec, 0);
                    for _ in 0..n {
                        // an argument that is nil is nil (not vim.NIL)
                        if let Err(e) = p.value(&mut sink, 0) {
                            ffi::lua_settop(l, base);
                            return Err(Error::value(e));
                        }
                    }
                    if !p.at_end() {
                        ffi::lua_settop(l, base);
                        return Err(Error::value("bytes after the arguments"));
                    }
                    let outcome = if ffi::lua_pcall(l, n as c_int, 1, 0) != 0 {
                        Err(Error::lua(error_message(l)))
                    } else if let Some(handle) = result {
                        msgpack::write_result(l, codec, ffi::lua_gettop(l), handle, out).map_err(Error::value)
                    } else {
                        Ok(())
                    };
                    ffi::lua_settop(l, base);
                    outcome
                })?
            }
        })
    }

    /// The msgpack ABI's `lua` import: runs a chunk (compiled once per source
    /// text) with a msgpack array of arguments as its `...`; appends its
    /// first result to `out`.
    pub fn run_chunk_msgpack(
        &self,
        plugin: &str,
        code: &[u8],
        args: &[u8],
        maker: &Maker,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        let func = self.chunk(plugin, code)?;
        let Some(values) = self.callback_args(args, maker)? else {
            return self.call_on_stack(func, args, Some(None), out);
        };
        // SAFETY: pushes the chunk, which exec_raw returns.
        let f: Function = unsafe {
            self.lua.exec_raw((), |l| {
                ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, func as ffi::lua_Integer);
            })?
        };
        let result: Value = f.call(MultiValue::from_vec(values)).map_err(|e| Error::from_lua(&e))?;
        self.codec.encode_result(&self.lua, &result, None, out)
    }

    /// The registry reference of a compiled chunk, compiling it once.
    fn chunk(&self, plugin: &str, code: &[u8]) -> Result<c_int> {
        if let Some(r) = self.chunks.borrow().get(plugin).and_then(|c| c.get(code)) {
            return Ok(*r);
        }
        let f = self.lua.load(code).set_name(chunk_name(plugin)).into_function().map_err(|e| Error::from_lua(&e))?;
        let r = registry_ref(&self.lua, Value::Function(f))?;
        let mut chunks = self.chunks.borrow_mut();
        if chunks.values().map(HashMap::len).sum::<usize>() >= MAX_CHUNKS {
            for (_, old) in chunks.drain().flat_map(|(_, c)| c) {
                // SAFETY: unref of a reference this cache made.
                let _ = unsafe { self.lua.exec_raw::<()>((), |l| ffi::luaL_unref(l, ffi::LUA_REGISTRYINDEX, old)) };
            }
        }
        chunks.entry(plugin.to_string()).or_default().insert(code.to_vec(), r);
        Ok(r)
    }

    /// Buffer 0 means "the current one" only at the time of the call.
    fn resolve_buffer(&self, resource: Option<Resource>) -> Result<Option<Resource>> {
        let current = || -> Result<Option<i64>> { Ok(Some(self.helpers.call_function("current_buf", ())?)) };
        Ok(match resource {
            Some(Resource::Command { buffer: Some(0), name }) => Some(Resource::Command { buffer: current()?, name }),
            Some(Resource::Keymap { buffer: Some(0), mode, lhs }) => {
                Some(Resource::Keymap { buffer: current()?, mode, lhs })
            }
            other => other,
        })
    }

    /// Deletes what a plugin registered with callbacks (errors ignored: the
    /// user may have deleted it already).
    pub fn release(&self, resource: &Resource) -> Result<()> {
        let args = match resource {
            Resource::Autocmd(id) => ("autocmd", Value::Integer(*id), Value::Nil, Value::Nil),
            Resource::Command { buffer, name } => (
                "command",
                Value::String(self.lua.create_string(name)?),
                buffer.map_or(Value::Nil, Value::Integer),
                Value::Nil,
            ),
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

/// What a function given to [`Nvim::wrap`] returns: `(true, value)`, or
/// `(false, message)`, which the wrapper raises as a plain string error.
pub fn wrap_result(lua: &Lua, result: std::result::Result<Value, String>) -> mlua::Result<(bool, Value)> {
    match result {
        Ok(v) => Ok((true, v)),
        Err(msg) => Ok((false, Value::String(lua.create_string(msg)?))),
    }
}
