"""Chapter 7's multi-label explorer and chapter 8's temperature-scaling explorer (Python side).

The browser-side compute of both is checked against these widgets in tests/test_web_math.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xent
from helpers import raises_naming
from xent import metrics
from xent.calibration import load_logits
from xent.explorers.calibration import explorer_data as explorer_logits

LOGITS_FILE = Path(__file__).parent.parent / "chapters" / "data" / "fashion_mnist_logits.npz"


def test_multilabel_results_are_xent():
    w = xent.web.multilabel_explorer()
    w.logits = [3.0, -0.5, 0.0, -8.0]
    w.targets = [1, 0, 1, 1]
    x, t = np.array(w.logits), np.array(w.targets, dtype=float)
    r = w.results
    np.testing.assert_allclose(r["sigmoid"], xent.sigmoid(x), rtol=1e-15)
    np.testing.assert_allclose(r["softmax"], xent.softmax(x), rtol=1e-15)
    np.testing.assert_allclose(
        r["loss"], xent.binary_cross_entropy_with_logits(x, t, reduction="none"), rtol=1e-15)
    np.testing.assert_allclose(r["grad"], xent.sigmoid(x) - t, rtol=1e-12, atol=1e-15)
    assert r["loss_mean"] == pytest.approx(float(xent.binary_cross_entropy_with_logits(x, t)))
    assert r["sum_sigmoid"] == pytest.approx(float(xent.sigmoid(x).sum()))


@pytest.mark.parametrize(
    "call, exc, argument",
    [
        (lambda: xent.web.multilabel_explorer(targets=[1, 0]), ValueError, "targets"),
        (lambda: xent.web.multilabel_explorer(logits=[1.0, 2.03, 0, 0]), ValueError, "logits"),
        (lambda: xent.web.multilabel_explorer(targets=[1, 2, 0, 0]), ValueError, "targets"),
        (lambda: xent.web.calibration_explorer(temperature=0.0), ValueError, "temperature"),
        (lambda: xent.web.calibration_explorer(temperature=1.005), ValueError, "temperature"),
        (lambda: xent.web.calibration_explorer(fitted_temperature=-1.0), ValueError,
         "fitted_temperature"),
    ],
)
def test_bad_settings_name_the_argument(call, exc, argument):
    with raises_naming(exc, argument):
        call()


def test_calibration_explorer_data_is_the_shipped_test_logits():
    """The explorer's float16 copy (row maximum subtracted) is the npz's test set: same labels,
    same predictions, logits within float16 rounding, ECE and NLL within 1e-4."""
    shipped = load_logits(LOGITS_FILE)
    z32, y = shipped["test_logits"].astype(np.float64), shipped["test_labels"].astype(np.int64)
    z16, y16 = explorer_logits()
    np.testing.assert_array_equal(y16, y)
    np.testing.assert_array_equal(z16.argmax(axis=1), z32.argmax(axis=1))
    shifted = z32 - z32.max(axis=1, keepdims=True)
    np.testing.assert_allclose(z16, shifted, rtol=2**-11, atol=2**-24)
    w = xent.web.calibration_explorer()
    p = xent.softmax(z32, axis=1)
    assert w.results["ece"] == pytest.approx(metrics.expected_calibration_error(p, y), abs=1e-4)
    assert w.results["nll"] == pytest.approx(float(xent.cross_entropy(z32, y)), abs=1e-4)
    assert w.results["accuracy"] == metrics.accuracy(y, z32.argmax(axis=1))


def test_calibration_explorer_results_are_xent():
    w = xent.web.calibration_explorer(temperature=1.5, fitted_temperature=1.2)
    z, y = explorer_logits()
    p = xent.softmax(z / 1.5, axis=1)
    r = w.results
    assert r["ece"] == pytest.approx(metrics.expected_calibration_error(p, y), rel=1e-12)
    assert r["nll"] == pytest.approx(float(xent.cross_entropy(z / 1.5, y)), rel=1e-12)
    brier = np.mean(np.sum((p - np.eye(10)[y]) ** 2, axis=1))
    assert r["brier"] == pytest.approx(brier, rel=1e-12)
    curve = metrics.reliability_curve(p, y)
    assert r["count"] == curve.count.tolist()
    assert sum(r["count"]) == 10_000
    # the accuracy does not depend on the temperature
    w.temperature = 0.5
    assert w.results["accuracy"] == r["accuracy"]
    assert w.results["ece"] != r["ece"]
