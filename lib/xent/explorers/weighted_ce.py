"""Chapter 5's explorer: class weights on a fixed batch, loss sum_i w[y_i] l_i / sum_i w[y_i]."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from ..losses import cross_entropy, cross_entropy_and_grad
from ..web import Explorer, check_floats, check_int, check_sliders

RANGES = {"w": (0.0, 5.0, 0.1)}  # class weights
# A small fixed batch: six samples, three classes, class 0 over-represented.
LOGITS = (
    (2.0, 0.5, -1.0),
    (1.5, 1.0, 0.0),
    (0.2, 0.1, -0.3),
    (3.0, -1.0, 0.5),
    (0.5, 1.2, -0.5),
    (1.0, 0.0, 0.4),
)
TARGETS = (0, 0, 0, 0, 1, 2)
WEIGHT = (1.0, 1.0, 1.0)


class WeightedCeExplorer(Explorer):
    """The class-weighted mean loss of chapter 5 on a fixed batch; results ``{loss, normalizer,
    loss_unweighted, grad_norm, grad_norm_unweighted}`` (norms of the rows of dL/dz)."""

    kind = "weighted_ce"
    title = "Weighted cross-entropy explorer: class weights on a small batch"
    state = ("weight", "logits", "targets", "ranges")

    weight = traitlets.Any(list(WEIGHT)).tag(sync=True)
    logits = traitlets.Any([list(r) for r in LOGITS]).tag(sync=True)
    targets = traitlets.Any(list(TARGETS)).tag(sync=True)
    ranges = traitlets.Dict({k: list(v) for k, v in RANGES.items()}, read_only=True).tag(sync=True)

    @traitlets.validate("weight")
    def _check_weight(self, proposal: dict[str, Any]) -> list[float]:
        return check_sliders(proposal["value"], "weight", RANGES["w"])

    @traitlets.validate("logits")
    def _check_logits(self, proposal: dict[str, Any]) -> list[list[float]]:
        rows = [check_floats(row, "logits rows") for row in proposal["value"]]
        if not 1 <= len(rows) <= 12 or len({len(r) for r in rows}) != 1:
            raise ValueError("logits must be 1 to 12 rows of equal length")
        return rows

    @traitlets.validate("targets")
    def _check_targets(self, proposal: dict[str, Any]) -> list[int]:
        return [check_int(t, "targets", 0, 8) for t in proposal["value"]]

    def compute(self) -> dict[str, Any]:
        z, y, w = np.array(self.logits), np.array(self.targets), np.array(self.weight)
        if z.shape[1] != len(w) or len(y) != len(z) or y.max() >= len(w):
            raise ValueError(
                f"weight must have one entry per class ({z.shape[1]}) and targets one valid "
                f"class per row ({len(z)}); got {len(w)} weights and targets {y.tolist()}"
            )
        loss, grad = cross_entropy_and_grad(z, y, weight=w)
        _, grad_plain = cross_entropy_and_grad(z, y)
        return {
            "loss": float(loss),
            "normalizer": float(w[y].sum()),
            "loss_unweighted": float(cross_entropy(z, y)),
            "grad_norm": np.linalg.norm(grad, axis=1),
            "grad_norm_unweighted": np.linalg.norm(grad_plain, axis=1),
        }


def weighted_ce_explorer(
    weight: Sequence[float] = WEIGHT,
    logits: Sequence[Sequence[float]] = LOGITS,
    targets: Sequence[int] = TARGETS,
    *,
    name: str = "weighted-ce",
) -> WeightedCeExplorer:
    """Chapter 5: the class-weighted mean loss (divided by the sum of target weights) on a
    batch, and each sample's gradient size. A live widget in Jupyter, kernel-free on the website."""
    rows = [list(r) for r in logits]
    if len(check_floats(weight, "weight")) != len(rows[0]):
        raise ValueError(
            f"weight must have one entry per class ({len(rows[0])}), got {len(weight)}"
        )
    if len(targets) != len(rows):
        raise ValueError(
            f"targets must have one entry per row ({len(rows)}), got {len(targets)}"
        )
    for t in targets:
        check_int(t, "targets", 0, len(rows[0]))
    return WeightedCeExplorer(weight=weight, logits=rows, targets=list(targets), name=name)
