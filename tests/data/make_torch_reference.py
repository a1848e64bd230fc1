"""OPTIONAL: regenerate ``tests/data/torch_reference.json`` from PyTorch.

PyTorch is *not* a requirement of the book or of the tests: the JSON file is committed,
and ``tests/test_losses.py`` compares ``xent.cross_entropy`` / ``xent.cross_entropy_grad``
against it on every run. Only rerun this script to add cases, with the reference version:

    .venv/bin/pip install torch==2.13.0
    .venv/bin/python tests/data/make_torch_reference.py

Each case stores the inputs (float64 logits, target, keyword arguments) and torch's loss
and gradient (``loss.backward(ones_like(loss))``, i.e. the gradient of the summed losses
for reduction='none').

The "regime" cases (issue 10) also store a ``dtype``: their logits are exact in it, ``loss``
and ``grad`` are torch's at that dtype and ``loss64``/``grad64`` torch's float64 result on the
same inputs, so tests/test_losses.py can check, without torch, that xent's error is never
worse than torch's own: exp overflow and underflow, huge logits, -inf masks (also on the
target), zero weights with smoothing ('mean' of nothing: nan), all targets ignored.
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


def torch_result(logits, target, kwargs, dtype):
    z = torch.tensor(logits, dtype=dtype, requires_grad=True)
    kw = dict(kwargs)
    if "weight" in kw:
        kw["weight"] = torch.tensor(kw["weight"], dtype=dtype)
    loss = F.cross_entropy(z, torch.tensor(target), **kw)
    loss.backward(torch.ones_like(loss))
    return loss.detach().double().numpy().tolist(), z.grad.double().numpy().tolist()


def make_regime_cases() -> list[dict]:
    rng = np.random.default_rng(2026)
    cases = []
    for dtype_name, dtype, big, low, gap in [
        ("float32", np.float32, 84.0, -60.0, (-30.0, -100.0)),
        ("float64", np.float64, 705.0, -650.0, (-590.0, -720.0)),
    ]:
        n, c = 16, 6
        y = rng.integers(0, c, size=n)
        regimes = {
            "overflow": big + rng.normal(size=(n, c)),
            "overflow_spread": big + 3 * rng.normal(size=(n, c)),
            "underflow": low + 30 * rng.normal(size=(n, c)),
            "huge": rng.uniform(-1e4, 1e4, size=(n, c)),
            "masked": np.where(rng.random((n, c)) < 0.4, -np.inf, rng.normal(scale=3, size=(n, c))),
        }
        # one logit per row well above the others: the others' exp is subnormal, their p not
        regimes["underflow_gap"] = gap[1] + 3 * rng.normal(size=(n, c))
        regimes["underflow_gap"][np.arange(n), rng.integers(0, c, size=n)] = gap[0]
        regimes["masked"][np.arange(n), y] = rng.normal(size=n)  # targets finite
        regimes["masked"][0, :] = [-np.inf] * (c - 1) + [1.0]
        regimes["masked_target"] = regimes["masked"].copy()
        regimes["masked_target"][1, y[1]] = -np.inf
        for regime, logits in regimes.items():
            logits = logits.astype(dtype).astype(np.float64)
            for kwargs in [
                {"reduction": "mean", "label_smoothing": 0.0},
                {"reduction": "sum", "label_smoothing": 0.0, "weight": [1e-7] * c},
                {"reduction": "none", "label_smoothing": 0.2,
                 "weight": np.round(rng.uniform(0.1, 2, c), 3).tolist()},
            ]:  # fmt: skip
                cases.append(regime_case(f"{regime}-{dtype_name}", logits, y, kwargs, dtype_name))
        logits = rng.normal(scale=3, size=(n, c)).astype(dtype).astype(np.float64)
        zero_w = {"reduction": "mean", "label_smoothing": 0.3, "weight": [0.0] + [1.0] * (c - 1)}
        cases.append(regime_case(f"zero_weight_sum-{dtype_name}", logits, np.zeros(n, int),
                                 zero_w, dtype_name))  # fmt: skip
        ignored = {"reduction": "mean", "label_smoothing": 0.1}
        cases.append(regime_case(f"all_ignored-{dtype_name}", logits, np.full(n, -100), ignored,
                                 dtype_name))  # fmt: skip
    return cases


def regime_case(name, logits, target, kwargs, dtype_name) -> dict:
    loss, grad = torch_result(logits, target, kwargs, getattr(torch, dtype_name))
    loss64, grad64 = torch_result(logits, target, kwargs, torch.float64)
    return {
        "name": f"regime-{name}-{kwargs['reduction']}-ls{kwargs['label_smoothing']}"
        f"-w{int('weight' in kwargs)}",
        "dtype": dtype_name, "logits": logits.tolist(), "target": target.tolist(),
        "target_is_index": True, "kwargs": kwargs, "loss": loss, "grad": grad,
        "loss64": loss64, "grad64": grad64,
    }  # fmt: skip


def main() -> None:
    cases = make_cases() + make_regime_cases()
    meta = {"torch_version": torch.__version__, "numpy_version": np.__version__}
    OUT.write_text(json.dumps({"meta": meta, "cases": cases}, indent=None) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
