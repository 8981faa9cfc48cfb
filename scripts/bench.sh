#!/usr/bin/env bash
# `make bench`: builds everything in release mode, measures, prints a table
# of figures and ratios, and writes bench/results/latest.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

bash scripts/bootstrap.sh
bash scripts/build.sh host examples test-plugins

echo "[bench] benchmark plugins (Rust SDK, seed ABI, Zig) and the native kernels" >&2
"$CARGO" build --release --locked --manifest-path bench/Cargo.toml --target wasm32-unknown-unknown \
  --target-dir "$GUEST_TARGET" >&2
"$CARGO" build --release --locked --manifest-path bench/Cargo.toml -p kernels --bin kernels-native \
  --target-dir "$GUEST_TARGET" >&2
for p in kernels seedbench; do
  mkdir -p "$BUILD/bench/$p/wasm"
  cp "$GUEST_TARGET/wasm32-unknown-unknown/release/$p.wasm" "$BUILD/bench/$p/wasm/$p.wasm"
done
mkdir -p "$BUILD/bench/zkernels/wasm"
"$ZIG" build-exe bench/zig/kernels.zig -target wasm32-freestanding -fno-entry -rdynamic -O ReleaseFast \
  --cache-dir "$ROOT/target/zig-cache" --global-cache-dir "$ROOT/target/zig-cache/global" \
  -femit-bin="$BUILD/bench/zkernels/wasm/zkernels.wasm" >&2

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
scratch="$out/xdg"
export XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" \
  XDG_STATE_HOME="$scratch/state" XDG_CACHE_HOME="$scratch/cache"
export WASM_NVIM_ROOT="$ROOT" WASM_NVIM_TEST_BUILD="$BUILD"
nvim_run() { "$NVIM_BIN" --headless -u NONE -i NONE "$@"; }

echo "[bench] native kernels" >&2
native="$out/native.json"
python_bin="$DEPS/venv/bin/python"
"$python_bin" - "$GUEST_TARGET/release/kernels-native" "$native" <<'PY'
import json, statistics, subprocess, sys
exe, path = sys.argv[1], sys.argv[2]
res = {}
for kernel, n, want in [("sum", 1_000_000_000, 499999999500000000), ("sieve", 20_000_000, 1270607)]:
    ms = []
    for _ in range(5):
        r = json.loads(subprocess.run([exe, kernel, str(n)], capture_output=True, text=True, check=True).stdout)
        assert r["result"] == want, r
        ms.append(r["ms"])
    ms.sort()
    res[f"{kernel}.native"] = {"min": ms[0], "median": statistics.median(ms), "runs": 5}
    print(f"  {kernel}.native  min {ms[0]:.1f}  median {statistics.median(ms):.1f} ms", file=sys.stderr)
json.dump(res, open(path, "w"))
PY

bash scripts/bench-finder.sh "$out"

echo "[bench] inside Neovim" >&2
WASM_NVIM_BENCH_OUT="$out/nvim.json" nvim_run -l bench/run.lua
WASM_NVIM_BENCH_OUT="$out/compile.json" nvim_run -l bench/compile.lua

echo "[bench] RPC: pynvim and nvim --embed" >&2
"$python_bin" bench/rpc.py "$NVIM_BIN" "$out/rpc.json"

echo "[bench] startup with 10 plugins (nvim --startuptime)" >&2
plugins="$out/plugins"
i=0
for wasm in examples/*/wasm/*.wasm "$BUILD"/{conformance,fastabi,hello}/wasm/*.wasm \
  "$BUILD"/bench/{kernels,seedbench,zkernels}/wasm/*.wasm; do
  i=$((i + 1))
  [ $i -le 10 ] || break
  mkdir -p "$plugins/p$i/wasm"
  cp "$wasm" "$plugins/p$i/wasm/"
done
export WASM_NVIM_BENCH_PLUGINS="$plugins"
startup="$out/startup.txt"
: >"$startup"
for mode in none require setup eager; do
  for run in 1 2 3 4 5 6 7 8; do
    log="$out/st-$mode-$run.log"
    WASM_NVIM_BENCH_MODE=$mode "$NVIM_BIN" --headless -i NONE --startuptime "$log" -u bench/startup.lua +qa
    # the first run of a mode warms caches (files, compiled modules)
    [ $run -gt 1 ] && echo "$mode $(grep 'NVIM STARTED' "$log" | awk '{print $1}')" >>"$startup"
  done
done
WASM_NVIM_BENCH_MODE=call WASM_NVIM_BENCH_OUT="$out/memory.json" \
  "$NVIM_BIN" --headless -i NONE -u bench/startup.lua +qa

"$python_bin" bench/report.py "$out" "$NVIM_BIN"
