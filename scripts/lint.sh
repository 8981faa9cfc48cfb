#!/usr/bin/env bash
# The habits that keep the code in shape, run by `make test` (and `make lint`):
# rustfmt and clippy (warnings are errors) over the workspace and the example
# plugins, and the Lua formatter over the Lua the project ships and tests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

echo "== lint: cargo fmt --check"
"$CARGO" fmt --all --check
for manifest in examples/*/Cargo.toml; do
  "$CARGO" fmt --manifest-path "$manifest" --check
done

echo "== lint: cargo clippy -D warnings"
# --all-targets: tests and benches too (clippy.toml lets tests unwrap).
"$CARGO" clippy --locked --workspace --all-targets --quiet -- -D warnings
echo "lint: clean"
