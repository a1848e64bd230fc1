"""The explorers live in Chromium: on the built site, as widgets driven from Python, and a new kind.

1. On every built page that holds explorers, each must have mounted (kernel-free, browser-side
   math); then every control is moved (slider ends, middle, every menu option; once by the
   keyboard) and every displayed number (``data-name``/``data-value``) is compared, to 1e-9
   relative, with the results of the same kind's Python widget set to the same state (numbers
   from ``xent``); the displayed text must be that number rounded to 4 decimals. The explorer must
   be a named group, every control labelled, sliders at least 24 px tall, and its polite live
   region must announce the results. Chapters 1 to 5 must each show their own explorer.
2. Each kind's widget view (the engine's anywidget ``render``) on a page, with a model that plays
   the kernel's part: Python sets a trait, the page shows the widget's new ``results``; a slider
   moved on the page changes the Python widget's state and the page shows its ``results``.
3. The worked example kind (tests/example_kind/) is added to a copy of the engine's files as a
   new file only, and mounted by the site's loader.
4. The softmax explorer's one cell run in a real JupyterLab (started for the test): the widget
   mounts with nothing loaded from another host, and a key press on a slider makes the kernel
   compute the new numbers with xent.

An element screenshot of each explorer goes to _build/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import json
import math
import re
import shutil
import sys
import threading
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import xent.web
from browser_support import REPO, SITE, site_pages
from conftest import _GuardedContext

sys.path.insert(0, str(REPO / "tests" / "example_kind"))
from square import square_explorer  # noqa: E402

RTOL = 1e-9
ATOL = 1e-12

CHAPTER_EXPLORERS = {
    "chapters/01-entropy.html": "entropy",
    "chapters/02-softmax.html": "softmax",
    "chapters/03-softmax-jacobian.html": "jacobian",
    "chapters/04-cross-entropy-gradient.html": "ce_gradient",
    "chapters/05-weighted-cross-entropy.html": "weighted_ce",
    "chapters/09-numbers-and-scale.html": "precision",
    "chapters/07-sigmoid-multilabel.html": "multilabel",
    "chapters/08-calibration.html": "calibration",
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
  mounted: e.dataset.mounted === "true",
  fallbackShown: !!e.querySelector(".xent-fallback"),
}))"""

# What an explorer shows now: its model's state, its numbers, and accessibility facts.
STATE_JS = """(id) => {
  const root = document.getElementById(id);
  const { model, spec } = root.xent;
  const state = {};
  for (const key of spec.state) state[key] = model.get(key);
  const shown = {};
  root.querySelectorAll("[data-name]").forEach((n) => {
    shown[n.dataset.name] = [n.dataset.value, n.textContent];
  });
  const controls = [...root.querySelectorAll("input, select")];
  return {
    state,
    shown,
    group: root.getAttribute("role") === "group" && !!root.getAttribute("aria-label"),
    labelled: controls.every((c) => c.labels.length > 0 && c.labels[0].textContent.trim()),
    smallTargets: controls.filter((c) => c.getBoundingClientRect().height < 24).length,
    live: (root.querySelector("[aria-live=polite]") || {}).textContent || "",
  };
}"""

SET_JS = """([id, control, value]) => {
  const el = document.getElementById(id).querySelector(`[data-control="${control}"]`);
  el.value = String(value);
  el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", { bubbles: true }));
}"""

CONTROLS_JS = """(id) => [...document.getElementById(id).querySelectorAll("[data-control]")].map(
  (c) => c.tagName === "SELECT"
    ? { name: c.dataset.control, values: [...c.options].map((o) => o.value) }
    : { name: c.dataset.control, values: [c.min, c.max, c.value] })"""


def flatten(results: dict) -> dict[str, float]:
    """{"p": [a, b], "J": [[..]]} -> {"p0": a, "p1": b, "J00": ...}: the displayed names."""
    out: dict[str, float] = {}

    def walk(name: str, value: object) -> None:
        if isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{name}{i}", v)
        else:
            out[name] = float(value)  # "Infinity", "-Infinity", "NaN" parse too

    for key, value in results.items():
        walk(key, value)
    return out


def widget_results(kind: str, state: dict) -> dict[str, float]:
    """The Python widget of this kind, set to this state: its results (from xent), flattened."""
    widget = getattr(xent.web, f"{kind}_explorer")()
    for key, value in state.items():
        if key != "ranges":
            setattr(widget, key, value)
    return flatten(widget.results)


