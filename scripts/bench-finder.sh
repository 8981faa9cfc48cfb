#!/usr/bin/env bash
# The fuzzy-finding part of `make bench` (also runs alone:
# `bash scripts/bench-finder.sh [outdir]`): the finder example's wasm
# matcher vs telescope-fzf-native (FFI), vim.fn.matchfuzzy and the same
# code compiled natively, on Debian's Contents index; prints a table and
# writes <outdir>/finder.json and bench/results/finder.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
export WASM_NVIM_ROOT="$ROOT" WASM_NVIM_BUILD="$BUILD"
nvim_run() { "$NVIM_BIN" --headless -u NONE -i NONE "$@"; }

echo "[bench] fuzzy finding: data, peers, the matcher natively and with SIMD128" >&2
# Real paths: Debian's Contents index, which apt-file downloads into apt's
# lists directory. Kept in target/bench-data (ignored).
finder_data="$ROOT/target/bench-data"
paths="$finder_data/contents-amd64.txt"
fetch_contents() {
  local lists=/var/lib/apt/lists
  if ! ls "$lists"/*_main_Contents-amd64.* >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "[bench] apt-get install apt-file && apt-file update (downloads Debian's Contents index)" >&2
      { apt-get install -y apt-file && apt-file update; } >&2 || return 1
    else
      return 1
    fi
  fi
  local contents
  contents="$(ls "$lists"/*_main_Contents-amd64.* | grep -v -- '-updates_\|-security_' | head -n 1)"
  mkdir -p "$finder_data"
  # "path   section/package": keep the path (paths may contain spaces)
  /usr/lib/apt/apt-helper cat-file "$contents" | sed -E 's/[[:space:]]+[^[:space:]]+$//' >"$paths.tmp"
  mv "$paths.tmp" "$paths"
}
finder_bench=1
if [ ! -s "$paths" ] && ! fetch_contents; then
  echo "[bench] SKIPPED fuzzy finding: no Debian Contents index (run as root on Debian/Ubuntu:" >&2
  echo "        apt-get install apt-file && apt-file update)" >&2
  finder_bench=0
fi
if [ $finder_bench = 1 ]; then
  # telescope-fzf-native, built as its Makefile does, outside the repository's tracked files
  peer_src="${FZF_NATIVE_SRC:-$ROOT/../shared/peers/telescope-fzf-native}"
  peer="$ROOT/target/bench-peers/telescope-fzf-native"
  if [ -f "$peer_src/src/fzf.c" ]; then
    mkdir -p "$peer/lua" "$peer/build"
    cp "$peer_src/lua/fzf_lib.lua" "$peer/lua/"
    cc -O3 -Wall -fpic -std=gnu99 -shared "$peer_src/src/fzf.c" -o "$peer/build/libfzf.so"
  else
    echo "[bench] SKIPPED fuzzy finding: telescope-fzf-native not found at $peer_src (set FZF_NATIVE_SRC)" >&2
    finder_bench=0
  fi
fi
if [ $finder_bench = 1 ]; then
  "$CARGO" build --release --locked --manifest-path bench/Cargo.toml -p finder-native --target-dir "$GUEST_TARGET" >&2
  RUSTFLAGS="-C target-feature=+simd128" "$CARGO" build --release --locked --manifest-path examples/Cargo.toml \
    -p finder --target wasm32-unknown-unknown --target-dir "$GUEST_TARGET/simd128" >&2
  mkdir -p "$BUILD/bench/finder_simd/wasm"
  cp "$GUEST_TARGET/simd128/wasm32-unknown-unknown/release/finder.wasm" "$BUILD/bench/finder_simd/wasm/finder_simd.wasm"
  # the same module, run without deadline checks (setup: timeout_ms = 0)
  mkdir -p "$BUILD/bench/finder_free/wasm"
  cp examples/rust-finder/wasm/finder.wasm "$BUILD/bench/finder_free/wasm/finder_free.wasm"
  finder_native="$out/finder-native.json"
  {
    printf '{"100000":'
    "$GUEST_TARGET/release/finder-native" "$paths" 100000 5 'init.lua' 'libc.so' 'usr bin python' 'gtk css' 'zz'
    printf ',"all":'
    "$GUEST_TARGET/release/finder-native" "$paths" 100000000 3 'init.lua' 'libc.so' 'usr bin python' 'gtk css' 'zz'
    printf '}'
  } >"$finder_native"
  echo "[bench] fuzzy finding inside Neovim" >&2
  FINDER_PATHS="$paths" FZF_NATIVE_LUA="$peer/lua" FINDER_NATIVE_JSON="$finder_native" \
    WASM_NVIM_BENCH_OUT="$out/finder.json" nvim_run -l bench/finder.lua
  mkdir -p bench/results
  cp "$out/finder.json" bench/results/finder.json
  "$DEPS/venv/bin/python" bench/finder_report.py "$out/finder.json"
fi
