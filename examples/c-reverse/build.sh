#!/usr/bin/env bash
# Builds the C "reverse" plugin to examples/c-reverse/wasm/reverse_c.wasm
# (any cwd), with the single-header SDK in guest/c/.
#   -mexec-model=reactor  a library, not a program: no main(); wasi-libc is
#                         set up by the `_initialize` export, which the host
#                         calls once after instantiation
#   -s                    strip debug info
#   -z stack-size         a 1 MiB stack, as the Rust and Zig builds have
#                         (Zig's default, 16 MiB, is all allocated up front)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/env.sh"
mkdir -p "$here/wasm"
"$ZIG" cc --target=wasm32-wasi -O2 -mexec-model=reactor -s -std=c11 -Wall -Wextra \
  -Wl,-z,stack-size=1048576 -I "$ROOT/guest/c" -o "$here/wasm/reverse_c.wasm" "$here/src/reverse.c"
echo "built $here/wasm/reverse_c.wasm"