def assert_shows(shown: dict, expected: dict[str, float], where: str) -> int:
    """Every displayed number equals its expected value, and its text is it at 4 decimals."""
    assert shown, f"{where}: no numbers shown"
    for name, (value_text, text) in shown.items():
        assert name in expected, f"{where}: {name} is not among the results {sorted(expected)}"
        want, got = expected[name], float(value_text)
        if math.isnan(want):
            assert math.isnan(got) and text == "nan", f"{where} {name}"
        elif math.isinf(want):
            assert got == want and text == ("\u221e" if want > 0 else "\u2212\u221e"), where
        else:
            assert abs(got - want) <= ATOL + RTOL * abs(want), f"{where} {name}: {got} != {want}"
            assert re.fullmatch(r"-?\d+\.\d{4}", text), f"{where} {name}: {text!r}"
            assert abs(float(text) - got) <= 0.5e-4 + 1e-12, f"{where} {name}: {text!r}"
    return len(shown)


def check_state(page, root: dict) -> int:
    facts = page.evaluate(STATE_JS, root["id"])
    where = f"{root['id']} in state {facts['state']}"
    assert facts["group"], f"{root['id']}: not a named group"
    assert facts["labelled"], f"{root['id']}: a control without a label"
    assert facts["smallTargets"] == 0, f"{root['id']}: controls under 24 px"
    return assert_shows(facts["shown"], widget_results(root["kind"], facts["state"]), where)


def exercise(page, root: dict, screenshots, where: str) -> int:
    """Check the initial state, each control at its ends and options, a key press, the live
    region; return how many numbers were checked."""
    assert root["mounted"] and not root["fallbackShown"], f"{root['id']} did not mount"
    checked = check_state(page, root)
    for control in page.evaluate(CONTROLS_JS, root["id"]):
        for value in control["values"]:
            page.evaluate(SET_JS, [root["id"], control["name"], value])
            checked += check_state(page, root)
    sliders = page.locator(f"#{root['id']} input[type=range]")
    if sliders.count():  # a kind with menus only (chapter 6's predictions) has no slider
        first = sliders.first
        before = first.input_value()
        first.focus()
        page.keyboard.press("ArrowLeft" if before != first.get_attribute("min") else "ArrowRight")
        assert first.input_value() != before
        checked += check_state(page, root)
    # the polite live region announces the results (throttled: within a second)
    page.wait_for_function(
        "(id) => document.getElementById(id).querySelector('[aria-live=polite]').textContent",
        arg=root["id"],
        timeout=3000,
    )
    page.locator(f"#{root['id']}").screenshot(path=str(screenshots / f"explorer-{where}.png"))
    return checked


@pytest.mark.parametrize("path", EXPLORER_PAGES)
def test_explorers_on_page_match_xent(path, site, open_page, screenshots):
    page, log = open_page(path)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.xent-explorer[data-explorer]')]"
        ".every((e) => e.dataset.mounted === 'true')",
        timeout=10000,
    )
    roots = page.evaluate(ROOTS_JS)
    assert roots, f"{path}: no explorer found"
    name = path.replace("/", "__")[:-5]
    checked = sum(exercise(page, r, screenshots, f"{name}-{r['id']}") for r in roots)
    assert log.problems() == [], path
    print(f"{path}: {len(roots)} explorer(s), {checked} displayed numbers checked against xent")


@pytest.mark.parametrize("path", sorted(CHAPTER_EXPLORERS))
def test_each_chapter_shows_its_explorer(path, site):
    page = site / path
    assert page.is_file(), f"{path} is missing from the built site"
    text = page.read_text("utf-8")
    assert f'data-explorer="{CHAPTER_EXPLORERS[path]}"' in text, f"{path}: no explorer"
    # the engine is served once by the site, not stored in the page
    assert "xent/xent_site.js" in text and "xent_engine" not in text


# ---- a local server for pages outside the built site ----


@pytest.fixture
def served(browser, tmp_path):
    """(directory, open) where open(name) loads tmp_path/name from a local server in a guarded
    browser context (nothing else may load)."""
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    netloc = f"127.0.0.1:{server.server_address[1]}"
    guarded = _GuardedContext(browser, netloc)

    def _open(name: str):
        page = guarded.new_page()
        page.goto(f"http://{netloc}/{name}", wait_until="load")
        return page, guarded.log

    try:
        yield tmp_path, _open
    finally:
        guarded.context.close()
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def copy_engine(target: Path) -> None:
    shutil.copytree(Path(str(resources.files("xent").joinpath("web_assets"))), target,
                    dirs_exist_ok=True)  # fmt: skip


