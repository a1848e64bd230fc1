"""The worked example of a new explorer kind's Python side (see lib/xent/web_assets/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import traitlets
from xent.web import Explorer, check_floats


class SquareExplorer(Explorer):
    """x and x squared."""

    kind = "square"
    title = "Square explorer"
    state = ("x",)
    # a kind of the book lives in xent/web_assets/explorers/; this one lives beside this file
    kind_js = Path(__file__).with_name("square.js")

    x = traitlets.Any(1.0).tag(sync=True)

    @traitlets.validate("x")
    def _check_x(self, proposal: dict[str, Any]) -> float:
        (x,) = check_floats([proposal["value"]], "x", min_len=1)
        return x

    def compute(self) -> dict[str, Any]:
        return {"square": self.x**2}


def square_explorer(x: float = 1.0, *, name: str = "square") -> SquareExplorer:
    """x and x squared: a live widget in Jupyter, kernel-free on a page with the engine."""
    return SquareExplorer(x=x, name=name)
