"""Kernel-free explorers: live sliders that run in the reader's browser, no Python needed.

Each function returns a :class:`WebExplorer` whose ``_repr_html_()`` is self-contained HTML:
a ``<style>``, a ``<div class="xent-explorer">`` holding the explorer's settings as JSON, and
an inline ``<script>`` with the package files ``web_assets/xent_math.js`` (the formulas of
``xent`` in JavaScript) and ``web_assets/xent_explorers.js`` (sliders, bars, heatmap).
No framework, no CDN, no random ids: element ids derive from ``name`` (default: the explorer's
kind), so a notebook's stored output is identical on every run. Give ``name`` explicitly when
one page shows the same explorer twice.

The same explorers driven by a Python kernel are in :mod:`xent.explorers`. Both share the
defaults and slider ranges defined here.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any

__all__ = [
    "WebExplorer",
    "ce_gradient_explorer",
    "entropy_explorer",
    "jacobian_explorer",
    "softmax_explorer",
    "weighted_ce_explorer",
]

# Slider ranges (min, max, step), shared with xent.explorers.
RANGES: dict[str, tuple[float, float, float]] = {
    "q": (0.0, 1.0, 0.01),  # unnormalised weights of q (chapter 1)
    "z": (-10.0, 10.0, 0.1),  # logits (chapters 2-4)
    "T": (0.05, 5.0, 0.05),  # softmax temperature (chapter 2)
    "w": (0.0, 5.0, 0.1),  # class weights (chapter 5)
}

# Default settings, shared with xent.explorers.
ENTROPY_P = (0.5, 0.25, 0.125, 0.125)
ENTROPY_Q = (0.25, 0.25, 0.25, 0.25)
SOFTMAX_LOGITS = (2.0, 1.0, 0.1, -1.0)
JACOBIAN_LOGITS = (1.0, 0.0, -1.0, 0.5)
CE_LOGITS = (2.0, 1.0, 0.1, -1.0)
CE_TARGET = 1
# A small fixed batch for chapter 5: six samples, three classes, class 0 over-represented.
WEIGHTED_LOGITS = (
    (2.0, 0.5, -1.0),
    (1.5, 1.0, 0.0),
    (0.2, 0.1, -0.3),
    (3.0, -1.0, 0.5),
    (0.5, 1.2, -0.5),
    (1.0, 0.0, 0.4),
)
WEIGHTED_TARGETS = (0, 0, 0, 0, 1, 2)
WEIGHTED_WEIGHT = (1.0, 1.0, 1.0)

UNITS = ("nats", "bits")
ASSET_FILES = ("xent_math.js", "xent_explorers.js", "xent_explorers.css")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

NOTE = (
    "Runs in your browser: a small script computes the same formulas as xent (the book's tests "
    "check it against xent to 1e-9), no Python kernel needed. In Jupyter, scripts in outputs run "
    "only when the output is trusted; a cell you have just run is."
)
FALLBACK = (
    "This explorer needs JavaScript. In Jupyter, run this cell (or trust the notebook) to start it."
)


def format_number(x: float, digits: int) -> str:
    """A number as the explorers display it, identical to their JavaScript ``fmt``.

    ``x.toFixed(digits)`` of JavaScript: the exact binary value rounded half away from zero
    (Python's ``format`` rounds half to even); ``-0.0000`` shows as ``0.0000``; nan as
    ``nan``; infinities as ``\u221e`` and ``\u2212\u221e``.
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "\u221e" if x > 0 else "\u2212\u221e"
    text = str(Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
    if text.startswith("-") and not any(c in "123456789" for c in text):
        text = text[1:]
    return text


def asset(filename: str) -> str:
    """The text of one file of ``xent/web_assets`` (package data)."""
    if filename not in ASSET_FILES:
        raise ValueError(f"filename must be one of {ASSET_FILES}, got {filename!r}")
    return resources.files("xent").joinpath("web_assets", filename).read_text(encoding="utf-8")


def script_source() -> str:
    """The JavaScript every explorer output carries: the math, then the explorers."""
    return asset("xent_math.js") + "\n" + asset("xent_explorers.js")


class WebExplorer:
    """One kernel-free explorer; display it in Jupyter or a MyST/Jupyter Book page."""

    def __init__(self, kind: str, name: str, title: str, config: dict[str, Any]) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"name must start with a letter and contain only letters, digits, '-' or '_', "
                f"got {name!r}"
            )
        self.kind = kind
        self.name = name
        self.title = title
        self.config = {**config, "ranges": {k: list(v) for k, v in RANGES.items()}}

    @property
    def element_id(self) -> str:
        """The id of the explorer's root element; controls are ``{element_id}-{key}``."""
        return f"xent-{self.name}"

    def __repr__(self) -> str:
        return f"WebExplorer(kind={self.kind!r}, name={self.name!r})"

    def _repr_html_(self) -> str:
        config = json.dumps(self.config, sort_keys=True, separators=(",", ":"))
        script = script_source()
        if "</" in script:
            raise RuntimeError("web_assets scripts must not contain '</' (it would end <script>)")
        return (
            f"<style>{asset('xent_explorers.css')}</style>\n"
            f'<div class="xent-explorer mathjax_ignore tex2jax_ignore" id="{self.element_id}"'
            f' data-explorer="{self.kind}" data-config="{html.escape(config, quote=True)}">\n'
            f'<p class="xent-title">{html.escape(self.title)}</p>\n'
            f'<p class="xent-fallback">{html.escape(FALLBACK)}</p>\n'
            f'<p class="xent-note">{html.escape(NOTE)}</p>\n'
            "</div>\n"
            f"<script>\n{script}\nxentWeb.mountFrom(document.currentScript);\n</script>\n"
        )


# ---- argument checks (shared with xent.explorers) ----


def _floats(
    values: Sequence[float], arg: str, *, min_len: int = 2, max_len: int = 8
) -> list[float]:
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(f"{arg} must be a sequence of numbers, got {values!r}") from None
    if not min_len <= len(out) <= max_len:
        raise ValueError(f"{arg} must have {min_len} to {max_len} entries, got {len(out)}")
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"{arg} must be finite, got {out}")
    return out


