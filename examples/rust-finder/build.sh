#!/usr/bin/env bash
# Builds wasm/finder.wasm (works from any directory).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
"$CARGO" build --release --locked --manifest-path "$ROOT/examples/Cargo.toml" -p finder \
  --target wasm32-unknown-unknown --target-dir "$GUEST_TARGET"
mkdir -p "$ROOT/examples/rust-finder/wasm"
cp "$GUEST_TARGET/wasm32-unknown-unknown/release/finder.wasm" "$ROOT/examples/rust-finder/wasm/finder.wasm"
