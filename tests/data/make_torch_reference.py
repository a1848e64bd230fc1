"""OPTIONAL: regenerate ``tests/data/torch_reference.json`` from PyTorch.

PyTorch is *not* a requirement of the book or of the tests: the JSON file is committed,
and ``tests/test_losses.py`` compares ``xent.cross_entropy`` / ``xent.cross_entropy_grad``
against it on every run. Only rerun this script to add cases, with the reference version:

    .venv/bin/pip install torch==2.13.0
    .venv/bin/python tests/data/make_torch_reference.py

Each case stores the inputs (float64 logits, target, keyword arguments) and torch's loss
and gradient (``loss.backward(ones_like(loss))``, i.e. the gradient of the summed losses
for reduction='none').
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).with_name("torch_reference.json")


def index_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return () if len(shape) == 1 else (shape[0], *shape[2:])


def make_cases() -> list[dict]:
    rng = np.random.default_rng(2024)
    cases = []
    shapes = [(5,), (4, 5), (3, 5, 2)]
    kinds = ["index", "ignore_default", "ignore_custom", "all_ignored", "prob"]
    for shape, kind, use_weight, smoothing, reduction in itertools.product(
        shapes, kinds, [False, True], [0.0, 0.2], ["mean", "sum", "none"]
    ):
        num_classes = shape[0] if len(shape) == 1 else shape[1]
        logits = rng.normal(scale=2.0, size=shape)
        kwargs: dict = {"reduction": reduction, "label_smoothing": smoothing}
        if use_weight:
            kwargs["weight"] = (rng.random(num_classes) * 2 + 0.1).tolist()
        y = rng.integers(0, num_classes, size=index_shape(shape))
        if kind == "index":
            target = y
        elif kind == "ignore_default":
            if len(shape) == 1:
                continue  # a single sample is either ignored or not: see all_ignored
            target = y.copy()
            target.reshape(-1)[::2] = -100
        elif kind == "ignore_custom":
            if len(shape) == 1:
                continue
            target = y.copy()
            target.reshape(-1)[1::2] = 1  # ignore_index inside [0, C): ignores class 1
            kwargs["ignore_index"] = 1
        elif kind == "all_ignored":
            target = np.full(index_shape(shape), -100)
        else:
            axis = 0 if len(shape) == 1 else 1
            target = rng.random(shape)
            target /= target.sum(axis=axis, keepdims=True)

        z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
        t = torch.tensor(target)
        torch_kwargs = dict(kwargs)
        if use_weight:
            torch_kwargs["weight"] = torch.tensor(kwargs["weight"], dtype=torch.float64)
        loss = F.cross_entropy(z, t, **torch_kwargs)
        loss.backward(torch.ones_like(loss))
        cases.append(
            {
                "name": f"{shape}-{kind}-w{int(use_weight)}-ls{smoothing}-{reduction}",
                "logits": logits.tolist(),
                "target": target.tolist(),
                "target_is_index": kind != "prob",
                "kwargs": kwargs,
                "loss": loss.detach().numpy().tolist(),
                "grad": z.grad.numpy().tolist(),
            }
        )
    return cases


def main() -> None:
    cases = make_cases()
    meta = {"torch_version": torch.__version__, "numpy_version": np.__version__}
    OUT.write_text(json.dumps({"meta": meta, "cases": cases}, indent=None) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
