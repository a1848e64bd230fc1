"""Reading and running the chapters in JupyterLab, as the README tells readers to.

JupyterLab is started from this test's own environment (the book's `.venv`: `jupyter lab` with
jupyterlab-myst) on a free 127.0.0.1 port, token off, with its settings, runtime and workspace
files in a temporary folder and the chapters COPIED there (running a chapter never touches the
repository's notebooks). Startup is bounded (90 s) and the server's process group is ended after
the module. Chromium may reach only that server.

- Each chapter: every markdown cell is rendered by jupyterlab-myst and no raw MyST is left in it
  (`(label)=`, `{role}`, directive fences, `$` math, TeX commands, `{{ }}`, `%s`, `text <target>`),
  no cross-reference shows as unresolved; and its first code cell is the hidden install cell
  (tools/launch_cell.py). README "Writing chapters" has the rules.
- Chapter 2 runs from top to bottom without an error, and its explorer is a live widget: moving
  the temperature slider makes the kernel recompute, and the bars show `xent.softmax`'s values.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from browser_support import REPO

sys.path.insert(0, str(REPO / "tools"))
import launch_cell  # noqa: E402  (tools/launch_cell.py: the install cell's template)

CHAPTERS = sorted(p.name for p in (REPO / "chapters").glob("*.ipynb"))
STARTUP_TIMEOUT_S = 90
OPEN_TIMEOUT_MS = 120_000
RUN_TIMEOUT_S = 300
SETTINGS = {
    # every cell in the DOM (no virtual scrolling), no autosave, no news or update checks
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

RENDERED = ".jp-InputArea > .myst, .jp-InputArea > .jp-RenderedMarkdown"

# Raw MyST and TeX left in the rendered text of each markdown cell (code and math removed first).
RAW_MYST_JS = """(rendered) => {
  const checks = [
    [/\\([\\w:-]+\\)=/g, "label (x)= shown as text"],
    [/\\{[a-z][\\w:-]*\\}`?/g, "role or directive shown as text"],
    [/```|:::/g, "directive fence shown as text"],
    [/\\$[^$\\n]*\\$|\\$\\$/g, "dollar math not typeset"],
    [/\\\\[a-zA-Z]+/g, "TeX command not typeset"],
    [/\\{\\{[^}]*\\}\\}/g, "substitution not replaced"],
    [/%s/g, "numref %s template"],
    [/\\S+ <[\\w.-]+>/g, "explicit-target syntax shown as text"],
    [/^:[a-z-]+:/gm, "directive option shown as text"],
  ];
  const cells = [...document.querySelectorAll(".jp-Notebook .jp-Cell")];
  const problems = [];
  let markdown = 0;
  cells.forEach((cell, index) => {
    if (!cell.classList.contains("jp-MarkdownCell")) return;
    markdown += 1;
    const out = cell.querySelector(rendered);
    if (!out) { problems.push([index, "not rendered as markdown"]); return; }
    for (const e of out.querySelectorAll('[title="Cross Reference Not Found"]'))
      problems.push([index, "unresolved cross-reference: " + e.textContent.trim()]);
    const clone = out.cloneNode(true);
    clone.querySelectorAll(".katex, code, pre, svg, [title='Citation Not Found']")
      .forEach((e) => e.remove());
    const text = clone.textContent;
    for (const [re, what] of checks)
      for (const m of text.matchAll(re)) problems.push([index, what + ": " + m[0].slice(0, 60)]);
  });
  return {cells: cells.length, markdown, problems};
}"""

RENDER_PROGRESS_JS = """(rendered) => ({
  markdown: document.querySelectorAll(".jp-Notebook .jp-MarkdownCell").length,
  rendered: [...document.querySelectorAll(".jp-Notebook .jp-MarkdownCell")]
    .filter((cell) => cell.querySelector(rendered)).length,
})"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _jupyter() -> Path:
    """`jupyter` of the environment running the tests (the book's .venv under `make test`)."""
    exe = Path(sys.executable).parent / "jupyter"
    if not exe.is_file():
        pytest.fail(f"{exe} not found: run the tests from the book's .venv (`make venv`)")
    return exe


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory) -> Iterator[str]:
    """Base URL of a JupyterLab serving copies of the chapters; stopped after the module."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "book"
    (root / "chapters").mkdir(parents=True)
    for name in CHAPTERS:
        shutil.copy2(REPO / "chapters" / name, root / "chapters" / name)
    for rel, value in SETTINGS.items():
        path = tmp / "settings" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port = _free_port()
    bindir = str(Path(sys.executable).parent)
    env = dict(
        os.environ,
        PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        IPYTHONDIR=str(tmp / "ipython"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    cmd = [
        str(_jupyter()), "lab", "--no-browser", "--allow-root", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
        "--IdentityProvider.token=", "--ServerApp.password=",
        f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    log_path = tmp / "jupyterlab.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                tail = log_path.read_text()[-3000:]
                pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{tail}")
            try:
                with urllib.request.urlopen(url + "api/status", timeout=2):  # noqa: S310 (local)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"JupyterLab did not answer within {STARTUP_TIMEOUT_S} s:\n"
                        + log_path.read_text()[-3000:]
                    )
                time.sleep(0.3)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@pytest.fixture
def lab_page(browser, jupyterlab):
    """lab_page(notebook) -> (page, errors): a chapter open in a fresh JupyterLab workspace;
    Chromium may reach the local server only (anything else is blocked and recorded)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    offsite: list[str] = []
    errors: list[str] = []

    def guard(route) -> None:
        request_url = route.request.url
        if request_url.startswith((jupyterlab, "data:", "blob:")):
            route.continue_()
        else:
            offsite.append(request_url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)

    def _open(notebook: str):
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{jupyterlab}lab/tree/chapters/{notebook}?reset", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=OPEN_TIMEOUT_MS)
        _wait_rendered(page)
        return page, errors

    yield _open
    context.close()
    assert offsite == [], f"JupyterLab pages asked for other hosts: {offsite}"


