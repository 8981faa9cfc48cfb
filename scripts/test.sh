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
    if ! "$CARGO" test --release --locked -p wasm_nvim -p wasm_nvim_sdk -p wasm_nvim_abi >"$unit_log" 2>&1; then
      cat "$unit_log"; echo "unit tests failed"; exit 1
    fi
    grep -E '^test result' "$unit_log"
    rm -f "$unit_log"
    bash scripts/lint.sh
  fi
fi

# Each spec file in its own headless Neovim, on every Neovim in NVIMS (the
# stable release and the pinned nightly; NVIM=... picks one).
export WASM_NVIM_ROOT="$ROOT" WASM_NVIM_TEST_BUILD="$BUILD" WASM_NVIM_PINNED="$PINNED_NVIM"
failed=()
ran=0
for nvim in "${NVIMS[@]}"; do
  version="$("$nvim" --version | head -n 1)"
  echo "== specs in headless Neovim: $version"
  scratch="$(mktemp -d)"
  export XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" \
    XDG_STATE_HOME="$scratch/state" XDG_CACHE_HOME="$scratch/cache"
  started=$SECONDS
  for spec in tests/nvim/*_spec.lua; do
    name="$(basename "$spec" _spec.lua)"
    if [ ${#filters[@]} -gt 0 ]; then
      match=0
      for f in "${filters[@]}"; do [[ "$name" == *"$f"* ]] && match=1; done
      [ $match = 1 ] || continue
    fi
    ran=$((ran + 1))
    if ! timeout 300 "$nvim" --headless -u NONE -i NONE -l tests/nvim/harness.lua "$spec"; then
      failed+=("$name ($version)")
    fi
  done
  rm -rf "$scratch"
  # Example plugins' own tests, run by the command plugin authors use.
  for example in examples/*/tests; do
    name="example $(basename "$(dirname "$example")") (plugin-test)"
    if [ ${#filters[@]} -gt 0 ]; then
      match=0
      for f in "${filters[@]}"; do [[ "$name" == *"$f"* ]] && match=1; done
      [ $match = 1 ] || continue
    fi
    ran=$((ran + 1))
    if ! NVIM="$nvim" bash scripts/plugin-test.sh --no-build "$(dirname "$example")"; then
      failed+=("$name ($version)")
    fi
  done
  echo "== $version: specs took $((SECONDS - started)) s"
done

# A Neovim older than the minimum (Debian's 0.7.2, installed by bootstrap.sh
# where apt-get can) must get a clear refusal from `require`.
old=/usr/bin/nvim
if [ ${#filters[@]} -gt 0 ] && [[ " ${filters[*]} " != *install* ]]; then
  :
elif [ -x "$old" ] && "$old" --version | head -n 1 | grep -qE ' v0\.([0-9]|10)\.'; then
  echo "== require on $("$old" --version | head -n 1), older than supported"
  ran=$((ran + 1))
  said="$(HOME="$(mktemp -d)" "$old" --headless -u NONE -i NONE --cmd "set rtp^=$ROOT" \
    -c "lua local ok, err = pcall(require, 'wasm_nvim'); io.stdout:write(tostring(ok), '|', tostring(err))" -c 'qa!' 2>&1)"
  if [[ "$said" == "false|"*"wasm_nvim needs Neovim 0.11 or newer; this is Neovim 0."* ]]; then
    echo "  ok   refused: ${said%%$'\n'*}"
  else
    echo "  FAIL expected a clear refusal, got: $said"
    failed+=("minimum version ($old)")
  fi
else
  echo "== skipped: the minimum-version check on an old Neovim (no Neovim older than 0.11 at $old;"
  echo "   Debian's neovim package provides one)"
fi

if [ $ran = 0 ]; then echo "no spec matched: ${filters[*]}"; exit 1; fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED specs:\n'
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
echo "all $ran spec runs passed (${#NVIMS[@]} Neovim(s))"

# Windows: the same specs in Windows Neovim under Wine (skipped, saying so,
# where Wine cannot be had). WASM_NVIM_WINE=0 leaves it out.
if [ "${WASM_NVIM_WINE:-1}" != 0 ]; then
  if [ $build = 1 ]; then bash scripts/wine.sh "${filters[@]}"; else bash scripts/wine.sh --no-build "${filters[@]}"; fi
fi