def _on_grid(values: Sequence[float], arg: str, key: str) -> None:
    lo, hi, step = RANGES[key]
    for v in values:
        k = (v - lo) / step
        if not (lo - 1e-12 <= v <= hi + 1e-12 and abs(k - round(k)) < 1e-6):
            raise ValueError(
                f"{arg} entries must lie in [{lo}, {hi}] on steps of {step} (slider grid), got {v}"
            )


def check_entropy(p: Sequence[float], q: Sequence[float], unit: str) -> tuple[list, list]:
    """Validate chapter 1's settings; returns (p, q) as lists of floats."""
    p_, q_ = _floats(p, "p"), _floats(q, "q")
    if len(p_) != len(q_):
        raise ValueError(f"p and q must have the same length, got {len(p_)} and {len(q_)}")
    if any(v <= 0 for v in p_) or abs(sum(p_) - 1.0) > 1e-9:
        raise ValueError(f"p must be strictly positive and sum to 1, got {p_}")
    _on_grid(q_, "q", "q")
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    return p_, q_


def check_logits(logits: Sequence[float]) -> list[float]:
    """Validate slider logits (chapters 2-4)."""
    z = _floats(logits, "logits")
    _on_grid(z, "logits", "z")
    return z


def check_temperature(temperature: float) -> float:
    """Validate the chapter 2 temperature slider value."""
    _on_grid([float(temperature)], "temperature", "T")
    return float(temperature)


def check_target(target: int, num_classes: int) -> int:
    """Validate a true-class index (chapter 4)."""
    if isinstance(target, bool) or not isinstance(target, int):
        raise TypeError(f"target must be an int, got {type(target).__name__}")
    if not 0 <= target < num_classes:
        raise ValueError(f"target must be in [0, {num_classes}), got {target}")
    return target


def check_weighted(
    weight: Sequence[float], logits: Sequence[Sequence[float]], targets: Sequence[int]
) -> tuple[list[float], list[list[float]], list[int]]:
    """Validate chapter 5's batch and class weights."""
    rows = [_floats(row, "logits rows") for row in logits]
    if not 1 <= len(rows) <= 12 or len({len(r) for r in rows}) != 1:
        raise ValueError("logits must be 1 to 12 rows of equal length")
    w = _floats(weight, "weight")
    if len(w) != len(rows[0]):
        raise ValueError(f"weight must have one entry per class ({len(rows[0])}), got {len(w)}")
    _on_grid(w, "weight", "w")
    if len(targets) != len(rows):
        raise ValueError(f"targets must have one entry per row ({len(rows)}), got {len(targets)}")
    ys = [check_target(t, len(w)) for t in targets]
    return w, rows, ys


# ---- the five explorers ----


def entropy_explorer(
    p: Sequence[float] = ENTROPY_P,
    q: Sequence[float] = ENTROPY_Q,
    *,
    unit: str = "bits",
    name: str = "entropy",
) -> WebExplorer:
    """Chapter 1: H(p), H(p, q), H(q, p) and KL(p || q) for a fixed p; q = slider weights / sum."""
    p_, q_ = check_entropy(p, q, unit)
    return WebExplorer(
        "entropy",
        name,
        "Entropy explorer: cross-entropy and KL of p against your q",
        {"p": p_, "q": q_, "unit": unit},
    )


def softmax_explorer(
    logits: Sequence[float] = SOFTMAX_LOGITS, temperature: float = 1.0, *, name: str = "softmax"
) -> WebExplorer:
    """Chapter 2: p = softmax(z / T) as bars, for logits z and temperature T set by sliders."""
    return WebExplorer(
        "softmax",
        name,
        "Softmax explorer: logits and temperature",
        {"logits": check_logits(logits), "temperature": check_temperature(temperature)},
    )


def jacobian_explorer(
    logits: Sequence[float] = JACOBIAN_LOGITS, *, name: str = "jacobian"
) -> WebExplorer:
    """Chapter 3: the softmax Jacobian diag(p) - p p^T of p = softmax(z) as a heatmap."""
    return WebExplorer(
        "jacobian",
        name,
        "Jacobian explorer: diag(p) \u2212 p p\u1d40",
        {"logits": check_logits(logits)},
    )


def ce_gradient_explorer(
    logits: Sequence[float] = CE_LOGITS, target: int = CE_TARGET, *, name: str = "ce-gradient"
) -> WebExplorer:
    """Chapter 4: loss -log p_y and gradient p - onehot(y) for one sample."""
    z = check_logits(logits)
    return WebExplorer(
        "ce_gradient",
        name,
        "Cross-entropy gradient explorer: p \u2212 y",
        {"logits": z, "target": check_target(target, len(z))},
    )


def weighted_ce_explorer(
    weight: Sequence[float] = WEIGHTED_WEIGHT,
    logits: Sequence[Sequence[float]] = WEIGHTED_LOGITS,
    targets: Sequence[int] = WEIGHTED_TARGETS,
    *,
    name: str = "weighted-ce",
) -> WebExplorer:
    """Chapter 5: class-weighted mean loss (divided by the sum of target weights) on a batch."""
    w, rows, ys = check_weighted(weight, logits, targets)
    return WebExplorer(
        "weighted_ce",
        name,
        "Weighted cross-entropy explorer: class weights on a small batch",
        {"weight": w, "logits": rows, "targets": ys},
    )
