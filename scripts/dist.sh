#!/usr/bin/env bash
# `make dist`: the release libraries for every platform, stripped, named
# wasm_nvim-<version>-<target>.<so|dll>, with a SHA256SUMS manifest, in dist/
# (ignored). build.lua downloads these. Not part of `make test` (five cold
# builds); the Windows library is also built and tested by scripts/wine.sh.
# Each library is checked by scripts/dist_check.sh (exports, size, minimum
# glibc/macOS); a failed check stops the run.
#   scripts/dist.sh [target...]     default: all five
# Built as `cargo rustc --crate-type cdylib`: the crate is also an rlib (for
# its tests), and with an rlib among its crate types LTO keeps every public
# Rust symbol alive and global (18,000 exported on macOS, where zig ignores
# export lists; 22.6 MB instead of 12.7 MB for x86_64 macOS).
# Linux: cargo-zigbuild (PyPI) with the project's Zig, glibc 2.17 baseline,
#        linked against libgcc_s.so.1 for unwinding (see libgcc_s_stub).
# macOS: cargo-zigbuild, -undefined dynamic_lookup (the Lua C API comes from
#        Neovim at load time), MACOSX_DEPLOYMENT_TARGET=11.0, install name
#        @rpath/wasm_nvim.so (not the build path).
# Windows: cargo with Debian's mingw-w64 (x86_64-pc-windows-gnu); mlua links
#        Neovim's lua51.dll by raw-dylib.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

ALL=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu aarch64-apple-darwin x86_64-apple-darwin x86_64-pc-windows-gnu)
GLIBC=2.17
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

# cargo-zigbuild links zig's own libunwind into a Linux library, but LuaJIT
# inside Neovim throws its errors with libgcc's unwinder: a Lua error raised
# from a Rust function (a bad argument to `reload`, a refused `require`)
# reached Rust's personality routine, which called the other unwinder, and
# Neovim crashed. Linking against libgcc_s.so.1 (every glibc system has it,
# Neovim itself loads it) makes the two one. This stub has its soname and
# symbol versions to link against; the real one is used at run time.
libgcc_s_stub() {
  local target="$1" dir="target/libgcc_s-stub/$1"
  mkdir -p "$dir"
  local names=(_Unwind_DeleteException _Unwind_GetDataRelBase _Unwind_GetIP _Unwind_GetLanguageSpecificData
    _Unwind_GetRegionStart _Unwind_GetTextRelBase _Unwind_RaiseException _Unwind_Resume _Unwind_SetGR
    _Unwind_SetIP __deregister_frame __register_frame _Unwind_Backtrace _Unwind_FindEnclosingFunction
    _Unwind_GetCFA _Unwind_GetIPInfo)
  printf 'void %s(void) {}\n' "${names[@]}" >"$dir/stub.c"
  cat >"$dir/stub.map" <<'MAP'
GCC_3.0 { global: _Unwind_DeleteException; _Unwind_GetDataRelBase; _Unwind_GetIP;
  _Unwind_GetLanguageSpecificData; _Unwind_GetRegionStart; _Unwind_GetTextRelBase;
  _Unwind_RaiseException; _Unwind_Resume; _Unwind_SetGR; _Unwind_SetIP;
  __deregister_frame; __register_frame; local: *; };
GCC_3.3 { _Unwind_Backtrace; _Unwind_FindEnclosingFunction; _Unwind_GetCFA; } GCC_3.0;
GCC_4.2.0 { _Unwind_GetIPInfo; } GCC_3.3;
MAP
  zig cc -target "${target%%-unknown-linux-gnu}-linux-gnu.$GLIBC" -shared -nostdlib -o "$dir/libgcc_s.so.1" \
    -Wl,-soname,libgcc_s.so.1 -Wl,--version-script="$dir/stub.map" "$dir/stub.c" >&2
  echo "$ROOT/$dir/libgcc_s.so.1"
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
cargo_args=(--locked --profile dist -p wasm_nvim --lib --crate-type cdylib)
mkdir -p dist
for t in "${targets[@]}"; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t" >&2
  start=$SECONDS
  case "$t" in
    *-linux-gnu)
      log "$t (cargo zigbuild, glibc $GLIBC)"
      cargo-zigbuild rustc "${cargo_args[@]}" --target "$t.$GLIBC" -- -C link-arg="$(libgcc_s_stub "$t")" >&2
      out="target/$t/dist/libwasm_nvim.so" ext=so ;;
    *-apple-darwin)
      log "$t (cargo zigbuild, macOS 11.0)"
      env MACOSX_DEPLOYMENT_TARGET=11.0 \
        "CARGO_TARGET_$(echo "$t" | tr 'a-z-' 'A-Z_')_RUSTFLAGS=-C link-arg=-undefined -C link-arg=dynamic_lookup" \
        cargo-zigbuild rustc "${cargo_args[@]}" --target "$t" -- -C link-arg=-Wl,-install_name,@rpath/wasm_nvim.so >&2
      out="target/$t/dist/libwasm_nvim.dylib" ext=so ;;
    *-windows-gnu)
      command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "mingw-w64 is needed for $t (apt-get install mingw-w64)"; exit 1; }
      log "$t (cargo, mingw-w64)"
      cargo rustc "${cargo_args[@]}" --target "$t" >&2
      out="target/$t/dist/wasm_nvim.dll" ext=dll ;;
    *) echo "unknown target $t (known: ${ALL[*]})"; exit 2 ;;
  esac
  name="wasm_nvim-$version-$t.$ext"
  cp "$out" "dist/$name"
  log "dist/$name: built in $((SECONDS - start)) s"
  bash scripts/dist_check.sh "$t" "dist/$name"
done
(cd dist && sha256sum wasm_nvim-"$version"-*.* >SHA256SUMS)
log "dist/SHA256SUMS:"
cat dist/SHA256SUMS
