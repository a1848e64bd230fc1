"""Calibration: xent.metrics.expected_calibration_error / reliability_curve,
xent.fit_temperature and xent.calibration.load_logits.

The metrics are checked against small cases worked out by hand and against a direct loop over
Guo et al. (2017)'s definition; the temperature against a closed form and a brute-force search.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import xent
from helpers import raises_naming
from xent import calibration, metrics

LOGITS_FILE = Path(__file__).parent.parent / "chapters" / "data" / "fashion_mnist_logits.npz"


# --------------------------------------------------------------------------- ECE by hand


def test_ece_hand_example():
    """Five samples, two classes, M = 2 bins (0, 0.5] and (0.5, 1].

    confidences 0.9 (right), 0.8 (wrong), 0.7 (right), 0.6 (right), 0.5 (right, tie -> class 0)
    bin 0: {0.5}: conf 0.5, acc 1                 -> |1 - 0.5| = 0.5, weight 1/5
    bin 1: {0.9, 0.8, 0.7, 0.6}: conf 0.75, acc 3/4 -> gap 0,       weight 4/5
    ECE = 0.1
    """
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6], [0.5, 0.5]])
    labels = np.array([0, 0, 0, 1, 0])
    curve = metrics.reliability_curve(probs, labels, n_bins=2)
    np.testing.assert_allclose(curve.edges, [0, 0.5, 1])
    np.testing.assert_array_equal(curve.count, [1, 4])
    np.testing.assert_allclose(curve.confidence, [0.5, 0.75])
    np.testing.assert_allclose(curve.accuracy, [1.0, 0.75])
    assert metrics.expected_calibration_error(probs, labels, n_bins=2) == pytest.approx(0.1)


def test_ece_bins_are_closed_on_the_right():
    """A confidence of exactly m/M belongs to bin m-1 ((m-1)/M, m/M], not to the next."""
    probs = np.array([[0.75, 0.25], [0.5, 0.5], [1.0, 0.0]])
    curve = metrics.reliability_curve(probs, np.array([0, 0, 0]), n_bins=4)
    np.testing.assert_array_equal(curve.count, [0, 1, 1, 1])  # 0.5 -> (.25,.5], 0.75 -> (.5,.75]
    assert np.isnan(curve.confidence[0]) and np.isnan(curve.accuracy[0])


def test_ece_perfectly_calibrated_and_worst_case():
    # confidence 0.8 everywhere and 80 % right: ECE 0
    probs = np.tile([0.8, 0.1, 0.1], (10, 1))
    labels = np.array([0] * 8 + [1, 2])
    assert metrics.expected_calibration_error(probs, labels) == pytest.approx(0.0, abs=1e-15)
    # fully confident and always wrong: ECE 1
    probs = np.tile([1.0, 0.0], (4, 1))
    assert metrics.expected_calibration_error(probs, np.ones(4, int)) == pytest.approx(1.0)


def loop_ece(probs, labels, n_bins):
    """Guo et al. (2017), eq. (3), written as a plain loop over bins."""
    conf = probs.max(axis=1)
    right = probs.argmax(axis=1) == labels
    total = 0.0
    for m in range(1, n_bins + 1):
        lo, hi = (m - 1) / n_bins, m / n_bins
        members = (conf > lo) & (conf <= hi)
        if members.any():
            total += members.sum() / len(conf) * abs(right[members].mean() - conf[members].mean())
    return total


@pytest.mark.parametrize("n_bins", [1, 3, 15, 40])
def test_ece_matches_the_definition(rng, n_bins):
    probs = xent.softmax(rng.normal(scale=3, size=(500, 6)), axis=1)
    labels = rng.integers(0, 6, 500)
    got = metrics.expected_calibration_error(probs, labels, n_bins=n_bins)
    assert got == pytest.approx(loop_ece(probs, labels, n_bins), rel=1e-12)
    curve = metrics.reliability_curve(probs, labels, n_bins=n_bins)
    assert curve.count.sum() == 500 and curve.count.dtype == np.int64


def test_ece_float32_probs(rng):
    probs = xent.softmax(rng.normal(scale=3, size=(200, 4)).astype(np.float32), axis=1)
    labels = rng.integers(0, 4, 200)
    assert isinstance(metrics.expected_calibration_error(probs, labels), float)


@pytest.mark.parametrize(
    "probs, labels, kwargs, exc, argument",
    [
        (np.zeros((0, 3)), np.zeros(0, int), {}, ValueError, "probs"),
        (np.array([0.5, 0.5]), np.array([0]), {}, ValueError, "probs"),
        (np.array([[0.5, 0.6]]), np.array([0]), {}, ValueError, "probs"),
        (np.array([[np.nan, 1.0]]), np.array([0]), {}, ValueError, "probs"),
        (np.array([[1.5, -0.5]]), np.array([0]), {}, ValueError, "probs"),
        (np.array([["a", "b"]]), np.array([0]), {}, TypeError, "probs"),
        (np.array([[0.5, 0.5]]), np.array([2]), {}, ValueError, "labels"),
        (np.array([[0.5, 0.5]]), np.array([-1]), {}, ValueError, "labels"),
        (np.array([[0.5, 0.5]]), np.array([0.0]), {}, TypeError, "labels"),
        (np.array([[0.5, 0.5]]), np.array([0, 1]), {}, ValueError, "labels"),
        (np.array([[0.5, 0.5]]), np.array([0]), {"n_bins": 0}, ValueError, "n_bins"),
        (np.array([[0.5, 0.5]]), np.array([0]), {"n_bins": 10**9}, ValueError, "n_bins"),
        (np.array([[0.5, 0.5]]), np.array([0]), {"n_bins": 2.0}, TypeError, "n_bins"),
        (np.array([[0.5, 0.5]]), np.array([0]), {"n_bins": True}, TypeError, "n_bins"),
    ],
)
@pytest.mark.parametrize("fn", [metrics.expected_calibration_error, metrics.reliability_curve])
def test_calibration_metrics_bad_input(fn, probs, labels, kwargs, exc, argument):
    with raises_naming(exc, argument):
        fn(probs, labels, **kwargs)


# --------------------------------------------------------------------------- temperature


def test_fit_temperature_closed_form():
    """Two classes, logits (d, 0) for every sample, a fraction a labelled 0: the NLL is
    -a log s - (1-a) log(1-s) with s = sigma(d/T), minimised at s = a, i.e. T = d / logit(a)."""
    for d, a, n in [(4.0, 0.8, 10), (1.0, 0.9, 10), (10.0, 0.6, 5)]:
        k = round(a * n)
        z = np.tile([d, 0.0], (n, 1))
        y = np.array([0] * k + [1] * (n - k))
        want = d / math.log(a / (1 - a))
        assert xent.fit_temperature(z, y) == pytest.approx(want, rel=1e-9)


def test_fit_temperature_minimises_the_nll(rng):
    z = rng.normal(scale=4, size=(300, 5))
    y = np.where(rng.random(300) < 0.7, z.argmax(axis=1), rng.integers(0, 5, 300))
    t_star = xent.fit_temperature(z, y)

    def nll(t):
        return float(xent.cross_entropy(z / t, y))

    # brute force on a fine grid in log T, then compare the minimum value and location
    grid = np.exp(np.linspace(np.log(t_star) - 0.05, np.log(t_star) + 0.05, 2001))
    best = grid[np.argmin([nll(t) for t in grid])]
    assert abs(best / t_star - 1) < 1e-4
    assert nll(t_star) <= min(nll(t_star * 1.0001), nll(t_star / 1.0001))
    assert calibration.temperature_nll(z, y, t_star) == pytest.approx(nll(t_star), rel=1e-12)
    # the derivative in beta = 1/T vanishes there
    p = xent.softmax(z / t_star, axis=1)
    assert abs(np.mean((p * z).sum(axis=1) - z[np.arange(300), y])) < 1e-9


def test_fit_temperature_scales_and_does_not_change_accuracy(rng):
    z = rng.normal(scale=2, size=(200, 4))
    y = np.where(rng.random(200) < 0.8, z.argmax(axis=1), rng.integers(0, 4, 200))
    t1 = xent.fit_temperature(z, y)
    assert xent.fit_temperature(3 * z, y) == pytest.approx(3 * t1, rel=1e-9)  # T scales with z
    assert xent.fit_temperature(z + 5.0, y) == pytest.approx(t1, rel=1e-9)  # shift-invariant
    assert xent.fit_temperature(z.astype(np.float32), y) == pytest.approx(t1, rel=1e-5)
    np.testing.assert_array_equal((z / t1).argmax(axis=1), z.argmax(axis=1))


def test_fit_temperature_overconfident_model_gets_t_above_one(rng):
    """Logits of a calibrated model (labels drawn from its own softmax), then inflated x3:
    the fitted temperature recovers about 3."""
    z = rng.normal(scale=2, size=(4000, 4))
    p = xent.softmax(z, axis=1)
    y = (rng.random((4000, 1)) > np.cumsum(p, axis=1)).sum(axis=1)
    t = xent.fit_temperature(3 * z, y)
    assert 2.7 < t < 3.3


@pytest.mark.parametrize(
    "logits, labels, exc, argument",
    [
        (np.zeros((0, 3)), np.zeros(0, int), ValueError, "logits"),
        (np.array([1.0, 2.0]), np.array([0]), ValueError, "logits"),
        (np.array([[1.0], [2.0]]), np.array([0, 0]), ValueError, "logits"),
        (np.array([[np.nan, 0.0]]), np.array([0]), ValueError, "logits"),
        (np.array([[np.inf, 0.0]]), np.array([0]), ValueError, "logits"),
        (np.array([[1.0, 0.0]]), np.array([2]), ValueError, "labels"),
        (np.array([[1.0, 0.0]]), np.array([0.0]), TypeError, "labels"),
        (np.array([[1.0, 0.0]]), np.array([0, 1]), ValueError, "labels"),
        # every sample right: the NLL keeps falling as T -> 0
        (np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([0, 1]), ValueError, "logits"),
        # worse than uniform: the NLL keeps falling as T -> infinity
        (np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([1, 0]), ValueError, "logits"),
        # all logits equal: the NLL does not depend on T
        (np.zeros((3, 4)), np.array([0, 1, 2]), ValueError, "logits"),
    ],
)
def test_fit_temperature_bad_input(logits, labels, exc, argument):
    with raises_naming(exc, argument):
        xent.fit_temperature(logits, labels)


def test_temperature_nll_bad_temperature():
    for bad, exc in [(0.0, ValueError), (-1.0, ValueError), (np.nan, ValueError), ("1", TypeError)]:
        with raises_naming(exc, "temperature"):
            calibration.temperature_nll(np.array([[1.0, 0.0]]), np.array([0]), bad)


# --------------------------------------------------------------------------- shipped logits


def _write(tmp_path, arrays, digest=None):
    path = tmp_path / "x.npz"
    np.savez(path, **arrays)
    digest = digest or hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "x.npz.sha256").write_text(f"{digest}  x.npz\n")
    return path


def test_load_logits_checks_the_digest(tmp_path):
    path = _write(tmp_path, {"a": np.arange(3.0), "meta": np.array('{"k": 1}')})
    out = calibration.load_logits(path)
    np.testing.assert_array_equal(out["a"], [0, 1, 2])
    assert out["meta"] == {"k": 1}
    path = _write(tmp_path, {"a": np.arange(3.0)}, digest="0" * 64)
    with raises_naming(ValueError, "path"):
        calibration.load_logits(path)
    (tmp_path / "x.npz.sha256").unlink()
    with raises_naming(FileNotFoundError, "path"):
        calibration.load_logits(path)
    with raises_naming(TypeError, "path"):
        calibration.load_logits(3)


def test_shipped_fashion_mnist_logits():
    data = calibration.load_logits(LOGITS_FILE)  # raises if the SHA-256 does not match
    assert data["val_logits"].shape == data["test_logits"].shape == (10_000, 10)
    assert data["val_logits"].dtype == np.float32
    assert data["test_logits_ls"].shape == (10_000, 10)
    assert np.bincount(data["test_labels"]).tolist() == [1000] * 10
    assert np.bincount(data["val_labels"], minlength=10).min() > 900
    acc = np.mean(data["test_logits"].argmax(axis=1) == data["test_labels"])
    assert 0.88 < acc < 0.92
    assert LOGITS_FILE.stat().st_size < 950_000  # the book's budget for derived data


# --------------------------------------------------------------------------- found by the matrix


def _npy_bytes(array):
    from io import BytesIO

    buffer = BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _write_raw(tmp_path, raw):
    path = tmp_path / "x.npz"
    path.write_bytes(raw)
    (tmp_path / "x.npz.sha256").write_text(f"{hashlib.sha256(raw).hexdigest()}  x.npz\n")
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: _write_raw(tmp, b"not a zip archive"),  # NumPy: "pickled (object) data"
        lambda tmp: _write_raw(tmp, _npy_bytes(np.zeros(3))),  # a .npy: no context manager
        lambda tmp: _write(tmp, {"x": np.array([{}, 1], dtype=object)}),  # needs pickle
        lambda tmp: _write(tmp, {"a": np.zeros(2), "meta": np.array("{")}),  # JSON error
        lambda tmp: _write(tmp, {"a": np.zeros(2), "meta": np.array("[1, 2]")}),  # not a dict
        lambda tmp: _write(tmp, {"a": np.zeros(2), "meta": np.array([], "U1")}),  # IndexError
        lambda tmp: _write(tmp, {"a": np.zeros(2), "meta": np.ones(1)}),  # a number
        lambda tmp: tmp,  # a directory: "not found" was wrong
    ],
    ids=["not-npz", "npy", "pickled", "meta-json", "meta-list", "meta-empty", "meta-float",
         "directory"],
)
def test_load_logits_bad_file_names_path(tmp_path, make):
    """A file whose digest matches but that is not an npz of numeric arrays with a JSON
    object as ``meta`` raised NumPy's or json's own error, naming nothing (issue 10)."""
    path = make(tmp_path)
    with raises_naming(ValueError, "path") as info:
        calibration.load_logits(path)
    assert str(path) in str(info.value)


def test_calibration_metrics_accept_float16_probabilities():
    """A float16 softmax sums to 1 only to float16 precision (here 1.00006); it was checked
    at float64's 1e-6 and rejected (issue 10's float16 defect, in the new metrics)."""
    z = np.array([[0.5, -1.0, 2.0], [0.0, 0.3, 0.1], [3.0, 1.0, -2.0], [1.0, 2.0, 3.0]])
    p16 = xent.softmax(z, axis=1).astype(np.float16)
    assert np.abs(p16.astype(np.float64).sum(axis=1) - 1).max() > 1e-6  # the case at hand
    labels = np.array([2, 1, 0, 1])
    want = metrics.expected_calibration_error(p16.astype(np.float64) / p16.astype(
        np.float64).sum(axis=1, keepdims=True), labels, n_bins=4)
    assert metrics.expected_calibration_error(p16, labels, n_bins=4) == pytest.approx(
        want, abs=1e-3)
    curve = metrics.reliability_curve(p16, labels, n_bins=4)
    assert curve.count.sum() == 4
    with raises_naming(ValueError, "probs"):  # float16 tolerance, not anything goes
        metrics.expected_calibration_error((p16 * np.float16(0.9)), labels)


@pytest.mark.parametrize("scale", [1e-305, 1e-300, 1e-200, 1e-20, 1e20, 1e100, 1e300])
def test_fit_temperature_any_scale_of_logits(rng, scale):
    """T scales with the logits. Logits of 1e100 used to stop bisecting after 200 halvings
    from beta = 1 and return T = 1.6e60 (silently wrong); logits of 1e-300 could not be
    bracketed."""
    z = rng.normal(scale=2, size=(50, 4))
    y = np.where(rng.random(50) < 0.7, z.argmax(axis=1), rng.integers(0, 4, 50))
    assert xent.fit_temperature(z * scale, y) == pytest.approx(
        xent.fit_temperature(z, y) * scale, rel=1e-8)


def test_temperature_nll_tiny_temperature():
    """T = 1e-310 passed the "finite > 0" check, then 1/T = inf gave nan; a tiny T with a
    finite 1/T gives the huge (finite or +inf) NLL, never nan."""
    z, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 0])
    with raises_naming(ValueError, "temperature"):
        calibration.temperature_nll(z, y, 1e-310)
    assert calibration.temperature_nll(z, y, 1e-300) == pytest.approx(0.5e300)
    with np.errstate(all="raise"):
        big = calibration.temperature_nll(np.array([[1e308, -1e308]]), np.array([1]), 1e-10)
    assert big == np.inf