def _wait_rendered(page, timeout_s: float = 90) -> None:
    """Until every markdown cell is rendered and the count is stable for a second."""
    deadline = time.monotonic() + timeout_s
    last, stable = None, 0
    while time.monotonic() < deadline:
        progress = page.evaluate(RENDER_PROGRESS_JS, RENDERED)
        done = progress["markdown"] > 0 and progress["rendered"] == progress["markdown"]
        stable = stable + 1 if (done and progress == last) else 0
        if stable >= 4:
            return
        last = progress
        page.wait_for_timeout(250)


@pytest.mark.parametrize("notebook", CHAPTERS)
def test_chapter_reads_in_jupyterlab(notebook, lab_page):
    page, errors = lab_page(notebook)
    result = page.evaluate(RAW_MYST_JS, RENDERED)
    assert result["markdown"] > 0, f"{notebook}: no markdown cells found in JupyterLab"
    problems = [f"cell {index}: {what}" for index, what in result["problems"]]
    problems += launch_cell.problems(REPO / "chapters" / notebook, launch_cell.repo_url())
    assert problems == [], (
        f"{notebook} in JupyterLab ({len(problems)} problems; see README, 'Writing chapters "
        "that read well in JupyterLab'):\n  " + "\n  ".join(problems)
    )
    assert errors == [], errors


RUN_STATE_JS = """() => {
  const prompts = [...document.querySelectorAll(".jp-Notebook .jp-CodeCell .jp-InputPrompt")]
    .map((p) => p.textContent.trim());
  return {
    code: prompts.length,
    done: prompts.filter((t) => /^\\[\\d+\\]:?$/.test(t)).length,
    busy: prompts.filter((t) => t.includes("*")).length,
    errors: [...document.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
    )].map((e) => e.textContent.slice(0, 300)),
  };
}"""

EXPLORER_JS = """() => {
  const root = document.querySelector(".jp-OutputArea .xent-explorer");
  if (!root) return null;
  const value = (sel) => root.querySelector(sel) && root.querySelector(sel).value;
  const logits = [...root.querySelectorAll('input[data-control^="logits"]')]
    .map((i) => Number(i.value));
  const p = [...root.querySelectorAll('[data-name^="p"]')]
    .filter((e) => /^p\\d+$/.test(e.dataset.name))
    .map((e) => Number(e.dataset.value));
  return {logits, temperature: Number(value('input[data-control="temperature"]')), p};
}"""


def test_chapter_2_runs_and_its_explorer_is_live(lab_page):
    import xent

    page, errors = lab_page("02-softmax.ipynb")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    state = page.evaluate(RUN_STATE_JS)
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE_JS)
        if state["errors"] or (state["code"] and state["done"] == state["code"]):
            break
        page.wait_for_timeout(500)
    assert state["errors"] == [], f"chapter 2 raised in JupyterLab: {state['errors']}"
    assert state["done"] == state["code"] > 0, f"chapter 2 did not finish in time: {state}"

    page.wait_for_selector(".jp-OutputArea .xent-explorer [data-name='p0']", timeout=60_000)
    before = page.evaluate(EXPLORER_JS)
    slider = page.locator('.jp-OutputArea .xent-explorer input[data-control="temperature"]')
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None, "the temperature slider is not laid out"
    # a reader's click three quarters along the slider (JupyterLab keeps arrow keys for itself)
    slider.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    after = before
    for _ in range(100):  # the kernel recomputes `results`; the view redraws on its change
        after = page.evaluate(EXPLORER_JS)
        if after["p"] != before["p"] and after["temperature"] != before["temperature"]:
            break
        page.wait_for_timeout(200)
    assert after["temperature"] > before["temperature"], (before, after)
    assert after["p"] != before["p"], "the bars did not move: is the widget connected?"
    expected = xent.softmax(np.array(after["logits"]), temperature=after["temperature"])
    np.testing.assert_allclose(after["p"], expected, rtol=1e-12, atol=1e-15)
    assert errors == [], errors
