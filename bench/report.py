"""Merges the benchmark's JSON parts, prints the table with ratios and the
targets, and writes bench/results/latest.json (plus a dated copy) so runs
can be compared across commits."""
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load(out: Path) -> dict:
    data = {}
    for name in ("native", "nvim", "compile", "rpc"):
        data.update(json.loads((out / f"{name}.json").read_text()))
    startup = {}
    for line in (out / "startup.txt").read_text().split("\n"):
        if line.strip():
            mode, ms = line.split()
            startup.setdefault(mode, []).append(float(ms))
    for mode, times in startup.items():
        times.sort()
        data[f"startuptime.{mode}"] = {"min": times[0], "median": statistics.median(times), "runs": len(times)}
    data["memory.ten_plugins"] = json.loads((out / "memory.json").read_text())
    return data


def machine(nvim: str) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().split("\n"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lock = (ROOT / "Cargo.lock").read_text()
    wasmtime = re.search(r'name = "wasmtime"\nversion = "([^"]+)"', lock)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    version = subprocess.run([nvim, "--version"], capture_output=True, text=True).stdout.split("\n")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "neovim": version[0],
        "luajit": next((v for v in version if v.startswith("LuaJIT")), ""),
        "wasmtime": wasmtime.group(1) if wasmtime else "?",
        "commit": commit,
    }


