"""Benchmark: cross-entropy forward + backward, every contender at the same thread count.

    .venv/bin/python benchmarks/bench_cross_entropy.py              # full run, 2 threads
    .venv/bin/python benchmarks/bench_cross_entropy.py --quick      # fewer repeats
    .venv/bin/python benchmarks/bench_cross_entropy.py --threads 1  # everyone on 1 thread
    .venv/bin/python benchmarks/bench_cross_entropy.py --smoke      # seconds: do they agree?

Part 1, the contenders at (N, C) = (4096, 1000) and (65536, 10), float32, class-index
targets, reduction='mean', loss and gradient:

* ``plain``: the straightforward whole-array NumPy version (max, exp, sum, log, divide,
  subtract 1 at the targets): the baseline, always printed;
* ``xent.cross_entropy_and_grad``: the readable reference (``xent.losses``);
* ``xent.fused.cross_entropy_and_grad``: the fast kernel that training uses;
* ``torch.nn.functional.cross_entropy`` + ``backward()``, when torch is importable.

Every contender gets the same number of threads: ``xent.fused.set_num_threads(n)``,
``torch.set_num_threads(n)`` and NumPy's BLAS pool (threadpoolctl when installed, and the
usual environment variables, set before NumPy is imported). Every result is checked against
the others before anything is timed; each time is the best of several rounds, the contenders
interleaved so that background load hits them alike.

Part 2 (full runs only): the fused path against the textbook chain ``softmax -> explicit
Jacobian -> chain rule`` in float64, which costs O(N K^2).

``--smoke`` (run by ``make test``) does the agreement checks on small arrays and one quick
timing round, with no assertion on the times.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable

PARSER = argparse.ArgumentParser(description=__doc__.splitlines()[0])
PARSER.add_argument("--threads", type=int, default=2, help="threads for every contender")
PARSER.add_argument("--quick", action="store_true", help="fewer repeats")
PARSER.add_argument("--smoke", action="store_true", help="small arrays: check agreement only")
ARGS = PARSER.parse_args()
if ARGS.threads < 1:
    PARSER.error("--threads: expected an integer >= 1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)  # before NumPy (and torch) start their pools

import numpy as np  # noqa: E402
import xent  # noqa: E402
import xent.fused  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # the environment variables above still apply
    threadpool_limits = None


def best_time(fn: Callable[[], object], repeat: int, number: int = 1) -> float:
    """Best (smallest) wall time per call of ``number`` calls, over ``repeat`` rounds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def plain_loss_and_grad(z: np.ndarray, y: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """The straightforward whole-array NumPy version: the baseline."""
    n = z.shape[0]
    rows = np.arange(n)
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = (np.log(s[:, 0]) - shifted[rows, y]).mean()
    grad = e / s
    grad[rows, y] -= 1
    grad /= n
    return loss, grad


def naive_loss_and_grad(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax, explicit Jacobian, chain rule: the textbook O(N K^2) chain."""
    n = z.shape[0]
    p = xent.softmax(z)
    rows = np.arange(n)
    loss = -np.log(p[rows, y]).mean()
    grad_p = np.zeros_like(p)
    grad_p[rows, y] = -1.0 / (n * p[rows, y])  # d/dp of -(1/N) sum_i log p_i[y_i]
    jac = xent.softmax_jacobian(p)  # (N, K, K)
    grad_z = np.einsum("nij,ni->nj", jac, grad_p)  # J^T dL/dp, row by row
    return loss, grad_z


def machine() -> str:
    """CPU model and count, so that every printed table names the machine it came from."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {usable} usable CPUs"


def import_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(ARGS.threads)
    return torch


def contenders(torch, z: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], tuple]]:
    steps = {
        "plain": lambda: plain_loss_and_grad(z, y),
        "reference": lambda: xent.cross_entropy_and_grad(z, y),
        "fused": lambda: xent.fused.cross_entropy_and_grad(z, y),
    }
    if torch is not None:
        z_t, y_t = torch.from_numpy(z), torch.from_numpy(y)

        def torch_step():
            leaf = z_t.detach().requires_grad_(True)
            loss = torch.nn.functional.cross_entropy(leaf, y_t)
            loss.backward()
            return loss.item(), leaf.grad.numpy()

        steps["torch"] = torch_step
    return steps


