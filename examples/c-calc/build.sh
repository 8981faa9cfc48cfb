#!/usr/bin/env bash
# Builds the calculator plugin to examples/c-calc/wasm/calc.wasm (any cwd).
#   -mexec-model=reactor  a library, not a program: no main(); wasi-libc is
#                         set up by the `_initialize` export, which the host
#                         calls once after instantiation
#   -s                    strip debug info (about 20 KB instead of ~900 KB)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/env.sh"
mkdir -p "$here/wasm"
# zig cc gives wasm a 16 MiB stack by default (257 pages of memory up
# front); 1 MiB is plenty here.
"$ZIG" cc --target=wasm32-wasi -O2 -mexec-model=reactor -s -std=c11 -Wall -Wextra -Wl,-z,stack-size=1048576 \
  -o "$here/wasm/calc.wasm" "$here/src/calc.c"
echo "built $here/wasm/calc.wasm"
