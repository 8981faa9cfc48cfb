#!/usr/bin/env bash
# `make dist`: the release libraries for every platform, stripped, named
# wasm_nvim-<version>-<target>.<so|dll>, with a SHA256SUMS manifest, in dist/
# (ignored). build.lua downloads these. Not part of `make test` (five cold
# builds); the Windows library is also built and tested by scripts/wine.sh.
#   scripts/dist.sh [target...]     default: all five
# Linux: cargo-zigbuild (PyPI) with the project's Zig, glibc 2.17 baseline.
# macOS: cargo-zigbuild, -undefined dynamic_lookup (the Lua C API comes from
#        Neovim at load time), MACOSX_DEPLOYMENT_TARGET=11.0.
# Windows: cargo with Debian's mingw-w64 (x86_64-pc-windows-gnu); mlua links
#        Neovim's lua51.dll by raw-dylib.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

ALL=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu aarch64-apple-darwin x86_64-apple-darwin x86_64-pc-windows-gnu)
GLIBC=2.17
MAX_BYTES=20000000 # the size target for a release library (20 MB)
ZIGBUILD_PYPI="cargo-zigbuild==0.24.1"
log() { printf '[dist] %s\n' "$*" >&2; }

version="$(sed -n "s/^return '\(.*\)'$/\1/p" lua/wasm_nvim/version.lua)"
crate_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[ "$version" = "$crate_version" ] || { echo "lua/wasm_nvim/version.lua ($version) != Cargo.toml ($crate_version)"; exit 1; }

bash scripts/bootstrap.sh
if ! "$DEPS/venv/bin/python" -m pip show -q cargo-zigbuild >/dev/null 2>&1; then
  log "installing $ZIGBUILD_PYPI into .deps/venv"
  "$DEPS/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$ZIGBUILD_PYPI" >&2
fi
export PATH="$DEPS/bin:$DEPS/venv/bin:$PATH" # zig and cargo-zigbuild

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
mkdir -p dist
for t in "${targets[@]}"; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t" >&2
  start=$SECONDS
  case "$t" in
    *-linux-gnu)
      log "$t (cargo zigbuild, glibc $GLIBC)"
      cargo zigbuild --locked --profile dist -p wasm_nvim --target "$t.$GLIBC" >&2
      out="target/$t/dist/libwasm_nvim.so" ext=so ;;
    *-apple-darwin)
      log "$t (cargo zigbuild, macOS 11.0)"
      env MACOSX_DEPLOYMENT_TARGET=11.0 \
        "CARGO_TARGET_$(echo "$t" | tr 'a-z-' 'A-Z_')_RUSTFLAGS=-C link-arg=-undefined -C link-arg=dynamic_lookup" \
        cargo zigbuild --locked --profile dist -p wasm_nvim --target "$t" >&2
      out="target/$t/dist/libwasm_nvim.dylib" ext=so ;;
    *-windows-gnu)
      command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "mingw-w64 is needed for $t (apt-get install mingw-w64)"; exit 1; }
      log "$t (cargo, mingw-w64)"
      cargo build --locked --profile dist -p wasm_nvim --target "$t" >&2
      out="target/$t/dist/wasm_nvim.dll" ext=dll ;;
    *) echo "unknown target $t (known: ${ALL[*]})"; exit 2 ;;
  esac
  name="wasm_nvim-$version-$t.$ext"
  cp "$out" "dist/$name"
  bytes=$(wc -c <"dist/$name")
  log "dist/$name: $bytes bytes in $((SECONDS - start)) s"
  [ "$bytes" -le "$MAX_BYTES" ] || log "WARNING: dist/$name is over the $MAX_BYTES-byte target"
  if [[ "$t" == *-linux-gnu ]] && command -v objdump >/dev/null; then
    # the glibc baseline is a checked property, not a hope
    newest="$(objdump -T "dist/$name" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)"
    log "dist/$name: newest glibc symbol $newest"
    [ "$(printf '%s\n' "$newest" "GLIBC_$GLIBC" | sort -V | tail -n 1)" = "GLIBC_$GLIBC" ] \
      || { echo "dist/$name needs $newest, newer than the GLIBC_$GLIBC baseline"; exit 1; }
  fi
done
(cd dist && sha256sum wasm_nvim-"$version"-*.* >SHA256SUMS)
log "dist/SHA256SUMS:"
cat dist/SHA256SUMS
