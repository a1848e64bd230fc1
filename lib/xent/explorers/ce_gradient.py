"""Chapter 4's explorer: the loss -log p_y and its gradient p - onehot(y) for one sample."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from ..losses import cross_entropy, cross_entropy_grad
from ..softmax import softmax
from ..web import Explorer, check_floats, check_int, check_sliders
from .softmax import RANGES as SOFTMAX_RANGES

RANGES = {"z": SOFTMAX_RANGES["z"]}
LOGITS = (2.0, 1.0, 0.1, -1.0)
TARGET = 1


class CeGradientExplorer(Explorer):
    """``L = -log softmax(z)_y`` and ``dL/dz = p - onehot(y)`` (chapter 4); results
    ``{loss, p, p_y, grad}``."""

    kind = "ce_gradient"
    title = "Cross-entropy gradient explorer: p \u2212 e_y"
    state = ("logits", "target", "ranges")

    logits = traitlets.Any(list(LOGITS)).tag(sync=True)
    target = traitlets.Any(TARGET).tag(sync=True)
    ranges = traitlets.Dict({k: list(v) for k, v in RANGES.items()}, read_only=True).tag(sync=True)

    @traitlets.validate("logits")
    def _check_logits(self, proposal: dict[str, Any]) -> list[float]:
        z = check_sliders(proposal["value"], "logits", RANGES["z"])
        if self.target >= len(z):
            raise ValueError(f"logits must have more than target = {self.target} entries")
        return z

    @traitlets.validate("target")
    def _check_target(self, proposal: dict[str, Any]) -> int:
        return check_int(proposal["value"], "target", 0, len(self.logits))

    def compute(self) -> dict[str, Any]:
        z, y = np.array(self.logits), self.target
        p = softmax(z)
        return {
            "loss": float(cross_entropy(z, y)),
            "p": p,
            "p_y": float(p[y]),
            "grad": cross_entropy_grad(z, y),
        }


def ce_gradient_explorer(
    logits: Sequence[float] = LOGITS, target: int = TARGET, *, name: str = "ce-gradient"
) -> CeGradientExplorer:
    """Chapter 4: the loss ``-log p_y`` and its gradient ``p - onehot(y)`` for one sample.
    A live widget in Jupyter, kernel-free on the website."""
    z = check_floats(logits, "logits")
    check_int(target, "target", 0, len(z))
    return CeGradientExplorer(logits=z, target=target, name=name)
