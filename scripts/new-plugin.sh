#!/usr/bin/env bash
# Creates a new Rust plugin from the template: `make new-plugin NAME=foo
# [DIR=path]` (or `scripts/new-plugin.sh foo [dir]`). The result builds with
# its own build.sh and is a Neovim plugin directory: put it on the
# runtimepath and `require("wasm_nvim").foo.greet("you")` answers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

name="${1:-}"
dir="${2:-$name}"
if ! [[ "$name" =~ ^[a-z][a-z0-9_]*$ ]]; then
  echo "usage: $0 <name> [dir]   (name: lowercase letters, digits, _)" >&2
  exit 2
fi
if [ -e "$dir" ]; then
  echo "$dir already exists" >&2
  exit 1
fi
mkdir -p "$dir/src" "$dir/plugin" "$dir/tests"
# The SDK, relative to the plugin: the pair can move together, and no
# machine's absolute path ends up in the plugin's repository.
sdk="$(realpath --relative-to="$dir" "$ROOT/crates/sdk")"

cat >"$dir/Cargo.toml" <<TOML
[package]
name = "$name"
version = "0.1.0"
edition = "2024"

[lib]
crate-type = ["cdylib"]

[dependencies]
# The SDK is not on crates.io: a path to a wasm_nvim checkout (or a git
# dependency on one); wherever this plugin builds, that path must exist.
wasm_nvim_sdk = { path = "$sdk" }
serde = { version = "1", features = ["derive"] }

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
# keeps function names, so a trap's backtrace names your functions: 85 KB
# for this template against 74 KB with strip = true
strip = "debuginfo"

[workspace]
TOML

cat >"$dir/src/lib.rs" <<RS
use wasm_nvim_sdk::prelude::*;

/// From Lua: \`require("wasm_nvim").$name.greet("you")\`.
/// (\`println!\` goes nowhere on wasm32-unknown-unknown: use \`echo!\`.)
#[export]
fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}
RS

cat >"$dir/tests/${name}_spec.lua" <<LUA
-- Run inside headless Neovim by $ROOT/scripts/plugin-test.sh $dir
T.test('greet() greets', function()
  T.eq(require('wasm_nvim').$name.greet('you'), 'Hello, you!')
end)

T.test(':${name^}Hello notifies', function()
  local notes = T.notified(function()
    vim.cmd('${name^}Hello you')
  end)
  T.eq(notes[1].msg, 'Hello, you!')
end)
LUA

cat >"$dir/build.sh" <<SH
#!/usr/bin/env bash
# Builds wasm/$name.wasm (needs: rustup target add wasm32-unknown-unknown).
set -euo pipefail
cd "\$(dirname "\${BASH_SOURCE[0]}")"
cargo build --release --target wasm32-unknown-unknown \${CARGO_TARGET_DIR:+--target-dir "\$CARGO_TARGET_DIR"}
mkdir -p wasm
cp "\${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/$name.wasm" wasm/$name.wasm
echo "built wasm/$name.wasm"
SH
chmod +x "$dir/build.sh"

cat >"$dir/plugin/$name.lua" <<LUA
-- :${name^}Hello {name} greets through the plugin's wasm.
vim.api.nvim_create_user_command('${name^}Hello', function(opts)
  vim.notify(require('wasm_nvim').$name.greet(opts.args))
end, { nargs = 1 })
LUA

cat >"$dir/README.md" <<MD
# $name

A Neovim plugin in Rust, run by wasm_nvim. \`./build.sh\` builds
\`wasm/$name.wasm\`; put this directory on the runtimepath, then
\`:${name^}Hello you\` or \`:lua print(require("wasm_nvim").$name.greet("you"))\`.

To publish it, commit \`wasm/$name.wasm\` with the code: users install the
plugin with any plugin manager and need no Rust toolchain (the wasm runs on
every platform wasm_nvim supports). A \`build = "./build.sh"\` step would
need Rust with the \`wasm32-unknown-unknown\` target and the SDK at the path
in \`Cargo.toml\` on every user's machine.
MD

echo "created $dir: build it with $dir/build.sh, test it in Neovim with $ROOT/scripts/plugin-test.sh $dir"
