#!/usr/bin/env bash
# The demo: installs what it needs into .deps/, builds the host and the
# example plugins, and runs them in a headless Neovim, printing what they did.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/bootstrap.sh
bash scripts/build.sh host examples
WASM_NVIM_ROOT="$ROOT" "$NVIM_BIN" --headless -u NONE -i NONE -l scripts/demo.lua
