"""Accessibility of every page of the built site, checked with axe-core in Chromium (issue 14).

Each page is opened twice, in the light and in the dark theme (the pydata theme follows the
browser's colour scheme; the dark pass runs only axe's colour-contrast rule, the one rule the
theme changes), and axe-core 4.14.1 (fetched from npm with a pinned hash by
tools/fetch_axe.py into _build/axe/, never served by the site) is injected and run on the
page's article (on the search page, which has none: its results box) with every rule plus
the WCAG 2.2 ``target-size`` rule. No serious or critical
violation may remain. Beyond axe, in the same visit:

- formulas are not Tab stops (no focusable element inside typeset math), except a display
  formula wider than the column, which must take focus to be scrolled by keyboard (a11y.js
  marks exactly those; their count is reported);
- every self-check quiz mounts (kind recorded; see test_quiz.py for answering them);
- every explorer (``.xent-explorer``, ``.playground``) is a named group with a polite live
  region, its sliders are at least 24 px tall, and the chapter opens with a "jump to the
  explorer" link that leads to the first one;
- in the dark theme no figure, explorer or quiz is a bright panel: the mean luminance of each
  output image as drawn with its CSS filter, and the background of each explorer and quiz, stay
  below 0.5.

A per-page summary (quizzes, explorers, violations light/dark, math Tab stops) is printed
(``pytest -s``) for the closing note.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_support import REPO, SCROLL_THROUGH_JS, SITE, site_pages

sys.path.insert(0, str(REPO / "tools"))
from fetch_axe import fetch_axe  # noqa: E402


def _is_redirect(path: str) -> bool:
    """Jupyter Book's index.html only redirects to the root page (no article of its own)."""
    html = (SITE / path).read_text(encoding="utf-8", errors="replace")[:2000].lower()
    return 'http-equiv="refresh"' in html


PAGES = [p for p in site_pages() if not _is_redirect(p)] or ["(site not built)"]
# The article of a page; the search page has none, so its results box stands in.
ARTICLE = 'document.querySelector("main article") || document.querySelector(".bd-search-container")'

SEVERE = ("serious", "critical")

WAIT_FOR_MATH_JS = """async () => {
  if (!window.MathJax) return;
  const t0 = Date.now();
  while (!(MathJax.startup && MathJax.startup.promise)) {
    if (Date.now() - t0 > 10000) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
}"""

AXE_JS = """async (only) => {
  const article = __ARTICLE__;
  if (!article) return [{ id: "no-article", impact: "critical", nodes: ["no article"] }];
  const options = only
    ? { runOnly: { type: "rule", values: only }, resultTypes: ["violations"] }
    : { rules: { "target-size": { enabled: true } }, resultTypes: ["violations"] };
  const result = await axe.run(article, options);
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "").slice(0, 200)),
  }));
}"""

