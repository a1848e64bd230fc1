"""Chapter 9's precision explorer: its browser-side rounding and softmax against NumPy and xent.

The website's view (lib/xent/web_assets/explorers/precision.js) emulates float16, bfloat16 and
float32 in JavaScript doubles. Under Node (required: these checks guard the numbers readers see):

- ``roundTo`` equals NumPy's float16 and float32 casts and the bfloat16 bit trick
  (``xent.precision.bfloat16_from_float32``) on values from every regime, bit for bit;
- the kind's ``compute`` equals the Python widget's results (``xent.precision``) state by state.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources

import numpy as np
import pytest
import xent.web
from helpers import raises_naming
from xent import precision as P

KIND_JS = resources.files("xent").joinpath("web_assets", "explorers", "precision.js")

# argv[1]: precision.js; stdin: {"round": [[fmt, [values]], ...], "compute": [state, ...]}
DRIVER = r"""
const fs = require("fs");
const src = fs.readFileSync(process.argv[1]).toString("base64");
const encode = (key, v) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
import("data:text/javascript;base64," + src).then((mod) => {
  const job = JSON.parse(fs.readFileSync(0, "utf8"));
  const out = {
    round: job.round.map(([fmt, xs]) => xs.map((x) => mod.roundTo(Number(x), mod.FORMATS[fmt]))),
    compute: job.compute.map((state) => mod.default.compute(state)),
  };
  process.stdout.write(JSON.stringify(out, encode));
});
"""


def run_node(job: dict) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required for tests/test_precision_explorer.py")
    payload = json.dumps(job)
    proc = subprocess.run(
        [node, "-e", DRIVER, str(KIND_JS)], input=payload, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return decode(json.loads(proc.stdout))


def decode(value):
    if isinstance(value, str) and value in ("Infinity", "-Infinity", "NaN"):
        return float(value)
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    return value


def awkward_values() -> np.ndarray:
    """Finite float64 values from every regime of the three formats (JSON carries no inf or
    nan, and the explorer only rounds finite numbers): ties, the edges of the range and of the
    subnormals, random magnitudes, random float32 bit patterns."""
    rng = np.random.default_rng(0)
    values = [rng.normal(size=3000) * 10.0 ** rng.integers(-45, 39, size=3000)]
    for fmt in (P.FLOAT16, P.BFLOAT16, P.FLOAT32):
        for anchor in (fmt.max, fmt.tiny, fmt.smallest_subnormal, 1.0, 3.0, 1000.0):
            steps = np.arange(-6, 7) * 0.25 * float(P.ulp(anchor, fmt))
            values += [anchor + steps, -(anchor + steps)]
    bits = rng.integers(0, 2**32, size=4000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    values.append(bits[np.isfinite(bits)].astype(np.float64))
    values.append([0.0, 5e-324, 1e308, -1e308, 65519.99, 65520.0, 65520.01])
    return np.concatenate([np.ravel(v) for v in values])


@pytest.fixture(scope="module")
def js_rounding():
    x = awkward_values()
    x32 = x[np.abs(x) <= np.finfo(np.float32).max].astype(np.float32)  # exact float32 inputs
    job = {
        "round": [["float16", x.tolist()], ["float32", x.tolist()],
                  ["bfloat16", x32.astype(np.float64).tolist()]],
        "compute": [],
    }  # fmt: skip
    f16, f32, bf16 = run_node(job)["round"]
    return x, x32, np.array(f16), np.array(f32), np.array(bf16)


def same(a, b) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return bool(np.all((np.isnan(a) & np.isnan(b)) | (a == b)))


def test_js_rounding_to_float16_is_numpys(js_rounding):
    x, _, f16, _, _ = js_rounding
    with np.errstate(over="ignore"):
        want = x.astype(np.float16).astype(np.float64)
    assert same(f16, want)
    assert same(f16, P.round_to(x, "float16"))


def test_js_rounding_to_float32_is_numpys(js_rounding):
    x, _, _, f32, _ = js_rounding
    with np.errstate(over="ignore"):
        want = x.astype(np.float32).astype(np.float64)
    assert same(f32, want)


def test_js_rounding_to_bfloat16_is_the_bit_trick(js_rounding):
    _, x32, _, _, bf16 = js_rounding
    assert same(bf16, P.bfloat16_from_float32(x32))
    print(f"{len(x32)} float32 values rounded to bfloat16 in JS, equal to the bit trick")


STATES = [
    {"logits": z, "dtype": dtype}
    for dtype in ("float16", "bfloat16", "float32")
    for z in (
        [12.0, 0.0, -2.0, -18.0],  # the default: naive overflow, stable underflow
        [11.0, 0.0],  # just under float16's overflow threshold
        [8.0] * 8,  # the sum overflows in float16, no single term does
        [-18.0, -19.0, -20.0],  # every naive term underflows in float16
        [89.0, 88.5, 0.0],  # float32 / bfloat16 overflow
        [0.0, -93.0, -104.0, -17.5],  # bfloat16 / float32 / float16 zero thresholds
        [120.0, -120.0],
        [0.5, 0.0, -0.5, 1.5, 2.0, -3.0],
        [100.5, 100.0],
    )
]


def test_browser_compute_equals_the_widget():
    js = run_node({"round": [], "compute": [
        {**s, "ranges": {"z": [-120.0, 120.0, 0.5]}} for s in STATES]})["compute"]  # fmt: skip
    for state, got in zip(STATES, js, strict=True):
        widget = xent.web.precision_explorer(**state)
        want = decode(widget.results)
        assert set(got) == set(want), state
        for key in want:
            assert same(got[key], want[key]), f"{state}: {key}: {got[key]} != {want[key]}"


def test_widget_results_tell_the_story():
    w = xent.web.precision_explorer()  # float16, logits (12, 0, -2, -18)
    r = decode(w.results)
    assert np.isnan(r["naive"][0]) and r["overflow"] == [1, 0, 0, 0]
    assert r["underflow"] == [0, 0, 0, 1] and r["log_of_softmax"][3] == -np.inf
    assert r["log_softmax"][3] == -30.0
    w.dtype = "float32"  # nothing overflows or underflows in float32 at these logits
    r = decode(w.results)
    assert not any(r["overflow"]) and not any(r["underflow"])
    assert abs(r["sum_naive"] - 1) < 1e-6


@pytest.mark.parametrize(
    "setting, exc, name",
    [
        ({"dtype": "float8"}, ValueError, "dtype"),
        ({"dtype": 16}, TypeError, "dtype"),
        ({"logits": [0.3, 0.0]}, ValueError, "logits"),  # off the slider grid
        ({"logits": [0.0]}, ValueError, "logits"),  # one class
        ({"logits": [500.0, 0.0]}, ValueError, "logits"),  # beyond the sliders
    ],
)
def test_bad_settings_name_the_argument(setting, exc, name):
    with raises_naming(exc, name):
        xent.web.precision_explorer(**setting)
