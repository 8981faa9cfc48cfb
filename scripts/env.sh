# Sourced by the other scripts: where things are, and which Neovim/Zig to use.
# The specs run on every Neovim in NVIMS: the stable release and the pinned
# nightly. NVIM=/path/to/nvim runs them on that one only. Neovim itself
# exports $NVIM (its server address) to child processes, so only an
# executable file counts. NVIM_BIN is the one the demo, benchmarks and
# single-Neovim tools use; PINNED_NVIM the newest, whose API the SDK
# bindings and API fixtures are generated from.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.deps"
BUILD="$ROOT/tests/build"
PINNED_NVIM="$DEPS/bin/nvim"
if [ -n "${NVIM:-}" ] && [ -f "$NVIM" ] && [ -x "$NVIM" ]; then
  NVIM_BIN="$NVIM"
  NVIMS=("$NVIM")
else
  NVIM_BIN="$PINNED_NVIM"
  NVIMS=("$DEPS/bin/nvim-0.11" "$PINNED_NVIM")
fi
# Zig: $ZIG, else bootstrap's copy, else the one on PATH (an installed copy
# of the plugins has no .deps/).
if [ -z "${ZIG:-}" ]; then
  if [ -x "$DEPS/bin/zig" ] || ! command -v zig >/dev/null 2>&1; then
    ZIG="$DEPS/bin/zig"
  else
    ZIG="$(command -v zig)"
  fi
fi
CARGO="${CARGO:-cargo}"
# Guest (wasm) crates build here, apart from the host's target/release.
GUEST_TARGET="$ROOT/target/guests"
export ROOT DEPS BUILD NVIM_BIN PINNED_NVIM ZIG CARGO GUEST_TARGET
