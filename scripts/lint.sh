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

echo "== lint: stylua --check"
# Every Lua file git knows of (tracked, or new and not ignored): .deps/ and
# target/ hold other projects' Lua. Settings: stylua.toml.
STYLUA="${STYLUA:-$DEPS/bin/stylua}"
if [ ! -x "$STYLUA" ]; then
  echo "lint: StyLua is missing at $STYLUA: run scripts/bootstrap.sh (make deps), which installs"
  echo "      the pinned version into .deps/, or set STYLUA=/path/to/stylua"
  exit 1
fi
lua_files=()
while IFS= read -r -d '' file; do
  [ -f "$file" ] && lua_files+=("$file")
done < <(git ls-files -z --cached --others --exclude-standard -- '*.lua')
if ! "$STYLUA" --check "${lua_files[@]}"; then
  echo "lint: the Lua files above are not formatted as stylua.toml says: \`make fmt\` formats them"
  exit 1
fi
echo "lint: clean"
