"""The training playground's browser-side math (lib/xent/web_assets/explorers/playground.js,
with xent_math.js) is xent's.

From a fixed start, a few steps of full-batch gradient descent in JavaScript (under Node) must
give the weights, biases, losses and per-point input gradients that xent's own pieces give:
``xent.nn.Linear(2, K)`` (float64), a temperature, ``xent.nn.CrossEntropyLoss(weight,
label_smoothing)`` and ``xent.optim.SGD`` — to 1e-9 (issue 14). Node is required: the test fails
without it.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import xent
import xent.web
from helpers import raises_naming
from test_web_math import _decode, _node  # one way to run the browser-side JS under Node

TOL = 1e-9  # |js - xent| <= TOL * max(1, |xent|), the bar

# argv[1]: xent_math.js, argv[2]: explorers/playground.js (ES modules without imports)
DRIVER = r"""
const fs = require("fs");
const load = (path) => import("data:text/javascript;base64," +
  fs.readFileSync(path).toString("base64"));
const enc = (k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v);
(async () => {
  const math = await load(process.argv[1]);
  const pg = await load(process.argv[2]);
  const cases = JSON.parse(fs.readFileSync(0, "utf8"));
  const out = cases.map((c) => {
    if (c.blobs) return pg.blobs(...c.blobs);
    const run = pg.train({ W: c.W, b: c.b }, { X: c.X, y: c.y }, c.options, c.steps, math);
    return { W: run.params.W, b: run.params.b, losses: run.losses, last: run.last };
  });
  process.stdout.write(JSON.stringify(out, enc));
})();
"""


def run_js(cases: list[dict]) -> list[dict]:
    """Train in playground.js (with xent_math.js) under Node, one run per case."""
    assets = resources.files("xent").joinpath("web_assets")
    files = [str(assets / "xent_math.js"), str(assets / "explorers" / "playground.js")]
    return _decode(_node(DRIVER, files, cases))


def xent_train(case: dict) -> dict:
    """The same steps with xent's Linear, CrossEntropyLoss and SGD (float64)."""
    W0, b0 = np.array(case["W"]), np.array(case["b"])
    X, y = np.array(case["X"], dtype=np.float64), np.array(case["y"])
    opts = case["options"]
    layer = xent.nn.Linear(2, len(b0), rng=np.random.default_rng(0), dtype=np.float64)
    layer.params["W"][...] = W0
    layer.params["b"][...] = b0
    loss_fn = xent.nn.CrossEntropyLoss(
        weight=np.array(opts["weight"], dtype=np.float64),
        label_smoothing=opts["labelSmoothing"],
    )
    sgd = xent.optim.SGD(layer.parameters(), lr=opts["lr"])
    T = opts["temperature"]
    losses = []
    for _ in range(case["steps"]):
        losses.append(float(loss_fn(layer(X) / T, y)))
        layer.backward(loss_fn.backward() / T, input_grad=False)
        sgd.step()
    loss = float(loss_fn(layer(X) / T, y))
    grad_x = layer.backward(loss_fn.backward() / T)
    return {
        "W": layer.params["W"],
        "b": layer.params["b"],
        "losses": losses,
        "last": {"loss": loss, "gradX": grad_x},
    }


def _case(seed: int, K: int, N: int, *, lr, temperature, weight, smoothing, steps=5) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "W": rng.normal(0, 0.5, (2, K)).tolist(),
        "b": rng.normal(0, 0.1, K).tolist(),
        "X": rng.normal(0, 2.0, (N, 2)).tolist(),
        "y": rng.integers(0, K, N).tolist(),
        "steps": steps,
        "options": {
            "lr": lr,
            "temperature": temperature,
            "weight": weight if weight is not None else [1.0] * K,
            "labelSmoothing": smoothing,
        },
    }


CASES = {
    "plain, 3 classes": _case(0, 3, 30, lr=0.5, temperature=1.0, weight=None, smoothing=0.0),
    "weights, 4 classes": _case(
        1, 4, 40, lr=1.0, temperature=1.0, weight=[1.0, 3.0, 0.5, 2.0], smoothing=0.0
    ),
    "smoothing, 5 classes": _case(2, 5, 50, lr=0.3, temperature=1.0, weight=None, smoothing=0.2),
    "hot temperature": _case(3, 3, 25, lr=2.0, temperature=0.25, weight=None, smoothing=0.1),
    "cold temperature, all options": _case(
        4, 5, 60, lr=0.8, temperature=3.0, weight=[0.2, 1.0, 4.0, 1.0, 0.0], smoothing=0.3
    ),
    "large learning rate, 20 steps": _case(
        5, 4, 12, lr=25.0, temperature=0.5, weight=[1.0, 1.0, 2.0, 1.0], smoothing=0.0, steps=20
    ),
}


