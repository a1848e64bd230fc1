"""Chapter 8's explorer: temperature scaling of chapter 6's model on the official test set."""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from typing import Any

import numpy as np
import traitlets

from ..losses import cross_entropy
from ..metrics import accuracy, expected_calibration_error, reliability_curve
from ..softmax import softmax
from ..web import ASSETS, Explorer, check_floats, check_slider

#: slider range (min, max, step) of the temperature
RANGES = {"T": (0.5, 3.0, 0.01)}
N_BINS = 15
_DATA_LINE = re.compile(r"^const DATA = (\{.*\});$", re.MULTILINE)


@cache
def explorer_data() -> tuple[np.ndarray, np.ndarray]:
    """The explorer's data, read from its JS file (one copy for the site and the widget):
    chapter 6's validation-run model's test logits minus each row's maximum, rounded to
    float16, as float64, and the labels. Written by ``tools/make_fashion_mnist_logits.py --web``."""
    text = (ASSETS / "explorers" / "calibration.js").read_text(encoding="utf-8")
    match = _DATA_LINE.search(text)
    if match is None:
        raise ValueError("calibration.js: no DATA line "
                         "(run tools/make_fashion_mnist_logits.py --web)")
    meta = json.loads(match.group(1))
    raw = base64.b64decode(meta["b64"])
    n, c = meta["n"], meta["c"]
    labels = np.frombuffer(raw[:n], dtype=np.uint8).astype(np.int64)
    logits = np.frombuffer(raw[n:], dtype="<f2").reshape(n, c).astype(np.float64)
    return logits, labels


class CalibrationExplorer(Explorer):
    """softmax(z / T) of the shipped test logits for a temperature T (chapter 8); results
    ``{temperature, fitted_temperature (nan if None), ece, nll, brier, accuracy, confidence,
    bin_accuracy, count, gap}``, the last four per bin (15 bins; nan in empty bins)."""

    kind = "calibration"
    title = "Temperature scaling explorer: reliability diagram of chapter 6's model"
    state = ("temperature", "fitted_temperature", "ranges")

    temperature = traitlets.Any(1.0).tag(sync=True)
    fitted_temperature = traitlets.Any(None).tag(sync=True)
    ranges = traitlets.Dict({k: list(v) for k, v in RANGES.items()}, read_only=True).tag(sync=True)

    @traitlets.validate("temperature")
    def _check_temperature(self, proposal: dict[str, Any]) -> float:
        return check_slider(proposal["value"], "temperature", RANGES["T"])

    @traitlets.validate("fitted_temperature")
    def _check_fitted(self, proposal: dict[str, Any]) -> float | None:
        if proposal["value"] is None:
            return None
        (t,) = check_floats([proposal["value"]], "fitted_temperature", min_len=1)
        if t <= 0:
            raise ValueError(f"fitted_temperature must be > 0, got {t}")
        return t

    def compute(self) -> dict[str, Any]:
        z, y = explorer_data()
        scaled = z / self.temperature
        p = softmax(scaled, axis=1)
        curve = reliability_curve(p, y, N_BINS)
        onehot = np.eye(z.shape[1])[y]
        fitted = self.fitted_temperature
        return {
            "temperature": self.temperature,
            "fitted_temperature": float("nan") if fitted is None else fitted,
            "ece": expected_calibration_error(p, y, N_BINS),
            "nll": float(cross_entropy(scaled, y)),
            "brier": float(np.mean(np.sum((p - onehot) ** 2, axis=1))),
            "accuracy": accuracy(y, z.argmax(axis=1)),
            "confidence": curve.confidence,
            "bin_accuracy": curve.accuracy,
            "count": curve.count,
            "gap": curve.accuracy - curve.confidence,  # nan in empty bins
        }


def calibration_explorer(
    temperature: float = 1.0, fitted_temperature: float | None = None, *,
    name: str = "calibration",
) -> CalibrationExplorer:
    """Chapter 8: a temperature slider over chapter 6's test logits; the reliability diagram,
    ECE, NLL, Brier score and accuracy of softmax(z / T), with the fitted T marked. A live widget
    in Jupyter (``w.temperature = 1.5``), kernel-free on the book's website."""
    return CalibrationExplorer(temperature=temperature, fitted_temperature=fitted_temperature,
                               name=name)
