"""Sphinx extension: serve the book's learn-by-doing scripts once per site.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``. It copies the listed files of
``lib/xent/web_assets/`` (the self-check quizzes, the training playground, the predictions
explorer and its data) into ``_static/xent/`` of the built site, and adds their scripts and
stylesheets to every page: one cached file each, never inlined into a notebook's outputs.
Pages without a quiz or a playground pay one small cached request and nothing else.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

ASSETS = Path(__file__).resolve().parent.parent / "lib" / "xent" / "web_assets"
TARGET = "xent"  # under _static/
SCRIPTS = ["quiz.js"]
STYLES = ["quiz.css"]
OTHER: list[str] = []


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


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _add_assets)
    app.connect("build-finished", _copy_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