def _close(js, ref, what: str) -> float:
    js_arr, ref_arr = np.asarray(js, dtype=float), np.asarray(ref, dtype=float)
    assert js_arr.shape == ref_arr.shape, what
    err = np.abs(js_arr - ref_arr) / np.maximum(1.0, np.abs(ref_arr))
    worst = float(err.max()) if err.size else 0.0
    assert worst <= TOL, f"{what}: worst relative error {worst:.2e} > {TOL}"
    return worst


def test_steps_match_xent():
    names = sorted(CASES)
    results = run_js([CASES[n] for n in names])
    worst = 0.0
    for name, js in zip(names, results, strict=True):
        ref = xent_train(CASES[name])
        for key in ("W", "b", "losses"):
            worst = max(worst, _close(js[key], ref[key], f"{name}: {key}"))
        for key in ("loss", "gradX"):
            worst = max(worst, _close(js["last"][key], ref["last"][key], f"{name}: last {key}"))
        # the run moved: the test compares trained weights, not the start
        assert not np.allclose(js["W"], CASES[name]["W"]), name
    print(f"{len(names)} runs; worst |js - xent| / max(1, |xent|) = {worst:.1e}")


def test_loss_falls_on_separable_blobs():
    """On the page's own blob data, the loss falls step after step from the zero model."""
    (data,) = run_js([{"blobs": [7, 3, 14, 2.0, 1.0]}])
    case = {
        "W": [[0.0] * 3, [0.0] * 3],
        "b": [0.0] * 3,
        "X": data["X"],
        "y": data["y"],
        "steps": 50,
        "options": {"lr": 0.5, "temperature": 1.0, "weight": [1.0] * 3, "labelSmoothing": 0.0},
    }
    (js,) = run_js([case])
    assert js["losses"][0] == pytest.approx(math.log(3), rel=1e-15)  # uniform at the start
    assert all(b < a for a, b in zip(js["losses"], js["losses"][1:], strict=False))
    assert js["last"]["loss"] < 0.25 * math.log(3)
    _close(js["W"], xent_train(case)["W"], "blobs: W")


def test_no_usable_point_gives_nan_and_no_step():
    """Every point of class weight 0: loss NaN (as xent), and the weights stay put."""
    case = _case(6, 3, 6, lr=1.0, temperature=1.0, weight=[0.0, 0.0, 0.0], smoothing=0.0)
    case["steps"] = 1
    (js,) = run_js([case])
    assert math.isnan(js["losses"][0])
    assert js["W"] == case["W"] and js["b"] == case["b"]
    loss = xent.cross_entropy(np.zeros((6, 3)), np.array(case["y"]), weight=np.zeros(3))
    assert math.isnan(float(loss))


def test_the_page_holds_the_widgets_own_element():
    """playground.md shows exactly what ``xent.web.playground_explorer()`` stores (no drift)."""
    page = (Path(__file__).resolve().parents[1] / "playground.md").read_text(encoding="utf-8")
    assert xent.web.playground_explorer()._repr_html_() in page


def test_widget_trains_with_xent_like_the_browser():
    """The Jupyter widget's own steps (kernel, xent) equal the browser's from the same start."""
    case = CASES["cold temperature, all options"]
    opts = case["options"]
    w = xent.web.playground_explorer(
        classes=5,
        lr=opts["lr"],
        temperature=opts["temperature"],
        smoothing=opts["labelSmoothing"],
        weight=opts["weight"],
    )
    w.W, w.b, w.points, w.labels = case["W"], case["b"], case["X"], case["y"]
    w.train(case["steps"])
    (js,) = run_js([case])
    _close(w.W, js["W"], "widget W")
    _close(w.b, js["b"], "widget b")
    _close(w.history, js["losses"], "widget losses")
    _close(w.results["loss"], js["last"]["loss"], "widget loss")
    _close(w.results["grad_x"], js["last"]["gradX"], "widget grad_x")
    w.train_request = 3  # what the view's Step/Play buttons send in Jupyter
    assert w.steps == case["steps"] + 3 and w.train_request == 0


def test_widget_rejects_bad_state():
    w = xent.web.playground_explorer()
    for arg, value, exc in [
        ("classes", 6, ValueError),
        ("lr", 0.0, ValueError),
        ("temperature", "hot", TypeError),
        ("labels", [0, 7], ValueError),
        ("points", [[0.0, 1.0, 2.0]], ValueError),
    ]:
        with raises_naming(exc, arg):
            setattr(w, arg, value)
