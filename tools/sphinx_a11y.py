"""Sphinx extension: repair two accessibility defects of the generated HTML at build time.

Loaded through ``sphinx: local_extensions`` in ``_config.yml`` (tests/browser/test_a11y.py runs
axe-core on every page):

- myst-nb's toggle of a hidden code cell is ``<summary aria-label="Toggle hidden content">``
  around the visible text "Show code cell source", so a speech-input user saying what they see
  does not match its name (axe: label-content-name-mismatch). The aria-label is dropped; the
  visible text names it.
- docutils writes the bibliography as ``<div role="list">`` of ``role="doc-biblioentry"``
  entries, a role ARIA 1.3 deprecates, so the list has no valid items (axe:
  aria-required-children). The entries become ``role="listitem"``.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

MISNAMED_TOGGLE = '<summary aria-label="Toggle hidden content">'
BIBLIOENTRY = 'role="doc-biblioentry"'


def _repair_roles(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    body = context.get("body")
    if not isinstance(body, str):
        return
    body = body.replace(MISNAMED_TOGGLE, "<summary>")
    if 'role="list" class="citation-list"' in body:
        body = body.replace(BIBLIOENTRY, 'role="listitem"')
    context["body"] = body


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _repair_roles)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
