-- `make demo` runs scripts/demo.lua; this keeps it working.

T.test('the demo runs every example and prints what each did', function()
  local run = T.nvim({ '-l', 'scripts/demo.lua' }, { cwd = T.root, env = { WASM_NVIM_ROOT = T.root }, text = true })
  T.eq(run.code, 0, run.stderr)
  T.contains(
    run.stdout,
    'loaded 9 plugins',
    'worker query "lib" -> crates/wasm_nvim/src/lib.rs (err: nil)',
    'wasm.wordcount.stats() -> { blank_lines = 1',
    'after:  { "Apple", "banana", "Cherry", "pear" }',
    'wasm.calc.calc("2 * (3 + 4)") -> { value = 14 }',
    'file is now { "trailing spaces", "clean", "a tab" }',
    'wasm.reverse_c.reverse(2, 4) -> 3; buffer: { "one", "four", "three", "two" }',
    'wasm_nvim: wordcount.count_text: lua_exec: Lua error: expected a string, got number',
    'us per call'
  )
end)
