"""The explorers' browser-side math agrees with xent.

Two levels, both run under Node.js (one `node` process per batch of calls; every call goes as
JSON on stdin and the results come back the same way; JSON carries doubles exactly, and
non-finite results travel as the strings "Infinity", "-Infinity", "NaN"):

- every function of lib/xent/web_assets/xent_math.js against xent, on a grid that includes
  extreme logits;
- every explorer kind's `compute(state, math)` (web_assets/explorers/<kind>.js: what the website
  shows) against the same kind's Python widget `results` (computed with xent), for many states.

The ES modules are loaded from data: URLs, so they need no package.json. Node is required: the
test FAILS (does not skip) without it, because these checks are the only guard on the numbers
readers see on the site.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from importlib import resources

import numpy as np
import pytest
import xent
import xent.web

# Every JS result must match xent to |js - xent| <= ATOL + RTOL * |xent|.
RTOL = 1e-11
ATOL = 1e-12
assert RTOL <= 1e-9 and ATOL <= 1e-9  # the brief's bar: 1e-9 or better

# argv[1]: xent_math.js; stdin: [[function name, args], ...]
DRIVER = r"""
const fs = require("fs");
const load = (path) => import("data:text/javascript;base64," +
  fs.readFileSync(path).toString("base64"));
const encode = (key, v) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
load(process.argv[1]).then((api) => {
  const calls = JSON.parse(fs.readFileSync(0, "utf8"));
  const out = calls.map(([fn, args]) => api[fn].apply(null, args));
  process.stdout.write(JSON.stringify(out, encode));
});
"""

# argv[1]: xent_math.js; stdin: [[path of a kind's JS file, state], ...]
KIND_DRIVER = r"""
const fs = require("fs");
const load = (path) => import("data:text/javascript;base64," +
  fs.readFileSync(path).toString("base64"));