FACTS_JS = """() => {
  const article = __ARTICLE__;
  const focusable = 'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])';
  const stops = new Set();
  // a display formula wider than the column must take focus to be scrolled by keyboard
  // (a11y.js marks exactly those); any other focusable element in math is a needless Tab stop
  const wide = (m) => m.hasAttribute("data-xent-wide") && m.scrollWidth > m.clientWidth + 1;
  article.querySelectorAll("mjx-container, .katex, .math, math").forEach((m) => {
    if (m.matches(focusable) && !wide(m)) stops.add(m);
    m.querySelectorAll(focusable).forEach((f) => stops.add(f));
  });
  const mathTabStops = stops.size;
  const wideFormulas = [...article.querySelectorAll("[data-xent-wide]")].filter(wide).length;
  const name = (e) => {
    const by = e.getAttribute("aria-labelledby");
    const text = by
      ? by.split(/\\s+/).map((id) => document.getElementById(id)?.textContent || "").join(" ")
      : "";
    const legend = e.tagName === "FIELDSET" ? e.querySelector("legend")?.textContent || "" : "";
    return (e.getAttribute("aria-label") || text || legend).trim();
  };
  const explorers = [...article.querySelectorAll(".xent-explorer, .playground")]
    .filter((e) => !e.parentElement.closest(".xent-explorer, .playground"));
  const jump = article.querySelector("a.xent-jump-link");
  const first = explorers[0];
  return {
    quizzes: [...article.querySelectorAll(".xent-quiz")].map((q) => q.dataset.quizMounted || null),
    mathTabStops,
    wideFormulas,
    explorers: explorers.map((e) => ({
      what: e.className + " " + (e.dataset.explorer || ""),
      group: e.getAttribute("role") === "group" || e.tagName === "FIELDSET",
      name: name(e),
      live: e.querySelectorAll('[aria-live="polite"]').length,
      smallSliders: [...e.querySelectorAll('input[type="range"]')]
        .map((s) => s.getBoundingClientRect().height).filter((h) => h < 24),
    })),
    jump: jump ? {
      href: jump.getAttribute("href"),
      leadsToFirst: !!first && !!jump.hash && first.contains(document.querySelector(jump.hash))
        || (!!first && !!jump.hash && document.querySelector(jump.hash) === first),
      beforeFirst:
        !!first && !!(jump.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING),
    } : null,
  };
}"""

# Relative luminance (WCAG) of what the reader sees, for the dark-theme checks.
DARK_JS = """async () => {
  const lum = (r, g, b) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const parse = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const background = (e) => {
    for (let n = e; n; n = n.parentElement) {
      const [r, g, b, a] = parse(getComputedStyle(n).backgroundColor);
      if (a === undefined || a > 0.5) return lum(r, g, b);
    }
    return lum(255, 255, 255);
  };
  const article = __ARTICLE__;
  const panels = [...article.querySelectorAll(".xent-explorer, .playground, .xent-quiz")]
    .map((e) => ({ what: e.className.slice(0, 60), luminance: background(e) }));
  const images = [];
  for (const img of article.querySelectorAll(".cell_output img, figure img, img.xent-figure")) {
    if (!img.complete || !img.naturalWidth) continue;
    const c = document.createElement("canvas");
    c.width = 64; c.height = 64;
    const ctx = c.getContext("2d");
    ctx.fillStyle = getComputedStyle(document.body).backgroundColor;
    ctx.fillRect(0, 0, 64, 64);
    ctx.filter = getComputedStyle(img).filter || "none";
    ctx.drawImage(img, 0, 0, 64, 64);
    const d = ctx.getImageData(0, 0, 64, 64).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += lum(d[i], d[i + 1], d[i + 2]);
    images.push({ what: (img.getAttribute("src") || "").slice(-40), luminance: sum / (64 * 64) });
  }
  return { theme: document.documentElement.dataset.theme, panels, images };
}"""


AXE_JS, FACTS_JS, DARK_JS = (
    js.replace("__ARTICLE__", ARTICLE) for js in (AXE_JS, FACTS_JS, DARK_JS)
)


@pytest.fixture(scope="module")
def axe_script() -> str:
    return fetch_axe(REPO).read_text(encoding="utf-8")


def _visit(browser, base_url: str, path: str, scheme: str, axe_script: str) -> dict:
    local = urlsplit(base_url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if urlsplit(route.request.url).netloc == local
            or urlsplit(route.request.url).scheme in ("data", "blob")
            else route.abort("blockedbyclient")
        ),
    )
    try:
        page = context.new_page()
        page.goto(base_url + path, wait_until="load")
        page.evaluate(WAIT_FOR_MATH_JS)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.xent-explorer[data-explorer]')]"
            ".every((e) => e.dataset.mounted)",
            timeout=15000,
        )
        page.evaluate(SCROLL_THROUGH_JS)  # axe measures every block at once: lay all out
        page.add_script_tag(content=axe_script)
        # only colours change with the theme: the dark pass runs the colour rule alone
        only = ["color-contrast"] if scheme == "dark" else None
        out = {"violations": page.evaluate(AXE_JS, only), "facts": page.evaluate(FACTS_JS)}
        if scheme == "dark":
            out["dark"] = page.evaluate(DARK_JS)
        return out
    finally:
        context.close()