def check_agreement(steps: dict[str, Callable[[], tuple]], z: np.ndarray, y: np.ndarray) -> None:
    """Every contender's loss and gradient against the float64 reference, within float32
    rounding (the gradient on the scale of its largest entry, 1/N)."""
    exact_loss, exact_grad = xent.cross_entropy_and_grad(z.astype(np.float64), y)
    for name, step in steps.items():
        loss, grad = step()
        loss_err = abs(float(loss) - exact_loss) / max(1.0, abs(exact_loss))
        grad_err = np.abs(grad - exact_grad).max() / np.abs(exact_grad).max()
        if not (loss_err < 1e-5 and grad_err < 1e-5 and grad.dtype == np.float32):
            sys.exit(f"{name} disagrees at {z.shape}: loss {loss_err:.1e}, grad {grad_err:.1e}")


def bench_contenders(torch, shapes: list[tuple[int, int]], rounds: int, number: int) -> None:
    names = ["plain", "reference", "fused"] + (["torch"] if torch is not None else [])
    print(f"Loss + gradient, float32, class indices, reduction='mean', {ARGS.threads} thread(s)")
    print("best time in ms; ratios < 1 mean fused is faster")
    header = "".join(f"{n:>11}" for n in names)
    ratios = "  fused/plain" + ("  fused/torch" if torch is not None else "")
    print(f"{'N':>6} {'C':>5}{header}{ratios}")
    rng = np.random.default_rng(0)
    for n, c in shapes:
        z = rng.normal(scale=3.0, size=(n, c)).astype(np.float32)
        y = rng.integers(0, c, size=n)
        steps = contenders(torch, z, y)
        check_agreement(steps, z, y)
        best = dict.fromkeys(steps, float("inf"))
        for _ in range(rounds):  # interleaved
            for name, step in steps.items():
                best[name] = min(best[name], best_time(step, 1, number))
        row = "".join(f"{best[name] * 1e3:11.3f}" for name in names)
        row += f"{best['fused'] / best['plain']:12.2f}x"
        if torch is not None:
            row += f"{best['fused'] / best['torch']:12.2f}x"
        print(f"{n:>6} {c:>5}{row}")
    if torch is None:
        print("torch is not installed: no PyTorch column (optional: pip install torch==2.13.0)")


def bench_naive(repeat: int) -> None:
    print("\nFused vs the textbook chain (softmax -> Jacobian -> chain rule), float64")
    print(f"{'K':>6} {'N':>6} {'naive ms':>9} {'fused ms':>9} {'speed-up':>9}")
    rng = np.random.default_rng(0)
    for k, n in [(10, 4096), (100, 1024), (1000, 64), (4096, 8)]:
        z = rng.normal(size=(n, k))
        y = rng.integers(0, k, size=n)
        loss_a, grad_a = naive_loss_and_grad(z, y)
        loss_b, grad_b = xent.fused.cross_entropy_and_grad(z, y)
        assert abs(loss_a - loss_b) <= 1e-10 * abs(loss_b)
        np.testing.assert_allclose(grad_a, grad_b, rtol=1e-8, atol=1e-15)
        t_naive = best_time(lambda z=z, y=y: naive_loss_and_grad(z, y), repeat)
        t_fused = best_time(lambda z=z, y=y: xent.fused.cross_entropy_and_grad(z, y), repeat)
        print(f"{k:>6} {n:>6} {t_naive * 1e3:9.3f} {t_fused * 1e3:9.3f} {t_naive / t_fused:8.1f}x")


def main() -> None:
    xent.fused.set_num_threads(ARGS.threads)
    torch = import_torch()
    limits = threadpool_limits(ARGS.threads) if threadpool_limits is not None else None
    print(f"command: python {' '.join(sys.argv)}")
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ""))
    try:
        if ARGS.smoke:
            bench_contenders(torch, [(64, 1000), (4096, 10), (3000, 700)], rounds=1, number=1)
            print("smoke: every contender agrees (times above are not checked)")
            return
        rounds = 5 if ARGS.quick else 15
        bench_contenders(torch, [(4096, 1000), (65536, 10)], rounds=rounds, number=3)
        bench_naive(5 if ARGS.quick else 20)
    finally:
        if limits is not None:
            limits.restore_original_limits()


if __name__ == "__main__":
    main()
