"""Chapter 1's explorer: H(p), H(p, q), H(q, p) and KL(p || q), fixed p, q set by sliders.

The state and results use the letters of :mod:`xent.info` (``p``, ``q``); the reader sees
chapter 1's letters, the source ``a`` (``p`` here) and the distribution ``b`` (``q`` here),
because in the book ``p`` is always the model (the Notation page)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from .. import info
from ..web import Explorer, check_floats, check_sliders

RANGES = {"q": (0.0, 1.0, 0.01)}  # unnormalised weights of q
P = (0.5, 0.25, 0.125, 0.125)
Q = (0.25, 0.25, 0.25, 0.25)
UNITS = ("nats", "bits")


class EntropyExplorer(Explorer):
    """``q = weights / sum(weights)`` (uniform if all are 0) against a fixed ``p``; results
    ``{p, q, H_p, H_pq, H_qp, KL_pq}`` in the chosen unit (chapter 1)."""

    kind = "entropy"
    title = "Entropy explorer: cross-entropy and KL of a against your b"
    state = ("p", "q", "unit", "ranges")

    p = traitlets.Any(list(P)).tag(sync=True)
    q = traitlets.Any(list(Q)).tag(sync=True)
    unit = traitlets.Any("bits").tag(sync=True)
    ranges = traitlets.Dict({k: list(v) for k, v in RANGES.items()}, read_only=True).tag(sync=True)

    @traitlets.validate("p")
    def _check_p(self, proposal: dict[str, Any]) -> list[float]:
        p = check_floats(proposal["value"], "p")
        if any(v <= 0 for v in p) or abs(sum(p) - 1.0) > 1e-9:
            raise ValueError(f"p must be strictly positive and sum to 1, got {p}")
        return p

    @traitlets.validate("q")
    def _check_q(self, proposal: dict[str, Any]) -> list[float]:
        return check_sliders(proposal["value"], "q", RANGES["q"])

    @traitlets.validate("unit")
    def _check_unit(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {proposal['value']!r}")
        return proposal["value"]

    def compute(self) -> dict[str, Any]:
        p, w = np.array(self.p), np.array(self.q)
        if len(w) != len(p):
            raise ValueError(f"p and q must have the same length, got {len(p)} and {len(w)}")
        q = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
        base = 2.0 if self.unit == "bits" else None
        return {
            "p": p,
            "q": q,
            "H_p": float(info.entropy(p, base=base)),
            "H_pq": float(info.cross_entropy(p, q, base=base)),
            "H_qp": float(info.cross_entropy(q, p, base=base)),
            "KL_pq": float(info.kl_divergence(p, q, base=base)),
        }


def entropy_explorer(
    p: Sequence[float] = P, q: Sequence[float] = Q, *, unit: str = "bits", name: str = "entropy"
) -> EntropyExplorer:
    """Chapter 1: ``H(p)``, ``H(p, q)``, ``H(q, p)`` and ``KL(p || q)`` for a fixed ``p``;
    ``q`` = slider weights / their sum. A live widget in Jupyter, kernel-free on the website."""
    p, q = check_floats(p, "p"), check_floats(q, "q")
    if len(p) != len(q):
        raise ValueError(f"p and q must have the same length, got {len(p)} and {len(q)}")
    return EntropyExplorer(p=p, q=q, unit=unit, name=name)
