#!/usr/bin/env bash
# Builds the host library and every plugin the demo and tests use.
#   scripts/build.sh [host] [examples] [test-plugins]   (default: all)
# host:         target/release/libwasm_nvim.so -> lua/wasm_nvim.so
# examples:     examples/*/build.sh -> examples/*/wasm/*.wasm
# test-plugins: tests/plugins (Rust) and WAT fixtures -> tests/build/<dir>/wasm/
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

log() { printf '[build] %s\n' "$*" >&2; }

build_host() {
  log "host library (cargo build --release)"
  "$CARGO" build --release --locked -p wasm_nvim >&2
  # Install by rename: a running Neovim may have the old file mapped.
  mkdir -p lua
  cp target/release/libwasm_nvim.so lua/.wasm_nvim.so.tmp
  mv -f lua/.wasm_nvim.so.tmp lua/wasm_nvim.so
  "$NVIM_BIN" --headless -u NONE -i NONE -c 'helptags doc' -c 'qa!' >&2
}

build_examples() {
  for script in examples/*/build.sh; do
    log "example ${script%/build.sh}"
    bash "$script" >&2
  done
}

build_test_plugins() {
  log "test plugins (Rust, wasm32-wasip1) and WAT fixtures"
  "$CARGO" build --release --locked --manifest-path tests/plugins/Cargo.toml \
    --target wasm32-wasip1 --target-dir "$GUEST_TARGET" >&2
  for plugin in conformance hello fastabi reverse_seed workload; do
    mkdir -p "$BUILD/$plugin/wasm"
    cp "$GUEST_TARGET/wasm32-wasip1/release/$plugin.wasm" "$BUILD/$plugin/wasm/$plugin.wasm"
  done
  # The Zig and C SDKs' probes of the running Neovim (versions_spec).
  mkdir -p "$BUILD/probe_zig/wasm" "$BUILD/probe_c/wasm"
  "$ZIG" build-exe -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseSafe -fstrip \
    --cache-dir "$GUEST_TARGET/zig-cache" --global-cache-dir "$GUEST_TARGET/zig-cache/global" \
    -femit-bin="$BUILD/probe_zig/wasm/probe_zig.wasm" \
    --dep wasm_nvim -Mroot=tests/plugins/probe_zig/probe_zig.zig -Mwasm_nvim=guest/zig/wasm_nvim.zig >&2
  "$ZIG" cc --target=wasm32-wasi -O2 -mexec-model=reactor -s -std=c11 -Wall -Wextra \
    -Wl,-z,stack-size=1048576 -I guest/c -o "$BUILD/probe_c/wasm/probe_c.wasm" tests/plugins/probe_c/probe_c.c >&2
  # A second, independent copy: plugin B in the cross-plugin specs.
  mkdir -p "$BUILD/conformance2/wasm"
  cp "$BUILD/conformance/wasm/conformance.wasm" "$BUILD/conformance2/wasm/conformance2.wasm"
  # The newest (pinned) Neovim's API, for the fixture that imports all of
  # it: on an older Neovim it must load too.
  "$PINNED_NVIM" --headless -u NONE -i NONE \
    -c 'lua io.stdout:write(vim.json.encode(vim.fn.api_info()))' -c 'qa!' >"$BUILD/api_info.json"
  "$CARGO" run --release --locked -q -p fixtures -- "$BUILD" "$BUILD/api_info.json" >&2
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(host examples test-plugins)
for t in "${targets[@]}"; do
  case "$t" in
    host) build_host ;;
    examples) build_examples ;;
    test-plugins) build_test_plugins ;;
    *) echo "unknown build target: $t" >&2; exit 2 ;;
  esac
done
