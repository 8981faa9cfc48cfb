# wasm_nvim: the two commands are `make demo` and `make test`.
# Everything they need (Rust wasm targets, Neovim, Zig) is installed into
# .deps/ by scripts/bootstrap.sh. NVIM=/path/to/nvim picks another Neovim.

.PHONY: all demo test build deps unit spec clean bench new-plugin gen dist wine lint fmt

all: build

## Build everything, then run the example plugins in headless Neovim.
demo:
	bash scripts/demo.sh

## Every test: Rust unit tests and the specs in a real headless Neovim.
test:
	bash scripts/test.sh

## The host library (lua/wasm_nvim.so) and every plugin.
build: deps
	bash scripts/build.sh

deps:
	bash scripts/bootstrap.sh

## rustfmt, clippy (warnings are errors) and the Lua formatter; part of `make test`.
lint:
	bash scripts/lint.sh

## Formats the Rust (rustfmt) and the Lua (StyLua, from .deps/) as lint wants.
fmt: deps
	cargo fmt --all
	for m in examples/*/Cargo.toml; do cargo fmt --manifest-path "$$m"; done
	# twice: StyLua 2.6.0 sometimes settles a long call chain only on a second pass
	git ls-files -z --cached --others --exclude-standard -- '*.lua' | xargs -0 .deps/bin/stylua
	git ls-files -z --cached --others --exclude-standard -- '*.lua' | xargs -0 .deps/bin/stylua

## Only the Neovim specs, without rebuilding (SPEC=substring to filter).
spec:
	bash scripts/test.sh --no-build $(SPEC)

## Release libraries for every platform + SHA256SUMS in dist/ (not in `make test`).
dist:
	bash scripts/dist.sh

## Only the Windows check: cross-build, then the portable specs under Wine.
wine:
	bash scripts/wine.sh

clean:
	rm -rf target tests/build lua/wasm_nvim.so lua/wasm_nvim.dll dist examples/*/wasm

## Benchmarks: a table of figures and ratios, and bench/results/latest.json.
bench:
	bash scripts/bench.sh

## A new Rust plugin from the template: make new-plugin NAME=foo [DIR=path]
new-plugin:
	bash scripts/new-plugin.sh $(NAME) $(DIR)

## Regenerate the Rust, Zig and C SDKs' API bindings and the host's API
## levels from the pinned (newest) Neovim's metadata, and the Zig and C
## SDKs' ABI constants from the wasm_nvim_abi crate (crates/abi).
gen: deps
	.deps/bin/nvim --headless -u NONE -l scripts/gen_rust_api.lua crates/sdk/src/api_gen.rs \
	  crates/wasm_nvim/src/api_levels_gen.rs
	.deps/bin/nvim --headless -u NONE -l scripts/gen_guest_api.lua guest/zig/wasm_nvim_api.zig \
	  guest/c/wasm_nvim_api.h guest/zig/wasm_nvim_abi.zig guest/c/wasm_nvim_abi.h
