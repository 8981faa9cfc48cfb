"""The RPC route the seed avoids: pynvim driving `nvim --embed`, timing the
same API call (nvim_get_current_line) as the in-process benchmark."""
import json
import os
import statistics
import sys
import time

import pynvim

N = 2000
RUNS = 7


def main() -> None:
    nvim_bin, out_path = sys.argv[1], sys.argv[2]
    nvim = pynvim.attach("child", argv=[nvim_bin, "--embed", "--headless", "-u", "NONE", "-i", "NONE"])
    nvim.current.line = "x" * 80
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        for _ in range(N):
            line = nvim.request("nvim_get_current_line")
        times.append((time.perf_counter() - t0) * 1e3 / N)
        assert line == "x" * 80
    nvim.close()
    times.sort()
    result = {"api.rpc_pynvim": {"min": times[0], "median": statistics.median(times), "runs": RUNS, "per": N}}
    with open(out_path, "w") as f:
        json.dump(result, f)
    print(f"  api.rpc_pynvim  min {times[0]:.4f}  median {statistics.median(times):.4f} (ms per call)", file=sys.stderr)


if __name__ == "__main__":
    main()
