#!/usr/bin/env bash
# Runs a wasm plugin's tests inside headless Neovim: every tests/*_spec.lua
# of the plugin directory, each in a fresh Neovim started as a user's is
# (wasm_nvim and the plugin on the runtimepath, plugin/*.lua sourced, fresh
# XDG directories). Works for plugins in any language.
#   scripts/plugin-test.sh [--no-build] [plugin dir]     (default: .)
# Builds the plugin first with its build.sh, if it has one. Neovim: $NVIM,
# else wasm_nvim's .deps/bin/nvim, else nvim on PATH.
set -euo pipefail
WASM_NVIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WASM_NVIM_ROOT
build=1
if [ "${1:-}" = "--no-build" ]; then build=0; shift; fi
dir="$(cd "${1:-.}" && pwd)"

nvim="${NVIM:-}"
if [ -z "$nvim" ]; then
  if [ -x "$WASM_NVIM_ROOT/.deps/bin/nvim" ]; then nvim="$WASM_NVIM_ROOT/.deps/bin/nvim"; else nvim="$(command -v nvim || true)"; fi
fi
if [ -z "$nvim" ]; then echo "plugin-test: no Neovim found (set NVIM=/path/to/nvim)" >&2; exit 2; fi
if [ ! -f "$WASM_NVIM_ROOT/lua/wasm_nvim.so" ]; then
  echo "plugin-test: $WASM_NVIM_ROOT/lua/wasm_nvim.so is missing: build wasm_nvim first (nvim -l build.lua, or make build)" >&2
  exit 2
fi
if [ $build = 1 ] && [ -f "$dir/build.sh" ]; then
  bash "$dir/build.sh"
fi
shopt -s nullglob
specs=("$dir"/tests/*_spec.lua)
if [ ${#specs[@]} -eq 0 ]; then echo "plugin-test: no tests/*_spec.lua in $dir" >&2; exit 2; fi

failed=0
for spec in "${specs[@]}"; do
  scratch="$(mktemp -d)"
  if ! XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" XDG_STATE_HOME="$scratch/state" \
    XDG_CACHE_HOME="$scratch/cache" timeout 300 "$nvim" --headless -u NONE -i NONE \
    -l "$WASM_NVIM_ROOT/scripts/plugin_test.lua" "$dir" "$spec"; then
    failed=$((failed + 1))
  fi
  rm -rf "$scratch"
done
if [ $failed -gt 0 ]; then echo "plugin-test: $failed spec file(s) failed in $dir"; exit 1; fi
echo "plugin-test: all ${#specs[@]} spec file(s) passed in $dir ($("$nvim" --version | head -n 1))"
