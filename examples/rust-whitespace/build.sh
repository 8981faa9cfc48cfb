#!/usr/bin/env bash
# Builds the plugin into wasm/whitespace.wasm (works from any directory).
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
"$CARGO" build --release --locked --manifest-path "$ROOT/examples/Cargo.toml" -p whitespace \
  --target wasm32-unknown-unknown --target-dir "$GUEST_TARGET"
mkdir -p "$ROOT/examples/rust-whitespace/wasm"
cp "$GUEST_TARGET/wasm32-unknown-unknown/release/whitespace.wasm" "$ROOT/examples/rust-whitespace/wasm/whitespace.wasm"
echo "built $ROOT/examples/rust-whitespace/wasm/whitespace.wasm"