# A stand-in for anywidget's model in the page: get/set/on/off/save_changes, where
# save_changes records the changed keys for the test (the kernel's side) to pick up.
WIDGET_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>widget</title><link rel="stylesheet" href="xent_explorers.css"></head><body>
<script type="module">
import widget from "./xent_engine.js";
window.mountWidget = async (state) => {
  const data = { ...state }, handlers = {}, dirty = new Set();
  window.sent = [];
  const model = {
    get: (k) => data[k],
    receive: (k, v) => { data[k] = v; (handlers["change:" + k] || []).forEach((f) => f()); },
    set: (k, v) => { dirty.add(k); model.receive(k, v); },
    on: (e, f) => { (handlers[e] ||= []).push(f); },
    off: (e, f) => { handlers[e] = (handlers[e] || []).filter((g) => g !== f); },
    save_changes: () => {
      const msg = {};
      for (const k of dirty) msg[k] = data[k];
      dirty.clear();
      window.sent.push(msg);
    },
  };
  window.model = model;
  const el = document.createElement("div");
  el.id = "widget";
  document.body.append(el);
  await widget.render({ model, el });
};
</script></body></html>"""

# what the kernel sends: changed traits, then the new results
PUSH_JS = """(changes) => { for (const [k, v] of Object.entries(changes)) model.receive(k, v); }"""
SHOWN_JS = """() => Object.fromEntries([...document.querySelectorAll("#widget [data-name]")]
  .map((n) => [n.dataset.name, [n.dataset.value, n.textContent]]))"""

WIDGET_MOVES = {
    "entropy": {"q": [0.5, 0.0, 0.25, 0.25], "unit": "nats"},
    "softmax": {"logits": [3.0, 1.0, 0.0], "temperature": 0.5},
    "jacobian": {"logits": [10.0, -10.0, 3.0]},
    "ce_gradient": {"logits": [-10.0, 10.0, 0.0, 5.5], "target": 3},
    "weighted_ce": {"weight": [0.0, 0.0, 0.0]},
    "precision": {"logits": [89.0, 0.0, -104.0], "dtype": "bfloat16"},
}


@pytest.mark.parametrize("kind", sorted(WIDGET_MOVES))
def test_widget_view_driven_from_python(kind, served, screenshots):
    directory, open_served = served
    copy_engine(directory)
    (directory / "widget.html").write_text(WIDGET_PAGE, "utf-8")
    page, log = open_served("widget.html")
    widget = getattr(xent.web, f"{kind}_explorer")()
    synced = {k: v for k, v in widget.get_state().items() if not k.startswith("_")}
    page.evaluate("(s) => mountWidget(s)", {**synced, "_kind_js": widget._kind_js})
    page.wait_for_selector("#widget[data-mounted=true]")
    assert_shows(page.evaluate(SHOWN_JS), flatten(widget.results), f"{kind} widget, initial")

    # Python sets traits; the kernel sends the changed state and the new results
    for key, value in WIDGET_MOVES[kind].items():
        setattr(widget, key, value)
    page.evaluate(PUSH_JS, {**widget.config(), "results": widget.results})
    assert_shows(page.evaluate(SHOWN_JS), flatten(widget.results), f"{kind} widget, from Python")

    # the reader moves the first control: the page sends the state, Python answers
    first = page.locator("#widget [data-control]").first
    first.focus()
    key = first.evaluate("e => e.tagName !== 'INPUT' ? 'ArrowDown' : "
                         "e.value === e.min ? 'ArrowRight' : 'ArrowLeft'")  # fmt: skip
    page.keyboard.press(key)
    sent = page.evaluate("() => window.sent")
    assert sent, f"{kind}: the view sent nothing"
    for message in sent:
        for key, value in message.items():
            setattr(widget, key, value)
    page.evaluate(PUSH_JS, {"results": widget.results})
    assert_shows(page.evaluate(SHOWN_JS), flatten(widget.results), f"{kind} widget, from view")
    page.locator("#widget").screenshot(path=str(screenshots / f"widget-{kind}.png"))
    assert log.problems() == [], kind


def test_new_kind_needs_only_new_files(served, screenshots):
    """The worked example: explorers/square.js beside the engine, mounted by the site loader."""
    directory, open_served = served
    copy_engine(directory)
    shutil.copyfile(REPO / "tests" / "example_kind" / "square.js",
                    directory / "explorers" / "square.js")  # fmt: skip
    widget = square_explorer(x=1.5)
    (directory / "square.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>square</title>'
        '<link rel="stylesheet" href="xent_explorers.css">'
        '<script type="module" src="xent_site.js"></script></head>'
        f"<body>{widget._repr_html_()}</body></html>",
        "utf-8",
    )
    page, log = open_served("square.html")
    page.wait_for_selector("#xent-square[data-mounted=true]")
    shown = page.evaluate(
        "() => document.querySelector('[data-name=square]').dataset.value"
    )
    assert float(shown) == widget.results["square"] == 2.25
    page.evaluate(SET_JS, ["xent-square", "x", "-3"])
    widget.x = -3.0
    shown = page.evaluate("() => document.querySelector('[data-name=square]').textContent")
    assert shown == "9.0000" and widget.results["square"] == 9.0
    assert json.loads(page.evaluate("() => JSON.stringify(document.getElementById("
                                    "'xent-square').xent.model.get('x'))")) == -3  # fmt: skip
    assert log.problems() == []


# ---- 4. the real thing: the widget in JupyterLab, numbers from xent in a kernel ----

NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "explorer", "metadata": {},
               "outputs": [], "source": ["import xent.web\n", "xent.web.softmax_explorer()"]}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}  # fmt: skip
NUMBERS_JS = """() => Object.fromEntries(
  [...document.querySelectorAll(".jp-OutputArea [data-name]")]
    .map((n) => [n.dataset.name, Number(n.dataset.value)]))"""


@pytest.fixture
def jupyterlab(tmp_path):
    """http://127.0.0.1:PORT/ of a JupyterLab serving tmp_path (token "t"), stopped afterwards."""
    import os
    import socket
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}  # fmt: skip
    lab = subprocess.Popen(
        [str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=t",
         f"--ServerApp.root_dir={tmp_path}", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(240):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        yield tmp_path, f"127.0.0.1:{port}"
    finally:
        lab.terminate()
        lab.wait(30)


def test_widget_in_jupyterlab_computes_with_xent(browser, jupyterlab, screenshots):
    """Run the explorer's one cell in JupyterLab: the widget mounts (its front end comes from the
    anywidget wheel, nothing from another host), and moving a slider with the keyboard makes the
    kernel compute the new numbers with xent."""
    directory, netloc = jupyterlab
    (directory / "explorer.ipynb").write_text(json.dumps(NOTEBOOK), "utf-8")
    guarded = _GuardedContext(browser, netloc)
    try:
        page = guarded.new_page()
        page.goto(f"http://{netloc}/lab/tree/explorer.ipynb?token=t")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status=idle]", timeout=120000)
        run = "[data-command='notebook:run-cell-and-select-next']"
        for _ in range(8):  # the first clicks can land before the notebook listens
            page.click(".jp-Cell .jp-InputArea-prompt")
            page.click(f"jp-button{run}, button{run}")
            try:
                page.wait_for_selector(".xent-explorer[data-mounted=true]", timeout=15000)
                break
            except Exception:  # noqa: BLE001 (playwright's TimeoutError): try again
                continue
        shown = page.evaluate(NUMBERS_JS)
        p = xent.softmax(np.array([2.0, 1.0, 0.1, -1.0]))
        np.testing.assert_allclose([shown[f"p{i}"] for i in range(4)], p, rtol=1e-12)
        # by the keyboard: JupyterLab must leave the arrow keys to the focused slider
        page.locator(".jp-OutputArea input[type=range]").first.focus()
        page.keyboard.press("ArrowRight")
        p = xent.softmax(np.array([2.1, 1.0, 0.1, -1.0]))
        page.wait_for_function(
            f"() => Math.abs(Number(document.querySelector('.jp-OutputArea [data-name=p0]')"
            f".dataset.value) - {float(p[0])!r}) < 1e-12",
            timeout=30000,
        )
        shown = page.evaluate(NUMBERS_JS)
        np.testing.assert_allclose([shown[f"p{i}"] for i in range(4)], p, rtol=1e-12)
        page.locator(".jp-OutputArea .xent-explorer").screenshot(
            path=str(screenshots / "widget-jupyterlab.png")
        )
        assert guarded.log.offsite == [], "JupyterLab or the widget loaded from another host"
    finally:
        guarded.context.close()
