#!/usr/bin/env bash
# Builds examples/zig-reverse/wasm/reverse_zig.wasm (works from any directory).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
here="$ROOT/examples/zig-reverse"
mkdir -p "$here/wasm"
cd "$here"
# wasm32-freestanding: the SDK talks to Neovim only through its "nvim"
# imports, so the module needs no WASI (no imports beyond "nvim", smaller).
# -fno-entry: a library, no main(); -rdynamic: keep every export.
# ReleaseSafe: safety checks stay on, so a bug panics with a message
# (through nvim.panic) instead of being undefined behaviour; -fstrip drops
# the debug sections (680 KB -> 35 KB).
# Global flags come first; --dep/-M then declare the root module (which
# may @import("wasm_nvim")) and the SDK module from guest/zig.
"$ZIG" build-exe \
  -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseSafe -fstrip \
  --cache-dir "$here/.zig-cache" --global-cache-dir "$here/.zig-cache/global" \
  -femit-bin="$here/wasm/reverse_zig.wasm" \
  --dep wasm_nvim -Mroot=src/reverse.zig \
  -Mwasm_nvim="$ROOT/guest/zig/wasm_nvim.zig"
