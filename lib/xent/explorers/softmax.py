"""Chapter 2's explorer: p = softmax(z / T) for logits z and temperature T set by sliders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from ..softmax import softmax
from ..web import Explorer, check_slider, check_sliders

#: slider ranges (min, max, step) of the logits and the temperature
RANGES = {"z": (-10.0, 10.0, 0.1), "T": (0.05, 5.0, 0.05)}
LOGITS = (2.0, 1.0, 0.1, -1.0)


class SoftmaxExplorer(Explorer):
    """``p = softmax(z / T)`` (chapter 2) as bars; ``results = {p, sum_p}``."""

    kind = "softmax"
    title = "Softmax explorer: logits and temperature"
    state = ("logits", "temperature", "ranges")

    logits = traitlets.Any(list(LOGITS)).tag(sync=True)
    temperature = traitlets.Any(1.0).tag(sync=True)
    ranges = traitlets.Dict({k: list(v) for k, v in RANGES.items()}, read_only=True).tag(sync=True)

    @traitlets.validate("logits")
    def _check_logits(self, proposal: dict[str, Any]) -> list[float]:
        return check_sliders(proposal["value"], "logits", RANGES["z"])

    @traitlets.validate("temperature")
    def _check_temperature(self, proposal: dict[str, Any]) -> float:
        return check_slider(proposal["value"], "temperature", RANGES["T"])

    def compute(self) -> dict[str, Any]:
        p = softmax(np.array(self.logits), temperature=self.temperature)
        return {"p": p, "sum_p": float(p.sum())}


def softmax_explorer(
    logits: Sequence[float] = LOGITS, temperature: float = 1.0, *, name: str = "softmax"
) -> SoftmaxExplorer:
    """Chapter 2: ``p = softmax(z / T)`` as bars, for logits ``z`` and temperature ``T``.

    A live widget in Jupyter (``w.logits = [3, 1, 0]`` moves it; ``w.results`` holds p from
    xent) and a kernel-free view on the book's website.
    """
    return SoftmaxExplorer(logits=list(logits), temperature=temperature, name=name)
