# Sourced by the other scripts: where things are, and which Neovim/Zig to use.
# NVIM=/path/to/nvim overrides the pinned Neovim. Neovim itself exports $NVIM
# (its server address) to child processes, so only an executable file counts.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.deps"
BUILD="$ROOT/tests/build"
if [ -n "${NVIM:-}" ] && [ -f "$NVIM" ] && [ -x "$NVIM" ]; then
  NVIM_BIN="$NVIM"
else
  NVIM_BIN="$DEPS/bin/nvim"
fi
ZIG="${ZIG:-$DEPS/bin/zig}"
CARGO="${CARGO:-cargo}"
# Guest (wasm) crates build here, apart from the host's target/release.
GUEST_TARGET="$ROOT/target/guests"
export ROOT DEPS BUILD NVIM_BIN ZIG CARGO GUEST_TARGET
