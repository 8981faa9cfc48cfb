#!/usr/bin/env bash
# Builds examples/zig-wordcount/wasm/wordcount.wasm (works from any directory).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
here="$ROOT/examples/zig-wordcount"
mkdir -p "$here/wasm"
cd "$here"
# -fno-entry: a library, no main(); -rdynamic: keep every `export fn`.
"$ZIG" build-exe src/wordcount.zig \
  -target wasm32-wasi -fno-entry -rdynamic -O ReleaseSmall \
  --cache-dir "$here/.zig-cache" --global-cache-dir "$here/.zig-cache/global" \
  -femit-bin="$here/wasm/wordcount.wasm"
