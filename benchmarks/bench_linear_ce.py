"""Benchmark: cross-entropy of a linear layer, chunked vs materialised logits.

    .venv/bin/python benchmarks/bench_linear_ce.py            # N=2048, d=256, V=65536 (~1 min)
    .venv/bin/python benchmarks/bench_linear_ce.py --sweep    # and V from 4096 to 65536
    .venv/bin/python benchmarks/bench_linear_ce.py --smoke    # small sizes, a few seconds
    .venv/bin/python benchmarks/bench_linear_ce.py --threads 1

Both paths compute the loss and the gradients (dx, dW, db) of ``cross_entropy(x @ W + b, y)``
in float32, on the same arrays, one after the other in one process:

* materialised: ``Z = x @ W + b``, ``loss, G = xent.fused.cross_entropy_and_grad(Z, y)``,
  ``dx = G @ W.T``, ``dW = x.T @ G``, ``db = G.sum(0)``: the (N, V) logits and their gradient
  exist in full;
* chunked: ``xent.linear_cross_entropy_and_grad`` (default chunk size: 64 MiB of logits).

For each it reports the peak of traced memory (``tracemalloc``, which NumPy reports its
array allocations to) from the call's start, outputs included, inputs excluded, and the best
wall time of a few runs (timed with tracemalloc off). The results are checked to agree.
Targets at the default size: chunked peak <= 160 MiB, chunked time <= materialised time.
``--threads n`` sets the BLAS threads (OPENBLAS_NUM_THREADS etc., before NumPy loads) and
xent's kernel threads for both paths alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from collections.abc import Callable

MIB = 1 << 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes, quick agreement check")
    parser.add_argument("--sweep", action="store_true", help="also vary V (4096 ... 65536)")
    parser.add_argument("--threads", type=int, default=None, help="BLAS and kernel threads")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per path (best kept)")
    return parser.parse_args()


ARGS = parse_args()
if ARGS.threads is not None:  # must happen before NumPy (and its BLAS) is imported
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import xent  # noqa: E402


def set_kernel_threads(n: int | None) -> None:
    """xent's loss kernel threads, when this version of the library exposes the setting."""
    fused = getattr(xent, "fused", None)
    if n is not None and fused is not None and hasattr(fused, "set_num_threads"):
        fused.set_num_threads(n)


def materialised(x, W, b, y):
    """The textbook path: every (N, V) array exists. Its loss and gradient come from the same
    fast kernel the chunked path uses (xent.fused), so only the chunking differs."""
    logits = x @ W + b
    loss, G = xent.fused.cross_entropy_and_grad(logits, y)
    return loss, G @ W.T, x.T @ G, G.sum(axis=0)


def chunked(x, W, b, y, chunk_size=None):
    return xent.linear_cross_entropy_and_grad(x, W, y, b=b, chunk_size=chunk_size)


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak traced bytes allocated during ``fn()``, its result included."""
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def best_time(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def make_problem(n: int, d: int, v: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d), dtype=np.float32)
    W = rng.standard_normal((d, v), dtype=np.float32) / np.float32(np.sqrt(d))
    b = rng.standard_normal(v, dtype=np.float32) * np.float32(0.1)
    y = rng.integers(0, v, size=n)
    return x, W, b, y


def check_agree(x, W, b, y, chunk_size=None) -> float:
    """Largest difference between the two paths, relative to each output's scale."""
    a, c = materialised(x, W, b, y), chunked(x, W, b, y, chunk_size)
    worst = 0.0
    for name, u, w in zip(("loss", "dx", "dW", "db"), a, c, strict=True):
        scale = float(np.max(np.abs(u))) or 1.0
        err = float(np.max(np.abs(np.asarray(u, np.float64) - w))) / scale
        if not err < 1e-4:
            sys.exit(f"FAIL: {name} differs between the paths by {err:.2e} (relative)")
        worst = max(worst, err)
    return worst


def run(n: int, d: int, v: int, repeat: int, chunk_size=None) -> dict[str, float]:
    x, W, b, y = make_problem(n, d, v)
    agree = check_agree(x, W, b, y, chunk_size)
    row = {"N": n, "d": d, "V": v, "agree": agree}
    paths = (("materialised", materialised),
             ("chunked", lambda *a: chunked(*a, chunk_size=chunk_size)))  # fmt: skip
    for name, fn in paths:
        # the memory run doubles as the warm-up of the timings
        row[name + "_MiB"] = peak_memory(lambda fn=fn: fn(x, W, b, y)) / MIB
        row[name + "_s"] = best_time(lambda fn=fn: fn(x, W, b, y), repeat)
    return row


def print_rows(rows: list[dict[str, float]]) -> None:
    print(f"{'N':>6} {'d':>5} {'V':>7} | {'materialised':>20} | {'chunked':>20} | "
          f"{'memory':>7} {'time':>6}")  # fmt: skip
    print(f"{'':>6} {'':>5} {'':>7} | {'peak MiB':>10} {'time s':>9} | {'peak MiB':>10} "
          f"{'time s':>9} | {'ratio':>7} {'ratio':>6}")  # fmt: skip
    for r in rows:
        print(
            f"{r['N']:>6} {r['d']:>5} {r['V']:>7} | {r['materialised_MiB']:>10.1f} "
            f"{r['materialised_s']:>9.3f} | {r['chunked_MiB']:>10.1f} {r['chunked_s']:>9.3f} | "
            f"{r['chunked_MiB'] / r['materialised_MiB']:>7.3f} "
            f"{r['chunked_s'] / r['materialised_s']:>6.2f}"
        )


def main() -> None:
    set_kernel_threads(ARGS.threads)
    threads = ARGS.threads if ARGS.threads is not None else "default"
    print(f"numpy {np.__version__}, float32, threads: {threads}, cpus: {os.cpu_count()}, "
          f"load average: {os.getloadavg()[0]:.1f}")  # fmt: skip
    repeat = 1 if ARGS.smoke else ARGS.repeat
    print("peak = traced memory from the call's start, outputs included; time = best of "
          f"{repeat}; ratio = chunked / materialised")  # fmt: skip
    if ARGS.smoke:
        # 256 rows in chunks of 32: the chunked path holds 1/8 of the logits at a time
        rows = [run(256, 32, v, repeat=1, chunk_size=32) for v in (1024, 4096)]
        print_rows(rows)
        for r in rows:  # no timing assertion here: only memory, which does not flake
            if not r["chunked_MiB"] < r["materialised_MiB"]:
                sys.exit("FAIL: the chunked path used as much memory as the materialised one")
        print("smoke: both paths agree; the chunked path used less memory")
        return
    sizes = [(2048, 256, 65536)]
    if ARGS.sweep:
        sizes = [(2048, 256, v) for v in (4096, 8192, 16384, 32768)] + sizes
    rows = []
    for n, d, v in sizes:
        rows.append(run(n, d, v, ARGS.repeat))
    print_rows(rows)
    last = rows[-1]
    ok_mem = last["chunked_MiB"] <= 160
    ok_time = last["chunked_s"] <= last["materialised_s"]
    print(f"target at N=2048, d=256, V=65536: chunked peak <= 160 MiB: "
          f"{'met' if ok_mem else 'NOT met'} ({last['chunked_MiB']:.1f} MiB); chunked time <= "
          f"materialised time: {'met' if ok_time else 'NOT met'} "
          f"({last['chunked_s']:.3f} s vs {last['materialised_s']:.3f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
