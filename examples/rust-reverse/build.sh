#!/usr/bin/env bash
# Builds wasm/reverse_rust.wasm (works from any directory).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
"$CARGO" build --release --locked --manifest-path "$ROOT/examples/Cargo.toml" -p reverse_rust \
  --target wasm32-unknown-unknown --target-dir "$GUEST_TARGET"
mkdir -p "$ROOT/examples/rust-reverse/wasm"
cp "$GUEST_TARGET/wasm32-unknown-unknown/release/reverse_rust.wasm" "$ROOT/examples/rust-reverse/wasm/reverse_rust.wasm"
