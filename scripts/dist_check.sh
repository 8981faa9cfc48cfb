#!/usr/bin/env bash
# Checks one release library from `make dist` (scripts/dist.sh runs it after
# each build; run it alone on any built file). Fails loudly unless:
#   - the file is the named target's format and CPU;
#   - it is at most MAX_BYTES (20 MB);
#   - it exports the symbols Lua needs (luaopen_wasm_nvim; the LuaJIT FFI
#     entry points wasm_nvim_ffi_*) and nothing else, except on macOS a fixed
#     list of toolchain symbols (below);
#   - Linux: nothing newer than GLIBC_2.17 is needed;
#   - macOS: minimum macOS 11.0, every Lua C API symbol is left undefined for
#     dyld to find in Neovim (-undefined dynamic_lookup: flat namespace), and
#     nothing else is (a typo'd or missing symbol would otherwise only fail
#     on a user's Mac); install name @rpath/wasm_nvim.so (no build path);
#   - Windows: the Lua C API comes from lua51.dll (Neovim's LuaJIT).
# Uses LLVM's binary tools (Debian package llvm; installed with apt-get when
# missing and running as root), which read ELF, Mach-O and PE alike.
#   scripts/dist_check.sh <target> <file>
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

MAX_BYTES=20000000
GLIBC=2.17
MACOS_MIN=11.0
EXPORTS=(luaopen_wasm_nvim wasm_nvim_ffi_call wasm_nvim_ffi_error wasm_nvim_ffi_free)
# zig's Mach-O linker ignores rustc's -exported_symbols_list (cargo-zigbuild
# drops it), so symbols that rustc emits with default visibility stay
# exported even after LTO internalized the rest. These are the ones known to
# be harmless (runtime internals of std, psm and wasmtime, and the linker's
# own header symbols; no Lua or Neovim name). Anything else fails the check.
MACHO_TOOLCHAIN_EXPORTS='^(_rust_psm_(on_stack|replace_stack|stack_direction|stack_pointer)|_rust_eh_personality|__mh_dylib_header|___dso_handle|__RNvNtCs[0-9A-Za-z]+_3std9panicking11EMPTY_PANIC|__ZN8wasmtime7runtime2vm8libcalls3raw1_9I_AM_USED17h[0-9a-f]{16}E|__ZN23wasmtime_internal_fiber11stackswitch[0-9]+[0-9a-z_]+wasmtime_fiber_(start|switch_)17h[0-9a-f]{16}E)$'
MACHO_TOOLCHAIN_MAX=80 # about 60 today; a jump means the export list broke

[ $# -eq 2 ] || { echo "usage: $0 <target> <file>" >&2; exit 2; }
target="$1" file="$2"
name="$(basename "$file")"
log() { printf '[dist-check] %s: %s\n' "$name" "$*" >&2; }
fail() { printf '[dist-check] %s: FAILED: %s\n' "$name" "$*" >&2; exit 1; }

# llvm-nm, llvm-objdump, llvm-readobj: unversioned, else the newest llvm-*-NN.
llvm_tool() {
  local t
  t="$(command -v "llvm-$1" || compgen -c "llvm-$1-" | sort -V | tail -n 1)"
  [ -n "$t" ] && command -v "$t"
}
if ! llvm_tool objdump >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    log "installing Debian's llvm package (llvm-nm, llvm-objdump, llvm-readobj) with apt-get"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends llvm \
      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends llvm; }; } >&2
  fi
  llvm_tool objdump >/dev/null || fail "LLVM's binary tools are needed (apt-get install llvm)"
fi
NM="$(llvm_tool nm)" OBJDUMP="$(llvm_tool objdump)" READOBJ="$(llvm_tool readobj)"

[ -f "$file" ] || fail "no such file"

