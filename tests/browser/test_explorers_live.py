"""The kernel-free explorers, live in Chromium: move every control, read the numbers, compare.

On every built page that holds explorers, and on a standalone page with all five made by
``xent.web`` (independent of the chapters), each explorer must have mounted; then its controls
are moved (value set + ``input`` event, as a browser does; and once by the keyboard) and every
displayed number (``data-value``) is compared with ``xent`` computed here in Python, to 1e-9
relative, and its text with ``xent.web.format_number``. Chapters 1 to 5 must each show their
own explorer. An element screenshot of each explorer goes to _build/screenshots/.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
import xent
from browser_support import SITE, site_pages
from xent.web import format_number

RTOL = 1e-9
ATOL = 1e-12

CHAPTER_EXPLORERS = {
    "chapters/01-entropy.html": "entropy",
    "chapters/02-softmax.html": "softmax",
    "chapters/03-softmax-jacobian.html": "jacobian",
    "chapters/04-cross-entropy-gradient.html": "ce_gradient",
    "chapters/05-weighted-cross-entropy.html": "weighted_ce",
}


# An explorer is an element <div class="xent-explorer ..." ... data-explorer="name">; the
# bare attribute text also appears in highlighted source (viewcode's _modules/ pages).
_EXPLORER_TAG = re.compile(r'<div class="xent-explorer[^"]*"[^>]*\sdata-explorer="')


def _pages_with_explorers() -> list[str]:
    return [p for p in site_pages() if _EXPLORER_TAG.search((SITE / p).read_text("utf-8"))]


EXPLORER_PAGES = _pages_with_explorers() or ["(site not built or no explorers)"]

ROOTS_JS = """() => [...document.querySelectorAll(".xent-explorer[data-explorer]")].map((e) => ({
  id: e.id,
  kind: e.dataset.explorer,
  config: JSON.parse(e.dataset.config),
  mounted: e.dataset.mounted === "true",
  fallbackShown: !!e.querySelector(".xent-fallback"),
}))"""

SET_JS = """([id, value]) => {
  const el = document.getElementById(id);
  if (!el) throw new Error("no control " + id);
  el.value = String(value);
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
  return el.value;
}"""

STATE_JS = """(id) => {
  const root = document.getElementById(id);
  const controls = {};
  root.querySelectorAll("[data-control]").forEach((c) => {
    controls[c.dataset.control] = c.value;
  });
  const shown = {};
  root.querySelectorAll("[data-name]").forEach((n) => {
    shown[n.dataset.name] = [n.dataset.value, n.textContent];
  });
  const labelled = [...root.querySelectorAll("input, select")].every(
    (c) => c.labels.length > 0 && c.labels[0].textContent.trim() !== ""
  );
  return { controls, shown, labelled };
}"""


# ---- what each explorer should show, computed with xent ----


def _vec(controls: dict[str, str], prefix: str, n: int) -> np.ndarray:
    return np.array([float(controls[f"{prefix}{i}"]) for i in range(n)])


def expected_numbers(kind: str, cfg: dict, controls: dict[str, str]) -> dict[str, float]:
    """The numbers the explorer must display for these control values, from xent."""
    out: dict[str, float] = {}
    if kind == "entropy":
        p = np.array(cfg["p"])
        w = _vec(controls, "q", len(p))
        q = w / w.sum() if w.sum() > 0 else np.full(len(p), 1.0 / len(p))
        base = 2.0 if controls["unit"] == "bits" else None
        for i in range(len(p)):
            out[f"p{i}"], out[f"q{i}"] = p[i], q[i]
        out["H_p"] = xent.info.entropy(p, base=base)
        out["H_pq"] = xent.info.cross_entropy(p, q, base=base)
        out["H_qp"] = xent.info.cross_entropy(q, p, base=base)
        out["KL_pq"] = xent.info.kl_divergence(p, q, base=base)
    elif kind == "softmax":
        z = _vec(controls, "z", len(cfg["logits"]))
        p = xent.softmax(z, temperature=float(controls["T"]))
        out.update({f"p{i}": v for i, v in enumerate(p)})
        out["sum_p"] = p.sum()
    elif kind == "jacobian":
        p = xent.softmax(_vec(controls, "z", len(cfg["logits"])))
        out.update({f"p{i}": v for i, v in enumerate(p)})
        jac = xent.softmax_jacobian(p)
        out.update({f"J{i}{j}": jac[i, j] for i in range(len(p)) for j in range(len(p))})
    elif kind == "ce_gradient":
        z = _vec(controls, "z", len(cfg["logits"]))
        y = int(controls["y"])
        p = xent.softmax(z)
        out["loss"] = xent.cross_entropy(z, y)
        out["p_y"] = p[y]
        out.update({f"p{i}": v for i, v in enumerate(p)})
        out.update({f"g{i}": v for i, v in enumerate(xent.cross_entropy_grad(z, y))})
    elif kind == "weighted_ce":
        z, y = np.array(cfg["logits"]), np.array(cfg["targets"])
        w = _vec(controls, "w", len(cfg["weight"]))
        loss, grad = xent.cross_entropy_and_grad(z, y, weight=w)
        out["loss"] = loss
        out["normalizer"] = w[y].sum()
        out["loss_unweighted"] = xent.cross_entropy(z, y)
        out.update({f"gnorm{n}": v for n, v in enumerate(np.linalg.norm(grad, axis=1))})
    else:
        raise AssertionError(f"unknown explorer kind {kind}")
    return {k: float(v) for k, v in out.items()}


def check_state(page, root: dict) -> int:
    """Compare everything the explorer shows now with xent; return how many numbers."""
    state = page.evaluate(STATE_JS, root["id"])
    assert state["labelled"], f"{root['id']}: a control without a label"
    expected = expected_numbers(root["kind"], root["config"], state["controls"])
    shown = state["shown"]
    assert set(shown) == set(expected), root["id"]
    for name, want in expected.items():
        value_text, text = shown[name]
        got = float(value_text)
        where = f"{root['id']} {name} with controls {state['controls']}"
        if math.isnan(want) or math.isinf(want):
            assert got == want or (math.isnan(got) and math.isnan(want)), where
        else:
            assert abs(got - want) <= ATOL + RTOL * abs(want), f"{where}: {got} != {want}"
        assert text == format_number(got, 4), where
    return len(expected)


def settings(kind: str, cfg: dict) -> list[dict[str, object]]:
    """Control settings to try, including the slider ends and the degenerate cases."""
    if kind == "entropy":
        k = len(cfg["p"])
        one_hot = [1.0] + [0.0] * (k - 1)
        grid = [
            [0.5] * k,
            one_hot,
            [0.0] * k,
            [round(0.1 * (i + 1), 2) for i in range(k)],
            cfg["p"],
        ]
        return [
            {**{f"q{i}": v for i, v in enumerate(q)}, "unit": unit}
            for q, unit in itertools.product(grid, ["nats", "bits"])
        ]
    k = len(cfg.get("logits", []))
    logit_sets = [
        [10.0] * k,
        [10.0, -10.0] + [0.0] * (k - 2),
        [-10.0] * (k - 1) + [9.9],
        [round(0.7 * i - 1.3, 1) for i in range(k)],
    ]
    if kind == "softmax":
        return [
            {**{f"z{i}": v for i, v in enumerate(z)}, "T": t}
            for z, t in itertools.product(logit_sets, [0.05, 1.0, 5.0])
        ]
    if kind == "jacobian":
        return [{f"z{i}": v for i, v in enumerate(z)} for z in logit_sets]
    if kind == "ce_gradient":
        return [
            {**{f"z{i}": v for i, v in enumerate(z)}, "y": y}
            for z, y in itertools.product(logit_sets, range(k))
        ]
    if kind == "weighted_ce":
        c = len(cfg["weight"])
        return [
            {f"w{i}": v for i, v in enumerate(w)}
            for w in ([1.0] * c, [5.0] + [0.1] * (c - 1), [0.0] + [2.5] * (c - 1), [0.0] * c)
        ]
    raise AssertionError(f"unknown explorer kind {kind}")


def exercise(page, root: dict, screenshots, where: str) -> int:
    """Check the initial state, every setting, and one keyboard step; return numbers checked."""
    assert root["mounted"] and not root["fallbackShown"], f"{root['id']} did not mount"
    checked = check_state(page, root)
    for setting in settings(root["kind"], root["config"]):
        for key, value in setting.items():
            page.evaluate(SET_JS, [f"{root['id']}-{key}", value])
        checked += check_state(page, root)
    # a real key press on the first slider (the browser fires the input event itself)
    first = page.locator(f"#{root['id']} input[type=range]").first
    before = first.input_value()
    first.focus()
    page.keyboard.press(
        "ArrowLeft" if float(before) > float(first.get_attribute("min")) else "ArrowRight"
    )
    assert first.input_value() != before
    checked += check_state(page, root)
    shot = screenshots / f"explorer-{where}-{root['id']}.png"
    page.locator(f"#{root['id']}").screenshot(path=str(shot))
    return checked


@pytest.mark.parametrize("path", EXPLORER_PAGES)
def test_explorers_on_page_match_xent(path, site, open_page, screenshots):
    page, log = open_page(path)
    roots = page.evaluate(ROOTS_JS)
    assert roots, f"{path}: no explorer found"
    where = path.replace("/", "__")[:-5]
    checked = sum(exercise(page, root, screenshots, where) for root in roots)
    assert log.problems() == [], path
    print(f"{path}: {len(roots)} explorer(s), {checked} displayed numbers checked against xent")


@pytest.mark.parametrize("path", sorted(CHAPTER_EXPLORERS))
def test_each_chapter_shows_its_explorer(path, site):
    page = site / path
    assert page.is_file(), f"{path} is missing from the built site"
    kind = CHAPTER_EXPLORERS[path]
    assert f'data-explorer="{kind}"' in page.read_text("utf-8"), f"{path}: no {kind} explorer"


def test_standalone_page_with_every_explorer(blank_page, screenshots):
    """All five xent.web explorers (plus a renamed second one) on one page, no site needed."""
    made = [
        xent.web.entropy_explorer(),
        xent.web.softmax_explorer(),
        xent.web.softmax_explorer(logits=[1.0, -1.0, 0.5], temperature=2.0, name="softmax-3"),
        xent.web.jacobian_explorer(),
        xent.web.ce_gradient_explorer(),
        xent.web.weighted_ce_explorer(),
    ]
    body = "\n".join(e._repr_html_() for e in made)
    page, log = blank_page
    page.set_content(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>explorers</title>'
        f"</head><body>{body}</body></html>"
    )
    roots = page.evaluate(ROOTS_JS)
    assert [r["id"] for r in roots] == [e.element_id for e in made]
    checked = sum(exercise(page, root, screenshots, "standalone") for root in roots)
    assert log.problems() == [] and log.requests == []
    print(f"standalone: {len(roots)} explorers, {checked} displayed numbers checked against xent")
