-- The version of these Lua files; the library (lua/wasm_nvim.so) reports
-- its own as require("wasm_nvim").version, and warns when they differ.
return '0.1.0'