case "$target" in
  x86_64-unknown-linux-gnu) want="elf64-x86-64 x86_64" ;;
  aarch64-unknown-linux-gnu) want="elf64-littleaarch64 aarch64" ;;
  x86_64-apple-darwin) want="Mach-O 64-bit x86-64 x86_64" ;;
  aarch64-apple-darwin) want="Mach-O arm64 aarch64" ;;
  x86_64-pc-windows-gnu) want="COFF-x86-64 x86_64" ;;
  *) fail "unknown target $target" ;;
esac
headers="$("$READOBJ" --file-headers "$file")"
got="$(sed -n 's/^Format: //p' <<<"$headers") $(sed -n 's/^Arch: //p' <<<"$headers")"
[ "$got" = "$want" ] || fail "is '$got', expected '$want' for $target"

bytes=$(wc -c <"$file")
[ "$bytes" -le "$MAX_BYTES" ] || fail "$bytes bytes, over the $MAX_BYTES-byte limit"
log "$got, $bytes bytes (limit $MAX_BYTES)"

# The exported names, one a line (Mach-O's with their leading underscore).
case "$target" in
  *-linux-gnu) exported="$("$NM" -D --defined-only --format=just-symbols "$file")" ;;
  *-apple-darwin) exported="$("$OBJDUMP" --macho --exports-trie "$file" | awk '$1 ~ /^0x/ {print $2}')" ;;
  *-windows-gnu) exported="$("$READOBJ" --coff-exports "$file" | sed -n 's/^ *Name: //p')" ;;
esac
exported="$(sort -u <<<"$exported")"
prefix=""
[[ "$target" == *-apple-darwin ]] && prefix="_" # Mach-O C names start with _
allowed="$(printf "$prefix%s\n" "${EXPORTS[@]}")"
while read -r sym; do
  grep -qx -- "$sym" <<<"$exported" || fail "does not export $sym"
done <<<"$allowed"
extra="$(grep -vx -F -f <(printf '%s\n' "$allowed") <<<"$exported" || true)"
if [[ "$target" == *-apple-darwin ]]; then
  unknown="$(grep -Ev "$MACHO_TOOLCHAIN_EXPORTS" <<<"$extra" || true)"
  [ -z "$unknown" ] || fail "exports symbols it must not: $(head -n 5 <<<"$unknown" | tr '\n' ' ')($(wc -l <<<"$unknown") in all)"
  n=$(grep -c . <<<"$extra" || true)
  [ "$n" -le "$MACHO_TOOLCHAIN_MAX" ] || fail "exports $n toolchain symbols, more than $MACHO_TOOLCHAIN_MAX"
  log "exports ${EXPORTS[*]} and $n toolchain symbols (std, psm, wasmtime runtime internals; zig ignores export lists)"
else
  [ -z "$extra" ] || fail "exports symbols it must not: $(head -n 5 <<<"$extra" | tr '\n' ' ')"
  log "exports exactly ${EXPORTS[*]}"
fi

