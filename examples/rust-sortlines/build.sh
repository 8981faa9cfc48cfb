#!/usr/bin/env bash
# Builds the plugin into wasm/sortlines.wasm (works from any directory).
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
"$CARGO" build --release --locked --manifest-path "$ROOT/examples/Cargo.toml" -p sortlines \
  --target wasm32-unknown-unknown --target-dir "$GUEST_TARGET"
mkdir -p "$ROOT/examples/rust-sortlines/wasm"
cp "$GUEST_TARGET/wasm32-unknown-unknown/release/sortlines.wasm" "$ROOT/examples/rust-sortlines/wasm/sortlines.wasm"
echo "built $ROOT/examples/rust-sortlines/wasm/sortlines.wasm"
