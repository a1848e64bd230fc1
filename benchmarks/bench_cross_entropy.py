"""Benchmark: the fused cross-entropy + gradient against the naive chain and PyTorch.

    .venv/bin/python benchmarks/bench_cross_entropy.py            # full run
    .venv/bin/python benchmarks/bench_cross_entropy.py --quick    # fewer repeats

Part 1 times ``xent.cross_entropy_and_grad`` (class-index targets, reduction='mean')
against the textbook chain: ``p = softmax(z)``, ``dL/dp`` of the mean negative log
likelihood, then ``dL/dz = J^T dL/dp`` with the explicit K x K Jacobian from
``xent.softmax_jacobian`` (O(N K^2) time and memory, hence the small N for large K).

Part 2 (only when torch is importable) times it against
``torch.nn.functional.cross_entropy`` forward + backward on the same float32 arrays,
with ``torch.set_num_threads(2)``. Every timing is the best of several repeats
(like ``timeit``), since the machine is shared; both results are checked to agree.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import xent


def best_time(fn: Callable[[], object], repeat: int, number: int = 1) -> float:
    """Best (smallest) wall time of ``number`` calls, over ``repeat`` rounds, per call."""
    fn()  # warm up: allocations, thread pool, caches
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def naive_loss_and_grad(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax, explicit Jacobian, chain rule: the readable O(N K^2) reference."""
    n = z.shape[0]
    p = xent.softmax(z)
    rows = np.arange(n)
    loss = -np.log(p[rows, y]).mean()
    grad_p = np.zeros_like(p)
    grad_p[rows, y] = -1.0 / (n * p[rows, y])  # d/dp of -(1/N) sum_i log p_i[y_i]
    jac = xent.softmax_jacobian(p)  # (N, K, K)
    grad_z = np.einsum("nij,ni->nj", jac, grad_p)  # J^T dL/dp, row by row
    return loss, grad_z


def simple_loss_and_grad(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The straightforward vectorised version (whole arrays, no blocks, no threads):
    what the fused path in xent.losses is optimised from."""
    n = z.shape[0]
    rows = np.arange(n)
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = (np.log(s[:, 0]) - shifted[rows, y]).mean()
    grad = e / s
    grad[rows, y] -= 1.0
    grad /= n
    return loss, grad


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f}"


def bench_naive(repeat: int) -> None:
    print("Fused xent.cross_entropy_and_grad vs naive chain (softmax -> Jacobian -> chain rule)")
    print("float64, class-index targets, reduction='mean'")
    print(f"{'K':>6} {'N':>6} {'naive ms':>9} {'fused ms':>9} {'speed-up':>9}")
    rng = np.random.default_rng(0)
    for k, n in [(10, 4096), (100, 1024), (1000, 64), (4096, 8)]:
        z = rng.normal(size=(n, k))
        y = rng.integers(0, k, size=n)
        loss_a, grad_a = naive_loss_and_grad(z, y)
        loss_b, grad_b = xent.cross_entropy_and_grad(z, y)
        assert abs(loss_a - loss_b) <= 1e-10 * abs(loss_b)
        np.testing.assert_allclose(grad_a, grad_b, rtol=1e-8, atol=1e-15)
        t_naive = best_time(lambda z=z, y=y: naive_loss_and_grad(z, y), repeat)
        t_fused = best_time(lambda z=z, y=y: xent.cross_entropy_and_grad(z, y), repeat)
        print(f"{k:>6} {n:>6} {fmt_ms(t_naive)} {fmt_ms(t_fused)} {t_naive / t_fused:8.1f}x")


def bench_torch(repeat: int) -> None:
    try:
        import torch
    except ImportError:
        print("\ntorch is not installed: skipping the PyTorch comparison")
        print("(optional: .venv/bin/pip install torch==2.13.0)")
        return
    functional = torch.nn.functional
    print(f"\nFused xent vs torch {torch.__version__}, forward + backward, float32")
    print("(torch with 2 threads is the target; 1 thread is shown for context: on a busy")
    print(" machine torch's 2 OpenMP threads can wait on each other)")
    print("simple = the straightforward whole-array NumPy version, for comparison")
    header = f"{'N':>6} {'C':>5} {'torch2 ms':>10} {'torch1 ms':>10} {'simple ms':>10}"
    print(f"{header} {'xent ms':>9} {'simple/torch2':>14} {'xent/torch2':>12}")
    rng = np.random.default_rng(0)
    ratios = []
    for n, c in [(4096, 1000), (65536, 10)]:
        z = rng.normal(scale=3.0, size=(n, c)).astype(np.float32)
        y = rng.integers(0, c, size=n)
        z_t = torch.from_numpy(z)
        y_t = torch.from_numpy(y)

        def torch_step(z_t=z_t, y_t=y_t):
            z_leaf = z_t.detach().requires_grad_(True)
            loss = functional.cross_entropy(z_leaf, y_t)
            loss.backward()
            return loss.item(), z_leaf.grad.numpy()

        def xent_step(z=z, y=y):
            return xent.cross_entropy_and_grad(z, y)

        loss_t, grad_t = torch_step()
        loss_x, grad_x = xent_step()
        loss_s, grad_s = simple_loss_and_grad(z, y)
        np.testing.assert_allclose(grad_s, grad_t, rtol=1e-4, atol=1e-9)
        assert grad_x.dtype == np.float32 and np.asarray(loss_x).dtype == np.float32
        assert abs(loss_x - loss_t) <= 1e-5 * abs(loss_t)
        np.testing.assert_allclose(grad_x, grad_t, rtol=1e-4, atol=1e-9)
        # interleave the contenders so that background load hits them alike
        steps = {
            "torch2": torch_step,
            "torch1": torch_step,
            "simple": lambda z=z, y=y: simple_loss_and_grad(z, y),
            "xent": xent_step,
        }
        best = dict.fromkeys(steps, float("inf"))
        for _ in range(3):
            for name, fn in steps.items():
                if name.startswith("torch"):
                    torch.set_num_threads(int(name[-1]))
                best[name] = min(best[name], best_time(fn, max(1, repeat // 3), number=3))
        torch.set_num_threads(2)
        ratio = best["xent"] / best["torch2"]
        ratios.append(ratio)
        print(
            f"{n:>6} {c:>5} {fmt_ms(best['torch2']):>10} {fmt_ms(best['torch1']):>10} "
            f"{fmt_ms(best['simple']):>10} {fmt_ms(best['xent'])} "
            f"{best['simple'] / best['torch2']:13.2f}x {ratio:11.2f}x"
        )
    print(f"target: xent within 1.5x of torch (2 threads); worst ratio here {max(ratios):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 5 if args.quick else 20
    bench_naive(repeat)
    bench_torch(repeat)


if __name__ == "__main__":
    main()
