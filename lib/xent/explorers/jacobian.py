"""Chapter 3's explorer: the softmax Jacobian diag(p) - p p^T of p = softmax(z) as a heatmap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from ..softmax import softmax, softmax_jacobian
from ..web import Explorer, check_sliders
from .softmax import RANGES as SOFTMAX_RANGES

RANGES = {"z": SOFTMAX_RANGES["z"]}
LOGITS = (1.0, 0.0, -1.0, 0.5)


class JacobianExplorer(Explorer):
    """``J = diag(p) - p p^T`` for ``p = softmax(z)`` (chapter 3); results ``{p, J}``."""

    kind = "jacobian"
    title = "Jacobian explorer: diag(p) \u2212 p p\u1d40"
    state = ("logits", "ranges")

    logits = traitlets.Any(list(LOGITS)).tag(sync=True)
    ranges = traitlets.Dict({k: list(v) for k, v in RANGES.items()}, read_only=True).tag(sync=True)

    @traitlets.validate("logits")
    def _check_logits(self, proposal: dict[str, Any]) -> list[float]:
        return check_sliders(proposal["value"], "logits", RANGES["z"])

    def compute(self) -> dict[str, Any]:
        p = softmax(np.array(self.logits))
        return {"p": p, "J": softmax_jacobian(p)}


def jacobian_explorer(
    logits: Sequence[float] = LOGITS, *, name: str = "jacobian"
) -> JacobianExplorer:
    """Chapter 3: the softmax Jacobian ``diag(p) - p p^T`` of ``p = softmax(z)`` as a heatmap.
    A live widget in Jupyter, kernel-free on the website."""
    return JacobianExplorer(logits=logits, name=name)
