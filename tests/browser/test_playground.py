"""The training playground on the built site trains, and its loss falls (issue 14).

Drives playground.html in Chromium: the explorer mounts as a named group; Play trains (steps
advance, the loss falls below its starting value log K), Pause stops; Step takes exactly one
step; a click on the plane adds a point, and so does the keyboard (arrows + Enter); Reset goes
back to step 0; changing K to 5 gives five weight sliders and a loss of log 5 at the start. The
numbers are read from the readouts' data-value (full precision). The math itself is checked
against xent in tests/test_playground_math.py.
"""

from __future__ import annotations

import math

PAGE = "playground.html"
ROOT = ".playground"


def _value(page, name: str) -> float:
    return float(page.get_attribute(f'{ROOT} [data-name="{name}"]', "data-value"))


def _count(page, name: str) -> int:
    return int(page.locator(f'{ROOT} [data-count="{name}"]').inner_text())


def _open(open_page):
    page, log = open_page(PAGE)
    page.wait_for_selector(f"{ROOT}[data-mounted]")
    return page, log


def test_playground_trains_and_its_loss_falls(open_page):
    page, log = _open(open_page)
    root = page.locator(ROOT)
    assert root.get_attribute("role") == "group" and root.get_attribute("aria-label")
    assert root.locator('[aria-live="polite"]').count() == 1
    start = _value(page, "loss")
    assert start == math.log(3) or abs(start - math.log(3)) < 1e-12  # zero weights: uniform
    assert _count(page, "steps") == 0
    play = root.locator("button", has_text="Play")
    play.click()
    page.wait_for_function(
        f"() => Number(document.querySelector('{ROOT} [data-count=steps]').textContent) >= 20"
    )
    root.locator("button", has_text="Pause").click()
    assert root.locator("button.pg-button").first.get_attribute("aria-pressed") == "false"
    steps = _count(page, "steps")
    page.wait_for_timeout(300)
    assert _count(page, "steps") == steps  # paused
    assert _value(page, "loss") < 0.5 * start
    assert _value(page, "accuracy") > 0.8
    curve = root.locator("canvas.pg-curve").get_attribute("aria-label")
    assert "Loss curve over the last" in curve
    root.locator("button", has_text="Step").click()
    assert _count(page, "steps") == steps + 1
    assert not log.problems(), log.problems()


def test_points_are_added_by_click_and_keyboard(open_page):
    page, _ = _open(open_page)
    root = page.locator(ROOT)
    n = _count(page, "points")
    root.locator("select.pg-new-class").select_option("2")
    root.locator("canvas.pg-plane").click(position={"x": 40, "y": 40})
    assert _count(page, "points") == n + 1
    plane = root.locator("canvas.pg-plane")
    plane.focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowUp", "Enter"):
        page.keyboard.press(key)
    assert _count(page, "points") == n + 2
    assert "cross at (0.50, 0.25)" in plane.get_attribute("aria-label")
    labels = page.evaluate(f"() => document.querySelector('{ROOT}').xent.model.get('labels')")
    assert labels[-2:] == [2, 2]
    root.locator("button", has_text="Reset").click()
    assert _count(page, "points") == n and _count(page, "steps") == 0


def test_more_classes_and_the_controls(open_page):
    page, _ = _open(open_page)
    root = page.locator(ROOT)
    root.locator("select[data-control=classes]").select_option("5")
    assert root.locator("input[data-control^=weight]").count() == 5
    assert abs(_value(page, "loss") - math.log(5)) < 1e-12
    for control in ("lr", "temperature", "smoothing", "weight0"):
        assert root.locator(f"input[data-control={control}]").count() == 1, control
    # a class weight of zero everywhere leaves nothing to learn from: the loss is nan
    for k in range(5):
        root.locator(f"input[data-control=weight{k}]").fill("0")
    assert math.isnan(_value(page, "loss"))
