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
# No absolute paths in the new crate: the SDK of this checkout by relative
# path (with its version, so the crate can be published or moved to the
# crates.io SDK by deleting `path`).
sdk="$(realpath --relative-to="$dir" "$ROOT/crates/sdk")"
sdk_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)"

cat >"$dir/Cargo.toml" <<TOML
[package]
name = "$name"
version = "0.1.0"
edition = "2024"

[lib]
crate-type = ["cdylib"]

[dependencies]
wasm_nvim_sdk = { version = "$sdk_version", path = "$sdk" }
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
\`wasm/$name.wasm\`. **Commit that file** (or attach it to a release): it
runs on every OS and CPU wasm_nvim runs on, so users of this plugin need
no toolchain and no build step:

\`\`\`lua
{ "you/$name", dependencies = { "wasm-nvim/wasm_nvim" } }  -- lazy.nvim
\`\`\`

Then \`:${name^}Hello you\` or \`:lua print(require("wasm_nvim").$name.greet("you"))\`.
MD

cat >"$dir/.gitignore" <<GI
/target
GI

echo "created $dir: build it with $dir/build.sh, test it in Neovim with $ROOT/scripts/plugin-test.sh $dir"
