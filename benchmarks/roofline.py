"""A roofline for the fused cross-entropy: how close do xent and PyTorch come to this machine?

    .venv/bin/python benchmarks/roofline.py               # 1 and 2 threads (~1 min)
    .venv/bin/python benchmarks/roofline.py --threads 2
    .venv/bin/python benchmarks/roofline.py --quick       # fewer repeats

Loss + gradient of the cross-entropy on float32 logits Z (N, C) with class-index targets
must at least

* read Z and write the gradient G: 2 x 4 N C bytes (+ 8 N bytes of int64 targets),
* compute N C exponentials (and N logarithms, negligible).

No implementation can beat ``max(memory time, exps / exp rate)``. This script measures
both with NumPy on this machine, with 1 and 2 threads (each thread works on its own slice;
NumPy releases the GIL inside these loops):

* bandwidth: ``np.copyto(dst, src)`` and ``np.multiply(src, 3, out=dst)`` on 128 MiB
  float32 arrays (far bigger than the caches), counting 2 bytes moved per byte of ``dst``
  (one read, one write: the same accounting as for Z and G above). It is printed for
  context; the bound itself uses the next line, because both shapes below (33 MB and
  5.8 MB of Z + G) fit more or less in this machine's 32 MiB L3 cache, which is faster;
* memory time of the shape: ``np.copyto(G, Z)``, a copy of the logits into an array of the
  gradient's size: exactly the minimum traffic, at exactly this working-set size;
* exp rate: ``np.exp(block, out=block2)`` on 64 KiB float32 blocks that stay in the L2 cache,
  so the memory is not what is measured.

Then it times ``xent``'s fused loss + gradient and, if installed, ``torch``'s
``F.cross_entropy`` forward + backward (``torch.set_num_threads(n)``) at (4096, 1000) and
(65536, 10), with the same thread count n for both, and prints each one's fraction of the
bound: ``bound / measured`` (1.0 would be at the roofline). Every time is the best of several
runs. On a shared machine all of it moves a lot: rerun on a quiet one before quoting it.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import xent

MIB = 1 << 20
SHAPES = [(4096, 1000), (65536, 10)]


def best_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm up: page faults, thread pools
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def in_threads(pool: ThreadPoolExecutor, tasks: list[Callable[[], object]]) -> None:
    """Run the tasks at once, one per thread (the calling thread takes the last)."""
    futures = [pool.submit(t) for t in tasks[:-1]]
    tasks[-1]()
    for f in futures:
        f.result()


def measure_bandwidth(threads: int, repeat: int, size_bytes: int = 128 * MIB) -> dict[str, float]:
    """Bytes per second moved by a copy and by a scale, ``threads`` slices at once."""
    n = size_bytes // 4
    src = np.ones(n, np.float32)
    dst = np.zeros(n, np.float32)
    bounds = np.linspace(0, n, threads + 1).astype(int)
    slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    three = np.float32(3)
    result = {}
    with ThreadPoolExecutor(max_workers=max(1, threads - 1)) as pool:
        copy = [lambda s=s: np.copyto(dst[s], src[s]) for s in slices]
        scale = [lambda s=s: np.multiply(src[s], three, out=dst[s]) for s in slices]
        for name, tasks in (("copy", copy), ("scale", scale)):
            seconds = best_time(lambda tasks=tasks: in_threads(pool, tasks), repeat)
            result[name] = 2 * size_bytes / seconds
    return result


def measure_copy(z: np.ndarray, threads: int, repeat: int) -> float:
    """Seconds to copy ``z`` into a new array of its size, ``threads`` row slices at once."""
    dst = np.empty_like(z)
    bounds = np.linspace(0, z.shape[0], threads + 1).astype(int)
    with ThreadPoolExecutor(max_workers=max(1, threads - 1)) as pool:
        tasks = [lambda a=a, b=b: np.copyto(dst[a:b], z[a:b])
                 for a, b in zip(bounds[:-1], bounds[1:], strict=True)]  # fmt: skip
        return best_time(lambda: in_threads(pool, tasks), repeat)


def measure_exp_rate(threads: int, repeat: int, block_bytes: int = 64 * 1024) -> float:
    """float32 exponentials per second on cache-resident blocks, ``threads`` at once."""
    n = block_bytes // 4
    rounds = 200
    rng = np.random.default_rng(0)
    blocks = [rng.uniform(-10, 10, n).astype(np.float32) for _ in range(threads)]
    outs = [np.empty(n, np.float32) for _ in range(threads)]

    def task(i: int) -> None:
        for _ in range(rounds):
            np.exp(blocks[i], out=outs[i])

    with ThreadPoolExecutor(max_workers=max(1, threads - 1)) as pool:
        tasks = [lambda i=i: task(i) for i in range(threads)]
        seconds = best_time(lambda: in_threads(pool, tasks), repeat)
    return threads * rounds * n / seconds


def fused_loss_and_grad() -> tuple[Callable, str]:
    """xent's fast kernel (xent.fused when the library has it) and a label for it."""
    fused = getattr(xent, "fused", None)
    if fused is not None and hasattr(fused, "cross_entropy_and_grad"):
        return fused.cross_entropy_and_grad, "xent.fused"
    return xent.cross_entropy_and_grad, "xent"


