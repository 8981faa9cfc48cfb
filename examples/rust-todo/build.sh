#!/usr/bin/env bash
# Builds wasm/todo.wasm (works from any directory).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
"$CARGO" build --release --locked --manifest-path "$ROOT/examples/Cargo.toml" -p todo \
  --target wasm32-unknown-unknown --target-dir "$GUEST_TARGET"
mkdir -p "$ROOT/examples/rust-todo/wasm"
cp "$GUEST_TARGET/wasm32-unknown-unknown/release/todo.wasm" "$ROOT/examples/rust-todo/wasm/todo.wasm"
