"""Display equations fit the text column, on a desktop and on a phone.

For every page of the built site, in Chromium:

- at 1280 px, no display equation is wider than the column it sits in: the equation's content
  (its scrollWidth and its rendered box) fits the clientWidth of its container (Sphinx's
  div.math), which is the width the article gives it (the text column, or a dropdown or
  admonition inside it). A long formula must be broken over aligned lines in the source instead;
- at 390 px (a phone), an equation that is still too wide sits in a box that scrolls
  horizontally (overflow-x auto or scroll, itself or an ancestor inside the article) and that
  box fits on the screen, so the reader can swipe the formula instead of losing its end.

Works for MathJax (mjx-container[display="true"]) and for KaTeX (.katex-display), typeset in the
browser or at build time. Closed dropdowns are opened first, so their equations are measured too.

Two checks on the built HTML need no browser: every chapter links to the Notation page, and the
References page lists every entry of references.bib (sphinxcontrib-bibtex lists only cited ones;
the entries are counted by the bibliography's list items, whatever their ARIA role).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from browser_support import REPO, site_pages

# When the site is not built, one placeholder case fails through the `site` fixture (no skips).
PAGES = site_pages() or ["(site not built)"]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

PREPARE_JS = """async () => {
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await document.fonts.ready;  // MathJax's fonts change the formulas' widths
}"""

# One record per display equation: its size, the nearest box that scrolls horizontally, and a
# short text to name it in a failure message.
MEASURE_JS = """() => {
  const root = document.querySelector("main article") || document.querySelector("main")
    || document.body;
  const blocks = [...root.querySelectorAll('mjx-container[display="true"], .katex-display')];
  return blocks.map((block) => {
    // The column the equation gets: Sphinx's div.math around it (a flex box, in which KaTeX's
    // block grows to its content), else the block's parent.
    const column = block.closest("div.math") || block.parentElement;
    const formula = block.querySelector(":scope > mjx-math, .katex-html") || block;
    const content = Math.max(
      block.scrollWidth,
      Math.ceil(block.getBoundingClientRect().width),
      Math.ceil(formula.getBoundingClientRect().width),
    );
    let scroller = null;
    for (let e = block; e && e !== root; e = e.parentElement) {
      const overflow = getComputedStyle(e).overflowX;
      if (overflow === "auto" || overflow === "scroll") { scroller = e; break; }
    }
    const label = (block.getAttribute("aria-label") || block.textContent || "")
      .replace(/\\s+/g, " ").trim().slice(0, 70);
    return {
      label,
      visible: block.getClientRects().length > 0 && column.clientWidth > 0,
      content,
      width: column.clientWidth,
      scroller: scroller && {
        tag: scroller.tagName.toLowerCase(),
        right: scroller.getBoundingClientRect().right,
        left: scroller.getBoundingClientRect().left,
      },
    };
  });
}"""


def _measure(page, viewport: dict[str, int]) -> list[dict]:
    page.set_viewport_size(viewport)
    page.wait_for_timeout(200)  # let the theme's responsive layout settle
    return page.evaluate(MEASURE_JS)


@pytest.mark.parametrize("path", PAGES)
def test_display_equations_fit_the_column(path, site, open_page):
    html = (site / path).read_text("utf-8")
    if '<div class="math' not in html and "katex-display" not in html:
        return  # no display math on this page (viewcode sources, search, ...): nothing to measure
    page, _ = open_page(path)
    page.evaluate(PREPARE_JS)

    desktop = _measure(page, DESKTOP)
    too_wide = [
        f"{eq['content']} px in a {eq['width']} px column: {eq['label']}"
        for eq in desktop
        if eq["visible"] and eq["content"] > eq["width"] + 1
    ]
    assert too_wide == [], f"{path}: display equations wider than the column at 1280 px"

    phone = _measure(page, PHONE)
    unscrollable = []
    for eq in phone:
        if not eq["visible"] or eq["content"] <= eq["width"] + 1:
            continue
        box = eq["scroller"]
        if box is None:
            unscrollable.append(f"no horizontal scroll box: {eq['label']}")
        elif box["left"] < -1 or box["right"] > PHONE["width"] + 1:
            unscrollable.append(f"its scroll box <{box['tag']}> is off the screen: {eq['label']}")
    assert unscrollable == [], f"{path}: equations too wide for a 390 px phone that do not scroll"
    print(f"{path}: {len(desktop)} display equations, all within the column at 1280 px")


def _article(html: str) -> str:
    """The page's own text: the <article> element, without the navigation around it."""
    start = html.find("<article")
    return html[start : html.find("</article>", start)] if start >= 0 else ""


def test_every_chapter_links_the_notation_page(site):
    chapters = sorted((site / "chapters").glob("*.html"))
    assert chapters, "no chapter pages in the built site"
    missing = [
        p.name for p in chapters if 'href="../notation.html' not in _article(p.read_text("utf-8"))
    ]
    assert missing == [], f"chapters whose text does not link the Notation page: {missing}"


class _BibliographyEntries(HTMLParser):
    """Counts the entries of the bibliography lists of a page: the elements of class
    ``citation`` directly inside an element of class ``citation-list`` (sphinxcontrib-bibtex's
    markup). Their ARIA role is not used: tools/sphinx_learn.py rewrites it."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[set[str]] = []  # the classes of each open element
        self.count = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if "citation" in classes and self.stack and "citation-list" in self.stack[-1]:
            self.count += 1
        if tag not in self.VOID:
            self.stack.append(classes)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()


def test_every_reference_is_cited(site):
    entries = re.findall(r"^@\w+\{\s*([^,\s]+)", (REPO / "references.bib").read_text("utf-8"), re.M)
    parser = _BibliographyEntries()
    parser.feed((site / "references.html").read_text("utf-8"))
    listed = parser.count
    assert len(entries) >= 10
    assert listed == len(entries), (
        f"references.bib has {len(entries)} entries but the References page lists {listed}: "
        "an entry that no page cites with {cite} is not listed"
    )


@pytest.mark.parametrize("path", ["chapters/04-cross-entropy-gradient.html"])
def test_figures_open_full_size_on_a_phone(path, open_page):
    """Issue 9: a multi-panel figure stays readable on a phone: a tap opens the image file."""
    page, _ = open_page(path)
    page.set_viewport_size({"width": 390, "height": 844})
    figures = page.evaluate(
        """() => [...document.querySelectorAll('article .cell_output img')].map(img => {
               const a = img.closest('a.xent-full-image');
               return {link: a ? a.getAttribute('href') : null, src: img.getAttribute('src')};
           })"""
    )
    assert figures, "no figure found"
    assert all(f["link"] == f["src"] for f in figures), figures
