"""OPTIONAL: regenerate ``tests/data/torch_reference_bce.json`` from PyTorch.

PyTorch is *not* a requirement of the book or of the tests: the JSON file is committed, and
``tests/test_binary.py`` compares ``xent.sigmoid`` and ``xent.binary_cross_entropy_with_logits``
(loss and gradient) against it on every run. Only rerun this script to add cases, with the
reference version:

    .venv/bin/pip install torch==2.13.0
    .venv/bin/python tests/data/make_torch_reference_bce.py

Each case stores the inputs (logits, target, weight, pos_weight as float64 lists, and the dtype
they were computed in) and torch's loss and gradient (``loss.backward(ones_like(loss))``, the
gradient of the summed losses for reduction='none'). float32 results are stored as the float64
numbers they are exactly.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).with_name("torch_reference_bce.json")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def run_case(name, logits, target, weight, pos_weight, reduction, dtype) -> dict:
    tdt = DTYPES[dtype]
    z = torch.tensor(logits, dtype=tdt, requires_grad=True)
    kwargs = {"reduction": reduction}
    if weight is not None:
        kwargs["weight"] = torch.tensor(weight, dtype=tdt)
    if pos_weight is not None:
        kwargs["pos_weight"] = torch.tensor(pos_weight, dtype=tdt)
    loss = F.binary_cross_entropy_with_logits(z, torch.tensor(target, dtype=tdt), **kwargs)
    loss.backward(torch.ones_like(loss))

    def listed(a):
        return None if a is None else np.asarray(a, dtype=np.float64).tolist()

    return {
        "name": name,
        "dtype": dtype,
        "logits": listed(logits),
        "target": listed(target),
        "weight": listed(weight),
        "pos_weight": listed(pos_weight),
        "reduction": reduction,
        "loss": loss.detach().double().numpy().tolist(),
        "grad": z.grad.double().numpy().tolist(),
    }


def make_cases() -> list[dict]:
    rng = np.random.default_rng(7)
    cases = []
    shapes = [(), (5,), (4, 3), (2, 3, 4)]
    for shape, soft, wkind, use_pw, reduction in itertools.product(
        shapes, [False, True], ["none", "full", "last", "rows"], [False, True],
        ["mean", "sum", "none"],
    ):
        num_labels = shape[-1] if shape else 1
        if wkind == "rows" and len(shape) < 2:
            continue  # (N, 1) broadcasting needs at least two axes
        if wkind == "last" and not shape:
            continue
        logits = rng.normal(scale=3.0, size=shape)
        target = rng.random(shape) if soft else (rng.random(shape) < 0.4).astype(np.float64)
        weight = {
            "none": None,
            "full": rng.random(shape) * 2,
            "last": rng.random(num_labels) * 2 + 0.1,
            "rows": rng.random((*shape[:-1], 1)) * 2 + 0.1,
        }[wkind]
        pos_weight = (rng.random(num_labels) * 4 + 0.2) if use_pw and shape else None
        if use_pw and not shape:
            pos_weight = np.float64(3.0)
        name = f"{shape}-{'soft' if soft else 'hard'}-w_{wkind}-pw{int(use_pw)}-{reduction}"
        cases.append(run_case(name, logits, target, weight, pos_weight, reduction, "float64"))

    # Extreme logits, both dtypes, hard and soft targets, with and without pos_weight.
    big = np.array([-1e4, -1e3, -100.0, -30.0, -5.0, 0.0, 5.0, 30.0, 100.0, 1e3, 1e4])
    logits = np.stack([big, big, big])
    target = np.stack([np.zeros_like(big), np.ones_like(big), np.full_like(big, 0.3)])
    for dtype, pw, reduction in itertools.product(["float32", "float64"], [False, True],
                                                  ["none", "sum"]):
        pos_weight = np.linspace(0.5, 3.0, big.size) if pw else None
        cases.append(run_case(f"extreme-{dtype}-pw{int(pw)}-{reduction}", logits, target, None,
                              pos_weight, reduction, dtype))
    return cases


def sigmoid_cases() -> list[dict]:
    x = np.array([-1e4, -1e3, -200.0, -100.0, -88.0, -40.0, -20.0, -1.0, -1e-8, 0.0, 1e-8, 1.0,
                  20.0, 40.0, 88.0, 100.0, 200.0, 1e3, 1e4])
    out = []
    for dtype, tdt in DTYPES.items():
        out.append({"dtype": dtype, "x": x.tolist(),
                    "sigmoid": torch.sigmoid(torch.tensor(x, dtype=tdt)).double().numpy().tolist()})
    return out


def main() -> None:
    doc = {
        "meta": {"torch_version": torch.__version__, "numpy_version": np.__version__},
        "cases": make_cases(),
        "sigmoid": sigmoid_cases(),
    }
    OUT.write_text(json.dumps(doc, indent=0) + "\n")
    print(f"wrote {len(doc['cases'])} BCE cases and {len(doc['sigmoid'])} sigmoid cases to {OUT}")


if __name__ == "__main__":
    main()
