"""Benchmark: cross-entropy of a linear layer, chunked vs materialised logits.

    .venv/bin/python benchmarks/bench_linear_ce.py            # N=2048, d=256, V=65536 (~1 min)
    .venv/bin/python benchmarks/bench_linear_ce.py --sweep    # and V from 4096 to 32768
    .venv/bin/python benchmarks/bench_linear_ce.py --smoke    # small sizes, a few seconds
    .venv/bin/python benchmarks/bench_linear_ce.py --threads 1 --repeat 9

Three ways compute the loss and the gradients (dx, dW, db) of ``cross_entropy(x @ W + b, y)``
in float32, on the same arrays, in one process:

* materialised: ``Z = x @ W + b``, ``loss, G = xent.cross_entropy_and_grad(Z, y)`` (the
  readable loss of chapter 4), ``dx = G @ W.T``, ``dW = x.T @ G``, ``db = G.sum(0)``: the
  (N, V) logits and their gradient exist in full. This is the path issue 12 names;
* materialised, fused: the same with ``xent.fused.cross_entropy_and_grad``, the fast kernel
  (a stricter baseline: then only the chunking differs);
* chunked: ``xent.linear_cross_entropy_and_grad`` (default chunk size: 64 MiB of logits).

For each it reports the peak of traced memory (``tracemalloc``, which NumPy reports its
array allocations to) from the call's start, outputs included, inputs excluded. Times are
taken in ``--repeat`` rounds (tracemalloc off); each round runs the three once, in an order
that rotates from round to round, so that all three meet the same machine (a slow spell, the
state of the memory) equally. It prints each one's best and median time and, for the chunked
path against each materialised one, the median and the range of the per-round time ratios.
The results are checked to agree first.
Targets at the default size: chunked peak <= 160 MiB; chunked time <= materialised time.
``--threads n`` sets the BLAS threads (OPENBLAS_NUM_THREADS etc., before NumPy loads) and
xent's kernel threads for all paths alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial

MIB = 1 << 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes, quick agreement check")
    parser.add_argument("--sweep", action="store_true", help="also vary V (4096 ... 65536)")
    parser.add_argument("--threads", type=int, default=None, help="BLAS and kernel threads")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved timing rounds")
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


def materialised(x, W, b, y, loss_and_grad=None):
    """The textbook path: every (N, V) array exists. Its loss and gradient come from
    ``loss_and_grad``: the readable ``xent.cross_entropy_and_grad`` by default."""
    loss_and_grad = loss_and_grad or xent.cross_entropy_and_grad
    logits = x @ W + b
    loss, G = loss_and_grad(logits, y)
    return loss, G @ W.T, x.T @ G, G.sum(axis=0)


def materialised_fused(x, W, b, y):
    """The same with the fast kernel (xent.fused), so that only the chunking differs."""
    return materialised(x, W, b, y, loss_and_grad=xent.fused.cross_entropy_and_grad)


def chunked(x, W, b, y, chunk_size=None):
    return xent.linear_cross_entropy_and_grad(x, W, y, b=b, chunk_size=chunk_size)


PATHS = (("materialised", materialised), ("fused", materialised_fused), ("chunked", chunked))


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


def interleaved_times(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, list]:
    """Wall times of each function over ``rounds`` rounds; every round runs each function
    once, starting one further along the list than the round before."""
    names = list(fns)
    times: dict[str, list] = {name: [] for name in names}
    for r in range(rounds):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    return times


def make_problem(n: int, d: int, v: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d), dtype=np.float32)
    W = rng.standard_normal((d, v), dtype=np.float32) / np.float32(np.sqrt(d))
    b = rng.standard_normal(v, dtype=np.float32) * np.float32(0.1)
    y = rng.integers(0, v, size=n)
    return x, W, b, y


def check_agree(fns: dict[str, Callable[[], tuple]]) -> float:
    """Largest difference of every path from the first, relative to each output's scale."""
    first, *others = [fn() for fn in fns.values()]
    worst = 0.0
    for other in others:
        for name, u, w in zip(("loss", "dx", "dW", "db"), first, other, strict=True):
            scale = float(np.max(np.abs(u))) or 1.0
            err = float(np.max(np.abs(np.asarray(u, np.float64) - w))) / scale
            if not err < 1e-4:
                sys.exit(f"FAIL: {name} differs between the paths by {err:.2e} (relative)")
            worst = max(worst, err)
    return worst


