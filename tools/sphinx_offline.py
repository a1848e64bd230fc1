"""Sphinx extension: keep the book's website self-contained and its pages free of JS errors.

Loaded through ``sphinx: local_extensions`` in ``_config.yml``. On every HTML page it

- drops sphinx-thebe's scripts and stylesheet. The book does not use thebe (live code needs a
  remote Binder kernel; the site's explorers run in the browser instead), but jupyter-book
  always loads the extension, which writes ``const THEBE_JS_URL = "https://unpkg.com/..."``
  into every page twice under Sphinx 7.4: a "has already been declared" error on each page;
- drops any other script or stylesheet that would load from another host, with a warning
  (``-W`` turns that into a build failure: vendor the file with tools/fetch_assets.py);
- drops exact duplicates of the same inline script.

It also sets the pydata theme's ``default_mode`` (an ``html_context`` value) to ``"auto"``
when unset: with the empty default the theme logs "Got invalid theme mode" as a console
error on every page load.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _set_default_mode(app: Sphinx, config: Config) -> None:
    # the pydata theme reads default_mode from the template context, not from theme options
    if not config.html_context.get("default_mode"):
        config.html_context["default_mode"] = "auto"


def _is_thebe(filename: str, body: str) -> bool:
    return "sphinx-thebe" in filename or "THEBE_JS_URL" in body


def _prune_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if not assets:
            continue
        kept, seen = [], set()
        for asset in assets:
            filename = str(getattr(asset, "filename", asset) or "")
            attributes = getattr(asset, "attributes", {}) or {}
            body = str(attributes.get("body", ""))
            if _is_thebe(filename, body):
                continue
            if "://" in filename or filename.startswith("//"):
                logger.warning(
                    f"{pagename}: removed remote asset {filename} (the site must be "
                    "self-contained; vendor it with tools/fetch_assets.py)",
                    type="offline",
                    subtype="remote",
                )
                continue
            ident = (filename, body, tuple(sorted(attributes.items())))
            if ident in seen:
                continue
            seen.add(ident)
            kept.append(asset)
        assets[:] = kept


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _set_default_mode)
    app.connect("html-page-context", _prune_assets, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
