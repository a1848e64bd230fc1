"""The explorers' engine on the Python side: one widget class that every explorer kind extends.

An explorer is a live Jupyter widget (anywidget) whose state lives in traits, e.g.
``w = xent.web.softmax_explorer(); w.logits = [3, 1, 0]``, and whose ``results`` trait is
recomputed with ``xent`` in the kernel on every change of the state. Its view is written once, in
JavaScript (``web_assets/xent_engine.js`` and ``web_assets/explorers/<kind>.js``); the same view
runs on the book's website without a kernel, where the notebook's stored ``text/html`` output (a
small ``<div class="xent-explorer" data-explorer="KIND" data-config="{...}">``) is mounted by
the site's loader (``web_assets/xent_site.js``, added to every page by ``tools/xent_assets.py``)
and computes with the browser-side math (``web_assets/xent_math.js``).

Adding an explorer kind needs only new files (the same recipe is in web_assets/README.md):

1. ``lib/xent/web_assets/explorers/<kind>.js``: an ES module whose default export is
   ``{title, state, controls, compute, view, announce}`` (see xent_engine.js's header). The site
   finds it by its file name; nothing registers it.
2. ``lib/xent/explorers/<kind>.py``: a subclass of :class:`Explorer` with ``kind = "<kind>"``,
   one synced trait per name of the JS ``state`` list (validated: ValueError/TypeError naming
   the argument), a ``compute()`` returning the same results as the JS ``compute`` but from
   ``xent``, and a factory function ``<kind>_explorer(...)``. ``xent.web.<kind>_explorer`` finds
   it by its module name (see :func:`__getattr__`); nothing registers it.
3. Tests: add the kind to tests/test_explorers.py (traits -> results equal xent),
   tests/test_web_math.py (JS compute equals Python compute) and
   tests/browser/test_explorers_live.py (the site's view shows xent's numbers).

``tests/example_kind/`` holds a minimal worked example (``square``) driven by the tests.
"""

from __future__ import annotations

import html
import importlib
import json
import math
import pkgutil
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import traitlets

__all__ = [
    "Explorer",
    "check_floats",
    "check_grid",
    "check_int",
    "check_slider",
    "check_sliders",
    "encode",
]

ASSETS = Path(str(resources.files("xent").joinpath("web_assets")))
FALLBACK = "This explorer needs JavaScript (on the book's website or in a running notebook)."


def encode(value: Any) -> Any:
    """JSON-safe results: NumPy scalars and arrays to Python; inf, -inf, nan to the strings
    ``"Infinity"``, ``"-Infinity"``, ``"NaN"`` (JSON has no such numbers; the engine decodes
    them)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def check_floats(values: Any, arg: str, *, min_len: int = 2, max_len: int = 8) -> list[float]:
    """``values`` as a list of finite floats with ``min_len`` to ``max_len`` entries."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{arg} must be a sequence of numbers, got {values!r}")
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(f"{arg} must be a sequence of numbers, got {values!r}") from None
    if not min_len <= len(out) <= max_len:
        raise ValueError(f"{arg} must have {min_len} to {max_len} entries, got {len(out)}")
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"{arg} must be finite, got {out}")
    return out


def check_grid(values: Sequence[float], arg: str, lo: float, hi: float, step: float) -> None:
    """Every value lies on a slider's grid ``lo, lo + step, ..., hi``."""
    for v in values:
        k = (v - lo) / step
        if not (lo - 1e-12 <= v <= hi + 1e-12 and abs(k - round(k)) < 1e-6):
            raise ValueError(
                f"{arg} entries must lie in [{lo}, {hi}] on steps of {step} (slider grid), got {v}"
            )


def check_sliders(
    values: Any, arg: str, grid: Sequence[float], *, min_len: int = 2, max_len: int = 8
) -> list[float]:
    """The positions of a row of sliders: :func:`check_floats`, then :func:`check_grid` on
    ``grid = (lo, hi, step)``."""
    out = check_floats(values, arg, min_len=min_len, max_len=max_len)
    check_grid(out, arg, *grid)
    return out


