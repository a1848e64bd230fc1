"""Reading the built website: light pages, math typeset at build time, honest links, print.

- Every page's math arrived typeset (KaTeX HTML + MathML in the HTML file itself) and no page
  loads a TeX engine (no MathJax, no KaTeX script); math shows with JavaScript switched off.
- Each chapter page: at most 2.5 MB transferred (uncompressed) and DOMContentLoaded within 600 ms
  on 127.0.0.1 (best of 3 cold loads; `XENT_DCL_BUDGET_MS` overrides the budget for a slow machine).
  The table is printed (pytest -s) and the heaviest responses are named when a page is over.
- No icon script (fontawesome.js): the icons are drawn by the theme's icon font.
- Favicon served (no 404 on a first load); description and Open Graph tags on every page; the
  home page's title is the book title once.
- Launch and repository buttons only when the site was built with XENT_REPO_URL (this test reads
  the same variable): none at all by default; with it, Binder and Colab links on every chapter.
- Print: solutions, quiz answers and hidden code open; long code lines wrapped, not cut off.
- At 390 px (a phone) no chapter scrolls sideways.
"""

from __future__ import annotations

import os
import re
import sys
import urllib.request
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from browser_support import REPO, site_pages

sys.path.insert(0, str(REPO / "tools"))
import page_weight  # noqa: E402  (tools/page_weight.py: the same measurement as the report)

PAGES = site_pages() or ["(site not built)"]
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")] or ["(site not built)"]
MAX_BYTES = 2_500_000
# Issue 13's budget. Before the site let the browser skip laying out the blocks off screen
# (content-visibility in xent_reading.css) the chapters measured 600-760 ms on a quiet 2-core
# machine; since then 320-440 ms. XENT_DCL_BUDGET_MS overrides it for a slow machine.
DCL_BUDGET_MS = float(os.environ.get("XENT_DCL_BUDGET_MS", "600"))
TEX_ENGINE = re.compile(r"mathjax|tex-(mml|chtml|svg)|katex(\.min)?\.js|auto-render", re.I)
LAUNCH_HOSTS = ("mybinder.org", "colab.research.google.com")


