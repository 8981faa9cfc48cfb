#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs into .deps/,
# builds the host and every plugin, runs the Rust unit tests, then each spec
# in tests/nvim/ in its own headless Neovim.
#   scripts/test.sh                 everything
#   scripts/test.sh --no-build seed only specs whose file name contains "seed"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

build=1
if [ "${1:-}" = "--no-build" ]; then build=0; shift; fi
filters=("$@")

if [ $build = 1 ]; then
  bash scripts/bootstrap.sh
  bash scripts/build.sh
  if [ ${#filters[@]} -eq 0 ]; then
    echo "== cargo test (unit tests)"
    # -p, not --workspace: unifying features with the fixtures crate would
    # rebuild wasmtime a second time.
    unit_log="$(mktemp)"
    if ! "$CARGO" test --release --locked -p wasm_nvim >"$unit_log" 2>&1; then
      cat "$unit_log"; echo "unit tests failed"; exit 1
    fi
    grep -E '^test result' "$unit_log"
    rm -f "$unit_log"
  fi
fi

echo "== specs in headless Neovim: $("$NVIM_BIN" --version | head -n 1)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" \
  XDG_STATE_HOME="$scratch/state" XDG_CACHE_HOME="$scratch/cache"
export WASM_NVIM_ROOT="$ROOT" WASM_NVIM_TEST_BUILD="$BUILD"

failed=()
ran=0
for spec in tests/nvim/*_spec.lua; do
  name="$(basename "$spec" _spec.lua)"
  if [ ${#filters[@]} -gt 0 ]; then
    match=0
    for f in "${filters[@]}"; do [[ "$name" == *"$f"* ]] && match=1; done
    [ $match = 1 ] || continue
  fi
  ran=$((ran + 1))
  if ! timeout 300 "$NVIM_BIN" --headless -u NONE -i NONE -l tests/nvim/harness.lua "$spec"; then
    failed+=("$name")
  fi
done

if [ $ran = 0 ]; then echo "no spec matched: ${filters[*]}"; exit 1; fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED specs: ${failed[*]}"
  exit 1
fi
echo "all $ran spec files passed"

# Windows: the same specs in Windows Neovim under Wine (skipped, saying so,
# where Wine cannot be had). WASM_NVIM_WINE=0 leaves it out.
if [ "${WASM_NVIM_WINE:-1}" != 0 ]; then
  if [ $build = 1 ]; then bash scripts/wine.sh "${filters[@]}"; else bash scripts/wine.sh --no-build "${filters[@]}"; fi
fi
