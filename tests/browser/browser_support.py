"""Shared pieces of the browser tests: where things are, and what a page did."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
# The Chromium binary, its flags and the local server are those of tools/page_weight.py (the
# page-weight report measures the same site the same way).
from page_weight import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402, F401

# XENT_SITE points the tests at another built copy (default: this repository's build).
SITE = Path(os.environ.get("XENT_SITE", REPO / "_build" / "html")).resolve()
SCREENSHOTS = SITE.parent / "screenshots"
NOT_BUILT = (
    f"The website is not built: {SITE / 'index.html'} does not exist. Build it first with "
    "`make site` (tools/fetch_assets.py, then jupyter-book build --all -n -W --keep-going .)."
)


# The site lays out a block of a chapter only when it comes near the screen (content-visibility:
# auto in tools/site_assets/static/xent_reading.css); until then the block is a 200 px box. A
# reader only ever looks at what is on screen, which is laid out; a test that measures or reads
# the whole page at once (axe's geometry, innerText off screen) first scrolls through the page
# as a reader would, so that every block has been laid out once and keeps its real size.
SCROLL_THROUGH_JS = """async () => {
  const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const step = Math.max(200, innerHeight - 100);
  for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
    scrollTo(0, y);
    await frames();
  }
  scrollTo(0, 0);
  await frames();
}"""


def site_pages() -> list[str]:
    """Every HTML page of the built site, as paths relative to _build/html (sorted)."""
    if not SITE.is_dir():
        return []
    rels = (p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html"))
    # _static/ holds theme template fragments and vendored files, not pages
    return sorted(r for r in rels if not r.startswith(("_static/", "_sources/", "_images/")))


@dataclass
class PageLog:
    """What happened while a page was open."""

    requests: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"off-site request: {u}" for u in self.offsite]
            + [f"failed request: {u}" for u in self.failed]
            + [f"HTTP error: {u}" for u in self.http_errors]
            + [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
        )
