"""Explorers driven by Python: ipywidgets sliders whose numbers are computed by ``xent``.

These need a running Jupyter kernel (on the static website they would be dead controls, so
the book shows :mod:`xent.web`'s in-browser twins there). Each function returns an
:class:`Explorer`, an ``ipywidgets.VBox`` whose ``controls`` dict holds the sliders and
dropdowns and whose ``output`` is an ``ipywidgets.HTML`` showing the results. Every
displayed number sits in ``<span data-name=... data-value=...>``; :meth:`Explorer.numbers`
reads them back (the tests set ``controls[...].value`` and compare these with ``xent``).
Defaults, slider ranges and number formatting are shared with :mod:`xent.web`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import numpy as np

from . import info
from .losses import cross_entropy, cross_entropy_and_grad, cross_entropy_grad
from .softmax import softmax, softmax_jacobian
from .web import (
    CE_LOGITS,
    CE_TARGET,
    ENTROPY_P,
    ENTROPY_Q,
    JACOBIAN_LOGITS,
    RANGES,
    SOFTMAX_LOGITS,
    WEIGHTED_LOGITS,
    WEIGHTED_TARGETS,
    WEIGHTED_WEIGHT,
    asset,
    check_entropy,
    check_logits,
    check_target,
    check_temperature,
    check_weighted,
    format_number,
)

__all__ = [
    "Explorer",
    "ce_gradient_explorer",
    "entropy_explorer",
    "jacobian_explorer",
    "read_numbers",
    "softmax_explorer",
    "weighted_ce_explorer",
]

_SUB = str.maketrans("0123456789", "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089")
_NUMBER = re.compile(r'data-name="([^"]+)" data-value="([^"]+)"')


def read_numbers(html_text: str) -> dict[str, float]:
    """The displayed numbers of an explorer's HTML, ``{data-name: float(data-value)}``."""
    return {name: float(value) for name, value in _NUMBER.findall(html_text)}


# ---- HTML pieces (same classes and layout as web_assets/xent_explorers.js) ----


def _num(name: str, value: float, digits: int = 4) -> str:
    value = float(value)
    return (
        f'<span class="xent-num" data-name="{name}" data-value="{value!r}">'
        f"{format_number(value, digits)}</span>"
    )


def _bars(
    items: Sequence[tuple[str, str, float]],
    scale: float,
    *,
    signed: bool = False,
    cls: str = "",
) -> str:
    """Rows ``(name, label, value)`` as horizontal bars; a full bar is ``scale``."""
    rows = []
    for name, label, value in items:
        frac = min(1.0, abs(value) / scale) if np.isfinite(value) else 0.0
        width = (50 if signed else 100) * frac
        style = f"width:{width:.2f}%;"
        neg = signed and value < 0
        if signed:
            style += "right:50%;" if neg else "left:50%;"
        fill_cls = f"xent-fill {cls}" + (" xent-neg" if neg else "")
        rows.append(
            '<div class="xent-bar-row">'
            f'<span class="xent-bar-label">{html.escape(label)}</span>'
            f'<div class="xent-track" role="presentation">'
            f'<div class="{fill_cls}" style="{style}"></div></div>'
            f"{_num(name, value)}</div>"
        )
    kind = "xent-bars xent-signed" if signed else "xent-bars"
    return f'<div class="{kind}">{"".join(rows)}</div>'