_REPORT: dict[str, dict] = {}


@pytest.fixture(scope="module")
def report():
    yield _REPORT
    if _REPORT:
        print(
            "\npage | quizzes | explorers | serious+critical light/dark | math Tab stops"
            " | wide formulas"
        )
        for path, r in sorted(_REPORT.items()):
            print(
                f"{path} | {len(r['quizzes'])} | {r['explorers']} | "
                f"{r.get('light', '?')}/{r.get('dark', '?')} | {r['math']} | {r.get('wide', 0)}"
            )


def _severe(violations: list[dict]) -> list[str]:
    return [
        f"{v['impact']} {v['id']}: {node}"
        for v in violations
        if v["impact"] in SEVERE
        for node in v["nodes"][:5]
    ]


@pytest.mark.parametrize("path", PAGES)
def test_page_light(browser, base_url, axe_script, report, path):
    r = _visit(browser, base_url, path, "light", axe_script)
    facts = r["facts"]
    severe = _severe(r["violations"])
    report[path] = {
        "quizzes": facts["quizzes"],
        "explorers": len(facts["explorers"]),
        "light": len({s.split(":")[0] for s in severe}),
        "math": facts["mathTabStops"],
        "wide": facts["wideFormulas"],
    }
    problems = list(severe)
    if facts["mathTabStops"]:
        problems.append(f"{facts['mathTabStops']} Tab stops inside formulas")
    problems += [f"quiz {i} did not mount" for i, k in enumerate(facts["quizzes"]) if not k]
    for e in facts["explorers"]:
        if not (e["group"] and e["name"]):
            problems.append(f"explorer {e['what']} is not a named group")
        if not e["live"]:
            problems.append(f"explorer {e['what']} has no polite live region")
        if e["smallSliders"]:
            problems.append(f"explorer {e['what']} has sliders under 24 px: {e['smallSliders']}")
    if facts["explorers"]:
        jump = facts["jump"]
        if not (jump and jump["leadsToFirst"] and jump["beforeFirst"]):
            problems.append(f"no working 'jump to the explorer' link before it: {jump}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PAGES)
def test_page_dark(browser, base_url, axe_script, report, path):
    r = _visit(browser, base_url, path, "dark", axe_script)
    severe = _severe(r["violations"])
    report.setdefault(path, {"quizzes": [], "explorers": "?", "math": "?"})
    report[path]["dark"] = len({s.split(":")[0] for s in severe})
    dark = r["dark"]
    assert dark["theme"] == "dark", dark["theme"]
    problems = list(severe)
    problems += [
        f"bright panel in the dark theme: {p['what']} (luminance {p['luminance']:.2f})"
        for p in dark["panels"]
        if p["luminance"] >= 0.5
    ]
    problems += [
        f"bright image in the dark theme: {i['what']} (mean luminance {i['luminance']:.2f})"
        for i in dark["images"]
        if i["luminance"] >= 0.5
    ]
    assert not problems, "\n".join(problems)


def test_axe_finds_a_planted_violation(browser, axe_script):
    """The harness can fail: a page with an unlabelled input and low-contrast text is caught."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(
            "<main><article><p style='color:#bbb;background:#fff'>faint text</p>"
            "<input type='text'></article></main>"
        )
        page.evaluate(SCROLL_THROUGH_JS)  # axe measures every block at once: lay all out
        page.add_script_tag(content=axe_script)
        ids = {v["id"] for v in page.evaluate(AXE_JS, None) if v["impact"] in SEVERE}
        assert {"color-contrast", "label"} <= ids, ids
    finally:
        context.close()


def test_axe_is_the_pinned_version(axe_script):
    assert "axe v4.14.1" in axe_script[:300] or '"4.14.1"' in axe_script, axe_script[:200]
    assert Path(REPO / "_build" / "axe" / "axe.min.js").is_file()
