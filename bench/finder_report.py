"""Prints the fuzzy-finding benchmark (finder.json) as markdown tables."""
import json
import sys

d = json.load(open(sys.argv[1]))
queries = d["queries"]
for row in d["sizes"]:
    n = row["items"]
    print(f"\n**{n:,} paths** ({row['bytes'] / 2**20:.0f} MiB), median ms per query (best 10 of all):\n")
    cols = ["wasm", "wasm_simd", "wasm_free", "fzf_native", "matchfuzzy", "native"] + sorted(k for k in row["q"][queries[0]] if k.startswith("workers"))
    names = {"wasm": "wasm (editor thread)", "wasm_simd": "wasm +simd128", "wasm_free": "wasm, no deadline checks", "fzf_native": "telescope-fzf-native (FFI)",
             "matchfuzzy": "vim.fn.matchfuzzy", "native": "same Rust, native"}
    head = [names.get(c, c.replace("workers", "") + " worker(s)") for c in cols]
    print("| query | matched | " + " | ".join(head) + " |")
    print("| --- | --- |" + " --- |" * len(cols))
    for q in queries:
        r = row["q"][q]
        print(f"| `{q}` | {r['matched']:,} | " + " | ".join(f"{r[c]:.0f}" for c in cols) + " |")
    tot = {c: sum(row["q"][q][c] for q in queries) for c in cols}
    w = tot["wasm"]
    print("| **all five** | | " + " | ".join(f"**{tot[c]:.0f}** ({tot[c] / w:.2f}x)" for c in cols) + " |")
for k in sorted(k for k in d if k.startswith("stall")):
    s = d[k]
    print(f"\nlongest editor stall with {k[5:]} worker(s): {s['longest_ms']:.1f} ms during a {s['query_ms']:.0f} ms query")
m = d.get("memory")
if m:
    print(f"\nmemory, {m['items']:,} paths in one worker: corpus {m['corpus_bytes'] / 2**20:.0f} MiB "
          f"(text {m['text_bytes'] / 2**20:.0f} MiB), the instance's linear memory {m['wasm_memory'] / 2**20:.0f} MiB")
print("\ntop 5, wasm (nucleo) | telescope-fzf-native:\n")
for q, v in d["quality"].items():
    print(f"`{q}` (matched {v['matched']:,} | {v['matched_fzf']:,})")
    for i in range(5):
        a = v["wasm"][i] if i < len(v["wasm"]) else ["", ""]
        b = v["fzf"][i] if i < len(v["fzf"]) else ["", ""]
        print(f"  {a[0]:>4} {a[1]:<45} | {b[0]:>4} {b[1]}")