def _readout(rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(f"<dt>{html.escape(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="xent-readout">{cells}</dl>'


def _heading(text: str) -> str:
    return f'<p class="xent-heading">{html.escape(text)}</p>'


def _prob_bars(p: np.ndarray) -> str:
    return _bars([(f"p{i}", f"p{i}".translate(_SUB), float(v)) for i, v in enumerate(p)], 1.0)


# ---- the widget ----


class Explorer(widgets.VBox):
    """Controls on top, results (``output``, an HTML widget) below; recomputed on every change."""

    def __init__(
        self,
        kind: str,
        title: str,
        controls: dict[str, widgets.ValueWidget],
        render: Callable[[dict[str, object]], str],
    ) -> None:
        self.kind = kind
        self.controls = controls
        self.output = widgets.HTML()
        self._render = render
        header = widgets.HTML(f"<b>{html.escape(title)}</b>")
        super().__init__([header, widgets.VBox(list(controls.values())), self.output])
        for control in controls.values():
            control.observe(self._update, names="value")
        self._update()

    def _update(self, _change: object = None) -> None:
        values = {key: c.value for key, c in self.controls.items()}
        body = self._render(values)
        self.output.value = (
            f"<style>{asset('xent_explorers.css')}</style>"
            f'<div class="xent-explorer"><div class="xent-view">{body}</div></div>'
        )

    def numbers(self) -> dict[str, float]:
        """The numbers currently displayed, ``{name: value}`` (see :func:`read_numbers`)."""
        return read_numbers(self.output.value)


def _slider(label: str, key: str, value: float) -> widgets.FloatSlider:
    lo, hi, step = RANGES[key]
    decimals = len(repr(step).split(".")[1])
    return widgets.FloatSlider(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=label,
        readout_format=f".{decimals}f",
        continuous_update=True,
        style={"description_width": "9em"},
        layout=widgets.Layout(width="26em"),
    )


def _dropdown(label: str, options: list[tuple[str, object]], value: object) -> widgets.Dropdown:
    return widgets.Dropdown(
        options=options,
        value=value,
        description=label,
        style={"description_width": "9em"},
        layout=widgets.Layout(width="26em"),
    )


def _logit_sliders(z: Sequence[float]) -> dict[str, widgets.FloatSlider]:
    return {f"z{i}": _slider(f"logit z{i}".translate(_SUB), "z", v) for i, v in enumerate(z)}


# ---- the five explorers ----


def entropy_explorer(
    p: Sequence[float] = ENTROPY_P,
    q: Sequence[float] = ENTROPY_Q,
    *,
    unit: str = "bits",
) -> Explorer:
    """Chapter 1: H(p), H(p, q), H(q, p) and KL(p || q) for a fixed p; q = slider weights / sum.

    All sliders at 0 means the uniform q. Computed with ``xent.info``.
    """
    p_arr, q_init = check_entropy(p, q, unit)
    p_arr = np.array(p_arr)
    controls: dict[str, widgets.ValueWidget] = {
        f"q{i}": _slider(f"weight of q{i}".translate(_SUB), "q", v) for i, v in enumerate(q_init)
    }
    controls["unit"] = _dropdown(
        "units", [("nats (log base e)", "nats"), ("bits (log base 2)", "bits")], unit
    )

    def render(v: dict[str, object]) -> str:
        w = np.array([v[f"q{i}"] for i in range(len(p_arr))], dtype=float)
        qv = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
        base = 2.0 if v["unit"] == "bits" else None
        items = []
        for i, (pi, qi) in enumerate(zip(p_arr, qv, strict=True)):
            items.append((f"p{i}", f"p{i}".translate(_SUB), float(pi)))
            items.append((f"q{i}", f"q{i}".translate(_SUB), float(qi)))
        return (
            _heading("p (fixed, grey) against q = your weights renormalised (blue)")
            + _bars(items, 1.0, cls="xent-pq")
            + _readout(
                [
                    ("H(p)", _num("H_p", info.entropy(p_arr, base=base))),
                    ("H(p, q)", _num("H_pq", info.cross_entropy(p_arr, qv, base=base))),
                    ("H(q, p)", _num("H_qp", info.cross_entropy(qv, p_arr, base=base))),
                    (
                        "KL(p \u2016 q) = H(p, q) \u2212 H(p)",
                        _num("KL_pq", info.kl_divergence(p_arr, qv, base=base)),
                    ),
                ]
            )
        )

    return Explorer(
        "entropy", "Entropy explorer: cross-entropy and KL of p against your q", controls, render
    )


def softmax_explorer(
    logits: Sequence[float] = SOFTMAX_LOGITS, temperature: float = 1.0
) -> Explorer:
    """Chapter 2: p = xent.softmax(z, temperature=T) as bars."""
    z0 = check_logits(logits)
    controls: dict[str, widgets.ValueWidget] = dict(_logit_sliders(z0))
    controls["T"] = _slider("temperature T", "T", check_temperature(temperature))

    def render(v: dict[str, object]) -> str:
        z = np.array([v[f"z{i}"] for i in range(len(z0))], dtype=float)
        p = softmax(z, temperature=float(v["T"]))
        return (
            _heading("softmax(z / T)")
            + _prob_bars(p)
            + _readout([("sum of p", _num("sum_p", p.sum()))])
        )

    return Explorer("softmax", "Softmax explorer: logits and temperature", controls, render)


def _heatmap(jac: np.ndarray) -> str:
    k = jac.shape[0]
    head = "".join(f'<th scope="col">{f"z{j}".translate(_SUB)}</th>' for j in range(k))
    rows = []
    for i in range(k):
        cells = []
        for j in range(k):
            v = float(jac[i, j])
            alpha = format(min(1.0, abs(v) / 0.25), ".3f")
            color = f"rgba(31,119,180,{alpha})" if v < 0 else f"rgba(214,39,40,{alpha})"
            cells.append(f'<td style="background:{color}">{_num(f"J{i}{j}", v)}</td>')
        label = f"p{i}".translate(_SUB)
        rows.append(f'<tr><th scope="row">{label}</th>{"".join(cells)}</tr>')
    return (
        '<table class="xent-heatmap"><thead><tr><th scope="col">'
        "\u2202p\u1d62/\u2202z\u2c7c</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def jacobian_explorer(logits: Sequence[float] = JACOBIAN_LOGITS) -> Explorer:
    """Chapter 3: xent.softmax_jacobian(softmax(z)) = diag(p) - p p^T as a heatmap."""
    z0 = check_logits(logits)
    controls: dict[str, widgets.ValueWidget] = dict(_logit_sliders(z0))

    def render(v: dict[str, object]) -> str:
        p = softmax(np.array([v[f"z{i}"] for i in range(len(z0))], dtype=float))
        return (
            _heading("p = softmax(z)")
            + _prob_bars(p)
            + _heading("J = diag(p) \u2212 p p\u1d40 (red positive, blue negative)")
            + _heatmap(softmax_jacobian(p))
        )

    return Explorer("jacobian", "Jacobian explorer: diag(p) \u2212 p p\u1d40", controls, render)


def ce_gradient_explorer(logits: Sequence[float] = CE_LOGITS, target: int = CE_TARGET) -> Explorer:
    """Chapter 4: loss xent.cross_entropy(z, y) = -log p_y and gradient p - onehot(y)."""
    z0 = check_logits(logits)
    controls: dict[str, widgets.ValueWidget] = dict(_logit_sliders(z0))
    controls["y"] = _dropdown(
        "true class y", [(f"class {i}", i) for i in range(len(z0))], check_target(target, len(z0))
    )

    def render(v: dict[str, object]) -> str:
        z = np.array([v[f"z{i}"] for i in range(len(z0))], dtype=float)
        y = int(v["y"])
        p = softmax(z)
        grad = cross_entropy_grad(z, y)
        grad_items = [(f"g{i}", f"g{i}".translate(_SUB), float(g)) for i, g in enumerate(grad)]
        return (
            _readout(
                [
                    ("loss \u2212log p_y", _num("loss", cross_entropy(z, y))),
                    ("p_y", _num("p_y", p[y])),
                ]
            )
            + _heading("p = softmax(z)")
            + _prob_bars(p)
            + _heading("gradient \u2202L/\u2202z = p \u2212 y (one-hot y)")
            + _bars(grad_items, 1.0, signed=True, cls="xent-grad")
        )

    return Explorer("ce_gradient", "Cross-entropy gradient explorer: p \u2212 y", controls, render)


def weighted_ce_explorer(
    weight: Sequence[float] = WEIGHTED_WEIGHT,
    logits: Sequence[Sequence[float]] = WEIGHTED_LOGITS,
    targets: Sequence[int] = WEIGHTED_TARGETS,
) -> Explorer:
    """Chapter 5: xent.cross_entropy(Z, y, weight=w), i.e. sum_n w[y_n] l_n / sum_n w[y_n]."""
    w0, rows, ys = check_weighted(weight, logits, targets)
    z = np.array(rows)
    y = np.array(ys)
    controls: dict[str, widgets.ValueWidget] = {
        f"w{k}": _slider(f"weight of class {k}", "w", v) for k, v in enumerate(w0)
    }
    plain_loss, plain_grad = cross_entropy_and_grad(z, y)
    plain_norms = np.linalg.norm(plain_grad, axis=1)

    def render(v: dict[str, object]) -> str:
        w = np.array([v[f"w{k}"] for k in range(len(w0))], dtype=float)
        loss, grad = cross_entropy_and_grad(z, y, weight=w)
        norms = np.linalg.norm(grad, axis=1)
        finite = np.concatenate([norms, plain_norms])
        finite = finite[np.isfinite(finite)]
        scale = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        items = [
            (f"gnorm{n}", f"#{n}: class {t}", float(g))
            for n, (t, g) in enumerate(zip(ys, norms, strict=True))
        ]
        return (
            _readout(
                [
                    (
                        "weighted loss \u03a3 w_y\u2099 \u2113\u2099 / \u03a3 w_y\u2099",
                        _num("loss", loss),
                    ),
                    ("normaliser \u03a3 w_y\u2099", _num("normalizer", w[y].sum())),
                    ("unweighted mean loss", _num("loss_unweighted", plain_loss)),
                ]
            )
            + _heading(
                "per-sample gradient size \u2016\u2202L/\u2202z\u2099\u2016 (sample: true class)"
            )
            + _bars(items, scale, cls="xent-grad")
        )

    return Explorer(
        "weighted_ce",
        "Weighted cross-entropy explorer: class weights on a small batch",
        controls,
        render,
    )
