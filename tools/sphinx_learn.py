"""Sphinx extension: serve the book's learn-by-doing scripts once per site.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``. It copies the listed files of
``lib/xent/web_assets/`` (the self-check quizzes, the training playground, the predictions
explorer and its data) into ``_static/xent/`` of the built site, and adds their scripts and
stylesheets to every page: one cached file each, never inlined into a notebook's outputs.
Pages without a quiz or a playground pay one small cached request and nothing else.

It also repairs one accessibility defect of myst-nb's output at build time: the toggle of a
hidden code cell is ``<summary aria-label="Toggle hidden content">`` around the visible text
"Show code cell source", so a speech-input user saying what they see does not match its name
(axe: label-content-name-mismatch). The aria-label is dropped; the visible text names it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

ASSETS = Path(__file__).resolve().parent.parent / "lib" / "xent" / "web_assets"
TARGET = "xent"  # under _static/
SCRIPTS = ["quiz.js", "a11y.js"]
STYLES = ["quiz.css", "a11y.css", "playground.css", "predictions.css"]
# chapter 6's predictions sample, fetched by explorers/predictions.js
OTHER = [
    "data/fashion_mnist_predictions.json",
    "data/fashion_mnist_predictions.png",
]


def _add_assets(app: Sphinx) -> None:
    for name in SCRIPTS:
        app.add_js_file(f"{TARGET}/{name}", defer="defer")
    for name in STYLES:
        app.add_css_file(f"{TARGET}/{name}")


def _copy_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir) / "_static" / TARGET
    for name in SCRIPTS + STYLES + OTHER:
        dest = out / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ASSETS / name, dest)


MISNAMED_TOGGLE = '<summary aria-label="Toggle hidden content">'


def _name_toggles_by_their_text(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    body = context.get("body")
    if isinstance(body, str) and MISNAMED_TOGGLE in body:
        context["body"] = body.replace(MISNAMED_TOGGLE, "<summary>")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _add_assets)
    app.connect("html-page-context", _name_toggles_by_their_text)
    # after tools/xent_assets.py, which empties _static/xent/ before copying the engine there
    app.connect("build-finished", _copy_assets, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