const encode = (key, v) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
(async () => {
  const math = await load(process.argv[1]);
  const calls = JSON.parse(fs.readFileSync(0, "utf8"));
  const out = [];
  for (const [path, state] of calls) out.push((await load(path)).default.compute(state, math));
  process.stdout.write(JSON.stringify(out, encode));
})();
"""

# Logit vectors: ordinary, ties, and the extremes the brief names (+-1e4, +-700, mixed).
EXTREME_LOGITS = [
    [0.0, 0.0, 0.0, 0.0],
    [2.0, 1.0, 0.1, -1.0],
    [1e4, -1e4, 0.0],
    [-1e4, -1e4, -1e4],
    [1e4, 1e4, 1e4 - 1.0, -1e4],
    [700.0, -700.0, 0.5],
    [700.0, 700.0, 699.0, -700.0],
    [-700.0, -700.0, -745.0],
    [1e4, 700.0, -700.0, -1e4, 0.0],
    [-1e4, 1.0],
    [3.5, -2.25, 1e-300, -1e-300],
]


def _random_logits() -> list[list[float]]:
    rng = np.random.default_rng(0)
    out = []
    for scale in (0.1, 1.0, 10.0, 100.0, 700.0, 1e4):
        for k in (2, 3, 4, 7, 10):
            out.append((rng.standard_normal(k) * scale).tolist())
    return out


LOGITS = EXTREME_LOGITS + _random_logits()
TEMPERATURES = [0.05, 0.5, 1.0, 3.0]


def _distributions() -> list[list[float]]:
    rng = np.random.default_rng(1)
    out = [
        [0.5, 0.25, 0.125, 0.125],
        [1.0, 0.0, 0.0],
        [0.0, 0.5, 0.5],
        [0.25, 0.25, 0.25, 0.25],
        [1e-300, 1.0 - 1e-300],
        [1e-12, 0.5, 0.5 - 1e-12],
    ]
    for k in (2, 3, 5, 10):
        w = rng.random(k)
        w[rng.random(k) < 0.3] = 0.0
        if w.sum() == 0:
            w[0] = 1.0
        out.append((w / w.sum()).tolist())
    return out


DISTRIBUTIONS = _distributions()


def _decode(value):
    if isinstance(value, str):
        return float(value)  # "Infinity", "-Infinity", "NaN"
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    return value


def _node(driver: str, files: list[str], payload: object) -> object:
    """Run ``driver`` under Node with ``files`` as arguments and ``payload`` as JSON on stdin;
    return its JSON output."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required for tests/test_web_math.py (apt-get install nodejs)")
    proc = subprocess.run(
        [node, "-e", driver, *files],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def run_js(calls: list[tuple[str, list]]) -> list:
    """Evaluate [(function name, args), ...] in xent_math.js under Node; return the results."""
    path = resources.files("xent").joinpath("web_assets", "xent_math.js")
    return _decode(_node(DRIVER, [str(path)], calls))


def assert_close(js, ref, what: str) -> None:
    js_arr = np.asarray(js, dtype=float)
    ref_arr = np.asarray(ref, dtype=float)
    assert js_arr.shape == ref_arr.shape, what
    np.testing.assert_allclose(js_arr, ref_arr, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)


@pytest.fixture(scope="module")
def grid_results():
    """All calls of the grid in one Node run: (label, js result, xent reference)."""
    cases: list[tuple[str, tuple[str, list], object]] = []
    for z in LOGITS:
        arr = np.array(z)
        for t in TEMPERATURES:
            cases.append(
                (f"softmax({z}, T={t})", ("softmax", [z, t]), xent.softmax(arr, temperature=t))
            )
        cases.append((f"logSoftmax({z})", ("logSoftmax", [z]), xent.log_softmax(arr)))
        cases.append((f"logsumexp({z})", ("logsumexp", [z]), xent.logsumexp(arr)))
        p = xent.softmax(arr)
        cases.append(
            (
                f"softmaxJacobian(p({z}))",
                ("softmaxJacobian", [p.tolist()]),
                xent.softmax_jacobian(p),
            )
        )
        for y in range(len(z)):
            cases.append((f"ceLoss({z}, {y})", ("ceLoss", [z, y]), xent.cross_entropy(arr, y)))
            cases.append((f"ceGrad({z}, {y})", ("ceGrad", [z, y]), xent.cross_entropy_grad(arr, y)))
    for p in DISTRIBUTIONS:
        cases.append((f"entropy({p})", ("entropy", [p]), xent.info.entropy(np.array(p))))
        for q in DISTRIBUTIONS:
            if len(q) != len(p):
                continue
            pa, qa = np.array(p), np.array(q)
            cases.append(
                (
                    f"crossEntropy({p}, {q})",
                    ("crossEntropy", [p, q]),
                    xent.info.cross_entropy(pa, qa),
                )
            )
            cases.append(
                (
                    f"klDivergence({p}, {q})",
                    ("klDivergence", [p, q]),
                    xent.info.kl_divergence(pa, qa),
                )
            )
    calls = [call for _, call, _ in cases]
    results = run_js(calls)
    return [(label, js, ref) for (label, _, ref), js in zip(cases, results, strict=True)]


def test_grid_matches_xent(grid_results):
    worst = 0.0
    for label, js, ref in grid_results:
        assert_close(js, ref, label)
        js_arr, ref_arr = np.asarray(js, float), np.asarray(ref, float)
        finite = np.isfinite(ref_arr)
        assert np.array_equal(np.isfinite(js_arr), finite), label  # same inf / nan pattern
        if finite.any():
            err = np.abs(js_arr[finite] - ref_arr[finite]) / np.maximum(
                1.0, np.abs(ref_arr[finite])
            )
            worst = max(worst, float(err.max()))
    print(f"{len(grid_results)} JS calls checked; worst |js - xent| / max(1, |xent|) = {worst:.1e}")
    assert len(grid_results) > 500


def test_infinite_cross_entropy_and_kl():
    """q_i = 0 < p_i gives +inf in both, as xent; 0 log 0 = 0 gives finite values."""
    p, q = [0.5, 0.5, 0.0], [1.0, 0.0, 0.0]
    h_pq, kl_pq, h_qp = run_js(
        [("crossEntropy", [p, q]), ("klDivergence", [p, q]), ("crossEntropy", [q, p])]
    )
    assert h_pq == math.inf and kl_pq == math.inf
    assert h_qp == pytest.approx(float(xent.info.cross_entropy(np.array(q), np.array(p))))


def test_extreme_logits_stay_finite():
    z = [1e4, -1e4, 700.0, -700.0]
    p, logp, loss = run_js([("softmax", [z, 1.0]), ("logSoftmax", [z]), ("ceLoss", [z, 1])])
    assert p == [1.0, 0.0, 0.0, 0.0]
    assert logp[1] == -2e4 and loss == 2e4


def test_normalize():
    uniform, q = run_js([("normalize", [[0.0, 0.0, 0.0, 0.0]]), ("normalize", [[0.2, 0.6, 0.2]])])
    assert uniform == [0.25] * 4
    assert_close(q, np.array([0.2, 0.6, 0.2]) / 1.0, "normalize")


def _batches():
    rng = np.random.default_rng(2)
    out = []
    for n, k, scale in [(6, 3, 1.0), (8, 4, 10.0), (5, 3, 700.0), (4, 5, 1e4), (10, 2, 3.0)]:
        logits = rng.standard_normal((n, k)) * scale
        targets = rng.integers(0, k, n)
        for weight in (np.ones(k), rng.random(k) * 5, np.r_[0.0, np.full(k - 1, 2.5)]):
            out.append((logits, targets, weight))
    logits = np.array([[1e4, -1e4, 0.0], [-700.0, 700.0, 0.0], [0.0, 0.0, 0.0]])
    out.append((logits, np.array([1, 0, 2]), np.array([0.5, 2.0, 1.0])))
    return out


def test_weighted_cross_entropy_matches_xent():
    batches = _batches()
    calls = [("weightedCrossEntropy", [z.tolist(), y.tolist(), w.tolist()]) for z, y, w in batches]
    results = run_js(calls)
    for (z, y, w), r in zip(batches, results, strict=True):
        loss, grad = xent.cross_entropy_and_grad(z, y, weight=w)
        assert_close(r["loss"], loss, f"weighted loss {w}")
        assert_close(r["grad"], grad, f"weighted grad {w}")
        assert_close(r["gradNorm"], np.linalg.norm(grad, axis=1), f"grad norms {w}")
        assert_close(r["normalizer"], w[y].sum(), f"normaliser {w}")
        per_sample = xent.cross_entropy(z, y, weight=w, reduction="none")
        assert_close(r["perSample"], per_sample, f"per-sample losses {w}")


def test_all_zero_target_weights_give_nan_like_xent():
    z = [[1.0, 2.0, 0.5], [0.0, 1.0, -1.0]]
    y = [0, 0]
    w = [0.0, 1.0, 1.0]
    (r,) = run_js([("weightedCrossEntropy", [z, y, w])])
    ref = xent.cross_entropy(np.array(z), np.array(y), weight=np.array(w))
    assert math.isnan(r["loss"]) and math.isnan(float(ref))


# States for each kind's compute: the defaults, slider ends and degenerate cases.
KIND_STATES = {
    "softmax": [
        {"logits": z, "temperature": t}
        for z in ([2.0, 1.0, 0.1, -1.0], [10.0, -10.0, 0.0], [-10.0] * 4, [9.9, -10.0])
        for t in (0.05, 1.0, 5.0)
    ],
    "jacobian": [{"logits": z} for z in ([1.0, 0.0, -1.0, 0.5], [10.0, -10.0, 3.0], [0.0] * 5)],
    "ce_gradient": [
        {"logits": z, "target": y}
        for z in ([2.0, 1.0, 0.1, -1.0], [-10.0, 10.0, 0.0, 5.5])
        for y in range(4)
    ],
    "entropy": [
        {"q": q, "unit": u}
        for q in ([0.25] * 4, [0.5, 0.0, 0.25, 0.25], [0.0] * 4, [1.0, 0.0, 0.0, 0.0])
        for u in ("nats", "bits")
    ],
    "weighted_ce": [
        {"weight": w} for w in ([1.0] * 3, [0.2, 3.0, 5.0], [0.0, 1.0, 2.5], [0.0] * 3)
    ],
    "multilabel": [
        {"logits": z, "targets": t}
        for z in ([2.0, 1.5, -1.0, -3.0], [8.0, -8.0, 0.0, 7.9], [-8.0] * 4)
        for t in ([1, 1, 0, 0], [0, 1, 0, 1], [1, 1, 1, 1])
    ],
    "calibration": [{"temperature": t} for t in (0.5, 1.0, 1.24, 3.0)]
    + [{"temperature": 1.24, "fitted_temperature": 1.2366}],
    "playground": [
        {},  # no points yet: nan
        *(
            {
                "points": [[1.0, 2.0], [-1.0, 0.5], [0.0, -2.0], [2.5, 2.5]],
                "labels": [0, 1, 2, 1],
                "W": [[0.5, -0.2, 0.1], [0.3, 0.0, -0.4]],
                "b": [0.1, 0.0, -0.1],
                "temperature": t,
                "smoothing": eps,
                "weight": w,
            }
            for t, eps, w in [
                (1.0, 0.0, [1.0, 1.0, 1.0]),
                (0.25, 0.3, [1.0, 2.0, 0.5]),
                (4.0, 0.1, [0.0, 0.0, 0.0]),
            ]
        ),
    ],
    "precision": [  # more states, and its rounding: tests/test_precision_explorer.py
        {"logits": z, "dtype": t}
        for z in ([12.0, 0.0, -2.0, -18.0], [89.0, 0.0, -104.0])
        for t in ("float16", "bfloat16", "float32")
    ],
}


# Kinds whose browser compute needs a data file the site fetches, checked against their widget
# by their own test instead.
FETCHED = {"predictions": "tests/test_predictions_explorer.py"}


def test_every_kind_has_states():
    assert sorted([*KIND_STATES, *FETCHED]) == xent.web.kinds()


def test_each_kinds_browser_compute_matches_its_widget():
    """What the website computes (explorers/<kind>.js) equals the widget's xent results."""
    assets = resources.files("xent").joinpath("web_assets")
    calls, expected = [], []
    for kind, states in sorted(KIND_STATES.items()):
        for state in states:
            widget = getattr(xent.web, f"{kind}_explorer")()
            for key, value in state.items():
                setattr(widget, key, value)
            calls.append([str(assets / "explorers" / f"{kind}.js"), widget.config()])
            expected.append((f"{kind} {state}", widget.results))
    results = _decode(_node(KIND_DRIVER, [str(assets / "xent_math.js")], calls))
    for (label, want), got in zip(expected, results, strict=True):
        assert set(got) == set(want), label
        for key in want:
            assert_close(got[key], _decode(want[key]), f"{label}: {key}")
    print(f"{len(calls)} explorer states: browser compute equals the widgets' xent results")
