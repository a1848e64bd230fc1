"""Training speed of chapter 6's from-scratch MLP, and of the same model in PyTorch if installed.

    .venv/bin/python benchmarks/bench_training.py [--epochs 20] [--threads 2] [--no-torch]

Both models are trained on the full 60 000 training images with the chapter's recipe
(784-512-256-10, ReLU, dropout 0.1, SGD with Nesterov momentum and weight decay, a cosine
learning rate, batch size 128, float32) and evaluated on the official test set after
every epoch. Printed: seconds per epoch (median over epochs), seconds and epochs until the test
accuracy first reaches 90 %, and, with PyTorch, its epoch time and the ratio ours / PyTorch.
Both start from the same initial weights and see the same batches; each epoch's time includes
the batch preparation in NumPy, which both share. The test set is used here only to time a
fixed recipe, never to choose anything (the chapter explains the honest protocol).
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2, help="BLAS / torch threads")
    parser.add_argument("--target", type=float, default=0.90, help="test accuracy to time")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch reference")
    return parser.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else parse_args([])
# The BLAS thread count must be fixed before NumPy is imported.
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402
from xent import data, metrics, nn, optim  # noqa: E402

HIDDEN = (512, 256)
DROPOUT = 0.1
LR, MOMENTUM, WEIGHT_DECAY = 0.1, 0.9, 5e-4


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    x_train, y_train = data.load_fashion_mnist("train")
    x_test, y_test = data.load_fashion_mnist("test")
    scaled = x_train / 255.0
    return x_train, y_train.astype(np.int64), x_test, y_test, scaled.mean(), scaled.std()


def batches(n: int, epochs: int, batch_size: int, seed: int = 0):
    """The same shuffled index batches, epoch by epoch, for both frameworks."""
    rng = np.random.default_rng(seed)
    return [list(nn.iterate_minibatches(n, batch_size, rng)) for _ in range(epochs)]


def run_ours(x, y, x_test, y_test, mean, std, args) -> tuple[list[float], list[float], list]:
    rng = np.random.default_rng(0)
    model = nn.mlp([784, *HIDDEN, 10], rng=rng, dropout=DROPOUT)
    initial = [p.copy() for p, _ in model.parameters()]
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(
        model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, nesterov=True
    )
    # The chapter's own loop, nn.train_epoch, drawing the same seeded batches as batches()
    # gives PyTorch: one rng(0), one permutation per epoch.
    epochs = batches(len(x), args.epochs, args.batch_size)
    total_steps = sum(len(e) for e in epochs)
    warmup = len(epochs[0]) // 2  # half an epoch of linear warm-up, as in the chapter
    batch_rng = np.random.default_rng(0)
    test_features = data.to_features(x_test, mean, std)
    times, accs = [], []
    for _ in epochs:
        start = time.perf_counter()
        nn.train_epoch(
            model, loss_fn, opt, x, y, batch_size=args.batch_size, rng=batch_rng,
            transform=lambda b: data.to_features(b, mean, std),
            lr_schedule=lambda step: optim.cosine_lr(step, total_steps, LR, warmup_steps=warmup),
        )  # fmt: skip
        times.append(time.perf_counter() - start)
        pred = nn.predict_logits(model, test_features).argmax(axis=1)
        accs.append(metrics.accuracy(y_test, pred))
        print(f"  ours  epoch {len(times):2d}: {times[-1]:.2f} s, test acc {accs[-1]:.4f}")
    return times, accs, initial


def run_torch(x, y, x_test, y_test, mean, std, args, initial) -> tuple[list[float], list[float]]:
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sizes = [784, *HIDDEN, 10]
    layers: list[torch.nn.Module] = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU(), torch.nn.Dropout(DROPOUT)]
    layers.append(torch.nn.Linear(sizes[-2], sizes[-1]))
    model = torch.nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():  # our W is (in, out); torch stores (out, in)
        for lin, (w, b) in zip(linears, zip(initial[::2], initial[1::2], strict=True), strict=True):
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(
        model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY, nesterov=True
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    epochs = batches(len(x), args.epochs, args.batch_size)
    total_steps = sum(len(e) for e in epochs)
    warmup = len(epochs[0]) // 2  # half an epoch of linear warm-up, as in the chapter
    test_features = torch.from_numpy(data.to_features(x_test, mean, std))
    step = 0
    times, accs = [], []
    for epoch in epochs:
        start = time.perf_counter()
        model.train()
        for idx in epoch:
            xb = torch.from_numpy(data.to_features(x[idx], mean, std))
            loss = loss_fn(model(xb), torch.from_numpy(y[idx]))
            opt.zero_grad(set_to_none=False)
            loss.backward()
            for group in opt.param_groups:
                group["lr"] = optim.cosine_lr(step, total_steps, LR, warmup_steps=warmup)
            opt.step()
            step += 1
        times.append(time.perf_counter() - start)
        model.eval()
        with torch.no_grad():
            pred = model(test_features).argmax(dim=1).numpy()
        accs.append(metrics.accuracy(y_test, pred))
        print(f"  torch epoch {len(times):2d}: {times[-1]:.2f} s, test acc {accs[-1]:.4f}")
    return times, accs


def report(name: str, times: list[float], accs: list[float], target: float) -> float:
    per_epoch = float(np.median(times))
    reached = next((i for i, a in enumerate(accs) if a >= target), None)
    if reached is None:
        to_target = f"not reached in {len(accs)} epochs (best {max(accs):.4f})"
    else:
        to_target = f"{sum(times[: reached + 1]):.1f} s ({reached + 1} epochs)"
    print(
        f"{name}: {per_epoch:.2f} s per epoch (median), final test acc {accs[-1]:.4f}, "
        f"time to {target:.0%} test acc: {to_target}"
    )
    return per_epoch


def main() -> int:
    args = ARGS
    print(
        f"MLP 784-{'-'.join(map(str, HIDDEN))}-10, batch {args.batch_size}, {args.epochs} epochs, "
        f"{args.threads} thread(s), float32"
    )
    x, y, x_test, y_test, mean, std = load()
    ours_times, ours_accs, initial = run_ours(x, y, x_test, y_test, mean, std, args)
    ours = report("xent (NumPy)", ours_times, ours_accs, args.target)
    if args.no_torch:
        return 0
    try:
        import torch
    except ImportError:
        print("PyTorch not installed: no reference (pip install torch==2.13.0 to compare)")
        return 0
    print(f"PyTorch {torch.__version__}")
    torch_times, torch_accs = run_torch(x, y, x_test, y_test, mean, std, args, initial)
    ref = report("PyTorch (CPU)", torch_times, torch_accs, args.target)
    print(f"epoch-time ratio xent / PyTorch: {ours / ref:.2f} (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
