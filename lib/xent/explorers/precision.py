"""Chapter 9's explorer: one softmax in float16, bfloat16 or float32 arithmetic, side by side.

The naive softmax, the stable softmax, ``log(softmax)`` and ``log_softmax`` of the reader's
logits, every intermediate result rounded to the chosen format (``xent.precision``), with the
classes whose ``exp`` overflowed or whose probability underflowed marked. The website computes
the same with ``web_assets/explorers/precision.js``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from ..precision import emulate_softmax, exp_thresholds, round_to
from ..web import Explorer, check_sliders

#: slider range (min, max, step) of the logits: wide enough for float32's thresholds (88.72,
#: -103.97), fine enough for float16's (11.09, -17.33)
RANGES = {"z": (-120.0, 120.0, 0.5)}
LOGITS = (12.0, 0.0, -2.0, -18.0)
DTYPES = ("float16", "bfloat16", "float32")


class PrecisionExplorer(Explorer):
    """Softmax four ways in an emulated format (chapter 9); ``results`` = the rounded logits
    ``z``, ``naive``, ``stable``, ``log_of_softmax``, ``log_softmax``, the 0/1 marks
    ``overflow`` (exp(z_c) = inf) and ``underflow`` (exp(z_c - max) = 0), the format's
    thresholds ``exp_overflows_from`` and ``exp_zero_from``, and the sums of both softmaxes."""

    kind = "precision"
    title = "Precision explorer: one softmax in float16, bfloat16 and float32"
    state = ("logits", "dtype", "ranges")

    logits = traitlets.Any(list(LOGITS)).tag(sync=True)
    dtype = traitlets.Any("float16").tag(sync=True)
    ranges = traitlets.Dict({k: list(v) for k, v in RANGES.items()}, read_only=True).tag(sync=True)

    @traitlets.validate("logits")
    def _check_logits(self, proposal: dict[str, Any]) -> list[float]:
        return check_sliders(proposal["value"], "logits", RANGES["z"])

    @traitlets.validate("dtype")
    def _check_dtype(self, proposal: dict[str, Any]) -> str:
        value = proposal["value"]
        if not isinstance(value, str):
            raise TypeError(f"dtype must be one of {DTYPES}, got {value!r}")
        if value not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {value!r}")
        return value

    def compute(self) -> dict[str, Any]:
        out = emulate_softmax(np.array(self.logits), self.dtype)
        z = out["z"]  # the logits as stored in the format
        shifted = round_to(z - z.max(), self.dtype)
        thresholds = exp_thresholds(self.dtype)
        return {
            **out,
            "overflow": (_rounded_exp(z, self.dtype) == np.inf).astype(int),
            "underflow": (_rounded_exp(shifted, self.dtype) == 0).astype(int),
            "exp_overflows_from": thresholds.overflow,
            "exp_zero_from": thresholds.underflow,
            "sum_naive": float(sum(out["naive"].tolist())),
            "sum_stable": float(sum(out["stable"].tolist())),
        }


def _rounded_exp(x: np.ndarray, dtype: str) -> np.ndarray:
    """``exp(x)`` rounded to the format, as emulate_softmax computes it."""
    with np.errstate(over="ignore"):
        return round_to(np.exp(x), dtype)


def precision_explorer(
    logits: Sequence[float] = LOGITS, dtype: str = "float16", *, name: str = "precision"
) -> PrecisionExplorer:
    """Chapter 9: the naive and stable softmax, ``log(softmax)`` and ``log_softmax`` of the
    logits in float16, bfloat16 or float32 arithmetic (emulated exactly), side by side.

    A live widget in Jupyter (``w.dtype = "bfloat16"``, ``w.logits = [90, 0]``; ``w.results``
    holds the numbers from :func:`xent.precision.emulate_softmax`) and a kernel-free view on the
    book's website.
    """
    return PrecisionExplorer(logits=list(logits), dtype=dtype, name=name)
