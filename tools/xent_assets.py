"""Sphinx extension: serve the explorers' engine once per site, not once per output.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``. It copies exactly the engine's
files from the package (``lib/xent/web_assets/``: the loader, the engine, the browser-side math,
the style sheet and every ``explorers/<kind>.js``, the data files kinds fetch, the quizzes and
the accessibility aids) into ``_static/xent/`` of the built site, and adds to every HTML page one
``<script type="module">`` (the loader, ``xent_site.js``), the quiz and accessibility scripts and
the style sheets. The loader mounts each ``<div class="xent-explorer" data-explorer=...>`` that a
chapter's stored output holds (see :mod:`xent.web`). Editing an explorer's JavaScript therefore
needs a rebuild of the site, never a re-execution of the chapters.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

TARGET = "xent"  # under _static/
TOP_FILES = ("xent_site.js", "xent_engine.js", "xent_math.js", "xent_explorers.css")
# Beside the engine, on every page: the self-check quizzes and the accessibility aids (plain
# deferred scripts), and the styles of the quizzes, the aids, the training playground and
# chapter 6's predictions explorer.
SCRIPTS = ("quiz.js", "a11y.js")
STYLES = ("quiz.css", "a11y.css", "playground.css", "predictions.css")


def asset_files() -> list[str]:
    """The files the site needs, relative to web_assets/ (the kinds found by file name, and
    the data files that kinds fetch, data/*.json and data/*.png)."""
    root = Path(str(resources.files("xent").joinpath("web_assets")))
    kinds = sorted(p.relative_to(root).as_posix() for p in (root / "explorers").glob("*.js"))
    data = sorted(
        p.relative_to(root).as_posix()
        for p in (root / "data").glob("*")
        if p.suffix in (".json", ".png")
    )
    return [*TOP_FILES, *SCRIPTS, *STYLES, *kinds, *data]


def _copy_assets(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    root = Path(str(resources.files("xent").joinpath("web_assets")))
    target = Path(app.outdir) / "_static" / TARGET
    if target.exists():
        shutil.rmtree(target)  # a kind removed from the package leaves no stale file
    for rel in asset_files():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / rel, dest)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_js_file(f"{TARGET}/xent_site.js", type="module")
    app.add_css_file(f"{TARGET}/xent_explorers.css")
    for name in SCRIPTS:
        app.add_js_file(f"{TARGET}/{name}", defer="defer")
    for name in STYLES:
        app.add_css_file(f"{TARGET}/{name}")
    app.connect("build-finished", _copy_assets)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