def main() -> None:
    out, nvim = Path(sys.argv[1]), sys.argv[2]
    d = load(out)
    m = machine(nvim)
    targets = []

    def med(key):
        return d[key]["median"]

    def mn(key):
        return d[key]["min"]

    def ns(key):
        return med(key) * 1e6

    print()
    print(f"wasm_nvim benchmark — {m['cpu']}, {m['cores']} cores, {m['os']}")
    print(f"{m['neovim']}, {m['luajit']}, wasmtime {m['wasmtime']}, commit {m['commit']}")
    print("Each figure: median of >= 5 runs (min in brackets).")

    print("\n1. Kernels (ms)                         sum of 0..1e9        primes below 2e7")
    for impl, label in (("luajit", "LuaJIT"), ("wasm_rust.metered", "wasm Rust (deadline checks)"),
                        ("wasm_rust.unmetered", "wasm Rust (timeout_ms = 0)"), ("wasm_zig.metered", "wasm Zig (deadline checks)"),
                        ("wasm_zig.unmetered", "wasm Zig (timeout_ms = 0)"), ("native", "native Rust")):
        print(f"   {label:<32} {med('sum.' + impl):9.1f} [{mn('sum.' + impl):7.1f}]  {med('sieve.' + impl):9.1f} [{mn('sieve.' + impl):7.1f}]")
    for k in ("sum", "sieve"):
        best = min(med(f"{k}.wasm_rust.unmetered"), med(f"{k}.wasm_zig.unmetered"))
        default = min(med(f"{k}.wasm_rust.metered"), med(f"{k}.wasm_zig.metered"))
        print(f"   {k}: LuaJIT/wasm {med(f'{k}.luajit') / default:5.2f}x (with deadline checks) "
              f"{med(f'{k}.luajit') / best:5.2f}x (without);  wasm/native {default / med(f'{k}.native'):5.2f}x "
              f"(with) {best / med(f'{k}.native'):5.2f}x (without)")
    sieve_default = min(med("sieve.wasm_rust.metered"), med("sieve.wasm_zig.metered"))
    sieve_best = min(med("sieve.wasm_rust.unmetered"), med("sieve.wasm_zig.unmetered"))
    targets.append(("sieve: wasm >= 2x faster than LuaJIT", med("sieve.luajit") / sieve_default >= 2,
                    f"{med('sieve.luajit') / sieve_default:.2f}x with deadlines, {med('sieve.luajit') / sieve_best:.2f}x without"))
    targets.append(("sieve: wasm within 1.3x of native", sieve_best / med("sieve.native") <= 1.3,
                    f"{sieve_default / med('sieve.native'):.2f}x with deadlines, {sieve_best / med('sieve.native'):.2f}x without"))

    print("\n2. Call overhead (ns per call)")
    base = ns("call.mlua_noop")
    for key, label in (("call.lua_noop", "Lua -> Lua no-op"), ("call.mlua_noop", "Lua -> Rust (mlua) no-op"),
                       ("call.wasm_raw_noop", "Lua -> wasm raw no-op"), ("call.wasm_raw_add", "Lua -> wasm raw add(f64, f64)"),
                       ("call.wasm_fast_noop", "Lua -> wasm no-op, fast ABI"), ("call.wasm_seed_noop", "Lua -> wasm no-op, seed ABI"),
                       ("call.wasm_seed_echo", "Lua -> wasm echo(1), seed ABI")):
        print(f"   {label:<34} {ns(key):9.1f}   {ns(key) / base:6.2f}x mlua")
    raw = min(ns("call.wasm_raw_noop"), ns("call.wasm_raw_add"))
    targets.append(("numeric export call <= 30 ns (fast path)", raw <= 30, f"{raw:.1f} ns"))
    targets.append(("general-path call <= 2x mlua no-op", ns("call.wasm_fast_noop") <= 2 * base,
                    f"{ns('call.wasm_fast_noop') / base:.2f}x ({ns('call.wasm_fast_noop'):.0f} ns vs {base:.0f} ns)"))

    print("\n3. nvim_get_current_line (ns per call)")
    lua = ns("api.lua")
    rpc = ns("api.rpc_pynvim")
    for key, label in (("api.lua", "Lua calls it"), ("api.wasm_fast", "a plugin calls it, fast ABI"),
                       ("api.wasm_seed", "a plugin calls it, seed ABI"), ("api.rpc_pynvim", "pynvim over RPC (nvim --embed)")):
        print(f"   {label:<34} {ns(key):11.1f}   {ns(key) / lua:8.2f}x Lua")
    fast = ns("api.wasm_fast")
    targets.append(("guest nvim_* call <= 1.5x Lua's", fast <= 1.5 * lua, f"{fast / lua:.2f}x ({fast:.0f} vs {lua:.0f} ns)"))
    targets.append(("guest nvim_* call >= 200x faster than RPC", rpc / fast >= 200, f"{rpc / fast:.0f}x"))

    print("\n4. Fetch, upper-case and write back a buffer of 80-char lines (ms)")
    for tag in ("10k", "100k"):
        reset = med(f"buffer.{tag}.reset_only")
        vals = {k: med(f"buffer.{tag}.{k}") - reset for k in ("lua", "wasm_fast", "wasm_seed")}
        print(f"   {tag:>4} lines: Lua {vals['lua']:7.1f}   fast ABI {vals['wasm_fast']:7.1f}   seed ABI (JSON) "
              f"{vals['wasm_seed']:7.1f}   seed/fast {vals['wasm_seed'] / vals['wasm_fast']:5.2f}x   (reset {reset:.1f} excluded)")
        targets.append((f"{tag} lines: fast ABI >= 10x faster than seed JSON", vals["wasm_seed"] / vals["wasm_fast"] >= 10,
                        f"{vals['wasm_seed'] / vals['wasm_fast']:.2f}x"))

    print("\n   A list of 100,000 80-char strings into a plugin and back (ms), no API calls:")
    lf, ls, lj = med("list.100k.wasm_fast"), med("list.100k.wasm_seed"), med("list.100k.vim_json")
    lfn = med("list.100k.vim_fn_json")
    print(f"   fast ABI {lf:7.1f}   seed ABI (JSON) {ls:7.1f}   seed/fast {ls / lf:5.2f}x   (encode+decode alone, no wasm: "
          f"vim.json {lj:.1f}, vim.fn.json_* {lfn:.1f}; fast ABI vs vim.fn.json_* {lfn / lf:.1f}x)")
    targets.append(("100k-string list: fast ABI >= 10x faster than seed JSON", ls / lf >= 10, f"{ls / lf:.2f}x"))

    print("\n5. Startup")
    for key in sorted(k for k in d if k.startswith("startup.") and k.endswith(".compile")):
        name = key.split(".")[1]
        print(f"   {name:<12} compile {med(key):7.1f} ms   cached {med(f'startup.{name}.cached'):6.2f} ms")
    none, req, setup = med("startuptime.none"), med("startuptime.require"), med("startuptime.setup")
    eager = med("startuptime.eager")
    print(f"   nvim --startuptime, 10 plugins: without wasm_nvim {none:.1f} ms, + require {req - none:+.1f} ms, "
          f"+ setup() {setup - none:+.1f} ms (lazy, the default), + setup({{ lazy = false }}) {eager - none:+.1f} ms (warm cache)")
    targets.append(("10 plugins add < 10 ms to startup (warm cache)", setup - none < 10, f"{setup - none:.1f} ms"))

    mem = d["memory.ten_plugins"]
    print("\n6. Memory")
    per = (mem["rss_after_mb"] - mem["rss_library_mb"]) / max(mem["plugins"], 1)
    print(f"   RSS: Neovim {mem['rss_before_mb']:.1f} MiB, + library {mem['rss_library_mb'] - mem['rss_before_mb']:.1f} MiB, "
          f"+ {mem['plugins']} plugins {mem['rss_after_mb'] - mem['rss_library_mb']:.1f} MiB ({per:.2f} MiB each); "
          f"peak {mem['maxrss_mb']:.1f} MiB")
    if "vm_size_mb" in mem:
        print(f"   address space reserved: {mem['vm_size_mb'] / 1024:.1f} GiB (virtual, not resident: each plugin memory "
              f"reserves 4 GiB so wasmtime needs no bounds checks)")

    print("\n7. Targets")
    for name, ok, detail in targets:
        print(f"   [{'met ' if ok else 'MISS'}] {name}: {detail}")

    results = {"machine": m, "figures": d, "targets": [{"target": n, "met": ok, "detail": det} for n, ok, det in targets]}
    res_dir = ROOT / "bench" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    (res_dir / "latest.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(f"\nwritten: bench/results/latest.json")


if __name__ == "__main__":
    main()