def set_xent_threads(n: int) -> bool:
    """Set xent's kernel threads if the library exposes the setting; report whether it did."""
    fused = getattr(xent, "fused", None)
    if fused is not None and hasattr(fused, "set_num_threads"):
        fused.set_num_threads(n)
        return True
    return False


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 5 if args.quick else 15
    torch = torch_or_none()
    kernel, kernel_name = fused_loss_and_grad()
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}, "
          f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")  # fmt: skip

    for threads in args.threads:
        exact_threads = set_xent_threads(threads)
        bw = measure_bandwidth(threads, repeat=max(3, repeat // 3))
        exp_rate = measure_exp_rate(threads, repeat)
        print(f"\n{threads} thread(s): DRAM bandwidth copy {bw['copy'] / 1e9:.1f} GB/s, "
              f"scale {bw['scale'] / 1e9:.1f} GB/s; "
              f"exp {exp_rate / 1e9:.2f} G/s (float32)")  # fmt: skip
        if not exact_threads:
            print(f"  ({kernel_name} has no thread setting: it uses its own default)")
        if torch is not None:
            torch.set_num_threads(threads)
        header = (f"{'N':>6} {'C':>5} {'MB':>6} {'copy ms':>8} {'exp ms':>7} {'bound':>6} | "
                  f"{'xent ms':>8} {'frac':>5} | {'torch ms':>8} {'frac':>5}")  # fmt: skip
        print(header)
        for n, c in SHAPES:
            rng = np.random.default_rng(0)
            z = rng.standard_normal((n, c), dtype=np.float32)
            y = rng.integers(0, c, size=n)
            nbytes = 2 * z.nbytes + y.nbytes
            t_mem, t_exp = measure_copy(z, threads, repeat), z.size / exp_rate
            bound = max(t_mem, t_exp)
            t_xent = best_time(lambda z=z, y=y: kernel(z, y), repeat)
            line = (f"{n:>6} {c:>5} {nbytes / 1e6:>6.1f} {t_mem * 1e3:>8.3f} "
                    f"{t_exp * 1e3:>7.3f} {bound * 1e3:>6.2f} | {t_xent * 1e3:>8.3f} "
                    f"{bound / t_xent:>5.2f} | ")  # fmt: skip
            if torch is not None:
                zt = torch.from_numpy(z).requires_grad_()
                yt = torch.from_numpy(y)

                def torch_step(zt=zt, yt=yt) -> None:
                    zt.grad = None
                    torch.nn.functional.cross_entropy(zt, yt).backward()

                t_torch = best_time(torch_step, repeat)
                line += f"{t_torch * 1e3:>8.3f} {bound / t_torch:>5.2f}"
            else:
                line += f"{'skipped':>8} {'':>5}"
            print(line)
    print("\nMB = bytes that must move (Z read, G written, targets); copy = time to copy Z "
          "into a G-sized array; exp = N*C / exp rate;\nbound = max(copy, exp) in ms; "
          "frac = bound / measured time (1.00 would be at the roofline)")  # fmt: skip


if __name__ == "__main__":
    main()
