"""Chapter 7's explorer: a few labels' logits as independent sigmoids beside one softmax."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from ..binary import binary_cross_entropy_with_logits_and_grad, sigmoid
from ..softmax import softmax
from ..web import Explorer, check_floats, check_int, check_sliders

#: slider range (min, max, step) of the logits
RANGES = {"x": (-8.0, 8.0, 0.1)}
LOGITS = (2.0, 1.5, -1.0, -3.0)
TARGETS = (1, 1, 0, 0)


class MultilabelExplorer(Explorer):
    """Per label c: ``sigmoid(x_c)``, ``softmax(x)_c``, the binary cross-entropy against
    ``t_c`` and its gradient ``sigmoid(x_c) - t_c`` (chapter 7); results ``{sigmoid, softmax,
    loss, grad, loss_mean, sum_sigmoid}``."""

    kind = "multilabel"
    title = "Multi-label explorer: independent sigmoids beside one softmax"
    state = ("logits", "targets", "ranges")

    logits = traitlets.Any(list(LOGITS)).tag(sync=True)
    targets = traitlets.Any(list(TARGETS)).tag(sync=True)
    ranges = traitlets.Dict({k: list(v) for k, v in RANGES.items()}, read_only=True).tag(sync=True)

    @traitlets.validate("logits")
    def _check_logits(self, proposal: dict[str, Any]) -> list[float]:
        return check_sliders(proposal["value"], "logits", RANGES["x"])

    @traitlets.validate("targets")
    def _check_targets(self, proposal: dict[str, Any]) -> list[int]:
        values = proposal["value"]
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise TypeError(f"targets must be a sequence of 0/1 labels, got {values!r}")
        return [check_int(t, "targets", 0, 2) for t in values]

    def compute(self) -> dict[str, Any]:
        x = np.array(self.logits, dtype=np.float64)
        t = np.array(self.targets, dtype=np.float64)
        if t.shape != x.shape:
            raise ValueError(f"targets must have one entry per logit ({len(x)}), got {len(t)}")
        loss, grad = binary_cross_entropy_with_logits_and_grad(x, t, reduction="none")
        sig = sigmoid(x)
        return {
            "sigmoid": sig,
            "softmax": softmax(x),
            "loss": loss,
            "grad": grad,
            "loss_mean": float(loss.mean()),
            "sum_sigmoid": float(sig.sum()),
        }


def multilabel_explorer(
    logits: Sequence[float] = LOGITS, targets: Sequence[int] = TARGETS, *,
    name: str = "multilabel",
) -> MultilabelExplorer:
    """Chapter 7: the logits of a few labels as independent sigmoids beside the softmax of the
    same logits, with each label's binary cross-entropy and gradient. A live widget in Jupyter
    (``w.logits = [...]``, ``w.targets = [1, 0, ...]``), kernel-free on the book's website."""
    x = check_floats(logits, "logits")
    if isinstance(targets, (str, bytes)) or len(targets) != len(x):
        raise ValueError(f"targets must have one 0/1 entry per logit ({len(x)}), got {targets!r}")
    return MultilabelExplorer(logits=x, targets=list(targets), name=name)