class _HeadParser(HTMLParser):
    """Scripts, links, meta tags, the title and all hrefs of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.meta: dict[str, str] = {}
        self.icons: list[str] = []
        self.hrefs: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "meta" and (a.get("name") or a.get("property")):
            self.meta[a.get("name") or a.get("property", "")] = a.get("content", "")
        elif tag == "link" and "icon" in a.get("rel", "").split():
            self.icons.append(a.get("href", ""))
        elif tag == "title":
            self._in_title = True
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _parsed(site, path: str) -> tuple[_HeadParser, str]:
    text = (site / path).read_text("utf-8")
    parser = _HeadParser()
    parser.feed(text)
    return parser, text


@pytest.mark.parametrize("path", PAGES)
def test_math_is_typeset_at_build_time(path, site):
    """The HTML file itself holds typeset math with MathML; no page loads a TeX engine."""
    parser, text = _parsed(site, path)
    engines = [s for s in parser.scripts if TEX_ENGINE.search(s)]
    assert engines == [], f"{path}: loads a TeX engine: {engines}"
    math = len(re.findall(r'class="math[ "]', text))
    typeset = text.count('class="katex"')
    mathml = text.count('<span class="katex-mathml"><math')
    assert typeset >= math, f"{path}: {math} math elements, only {typeset} typeset"
    assert mathml == typeset, f"{path}: {typeset - mathml} formulas without MathML"
    if path.startswith("chapters/"):
        assert typeset > 0, f"{path}: a chapter without math?"


def test_math_shows_without_javascript(browser, base_url, site):
    """Chapter 1 with JavaScript off: every formula is laid out (KaTeX HTML + its fonts)."""
    path = CHAPTERS[0]
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        page.goto(base_url + path, wait_until="load")
        facts = page.evaluate(
            """() => {
              const all = [...document.querySelectorAll(".katex-html")];
              const shown = all.filter((e) => e.getClientRects().length > 0);
              const empty = shown.filter((e) => e.getBoundingClientRect().width === 0);
              return {count: all.length, empty: empty.length,
                      fontReady: document.fonts.check("16px KaTeX_Main"),
                      engine: typeof window.MathJax + " " + typeof window.katex};
            }"""
        )
    finally:
        context.close()
    assert facts["count"] > 0
    assert facts["empty"] == 0, f"{facts['empty']} formulas laid out with zero width"
    assert facts["engine"] == "undefined undefined"


@pytest.mark.parametrize("path", CHAPTERS)
@pytest.mark.timing
def test_chapter_page_weight_and_load_time(path, site, browser, base_url):
    weight = page_weight.measure(browser, base_url, path, runs=3)
    print(
        f"\n| {path} | {weight.requests} requests | {weight.bytes / 1e6:.2f} MB | "
        f"DOMContentLoaded {weight.dcl_ms:.0f} ms |"
    )
    heaviest = ", ".join(
        f"{u.removeprefix(base_url)} {s / 1e3:.0f} kB" for u, s in weight.heaviest(5)
    )
    offsite = [u for u, _ in weight.urls if urlsplit(u).hostname not in ("127.0.0.1", None)]
    assert offsite == []
    assert not any("fontawesome.js" in u for u, _ in weight.urls), "the icon script is back"
    assert weight.bytes <= MAX_BYTES, f"{path}: {weight.bytes / 1e6:.2f} MB; heaviest: {heaviest}"
    assert weight.dcl_ms <= DCL_BUDGET_MS, (
        f"{path}: DOMContentLoaded {weight.dcl_ms:.0f} ms > {DCL_BUDGET_MS:.0f} ms "
        "(best of 3 cold loads; timings on a busy machine are noisy)"
    )


def test_icons_drawn_by_the_icon_font(open_page, site):
    page, log = open_page(CHAPTERS[0])
    icons = page.evaluate(
        """() => [...document.querySelectorAll(".bd-header-article i[class*='fa-'], "
             + ".article-header-buttons i[class*='fa-'], button i[class*='fa-']")]
          .filter((i) => i.offsetParent !== null)
          .map((i) => ({cls: i.className, width: i.getBoundingClientRect().width,
                        font: getComputedStyle(i, "::before").fontFamily}))"""
    )
    assert icons, "no visible icons found in the page header"
    assert all(i["width"] > 0 and "Font Awesome" in i["font"] for i in icons), icons
    assert not any("fontawesome.js" in u for u in log.requests)
    assert log.problems() == []


def test_favicon_is_served(open_page, site, base_url):
    parser, _ = _parsed(site, "intro.html")
    assert len(parser.icons) == 1, parser.icons
    with urllib.request.urlopen(base_url + parser.icons[0], timeout=10) as resp:  # noqa: S310
        assert resp.status == 200
        assert resp.headers.get_content_type() == "image/svg+xml"
        assert b"<svg" in resp.read(200)
    page, log = open_page("index.html")  # a first load: nothing may 404, favicon included
    page.wait_for_timeout(500)
    assert log.http_errors == [] and log.failed == [], log.problems()


@pytest.mark.parametrize("path", PAGES)
def test_description_and_open_graph_tags(path, site):
    parser, _ = _parsed(site, path)
    if path in ("index.html", "search.html", "genindex.html") or path.startswith("_modules/"):
        return  # a redirect, the search page, the index and highlighted source: no prose
    meta = parser.meta
    for key in ("description", "og:title", "og:description", "og:type", "og:site_name"):
        assert meta.get(key, "").strip(), f"{path}: no {key} meta tag"
    assert "og:url" not in meta or meta["og:url"].startswith("https://"), meta["og:url"]
    assert "{" not in meta["description"] and "$" not in meta["description"], meta["description"]


def test_home_page_title_is_not_repeated(site):
    parser, _ = _parsed(site, "intro.html")
    title = parser.title.strip()
    book = parser.meta["og:site_name"]
    assert title == book, f"home page title {title!r}, book title {book!r}"
    chapter, _ = _parsed(site, CHAPTERS[0])
    assert chapter.title.strip().endswith(book) and chapter.title.strip() != book


def test_launch_and_repository_links_only_with_a_repository(site):
    url = os.environ.get("XENT_REPO_URL", "").rstrip("/")
    for path in PAGES:
        parser, text = _parsed(site, path)
        launch = [h for h in parser.hrefs if any(host in h for host in LAUNCH_HOSTS)]
        repo_buttons = text.count("repository-button")
        if not url:
            assert launch == [], f"{path}: launch links without a repository: {launch}"
            assert repo_buttons == 0, f"{path}: a repository button without a repository"
            assert "xent-book/softmax-cross-entropy" not in text, f"{path}: the old made-up URL"
        elif path.startswith("chapters/"):
            owner_repo = "/".join(url.split("/")[-2:])
            assert any("mybinder.org" in h and owner_repo in h for h in launch), path
            assert any("colab.research.google.com" in h and owner_repo in h for h in launch), path


def test_print_expands_solutions_and_wraps_code(open_page, site):
    """Print media, after the browser's beforeprint event: every <details> open and its body
    laid out, code wrapped inside the page width, display formulas scaled to fit the column,
    no box allowed to split over a page."""
    path = next((p for p in CHAPTERS if "<details" in (site / p).read_text("utf-8")), CHAPTERS[0])
    page, log = open_page(path)
    page.set_viewport_size({"width": 760, "height": 1000})  # about an A4 page's printed width
    page.emulate_media(media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    facts = page.evaluate(
        """() => {
          const details = [...document.querySelectorAll("article details")];
          const bodies = details.map((d) => [...d.children].filter((c) => c.tagName !== "SUMMARY"));
          const pres = [...document.querySelectorAll("article pre")];
          return {
            details: details.length,
            closed: details.filter((d) => !d.open).length,
            hiddenBodies: bodies.flat()
              .filter((b) => b.getBoundingClientRect().height === 0).length,
            pres: pres.length,
            notWrapped: pres
              .filter((p) => !getComputedStyle(p).whiteSpace.startsWith("pre-wrap")).length,
            overflowing: pres.filter((p) => p.scrollWidth > p.clientWidth + 1).length,
            wideFormulas: [...document.querySelectorAll("article .katex-display")]
              .filter((d) => d.getClientRects().length > 0)
              .filter((d) => {
                const column = d.closest("article").getBoundingClientRect();
                const parts = [...d.querySelector(".katex-html").children]
                  .map((b) => b.getBoundingClientRect());
                return parts.some((b) => b.left < column.left - 1 || b.right > column.right + 1);
              }).length,
            splittable: [...document.querySelectorAll("article .admonition, article figure")]
              .filter((e) => getComputedStyle(e).breakInside !== "avoid").length,
          };
        }"""
    )
    page.evaluate("() => window.dispatchEvent(new Event('afterprint'))")
    assert facts["details"] > 0, f"{path}: no collapsed blocks to check"
    assert facts["closed"] == 0 and facts["hiddenBodies"] == 0, facts
    assert facts["pres"] > 0 and facts["notWrapped"] == 0 and facts["overflowing"] == 0, facts
    assert facts["wideFormulas"] == 0, facts
    assert facts["splittable"] == 0, facts
    assert log.problems() == []


def test_phone_width_has_no_sideways_scrolling(browser, base_url, site):
    """At 390 px (a phone) wide formulas, code and tables scroll inside their own box."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    wide = {}
    try:
        for path in CHAPTERS:
            page = context.new_page()
            page.goto(base_url + path, wait_until="load")
            width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            if width[0] > width[1]:
                wide[path] = width
            page.close()
    finally:
        context.close()
    assert wide == {}, f"pages wider than the phone (scrollWidth, innerWidth): {wide}"
