"""Chapter 6's predictions explorer on the built site: it loads the shipped sample and filters.

Driven twice: in a harness (the exact element ``xent.web.predictions_explorer()`` stores, mounted
by the site's own loader on a page of the site), and on chapter 6 itself, where the chapter's
explorer cell must be (issue 14: "chapter 6's explorer filters"). Pressing a confusion-matrix
cell shows exactly that cell's images; the class menus, "mistakes only" and the confidence order
do what they say; the image sprite and the data are served once by the site.
"""

from __future__ import annotations

import pytest
import xent.web

CHAPTER = "chapters/06-fashion-mnist.html"
ROOT = '.xent-explorer[data-explorer="predictions"]'

MOUNT_JS = """async (html) => {
  const box = document.createElement("div");
  box.innerHTML = html;
  (document.querySelector("main article") || document.body).prepend(box);
  // the page's own loader module (same URL, so the same instance, already run once)
  const site = await import(document.querySelector('script[src*="xent_site.js"]').src);
  await site.mountAll();
}"""

CARDS_JS = f"""() => [...document.querySelectorAll('{ROOT} figure.pred-card')].map((f) => ({{
  label: f.querySelector('.pred-image').getAttribute('aria-label'),
  wrong: f.classList.contains('pred-wrong'),
  conf: Number(f.querySelector('[data-name^=shown_probs]').dataset.value),
}}))"""


def _count(page, name: str) -> int:
    return int(page.locator(f'{ROOT} [data-count="{name}"]').inner_text())


def _ready(page) -> None:
    page.wait_for_selector(f'{ROOT}[data-mounted] [data-count="count"]')
    # on screen, as a reader sees it: the site lays out a block only near the screen, and
    # innerText reads the laid-out text
    page.locator(ROOT).scroll_into_view_if_needed()
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _drive(page) -> None:
    _ready(page)
    root = page.locator(ROOT)
    assert root.get_attribute("role") == "group" and root.get_attribute("aria-label")
    assert _count(page, "count") == 300
    names = xent.web.predictions_explorer().classes
    # the sprite is there and drawn
    sprite = page.evaluate(
        f"() => getComputedStyle(document.querySelector('{ROOT} .pred-image')).backgroundImage"
    )
    assert "fashion_mnist_predictions.png" in sprite or sprite.startswith('url("data:image/png')
    # press the cell (true Shirt, predicted T-shirt/top): exactly its images, no others
    cell = root.locator('[data-cell="6-0"]')
    expected = int(cell.locator("[data-count]").inner_text())
    assert expected >= 1
    cell.click()
    assert root.locator('[data-cell="6-0"]').get_attribute("aria-pressed") == "true"
    assert page.evaluate("() => document.activeElement.dataset.cell") == "6-0"
    assert _count(page, "matches") == expected
    cards = page.evaluate(CARDS_JS)
    assert len(cards) == min(expected, 24)
    for c in cards:
        assert f": {names[6]}, predicted {names[0]}" in c["label"] and c["wrong"], c
    assert root.locator("select[data-control=true_class]").input_value() == "6"
    # pressing it again clears the filter
    root.locator('[data-cell="6-0"]').click()
    assert _count(page, "matches") == 300
    # menus: one true class, mistakes only, least confident first
    root.locator("select[data-control=true_class]").select_option("4")
    root.locator("select[data-control=show]").select_option("mistakes")
    root.locator("select[data-control=sort]").select_option("unsure")
    cards = page.evaluate(CARDS_JS)
    assert cards and all(c["wrong"] and f": {names[4]}," in c["label"] for c in cards)
    confs = [c["conf"] for c in cards]
    assert confs == sorted(confs)
    root.locator("select[data-control=sort]").select_option("confident")
    confs = [c["conf"] for c in page.evaluate(CARDS_JS)]
    assert confs == sorted(confs, reverse=True)


def test_predictions_explorer_in_a_harness(open_page):
    page, log = open_page("playground.html")
    page.evaluate(MOUNT_JS, xent.web.predictions_explorer()._repr_html_())
    _drive(page)
    assert not log.problems(), log.problems()


def test_chapter_6_has_the_predictions_explorer(open_page):
    page, log = open_page(CHAPTER)
    if page.locator(ROOT).count() == 0:
        pytest.fail(
            "chapter 6 has no predictions explorer yet: insert the code cell "
            "`xent.web.predictions_explorer()` (see lib/xent/web_assets/quiz.md, end)",
            pytrace=False,
        )
    _drive(page)
    assert not log.problems(), log.problems()
