"""xent.cross_entropy, cross_entropy_grad, cross_entropy_and_grad and one_hot.

Three independent references:
* hand-computed values;
* ``reference_cross_entropy`` below, written straight from the formulas of PyTorch's
  CrossEntropyLoss documentation (no fusion, no blocks, no threads), differentiated by
  central differences;
* PyTorch itself: recorded in tests/data/torch_reference.json (always checked) and, when
  torch is importable, live.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import xent
from hypothesis import given
from hypothesis import strategies as st
from xent import losses

REFERENCE_JSON = Path(__file__).parent / "data" / "torch_reference.json"


def reference_cross_entropy(
    z, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0
):
    """The documented formulas, computed the obvious way in float64."""
    z = np.asarray(z, dtype=np.float64)
    target = np.asarray(target)
    axis = 0 if z.ndim == 1 else 1
    num_classes = z.shape[axis]
    shifted = z - z.max(axis=axis, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    w = np.ones(num_classes) if weight is None else np.asarray(weight, dtype=np.float64)
    w_shape = [1] * z.ndim
    w_shape[axis] = num_classes
    w_b = w.reshape(w_shape)
    eps = label_smoothing
    if target.shape == z.shape:  # class probabilities
        t = target * (1 - eps) + eps / num_classes
        per_sample = -(w_b * t * log_p).sum(axis=axis)
        denominator = z.size / num_classes
    else:  # class indices
        keep = target != ignore_index
        y = np.where(keep, target, 0)
        log_p_y = np.take_along_axis(log_p, np.expand_dims(y, axis), axis=axis).squeeze(axis)
        nll = np.where(keep, -w[y] * log_p_y, 0.0)
        smooth = np.where(keep, -(w_b * log_p).sum(axis=axis) / num_classes, 0.0)
        per_sample = (1 - eps) * nll + eps * smooth
        denominator = np.where(keep, w[y], 0.0).sum()
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    with np.errstate(invalid="ignore"):
        return per_sample.sum() / denominator


def reference_grad(z, target, **kwargs):
    """Central differences of the summed reference loss."""
    return xent.numerical_gradient(
        lambda v: float(np.sum(reference_cross_entropy(v, target, **kwargs))), z
    )


# --------------------------------------------------------------------------- hand-computed


def test_hand_computed_plain():
    z = np.log([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0]])  # softmax rows [1,2,3]/6 and [1,1,2]/4
    y = np.array([2, 0])
    expected = [math.log(2), math.log(4)]
    np.testing.assert_allclose(xent.cross_entropy(z, y, reduction="none"), expected, rtol=1e-14)
    assert xent.cross_entropy(z, y) == pytest.approx(sum(expected) / 2, rel=1e-14)
    assert xent.cross_entropy(z, y, reduction="sum") == pytest.approx(sum(expected), rel=1e-14)
    grad = np.array([[1 / 6, 2 / 6, 3 / 6 - 1], [1 / 4 - 1, 1 / 4, 2 / 4]]) / 2  # (p - onehot)/N
    np.testing.assert_allclose(xent.cross_entropy_grad(z, y), grad, rtol=1e-14, atol=1e-16)


def test_hand_computed_weighted_ignored_smoothed():
    z = np.log([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0], [5.0, 1.0, 1.0]])
    y = np.array([2, 0, -100])
    w = np.array([1.0, 2.0, 4.0])
    # weighted mean: (4 * ln 2 + 1 * ln 4) / (4 + 1); the ignored row counts nowhere
    expected = (4 * math.log(2) + math.log(4)) / 5
    assert xent.cross_entropy(z, y, weight=w) == pytest.approx(expected, rel=1e-14)
    # smoothing eps: + eps * (-(1/C) sum_c w_c log p_c) per kept row, also divided by W = 5
    eps = 0.3
    smooth0 = -(1 * math.log(1 / 6) + 2 * math.log(2 / 6) + 4 * math.log(3 / 6)) / 3
    smooth1 = -(1 * math.log(1 / 4) + 2 * math.log(1 / 4) + 4 * math.log(2 / 4)) / 3
    expected = ((1 - eps) * (4 * math.log(2) + math.log(4)) + eps * (smooth0 + smooth1)) / 5
    got = xent.cross_entropy(z, y, weight=w, label_smoothing=eps)
    assert got == pytest.approx(expected, rel=1e-14)


def test_hand_computed_probability_targets():
    z = np.log([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0]])
    t = np.array([[0.5, 0.0, 0.5], [0.0, 0.0, 1.0]])
    w = np.array([2.0, 1.0, 1.0])
    row0 = -(2 * 0.5 * math.log(1 / 6) + 0.5 * math.log(3 / 6))
    row1 = math.log(2)
    # 'mean' divides by N = 2, not by a weight sum
    assert xent.cross_entropy(z, t, weight=w) == pytest.approx((row0 + row1) / 2, rel=1e-14)
    # gradient (sum u) p - u per row, divided by N
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    u = t * w
    grad = (u.sum(axis=1, keepdims=True) * p - u) / 2
    np.testing.assert_allclose(xent.cross_entropy_grad(z, t, weight=w), grad, rtol=1e-13)


def test_all_ignored_mean_is_nan_with_zero_gradient():
    z = np.ones((3, 4))
    y = np.full(3, -100)
    loss, grad = xent.cross_entropy_and_grad(z, y)
    assert math.isnan(loss)
    np.testing.assert_array_equal(grad, 0.0)
    assert xent.cross_entropy(z, y, reduction="sum") == 0.0
    np.testing.assert_array_equal(xent.cross_entropy(z, y, reduction="none"), [0.0, 0.0, 0.0])


def test_ignore_index_inside_the_class_range():
    z = np.log([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0]])
    y = np.array([2, 1])
    assert xent.cross_entropy(z, y, ignore_index=1) == pytest.approx(math.log(2), rel=1e-14)


def test_one_dimensional_logits():
    z = np.log([1.0, 2.0, 3.0])
    loss = xent.cross_entropy(z, 0)
    assert loss == pytest.approx(math.log(6), rel=1e-14)
    assert np.shape(xent.cross_entropy(z, 0, reduction="none")) == ()
    np.testing.assert_allclose(xent.cross_entropy_grad(z, 0), [1 / 6 - 1, 2 / 6, 3 / 6], rtol=1e-14)
    np.testing.assert_allclose(xent.cross_entropy(z, np.array([0.0, 0.0, 1.0])), math.log(2))


def test_spatial_logits_shapes(rng):
    z = rng.normal(size=(2, 3, 4, 5))
    y = rng.integers(0, 3, size=(2, 4, 5))
    per_sample = xent.cross_entropy(z, y, reduction="none")
    assert per_sample.shape == (2, 4, 5)
    # same numbers as flattening the spatial positions into rows
    rows = np.moveaxis(z, 1, -1).reshape(-1, 3)
    np.testing.assert_allclose(
        per_sample.reshape(-1), xent.cross_entropy(rows, y.reshape(-1), reduction="none"), rtol=0
    )
    grad = xent.cross_entropy_grad(z, y)
    assert grad.shape == z.shape and grad.flags.c_contiguous


def test_empty_batch():
    z = np.zeros((0, 3))
    y = np.zeros(0, dtype=int)
    assert math.isnan(xent.cross_entropy(z, y))
    assert xent.cross_entropy(z, y, reduction="sum") == 0.0
    assert xent.cross_entropy(z, y, reduction="none").shape == (0,)
    assert xent.cross_entropy_grad(z, y).shape == (0, 3)
    assert math.isnan(xent.cross_entropy(z, z))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_exact(dtype):
    z = np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    y = np.array([1, 1])
    loss, grad = xent.cross_entropy_and_grad(z, y, reduction="none")
    np.testing.assert_array_equal(loss, np.array([2e4, 0.0], dtype=dtype))
    np.testing.assert_array_equal(grad, np.array([[1.0, -1.0], [0.0, 0.0]], dtype=dtype))
    assert loss.dtype == grad.dtype == dtype


@given(
    z=hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        st.tuples(st.integers(1, 5), st.integers(1, 6)),
        elements=st.floats(-1e4, 1e4, width=32),
    ),
    smoothing=st.sampled_from([0.0, 0.1]),
    data=st.data(),
)
def test_extreme_logits_are_finite(z, smoothing, data):
    y = data.draw(hnp.arrays(np.int64, z.shape[0], elements=st.integers(0, z.shape[1] - 1)))
    loss, grad = xent.cross_entropy_and_grad(z, y, label_smoothing=smoothing)
    assert np.isfinite(loss) and np.isfinite(grad).all()
    assert loss.dtype == grad.dtype == z.dtype
    assert loss >= 0


def test_dtypes_and_inputs_untouched(rng):
    z32 = rng.normal(size=(4, 3)).astype(np.float32)
    before = z32.copy()
    loss, grad = xent.cross_entropy_and_grad(z32, np.array([0, 1, 2, 0]), weight=[1.0, 2.0, 3.0])
    assert isinstance(loss, np.float32) and grad.dtype == np.float32
    np.testing.assert_array_equal(z32, before)
    assert xent.cross_entropy([[1, 2], [3, 4]], [0, 1]).dtype == np.float64  # int logits


# --------------------------------------------------------------------------- wrappers agree


def test_wrappers_share_one_computation(rng):
    z = rng.normal(size=(6, 5))
    y = rng.integers(0, 5, size=6)
    kw = dict(weight=rng.random(5), label_smoothing=0.1, reduction="sum")
    loss, grad = xent.cross_entropy_and_grad(z, y, **kw)
    assert xent.cross_entropy(z, y, **kw) == loss
    np.testing.assert_array_equal(xent.cross_entropy_grad(z, y, **kw), grad)


# --------------------------------------------------------------------------- properties


@st.composite
def problems(draw):
    """A random (logits, target, kwargs) covering every option of cross_entropy."""
    ndim = draw(st.sampled_from([1, 2, 2, 3]))
    num_classes = draw(st.integers(1, 5))
    if ndim == 1:
        shape = (num_classes,)
    elif ndim == 2:
        shape = (draw(st.integers(1, 4)), num_classes)
    else:
        shape = (draw(st.integers(1, 3)), num_classes, draw(st.integers(1, 3)))
    seed = draw(st.integers(0, 2**32 - 1))
    gen = np.random.default_rng(seed)
    z = gen.normal(scale=3.0, size=shape)
    kwargs = {
        "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
        "label_smoothing": draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0])),
    }
    if draw(st.booleans()):
        kwargs["weight"] = gen.uniform(0.1, 3.0, size=num_classes)
    axis = 0 if ndim == 1 else 1
    if draw(st.booleans()):  # class probabilities
        t = gen.random(shape) * (gen.random(shape) < 0.7)
        t /= np.maximum(t.sum(axis=axis, keepdims=True), 1e-12)
        return z, t, kwargs
    index_shape = tuple(s for i, s in enumerate(shape) if i != axis)
    y = gen.integers(0, num_classes, size=index_shape)
    if draw(st.booleans()) and y.size > 1:  # ignore some rows, never all of them
        ignore_index = draw(st.sampled_from([-100, 0, 7]))
        y = np.where(gen.random(index_shape) < 0.4, ignore_index, y)
        y.reshape(-1)[0] = num_classes - 1 if ignore_index == 0 and num_classes > 1 else 0
        if ignore_index == 0 and num_classes == 1:
            y.reshape(-1)[0] = 0  # the only class is ignored: every row is; fine for 'sum'
            kwargs["reduction"] = "sum"
        kwargs["ignore_index"] = ignore_index
    return z, y, kwargs


@given(problem=problems())
def test_matches_documented_formulas(problem):
    z, target, kwargs = problem
    np.testing.assert_allclose(
        xent.cross_entropy(z, target, **kwargs),
        reference_cross_entropy(z, target, **kwargs),
        rtol=1e-12,
        atol=1e-14,
    )


@given(problem=problems())
def test_gradient_matches_numerical_gradient(problem):
    z, target, kwargs = problem
    # central differences carry a rounding error of about 1e-16 |f| / 1e-6
    f_scale = max(1.0, float(np.abs(np.sum(reference_cross_entropy(z, target, **kwargs)))))
    np.testing.assert_allclose(
        xent.cross_entropy_grad(z, target, **kwargs),
        reference_grad(z, target, **kwargs),
        rtol=1e-6,
        atol=1e-8 * f_scale,
    )


@given(problem=problems())
def test_unit_weights_equal_no_weights(problem):
    z, target, kwargs = problem
    kwargs.pop("weight", None)
    c = z.shape[0] if z.ndim == 1 else z.shape[1]
    plain = xent.cross_entropy_and_grad(z, target, **kwargs)
    unit = xent.cross_entropy_and_grad(z, target, weight=np.ones(c), **kwargs)
    np.testing.assert_allclose(unit[0], plain[0], rtol=1e-14)
    np.testing.assert_allclose(unit[1], plain[1], rtol=1e-14, atol=1e-17)


@given(
    shape=st.tuples(st.integers(1, 5), st.integers(1, 6)),
    eps=st.floats(0.0, 1.0),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_label_smoothing_is_ce_against_the_smoothed_distribution(shape, eps, reduction, seed):
    gen = np.random.default_rng(seed)
    n, c = shape
    z = gen.normal(scale=2.0, size=shape)
    y = gen.integers(0, c, size=n)
    smoothed = xent.one_hot(y, c) * (1 - eps) + eps / c
    a = xent.cross_entropy_and_grad(z, y, label_smoothing=eps, reduction=reduction)
    b = xent.cross_entropy_and_grad(z, smoothed, reduction=reduction)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("with_options", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_and_threaded_path(rng, monkeypatch, with_options, dtype):
    """Large enough for several row blocks and for the thread pool."""
    n, c = 1200, 250
    submitted = []
    pool = losses._thread_pool()

    class RecordingPool:  # the real pool, counting the work handed to it
        def submit(self, fn):
            submitted.append(fn)
            return pool.submit(fn)

    monkeypatch.setattr(losses, "_thread_pool", RecordingPool)
    z = rng.normal(scale=3.0, size=(n, c))
    y = rng.integers(0, c, size=n)
    kwargs = {}
    if with_options:
        y[::7] = -100
        kwargs = dict(weight=rng.uniform(0.5, 2.0, size=c), label_smoothing=0.1)
    loss, grad = xent.cross_entropy_and_grad(z.astype(dtype), y, **kwargs)
    ref_loss = reference_cross_entropy(z, y, **kwargs)
    # the gradient in closed form, to avoid 2 * 160000 finite differences
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    w = kwargs.get("weight", np.ones(c))
    eps = kwargs.get("label_smoothing", 0.0)
    keep = y != -100
    u = (1 - eps) * xent.one_hot(np.where(keep, y, 0), c) * w + eps / c * w
    u[~keep] = 0
    total_weight = np.where(keep, w[np.where(keep, y, 0)], 0).sum()
    ref_grad = (u.sum(axis=1, keepdims=True) * p - u) / total_weight
    tol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(loss, ref_loss, rtol=tol)
    np.testing.assert_allclose(grad, ref_grad, rtol=tol, atol=tol * np.abs(ref_grad).max())
    loss_only = xent.cross_entropy(z.astype(dtype), y, reduction="none", **kwargs)
    ref_per_sample = reference_cross_entropy(z, y, reduction="none", **kwargs)
    np.testing.assert_allclose(loss_only, ref_per_sample, rtol=tol * 10)
    assert len(submitted) == 2 * (losses._NUM_THREADS - 1)  # both calls were threaded


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [0.0, 85.0, -90.0, 1e4, -1e4, 750.0, -750.0])
def test_shift_free_fast_path_and_its_fallback(rng, monkeypatch, dtype, offset):
    """Logits near 0 skip the max-subtraction; shifted ones (exp would overflow or
    underflow) must fall back to it, block by block, with the same accuracy."""
    n, c = 6000, 50  # several blocks, threaded
    z = rng.normal(scale=3.0, size=(n, c))
    z[n // 2 :] += offset  # the second half of the blocks is shifted
    z[7] += offset  # and one row of the first block
    y = rng.integers(0, c, size=n)
    fallbacks = []
    row_max = losses._row_max
    monkeypatch.setattr(losses, "_row_max", lambda v: fallbacks.append(1) or row_max(v))
    loss, grad = xent.cross_entropy_and_grad(z.astype(dtype), y, reduction="none")
    exp_is_safe = abs(offset) < (80 if dtype == np.float32 else 700)
    assert (len(fallbacks) == 0) == exp_is_safe
    # the exact values do not depend on the shift (softmax is shift-invariant)
    z_centred = z - z.max(axis=1, keepdims=True)
    expected = reference_cross_entropy(z_centred, y, reduction="none")
    p = np.exp(z_centred) / np.exp(z_centred).sum(axis=1, keepdims=True)
    if dtype == np.float64:
        tol = 1e-12 * max(1.0, abs(offset))  # lse - z_y cancels ~|offset|
        np.testing.assert_allclose(loss, expected, rtol=0, atol=tol * 10)
        np.testing.assert_allclose(grad, p - xent.one_hot(y, c), atol=1e-12)
    else:
        tol = 1e-6 * max(1.0, abs(offset))  # z itself is rounded to float32 here
        z32 = z.astype(np.float32).astype(np.float64)
        expected32 = reference_cross_entropy(z32, y, reduction="none")
        np.testing.assert_allclose(loss, expected32, rtol=0, atol=tol * 10)
        p32 = xent.softmax(z32)
        np.testing.assert_allclose(grad, p32 - xent.one_hot(y, c), atol=1e-6)
    assert np.isfinite(loss).all() and np.isfinite(grad).all()


@pytest.mark.parametrize("offset", [0.0, 50.0, -50.0])
@pytest.mark.parametrize("kind", ["plain", "smoothed", "probabilities"])
def test_float32_accuracy_without_cancellation(rng, offset, kind):
    """float32 losses within a few float32 ulps of the exact loss of the same (rounded)
    inputs, even for small losses on large logits: nothing large is allowed to cancel."""
    n, c = 2000, 100
    z = rng.normal(scale=3.0, size=(n, c)) + offset
    y = z.argmax(axis=1)
    z[np.arange(n), y] += 5.0  # confident and right: small losses
    z32 = z.astype(np.float32)
    kwargs = {"reduction": "none"}
    target = y
    if kind == "smoothed":
        kwargs["label_smoothing"] = 0.1
    elif kind == "probabilities":
        target = xent.one_hot(y, c) * 0.98 + 0.02 / c
    exact = reference_cross_entropy(z32.astype(np.float64), target, **kwargs)
    got = xent.cross_entropy(z32, target.astype(np.float32) if kind == "probabilities" else y,
                             **kwargs).astype(np.float64)  # fmt: skip
    eps32 = np.finfo(np.float32).eps
    # a few rounding errors of size eps * (1 + loss) (measured: at most ~3). Computing
    # logsumexp(z) first and subtracting z_y, as the textbook formula does, lets two
    # numbers of size |offset| cancel: ~8 at offset 0, ~33 at offset 50.
    assert np.all(np.abs(got - exact) <= 6 * eps32 * (1 + exact)), kind


def test_blocked_path_probability_targets_and_spatial(rng):
    z = rng.normal(size=(40, 50, 80))  # 40 * 80 rows of 50 classes: threaded
    t = rng.random(z.shape)
    t /= t.sum(axis=1, keepdims=True)
    kw = dict(weight=rng.uniform(0.5, 2.0, size=50), label_smoothing=0.2)
    loss, grad = xent.cross_entropy_and_grad(z, t, **kw)
    np.testing.assert_allclose(loss, reference_cross_entropy(z, t, **kw), rtol=1e-12)
    p = xent.softmax(z, axis=1)
    u = (t * 0.8 + 0.2 / 50) * kw["weight"][:, None]
    np.testing.assert_allclose(grad, (u.sum(axis=1, keepdims=True) * p - u) / (40 * 80), rtol=1e-10)


# --------------------------------------------------------------------------- one_hot


def test_one_hot():
    np.testing.assert_array_equal(xent.one_hot([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    out = xent.one_hot(np.array([[1], [0]]), 2)
    assert out.shape == (2, 1, 2) and out.dtype == np.float64
    assert xent.one_hot(1, 2).tolist() == [0.0, 1.0]


# --------------------------------------------------------------------------- PyTorch


def _load_reference_cases():
    return json.loads(REFERENCE_JSON.read_text())["cases"]


@pytest.mark.parametrize("case", _load_reference_cases(), ids=lambda c: c["name"])
def test_matches_recorded_torch(case):
    z = np.array(case["logits"], dtype=np.float64)
    target = np.array(case["target"], dtype=np.int64 if case["target_is_index"] else np.float64)
    loss, grad = xent.cross_entropy_and_grad(z, target, **case["kwargs"])
    expected_loss = np.array(case["loss"], dtype=np.float64)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-6, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(grad, np.array(case["grad"]), rtol=1e-6, atol=1e-12)


def test_reference_json_covers_the_cases_that_matter():
    names = [c["name"] for c in _load_reference_cases()]
    for part in ["(5,)", "(4, 5)", "(3, 5, 2)", "ignore_custom", "all_ignored", "prob", "w1",
                 "ls0.2", "-mean", "-sum", "-none"]:  # fmt: skip
        assert any(part in name for name in names), part


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_live_torch(rng, dtype):
    torch = pytest.importorskip("torch", exc_type=ImportError)  # also a broken install
    functional = torch.nn.functional
    tol = 1e-10 if dtype == "float64" else 1e-5
    cases = []
    for shape in [(7,), (64, 10), (300, 700), (5, 6, 3, 2), (0, 4)]:
        axis = 0 if len(shape) == 1 else 1
        c = shape[axis]
        z = rng.normal(scale=4.0, size=shape).astype(dtype)
        index_shape = tuple(s for i, s in enumerate(shape) if i != axis)
        y = rng.integers(0, c, size=index_shape)
        y_ignored = np.where(rng.random(index_shape) < 0.3, 3, y)
        t = rng.random(shape).astype(dtype)
        for reduction in ["mean", "sum", "none"]:
            w = rng.uniform(0.2, 2.0, size=c).astype(dtype)
            options = dict(weight=w, ignore_index=3, label_smoothing=0.15, reduction=reduction)
            cases += [
                (z, y, dict(reduction=reduction)),
                (z, y_ignored, options),
                (z, t, dict(weight=w, label_smoothing=0.05, reduction=reduction)),
            ]
    for z, target, kwargs in cases:
        zt = torch.tensor(z, requires_grad=True)
        kw_t = dict(kwargs)
        if "weight" in kw_t:
            kw_t["weight"] = torch.tensor(kw_t["weight"])
        expected = functional.cross_entropy(zt, torch.tensor(target), **kw_t)
        expected.backward(torch.ones_like(expected))
        loss, grad = xent.cross_entropy_and_grad(z, target, **kwargs)
        assert grad.dtype == z.dtype and np.asarray(loss).dtype == z.dtype
        expected_loss = expected.detach().numpy()
        np.testing.assert_allclose(loss, expected_loss, rtol=tol, atol=tol, equal_nan=True)
        # entries of (sum u) p - u cancel: compare them on the scale of the largest one
        scale = np.abs(zt.grad.numpy()).max(initial=1.0)
        np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=tol, atol=tol * scale)