def run(n: int, d: int, v: int, repeat: int, chunk_size=None) -> dict:
    x, W, b, y = make_problem(n, d, v)
    # every path on the same arrays; the chunked one with the chunk size asked for
    options = {"chunked": {"chunk_size": chunk_size}}
    fns = {name: partial(fn, x, W, b, y, **options.get(name, {})) for name, fn in PATHS}
    row: dict = {"N": n, "d": d, "V": v, "agree": check_agree(fns)}
    for name, fn in fns.items():
        row[name + "_MiB"] = peak_memory(fn) / MIB  # also a warm-up of each path
    times = interleaved_times(fns, repeat)
    for name, ts in times.items():
        row[name + "_s"] = (min(ts), float(np.median(ts)))
    for base in ("materialised", "fused"):
        ratios = np.array(times["chunked"]) / np.array(times[base])
        row["ratio_" + base] = (float(np.median(ratios)), float(ratios.min()), float(ratios.max()))
    return row


def print_rows(rows: list[dict]) -> None:
    names = [name for name, _ in PATHS]
    print(f"{'N':>5} {'d':>4} {'V':>6} | " + " | ".join(f"{n:>22}" for n in names)
          + " | chunked / materialised, fused")  # fmt: skip
    print(f"{'':>17} | " + " | ".join(f"{'MiB':>7} {'best s':>6} {'med s':>6}" for _ in names)
          + " | time ratio: median (range)")  # fmt: skip
    for r in rows:
        cells = " | ".join(
            f"{r[n + '_MiB']:>7.1f} {r[n + '_s'][0]:>6.3f} {r[n + '_s'][1]:>6.3f}" for n in names
        )
        ratios = ", ".join(
            f"{r['ratio_' + b][0]:.2f} ({r['ratio_' + b][1]:.2f}-{r['ratio_' + b][2]:.2f})"
            for b in ("materialised", "fused")
        )
        print(f"{r['N']:>5} {r['d']:>4} {r['V']:>6} | {cells} | {ratios}")


def main() -> None:
    set_kernel_threads(ARGS.threads)
    threads = ARGS.threads if ARGS.threads is not None else "default"
    print(f"numpy {np.__version__}, float32, threads: {threads}, cpus: {os.cpu_count()}, "
          f"load average: {os.getloadavg()[0]:.1f}")  # fmt: skip
    repeat = 1 if ARGS.smoke else ARGS.repeat
    print(f"peak = traced memory from the call's start, outputs included; times from {repeat} "
          "interleaved round(s); ratio = chunked / the other, per round")  # fmt: skip
    if ARGS.smoke:
        # 256 rows in chunks of 32: the chunked path holds 1/8 of the logits at a time
        rows = [run(256, 32, v, repeat=1, chunk_size=32) for v in (1024, 4096)]
        print_rows(rows)
        for r in rows:  # no timing assertion here: only memory, which does not flake
            if not r["chunked_MiB"] < min(r["materialised_MiB"], r["fused_MiB"]):
                sys.exit("FAIL: the chunked path used as much memory as a materialised one")
        print("smoke: the three paths agree; the chunked path used the least memory")
        return
    sizes = [(2048, 256, 65536)]
    if ARGS.sweep:
        sizes = [(2048, 256, v) for v in (4096, 8192, 16384, 32768)] + sizes
    rows = [run(n, d, v, ARGS.repeat) for n, d, v in sizes]
    print_rows(rows)
    last = rows[-1]
    ok_mem = last["chunked_MiB"] <= 160
    ok_time = last["chunked_s"][1] <= last["materialised_s"][1]
    median, lo, hi = last["ratio_fused"]
    print(f"target at N=2048, d=256, V=65536: chunked peak <= 160 MiB: "
          f"{'met' if ok_mem else 'NOT met'} ({last['chunked_MiB']:.1f} MiB); chunked time <= "
          f"materialised time: {'met' if ok_time else 'NOT met'} (median "
          f"{last['chunked_s'][1]:.3f} s vs {last['materialised_s'][1]:.3f} s)")  # fmt: skip
    print(f"against the materialised path with the fused kernel: chunked / fused time "
          f"{median:.2f} (per-round range {lo:.2f}-{hi:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