case "$target" in
  *-linux-gnu)
    newest="$("$OBJDUMP" -T "$file" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)"
    [ "$(printf '%s\n' "$newest" "GLIBC_$GLIBC" | sort -V | tail -n 1)" = "GLIBC_$GLIBC" ] \
      || fail "needs $newest, newer than the GLIBC_$GLIBC baseline"
    log "newest glibc symbol $newest (baseline GLIBC_$GLIBC)"
    # One unwinder with Neovim's (see dist.sh, libgcc_s_stub): the _Unwind_*
    # functions come from libgcc_s.so.1, none is linked in.
    "$OBJDUMP" -p "$file" | grep -q "NEEDED *libgcc_s.so.1" || fail "does not link libgcc_s.so.1 (zig's libunwind instead?)"
    if "$NM" --defined-only --format=just-symbols "$file" 2>/dev/null | grep -q '^_Unwind_RaiseException$'; then
      fail "has its own unwinder (_Unwind_RaiseException defined): a Lua error crossing Rust would crash Neovim"
    fi
    log "unwinds with libgcc_s.so.1, as LuaJIT in Neovim does"
    # And on this machine, the proof: a Lua error raised from a Rust function
    # (a bad argument) must come back as an error, not crash Neovim.
    nvim="$ROOT/.deps/bin/nvim-0.11"
    if [ "$target" = "$(uname -m)-unknown-linux-gnu" ] && [ -x "$nvim" ]; then
      rtp="$(mktemp -d)"
      mkdir -p "$rtp/lua" && cp "$file" "$rtp/lua/wasm_nvim.so"
      said="$(HOME="$rtp" "$nvim" --headless -u NONE -i NONE --cmd "set rtp^=$rtp" \
        -c "lua local ok = pcall(require('wasm_nvim').reload, {}); io.stdout:write('survived ', tostring(ok))" \
        -c 'qa!' 2>&1)" || true
      rm -rf "$rtp"
      [ "$said" = "survived false" ] || fail "a Lua error raised from Rust: expected 'survived false', got: $said"
      log "a Lua error raised from Rust comes back as an error in $("$nvim" --version | head -n 1)"
    fi
    ;;
  *-apple-darwin)
    private="$("$OBJDUMP" --macho --private-headers "$file")"
    platform="$(awk '/cmd LC_BUILD_VERSION/ {b = 1} b && $1 == "platform" {print $2; exit}' <<<"$private")"
    minos="$(awk '/cmd LC_BUILD_VERSION/ {b = 1} b && $1 == "minos" {print $2; exit}' <<<"$private")"
    [ "$platform" = macos ] && [ "$minos" = "$MACOS_MIN" ] || fail "built for $platform $minos, expected macos $MACOS_MIN"
    install_name="$(awk '/cmd LC_ID_DYLIB/ {b = 1} b && $1 == "name" {print $2; exit}' <<<"$private")"
    [ "$install_name" = "@rpath/wasm_nvim.so" ] || fail "install name $install_name, expected @rpath/wasm_nvim.so"
    # bind tables: "... <dylib> <symbol>"; flat-namespace = found at load time
    binds="$("$OBJDUMP" --macho --bind --lazy-bind --weak-bind "$file" | awk 'NF >= 5 && $1 ~ /^__/ {print $(NF - 1), $NF}' | sort -u)"
    lua_flat=$(grep -cE '^flat-namespace _(lua|luaL|luaJIT)_' <<<"$binds" || true)
    [ "$lua_flat" -gt 0 ] || fail "no Lua C API symbol left for dyld to look up (-undefined dynamic_lookup missing?)"
    other="$(grep -E '_(lua|luaL|luaJIT)_' <<<"$binds" | grep -v '^flat-namespace ' || true)"
    [ -z "$other" ] || fail "binds Lua symbols to a library: $(head -n 3 <<<"$other" | tr '\n' ' ')"
    strays="$(grep '^flat-namespace ' <<<"$binds" | grep -vE ' _(lua|luaL|luaJIT)_' || true)"
    [ -z "$strays" ] || fail "leaves non-Lua symbols undefined (would fail on a Mac): $(head -n 5 <<<"$strays" | tr '\n' ' ')"
    log "macOS $minos minimum, install name $install_name, $lua_flat Lua C API symbols looked up in Neovim at load time, the rest bound to $(grep -v '^flat-namespace ' <<<"$binds" | awk '{print $1}' | sort -u | tr '\n' ' ')"
    ;;
  *-windows-gnu)
    dlls="$("$READOBJ" --coff-imports "$file" | sed -n 's/^ *Name: \(.*\.dll\)$/\1/Ip' | sort -uf)"
    grep -qix 'lua51.dll' <<<"$dlls" || fail "does not import lua51.dll (Neovim's LuaJIT)"
    log "imports from $(tr '\n' ' ' <<<"$dlls")"
    ;;
esac
