---@meta wasm_nvim
-- LuaLS annotations for require("wasm_nvim") (the library is compiled, so
-- the language server cannot read it). Add this directory to LuaLS's
-- `workspace.library` (with lazydev.nvim: `library = { "wasm_nvim/types" }`).
-- Not on the Lua path on purpose: a lua/wasm_nvim.lua would shadow the library.

---@class wasm_nvim.Limits
---@field timeout_ms? integer wasm time per call before it is interrupted; 0: no deadline (10000)
---@field memory_mb? integer linear memory cap (256)
---@field max_timeouts? integer timeouts in a row before the plugin is disabled (3)

---@class wasm_nvim.PluginOptions: wasm_nvim.Limits
---@field enabled? boolean false: skip this plugin (true)
---@field data_dir? boolean give it stdpath("data")/wasm_nvim/<name> as /data (false)

---@class wasm_nvim.Options
---@field lazy? boolean load plugins on first use (true)
---@field cache? boolean keep compiled modules in stdpath("cache") (true)
---@field debug? boolean log discovery and loading with vim.notify at DEBUG (false)
---@field slow_ms? integer record calls slower than this in :Wasm log (100)
---@field limits? wasm_nvim.Limits defaults for every plugin
---@field plugins? table<string, wasm_nvim.PluginOptions> per plugin, by name

---@class wasm_nvim.Function
---@field name string
---@field params any seed ABI: what `functionality` said
---@field returns any
---@field type string `(first: i64, last: i64) -> Result<usize>` when the SDK recorded it, else the wasm type
---@field doc? string the first line of its doc comment (SDK plugins)

---@class wasm_nvim.PluginInfo
---@field name string
---@field path string
---@field state "loaded"|"not loaded"|"failed"
---@field error? string why it failed to load
---@field abi? "seed"|"fast"
---@field compiled? string
---@field compile_ms? number
---@field load_ms? number
---@field timeout_ms? integer
---@field memory_mb integer
---@field data_dir? string
---@field disabled? string why its calls are refused
---@field slow_calls? integer
---@field slowest? { name: string, ms: integer }
---@field functions? wasm_nvim.Function[]

--- Each plugin (a `wasm/<name>.wasm` on the runtimepath) is a field: a table
--- of its functions, `require("wasm_nvim").<name>.<function>(...)`.
---@class wasm_nvim
---@field version string the library's version
---@field [string] table<string, fun(...): any> a plugin by name
local M = {}

--- Finds the plugins on the runtimepath (and loads them with `lazy = false`);
--- again: starts from scratch, releasing every callback of the old plugins.
---@param opts? wasm_nvim.Options
function M.setup(opts) end

--- Reloads plugin `name` from disk (every plugin without a name); its
--- callbacks keep working, re-bound to the new code by export name.
--- Raises an error, and keeps the old version, when the file does not load.
---@param name? string
function M.reload(name) end

--- One table per plugin found.
---@return wasm_nvim.PluginInfo[]
function M.plugins() end

return M