def check_slider(value: Any, arg: str, grid: Sequence[float]) -> float:
    """One slider's position (see :func:`check_sliders`)."""
    return check_sliders([value], arg, grid, min_len=1, max_len=1)[0]


def check_int(value: Any, arg: str, lo: int, hi: int) -> int:
    """An int in ``[lo, hi)``; bools and floats are rejected."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{arg} must be an int, got {type(value).__name__}")
    if not lo <= value < hi:
        raise ValueError(f"{arg} must be in [{lo}, {hi}), got {value}")
    return int(value)


class Explorer(anywidget.AnyWidget):
    """Base class of every explorer: a Jupyter widget whose view is ``explorers/<kind>.js``.

    Subclasses set ``kind`` and ``state`` (the names of their synced state traits, the same
    list as the JS file's ``state``) and implement :meth:`compute`. ``results`` is recomputed
    on every change of a state trait, from Python or from the widget's sliders.
    """

    kind: ClassVar[str] = ""
    state: ClassVar[tuple[str, ...]] = ()
    title: ClassVar[str] = ""
    #: the kind's JS file; defaults to web_assets/explorers/<kind>.js
    kind_js: ClassVar[Path | None] = None

    _esm = ASSETS / "xent_engine.js"
    _css = ASSETS / "xent_explorers.css"
    _kind_js = traitlets.Unicode().tag(sync=True)
    name = traitlets.Unicode().tag(sync=True)
    results = traitlets.Dict(read_only=True).tag(sync=True)

    def __init__(self, *, name: str | None = None, **state: Any) -> None:
        name = self.kind.replace("_", "-") if name is None else name
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
            raise ValueError(
                f"name must start with a letter and hold only letters, digits, '-', '_'; "
                f"got {name!r}"
            )
        path = self.kind_js or ASSETS / "explorers" / f"{self.kind}.js"
        super().__init__(name=name, _kind_js=path.read_text(encoding="utf-8"), **state)
        self.observe(self._update, names=list(self.state))
        self._update()

    def compute(self) -> dict[str, Any]:
        """The explorer's results for its current state, computed with xent."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The state as plain JSON data (what the website's view starts from)."""
        return {key: encode(getattr(self, key)) for key in self.state}

    def _update(self, change: Any = None) -> None:
        self.set_trait("results", encode(self.compute()))

    def _repr_html_(self) -> str:
        config = json.dumps(self.config(), sort_keys=True, separators=(",", ":"))
        return (
            f'<div class="xent-explorer mathjax_ignore tex2jax_ignore" id="xent-{self.name}"'
            f' data-explorer="{self.kind}" data-config="{html.escape(config, quote=True)}">'
            f'<p class="xent-fallback">{html.escape(self.title)}. {FALLBACK}</p></div>'
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = {**data, "text/plain": repr(self), "text/html": self._repr_html_()}
        return data, metadata

    def __repr__(self) -> str:
        def show(v: Any) -> str:
            if isinstance(v, float):
                return f"{v:.4f}"
            if isinstance(v, list):
                return "[" + ", ".join(show(x) for x in v) + "]"
            return str(v)

        state = ", ".join(f"{k}={show(v)}" for k, v in self.config().items() if k != "ranges")
        results = ", ".join(f"{k}={show(v)}" for k, v in self.results.items())
        return f"{type(self).__name__}({state}) -> {results}"


def kinds() -> list[str]:
    """The explorer kinds there are: the modules of xent.explorers."""
    package = importlib.import_module("xent.explorers")
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__))


def __getattr__(attr: str) -> Any:
    """``xent.web.<kind>_explorer`` is ``xent.explorers.<kind>.<kind>_explorer``, imported
    on first use (so a new kind needs no registration here)."""
    if attr.endswith("_explorer") and attr[: -len("_explorer")] in kinds():
        module = importlib.import_module(f"xent.explorers.{attr[: -len('_explorer')]}")
        return getattr(module, attr)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *(f"{k}_explorer" for k in kinds())])
