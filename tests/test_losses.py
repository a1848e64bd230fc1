"""xent.cross_entropy, cross_entropy_grad, cross_entropy_and_grad and one_hot.

Three independent references:
* hand-computed values;
* ``reference_cross_entropy`` below, written straight from the formulas of PyTorch's
  CrossEntropyLoss documentation (no fusion, no blocks, no threads), differentiated by
  central differences;
* PyTorch itself: recorded in tests/data/torch_reference.json (always checked) and, when
  torch is importable, live.

The fused kernel (``xent.fused``) runs every behaviour test too, and a property test checks
it against the readable reference over the whole option space. tests/test_differential.py
adds values from every numeric regime, layouts, and PyTorch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import xent
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st
from test_differential import TORCH_SLACK, allowances, errors

REFERENCE_JSON = Path(__file__).parent / "data" / "torch_reference.json"
# every behaviour test runs on the readable reference (xent.cross_entropy*) and on the fused
# kernel (xent.fused.cross_entropy*): same arguments, same numbers, same errors
BOTH = pytest.mark.parametrize("impl", [xent, xent.fused], ids=["reference", "fused"])


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


@BOTH
def test_hand_computed_plain(impl):
    z = np.log([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0]])  # softmax rows [1,2,3]/6 and [1,1,2]/4
    y = np.array([2, 0])
    expected = [math.log(2), math.log(4)]
    np.testing.assert_allclose(impl.cross_entropy(z, y, reduction="none"), expected, rtol=1e-14)
    assert impl.cross_entropy(z, y) == pytest.approx(sum(expected) / 2, rel=1e-14)
    assert impl.cross_entropy(z, y, reduction="sum") == pytest.approx(sum(expected), rel=1e-14)
    grad = np.array([[1 / 6, 2 / 6, 3 / 6 - 1], [1 / 4 - 1, 1 / 4, 2 / 4]]) / 2  # (p - onehot)/N
    np.testing.assert_allclose(impl.cross_entropy_grad(z, y), grad, rtol=1e-14, atol=1e-16)


@BOTH
def test_hand_computed_weighted_ignored_smoothed(impl):
    z = np.log([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0], [5.0, 1.0, 1.0]])
    y = np.array([2, 0, -100])
    w = np.array([1.0, 2.0, 4.0])
    # weighted mean: (4 * ln 2 + 1 * ln 4) / (4 + 1); the ignored row counts nowhere
    expected = (4 * math.log(2) + math.log(4)) / 5
    assert impl.cross_entropy(z, y, weight=w) == pytest.approx(expected, rel=1e-14)
    # smoothing eps: + eps * (-(1/C) sum_c w_c log p_c) per kept row, also divided by W = 5
    eps = 0.3
    smooth0 = -(1 * math.log(1 / 6) + 2 * math.log(2 / 6) + 4 * math.log(3 / 6)) / 3
    smooth1 = -(1 * math.log(1 / 4) + 2 * math.log(1 / 4) + 4 * math.log(2 / 4)) / 3
    expected = ((1 - eps) * (4 * math.log(2) + math.log(4)) + eps * (smooth0 + smooth1)) / 5
    got = impl.cross_entropy(z, y, weight=w, label_smoothing=eps)
    assert got == pytest.approx(expected, rel=1e-14)


@BOTH
def test_hand_computed_probability_targets(impl):
    z = np.log([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0]])
    t = np.array([[0.5, 0.0, 0.5], [0.0, 0.0, 1.0]])
    w = np.array([2.0, 1.0, 1.0])
    row0 = -(2 * 0.5 * math.log(1 / 6) + 0.5 * math.log(3 / 6))
    row1 = math.log(2)
    # 'mean' divides by N = 2, not by a weight sum
    assert impl.cross_entropy(z, t, weight=w) == pytest.approx((row0 + row1) / 2, rel=1e-14)
    # gradient (sum u) p - u per row, divided by N
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    u = t * w
    grad = (u.sum(axis=1, keepdims=True) * p - u) / 2
    np.testing.assert_allclose(impl.cross_entropy_grad(z, t, weight=w), grad, rtol=1e-13)


@BOTH
def test_all_ignored_mean_is_nan_with_zero_gradient(impl):
    z = np.ones((3, 4))
    y = np.full(3, -100)
    loss, grad = impl.cross_entropy_and_grad(z, y)
    assert math.isnan(loss)
    np.testing.assert_array_equal(grad, 0.0)
    assert impl.cross_entropy(z, y, reduction="sum") == 0.0
    np.testing.assert_array_equal(impl.cross_entropy(z, y, reduction="none"), [0.0, 0.0, 0.0])


@BOTH
def test_ignore_index_inside_the_class_range(impl):
    z = np.log([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0]])
    y = np.array([2, 1])
    assert impl.cross_entropy(z, y, ignore_index=1) == pytest.approx(math.log(2), rel=1e-14)


@BOTH
def test_one_dimensional_logits(impl):
    z = np.log([1.0, 2.0, 3.0])
    loss = impl.cross_entropy(z, 0)
    assert loss == pytest.approx(math.log(6), rel=1e-14)
    assert np.shape(impl.cross_entropy(z, 0, reduction="none")) == ()
    np.testing.assert_allclose(impl.cross_entropy_grad(z, 0), [1 / 6 - 1, 2 / 6, 3 / 6], rtol=1e-14)
    np.testing.assert_allclose(impl.cross_entropy(z, np.array([0.0, 0.0, 1.0])), math.log(2))


@BOTH
def test_spatial_logits_shapes(impl, rng):
    z = rng.normal(size=(2, 3, 4, 5))
    y = rng.integers(0, 3, size=(2, 4, 5))
    per_sample = impl.cross_entropy(z, y, reduction="none")
    assert per_sample.shape == (2, 4, 5)
    # same numbers as flattening the spatial positions into rows
    rows = np.moveaxis(z, 1, -1).reshape(-1, 3)
    np.testing.assert_allclose(
        per_sample.reshape(-1), impl.cross_entropy(rows, y.reshape(-1), reduction="none"), rtol=0
    )
    grad = impl.cross_entropy_grad(z, y)
    assert grad.shape == z.shape and grad.flags.c_contiguous


@BOTH
def test_empty_batch(impl):
    z = np.zeros((0, 3))
    y = np.zeros(0, dtype=int)
    assert math.isnan(impl.cross_entropy(z, y))
    assert impl.cross_entropy(z, y, reduction="sum") == 0.0
    assert impl.cross_entropy(z, y, reduction="none").shape == (0,)
    assert impl.cross_entropy_grad(z, y).shape == (0, 3)
    assert math.isnan(impl.cross_entropy(z, z))


@BOTH
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_exact(impl, dtype):
    z = np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    y = np.array([1, 1])
    loss, grad = impl.cross_entropy_and_grad(z, y, reduction="none")
    np.testing.assert_array_equal(loss, np.array([2e4, 0.0], dtype=dtype))
    np.testing.assert_array_equal(grad, np.array([[1.0, -1.0], [0.0, 0.0]], dtype=dtype))
    assert loss.dtype == grad.dtype == dtype


@BOTH
@given(
    z=hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        st.tuples(st.integers(1, 5), st.integers(1, 6)),
        elements=st.floats(-1e4, 1e4, width=32),
    ),
    smoothing=st.sampled_from([0.0, 0.1]),
    data=st.data(),
)
def test_extreme_logits_are_finite(impl, z, smoothing, data):
    y = data.draw(hnp.arrays(np.int64, z.shape[0], elements=st.integers(0, z.shape[1] - 1)))
    loss, grad = impl.cross_entropy_and_grad(z, y, label_smoothing=smoothing)
    assert np.isfinite(loss) and np.isfinite(grad).all()
    assert loss.dtype == grad.dtype == z.dtype
    assert loss >= 0


@BOTH
def test_dtypes_and_inputs_untouched(impl, rng):
    z32 = rng.normal(size=(4, 3)).astype(np.float32)
    before = z32.copy()
    loss, grad = impl.cross_entropy_and_grad(z32, np.array([0, 1, 2, 0]), weight=[1.0, 2.0, 3.0])
    assert isinstance(loss, np.float32) and grad.dtype == np.float32
    np.testing.assert_array_equal(z32, before)
    assert impl.cross_entropy([[1, 2], [3, 4]], [0, 1]).dtype == np.float64  # int logits


# --------------------------------------------------------------------------- wrappers agree


@BOTH
def test_wrappers_share_one_computation(impl, rng):
    z = rng.normal(size=(6, 5))
    y = rng.integers(0, 5, size=6)
    kw = dict(weight=rng.random(5), label_smoothing=0.1, reduction="sum")
    loss, grad = impl.cross_entropy_and_grad(z, y, **kw)
    assert impl.cross_entropy(z, y, **kw) == loss
    np.testing.assert_array_equal(impl.cross_entropy_grad(z, y, **kw), grad)


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


@given(
    problem=problems(),
    dtype=st.sampled_from([np.float32, np.float64]),
    rows=st.sampled_from([1, 1, 1, 9000]),
)
def test_fused_equals_reference(problem, dtype, rows):
    """The fused kernel computes the reference's numbers over the whole option space
    (shapes incl. (N, C, d1, ...), weights, ignore_index, smoothing, probability targets,
    reductions, float32/float64); ``rows`` > 1 repeats the batch so that it spans several
    blocks and threads. Tolerance: a few ulps of the dtype, on the scale of the values."""
    z, target, kwargs = problem
    if rows > 1 and z.ndim > 1:
        z = np.concatenate([z] * rows)
        target = np.concatenate([target] * rows)
    z = z.astype(dtype)
    if np.issubdtype(target.dtype, np.floating):
        target = target.astype(dtype)
    if "weight" in kwargs:
        kwargs["weight"] = kwargs["weight"].astype(dtype)
    ref_loss, ref_grad = xent.cross_entropy_and_grad(z, target, **kwargs)
    loss, grad = xent.fused.cross_entropy_and_grad(z, target, **kwargs)
    loss_only = xent.fused.cross_entropy(z, target, **kwargs)
    assert loss.dtype == grad.dtype == np.asarray(loss_only).dtype == dtype
    assert grad.shape == z.shape
    tol = 32 * np.finfo(dtype).eps
    for got in (loss, loss_only):
        np.testing.assert_allclose(got, ref_loss, rtol=tol, atol=tol, equal_nan=True)
    # (sum u) p - u cancels: entries are compared on the scale of their row's scale * sum(u)
    row_scale = allowances(z.astype(np.float64), target, kwargs)[2]
    atol = tol * float(row_scale.max(initial=0.0))
    np.testing.assert_allclose(grad, ref_grad, rtol=tol, atol=atol, equal_nan=True)


@BOTH
@given(problem=problems())
def test_matches_documented_formulas(impl, problem):
    z, target, kwargs = problem
    np.testing.assert_allclose(
        impl.cross_entropy(z, target, **kwargs),
        reference_cross_entropy(z, target, **kwargs),
        rtol=1e-12,
        atol=1e-14,
    )


@BOTH
@given(problem=problems())
def test_gradient_matches_numerical_gradient(impl, problem):
    z, target, kwargs = problem
    # central differences carry a rounding error of about 1e-16 |f| / 1e-6
    f_scale = max(1.0, float(np.abs(np.sum(reference_cross_entropy(z, target, **kwargs)))))
    np.testing.assert_allclose(
        impl.cross_entropy_grad(z, target, **kwargs),
        reference_grad(z, target, **kwargs),
        rtol=1e-6,
        atol=1e-8 * f_scale,
    )


@BOTH
@given(problem=problems())
def test_unit_weights_equal_no_weights(impl, problem):
    z, target, kwargs = problem
    kwargs.pop("weight", None)
    c = z.shape[0] if z.ndim == 1 else z.shape[1]
    plain = impl.cross_entropy_and_grad(z, target, **kwargs)
    unit = impl.cross_entropy_and_grad(z, target, weight=np.ones(c), **kwargs)
    np.testing.assert_allclose(unit[0], plain[0], rtol=1e-14)
    np.testing.assert_allclose(unit[1], plain[1], rtol=1e-14, atol=1e-17)


@BOTH
@given(
    shape=st.tuples(st.integers(1, 5), st.integers(1, 6)),
    eps=st.floats(0.0, 1.0),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_label_smoothing_is_ce_against_the_smoothed_distribution(impl, shape, eps, reduction, seed):
    gen = np.random.default_rng(seed)
    n, c = shape
    z = gen.normal(scale=2.0, size=shape)
    y = gen.integers(0, c, size=n)
    smoothed = xent.one_hot(y, c) * (1 - eps) + eps / c
    a = impl.cross_entropy_and_grad(z, y, label_smoothing=eps, reduction=reduction)
    b = impl.cross_entropy_and_grad(z, smoothed, reduction=reduction)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-15)


@BOTH
@pytest.mark.parametrize("offset", [0.0, 50.0, -50.0])
@pytest.mark.parametrize("kind", ["plain", "smoothed", "probabilities"])
def test_float32_accuracy_without_cancellation(impl, rng, offset, kind):
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
    got = impl.cross_entropy(z32, target.astype(np.float32) if kind == "probabilities" else y,
                             **kwargs).astype(np.float64)  # fmt: skip
    eps32 = np.finfo(np.float32).eps
    # a few rounding errors of size eps * (1 + loss) (measured: at most ~3). Computing
    # logsumexp(z) first and subtracting z_y, as the textbook formula does, lets two
    # numbers of size |offset| cancel: ~8 at offset 0, ~33 at offset 50.
    assert np.all(np.abs(got - exact) <= 6 * eps32 * (1 + exact)), kind


@BOTH
def test_blocked_path_probability_targets_and_spatial(impl, rng):
    z = rng.normal(size=(40, 50, 80))  # 40 * 80 rows of 50 classes: threaded
    t = rng.random(z.shape)
    t /= t.sum(axis=1, keepdims=True)
    kw = dict(weight=rng.uniform(0.5, 2.0, size=50), label_smoothing=0.2)
    loss, grad = impl.cross_entropy_and_grad(z, t, **kw)
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


@BOTH
@pytest.mark.parametrize(
    "case", [c for c in _load_reference_cases() if "dtype" not in c], ids=lambda c: c["name"]
)
def test_matches_recorded_torch(impl, case):
    z = np.array(case["logits"], dtype=np.float64)
    target = np.array(case["target"], dtype=np.int64 if case["target_is_index"] else np.float64)
    loss, grad = impl.cross_entropy_and_grad(z, target, **case["kwargs"])
    expected_loss = np.array(case["loss"], dtype=np.float64)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-6, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(grad, np.array(case["grad"]), rtol=1e-6, atol=1e-12)


@BOTH
@pytest.mark.parametrize(
    "case", [c for c in _load_reference_cases() if "dtype" in c], ids=lambda c: c["name"]
)
def test_never_worse_than_recorded_torch(impl, case):
    """Extreme regimes (issue 10), recorded: xent's error against torch's float64 result is
    at most max(2 x torch's own error at the same dtype, a few ulps), in the allowance units
    of tests/test_differential.py; nan and inf exactly where torch has them."""
    dtype = np.dtype(case["dtype"]).type
    z = np.array(case["logits"], dtype=dtype)
    target = np.array(case["target"], dtype=np.int64)
    kwargs = dict(case["kwargs"])
    kw64 = dict(kwargs)
    if "weight" in kwargs:
        kwargs["weight"] = np.array(kwargs["weight"], dtype=dtype)
        kw64["weight"] = kwargs["weight"].astype(np.float64)
    exact = (np.array(case["loss64"]), np.array(case["grad64"]))
    z64 = z.astype(np.float64)
    theirs = (np.array(case["loss"]), np.array(case["grad"]))
    torch_err = max(errors(theirs, exact, z64, target, kw64, dtype))
    ours = impl.cross_entropy_and_grad(z, target, **kwargs)
    assert ours[1].dtype == dtype
    our_err = max(errors(ours, exact, z64, target, kw64, dtype))
    assert our_err <= max(2 * torch_err, TORCH_SLACK), (our_err, torch_err)


def test_reference_json_covers_the_cases_that_matter():
    names = [c["name"] for c in _load_reference_cases()]
    for part in ["(5,)", "(4, 5)", "(3, 5, 2)", "ignore_custom", "all_ignored", "prob", "w1",
                 "ls0.2", "-mean", "-sum", "-none", "regime-overflow-float32",
                 "regime-underflow_gap-float32", "regime-huge-float64", "regime-masked_target",
                 "regime-zero_weight_sum", "regime-all_ignored"]:  # fmt: skip
        assert any(part in name for name in names), part


@BOTH
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_live_torch(impl, rng, dtype):
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
        loss, grad = impl.cross_entropy_and_grad(z, target, **kwargs)
        assert grad.dtype == z.dtype and np.asarray(loss).dtype == z.dtype
        expected_loss = expected.detach().numpy()
        np.testing.assert_allclose(loss, expected_loss, rtol=tol, atol=tol, equal_nan=True)
        # entries of (sum u) p - u cancel: compare them on the scale of the largest one
        scale = np.abs(zt.grad.numpy()).max(initial=1.0)
        np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=tol, atol=tol * scale)


# --------------------------------------------------------------------------- masked classes


@BOTH
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minus_inf_logits_are_masks(impl, dtype):
    """-inf masks a class, as in torch: finite loss and gradient while the target's logit is
    finite; values recorded from torch 2.13 (float64)."""
    z = np.array([[0.0, -np.inf, 1.0], [2.0, 1.0, -np.inf]], dtype=dtype)
    loss, grad = impl.cross_entropy_and_grad(z, np.array([0, 1]), reduction="none")
    p0 = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(loss, [-np.log(p0[0]), -np.log(p0[0])], rtol=tol)
    np.testing.assert_allclose(
        grad, [[p0[0] - 1, 0, p0[1]], [p0[1], p0[0] - 1, 0]], rtol=tol, atol=tol
    )
    assert loss.dtype == grad.dtype == dtype


@BOTH
def test_minus_inf_logits_match_torch_in_every_case(impl):
    """What torch 2.13 returns in each case (checked live in tests/test_differential.py and
    recorded in tests/data/torch_reference.json, cases regime-masked*)."""
    inf = np.inf
    z = np.array([[0.0, -inf, 1.0]])
    p = np.array([np.exp(0) / (1 + np.e), 0.0, np.e / (1 + np.e)])
    # the target masked: the loss is inf, the gradient p - e_y stays finite
    loss, grad = impl.cross_entropy_and_grad(z, np.array([1]))
    assert loss == inf
    np.testing.assert_allclose(grad, [p - [0, 1, 0]], rtol=1e-14)
    # smoothing spreads target mass onto the masked class: inf loss, finite gradient
    loss, grad = impl.cross_entropy_and_grad(z, np.array([0]), label_smoothing=0.1)
    u = 0.9 * np.array([1, 0, 0]) + 0.1 / 3
    assert loss == inf
    np.testing.assert_allclose(grad, [u.sum() * p - u], rtol=1e-14)
    # 0 * log 0 at a masked class with zero weight or target: nan, as torch
    loss, grad = impl.cross_entropy_and_grad(
        z, np.array([0]), label_smoothing=0.1, weight=[1.0, 0.0, 1.0]
    )
    assert np.isnan(loss) and np.isfinite(grad).all()
    loss, grad = impl.cross_entropy_and_grad(z, np.array([[0.5, 0.0, 0.5]]))
    assert np.isnan(loss)
    np.testing.assert_allclose(grad, [p - [0.5, 0, 0.5]], rtol=1e-14)
    # a masked target of zero weight: nan loss, zero gradient
    loss, grad = impl.cross_entropy_and_grad(
        z, np.array([1]), weight=[1.0, 0.0, 1.0], reduction="none"
    )
    assert np.isnan(loss).all()
    np.testing.assert_array_equal(grad, 0.0)
    # an ignored row counts nowhere, even with its target's logit masked
    loss, grad = impl.cross_entropy_and_grad(
        np.array([[0.0, -inf, 1.0], [1.0, 2.0, 3.0]]), np.array([1, 0]), ignore_index=1
    )
    assert np.isfinite(loss) and np.isfinite(grad).all()
    np.testing.assert_array_equal(grad[0], 0.0)


@BOTH
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_plus_inf_logits_are_rejected(impl, bad):
    z = np.zeros((3000, 40))  # several blocks: the bad value sits in a later one
    z[2500, 7] = bad
    y = np.zeros(3000, dtype=int)
    for kwargs in [{}, {"label_smoothing": 0.1}, {"weight": np.ones(40)}]:
        with raises_naming(ValueError, "logits"):
            impl.cross_entropy_and_grad(z, y, **kwargs)
        with raises_naming(ValueError, "logits"):
            impl.cross_entropy(z, y, **kwargs)
    with raises_naming(ValueError, "logits"):
        impl.cross_entropy(z, np.full(z.shape, 1 / 40))


@BOTH
def test_a_sample_with_every_logit_masked_is_rejected(impl):
    z = np.array([[0.0, 1.0], [-np.inf, -np.inf]])
    with raises_naming(ValueError, "logits"):
        impl.cross_entropy_and_grad(z, np.array([0, -100]))  # even if ignored (torch: nan)


# --------------------------------------------------------------------------- zero weight sum


@BOTH
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_zero_weight_sum_mean_is_nan_as_torch(impl, smoothing):
    """weight 0 on every target: 'mean' has nothing to average. torch 2.13 returns nan for
    the loss and for every non-ignored row of the gradient (ignored rows: 0)."""
    z = np.array([[0.0, 1.0, 1.0], [1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    y = np.array([0, 0, -100])
    loss, grad = impl.cross_entropy_and_grad(
        z, y, weight=[0.0, 1.0, 1.0], label_smoothing=smoothing
    )
    assert np.isnan(loss)
    assert np.isnan(grad[:2]).all()
    np.testing.assert_array_equal(grad[2], 0.0)
    assert np.isnan(impl.cross_entropy(z, y, weight=[0.0, 1.0, 1.0], label_smoothing=smoothing))


# --------------------------------------------------------------------------- float32 precision


@BOTH
def test_float32_gradient_near_exp_overflow(impl):
    """exp(88) is close to the float32 maximum: the gradient must not lose bits (issue 10)."""
    z = np.array([[88.0, 88.0]], np.float32)
    grad = impl.cross_entropy_grad(z, np.array([0]), weight=np.full(2, 1e-7, np.float32),
                                   reduction="sum")  # fmt: skip
    np.testing.assert_allclose(grad, [[-5e-8, 5e-8]], rtol=1e-6)
    rng = np.random.default_rng(1)
    z = (80 + rng.normal(size=(256, 10))).astype(np.float32)
    y = rng.integers(0, 10, size=256)
    grad = impl.cross_entropy_grad(z, y)
    exact = reference_grad_closed_form(z.astype(np.float64), y)
    # torch 2.13: ~2e-7 relative to the largest entry
    assert np.abs(grad - exact).max() <= 1e-6 * np.abs(exact).max()


@BOTH
def test_float32_small_gradient_entries_near_exp_underflow(impl):
    """Logits far below the row max give tiny but normal probabilities; torch keeps them."""
    z = np.array([[-30.0, -100.0, -31.0], [-20.0, -95.0, -120.0]], np.float32)
    y = np.array([0, 0])
    grad = impl.cross_entropy_grad(z, y, reduction="sum")
    exact = reference_grad_closed_form(z.astype(np.float64), y, reduction="sum")
    assert exact[0, 1] > np.finfo(np.float32).tiny  # e^-70: a normal float32
    # relative accuracy where float32 is normal, one subnormal step below that
    np.testing.assert_allclose(grad, exact, rtol=2e-5, atol=np.finfo(np.float32).smallest_subnormal)


def reference_grad_closed_form(z, y, reduction="mean"):
    """(p - onehot(y)) / N (or without / N for 'sum'), in float64."""
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    g = p - xent.one_hot(y, z.shape[1])
    return g / len(y) if reduction == "mean" else g


# --------------------------------------------------------------------------- the fused kernel


def test_thread_setting_is_public_and_validated():
    default = xent.fused.get_num_threads()
    assert 1 <= default <= 2
    for bad, exc in [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)]:
        with raises_naming(exc, "num_threads"):
            xent.fused.set_num_threads(bad)
    assert xent.fused.get_num_threads() == default


@pytest.fixture
def num_threads():
    """Set the fused kernel's thread count for one test, restoring it afterwards."""
    before = xent.fused.get_num_threads()
    yield xent.fused.set_num_threads
    xent.fused.set_num_threads(before)


@pytest.mark.parametrize("kind", ["plain", "options", "probabilities"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_threads_and_blocks_agree_with_reference(num_threads, rng, kind, dtype):
    """Large enough for several row blocks shared between threads (also on one CPU: the
    threads then take turns). Any thread count gives the reference's numbers."""
    n, c = 3000, 250
    z = rng.normal(scale=3.0, size=(n, c)).astype(dtype)
    z[n // 2 :] += 90  # later blocks need the max-subtraction, earlier ones do not
    target = rng.integers(0, c, size=n)
    kwargs = {}
    if kind == "options":
        target[::7] = -100
        kwargs = dict(weight=rng.uniform(0.5, 2.0, size=c), label_smoothing=0.1)
    elif kind == "probabilities":
        target = rng.dirichlet(np.ones(c), size=n).astype(dtype)
    ref_loss, ref_grad = xent.cross_entropy_and_grad(z.astype(np.float64), target, **kwargs)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for threads in [1, 2, 3]:
        num_threads(threads)
        loss, grad = xent.fused.cross_entropy_and_grad(z, target, **kwargs)
        per_row = xent.fused.cross_entropy(z, target, reduction="none", **kwargs)
        assert loss.dtype == grad.dtype == per_row.dtype == dtype
        np.testing.assert_allclose(loss, ref_loss, rtol=tol)
        np.testing.assert_allclose(grad, ref_grad, rtol=0, atol=tol * np.abs(ref_grad).max())
        np.testing.assert_allclose(
            per_row, xent.cross_entropy(z.astype(np.float64), target, reduction="none", **kwargs),
            rtol=tol * 10,
        )  # fmt: skip


def test_fused_uses_its_helper_threads(num_threads):
    import threading

    num_threads(2)
    z = np.zeros((20000, 50))
    xent.fused.cross_entropy_and_grad(z, np.zeros(20000, dtype=int))
    assert any(t.name.startswith("xent") for t in threading.enumerate())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [0.0, 85.0, -90.0, 1e4, -1e4, 750.0, -750.0])
def test_fused_at_any_offset(rng, dtype, offset):
    """Logits near 0 skip the max-subtraction, shifted ones need it; block by block, both
    give the reference's accuracy (softmax is shift-invariant)."""
    n, c = 6000, 50  # several blocks
    z = rng.normal(scale=3.0, size=(n, c))
    z[n // 2 :] += offset
    z[7] += offset  # and one row of the first block
    z = z.astype(dtype)
    y = rng.integers(0, c, size=n)
    loss, grad = xent.fused.cross_entropy_and_grad(z, y, reduction="none")
    z64 = z.astype(np.float64)
    expected = xent.cross_entropy(z64, y, reduction="none")
    exact_grad = reference_grad_closed_form(z64, y, reduction="sum")
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(loss - expected) <= 8 * eps * (1 + expected))
    assert np.abs(grad - exact_grad).max() <= 8 * eps


# --------------------------------------------------------------------------- out= (fused)


@given(
    problem=problems(),
    dtype=st.sampled_from([np.float32, np.float64]),
    rows=st.sampled_from([1, 1, 9000]),
    offset=st.sampled_from([0.0, 0.0, 90.0]),
)
def test_fused_out_and_in_place_equal_a_new_array(problem, dtype, rows, offset):
    """``out=`` a separate array and ``out=logits`` (the gradient written over the logits)
    give exactly the numbers of a new gradient array, over every option; ``rows`` > 1 spans
    several blocks and threads, ``offset`` makes the later blocks need the max-subtraction
    (the shift-free pass must restart from the logits, which in place are still intact)."""
    z, target, kwargs = problem
    if z.ndim > 2:
        with raises_naming(ValueError, "out"):
            xent.fused.cross_entropy_and_grad(z, target, out=np.empty_like(z), **kwargs)
        return
    if rows > 1 and z.ndim == 2:
        z = np.concatenate([z] * rows)
        target = np.concatenate([target] * rows)
        z[len(z) // 2 :] += offset
    z = z.astype(dtype)
    if np.issubdtype(target.dtype, np.floating):
        target = target.astype(dtype)
    if "weight" in kwargs:
        kwargs["weight"] = kwargs["weight"].astype(dtype)
    loss, grad = xent.fused.cross_entropy_and_grad(z, target, **kwargs)
    out = np.full_like(z, 7.0)
    loss_out, grad_out = xent.fused.cross_entropy_and_grad(z, target, out=out, **kwargs)
    assert grad_out is out
    z_in_place = z.copy()
    loss_in, grad_in = xent.fused.cross_entropy_and_grad(
        z_in_place, target, out=z_in_place, **kwargs
    )
    assert grad_in is z_in_place
    for got_loss, got_grad in ((loss_out, grad_out), (loss_in, grad_in)):
        np.testing.assert_array_equal(got_loss, loss)
        np.testing.assert_array_equal(got_grad, grad)


def test_fused_in_place_bad_logits_still_named():
    z = np.zeros((5000, 40))
    z[4321, 3] = np.nan
    with raises_naming(ValueError, "logits"):
        xent.fused.cross_entropy_and_grad(z, np.zeros(5000, int), out=z)


@pytest.mark.parametrize(
    "make_out",
    [
        lambda z: z.tolist(),  # not an array
        lambda z: np.empty((4, 5)),  # wrong shape
        lambda z: np.empty((3, 4), np.float32),  # wrong dtype
        lambda z: np.empty((4, 3)).T,  # not C-contiguous
        lambda z: np.broadcast_to(np.empty(4), (3, 4)),  # not writeable
        lambda z: np.empty((4, 5))[:, :4],  # not C-contiguous
    ],
)
def test_fused_bad_out_names_out(make_out):
    z = np.zeros((3, 4))
    exc = TypeError if isinstance(make_out(z), list) else ValueError
    with raises_naming(exc, "out"):
        xent.fused.cross_entropy_and_grad(z, np.zeros(3, int), out=make_out(z))


def test_fused_out_overlapping_the_logits_is_rejected():
    buf = np.zeros(20)
    z = buf[:12].reshape(3, 4)
    with raises_naming(ValueError, "out"):
        xent.fused.cross_entropy_and_grad(z, np.zeros(3, int), out=buf[4:16].reshape(3, 4))


@pytest.mark.parametrize("kind", ["plain", "options", "probabilities"])
@pytest.mark.parametrize("threads", [1, 2])
def test_fused_in_place_over_blocks_and_threads(num_threads, rng, kind, threads):
    """Many row blocks (6 MiB of logits), shared between threads, half of them needing the
    max-subtraction: in place gives exactly the numbers of a new gradient array."""
    num_threads(threads)
    n, c = 3000, 250
    z = rng.normal(scale=3.0, size=(n, c))
    z[n // 2 :] += 90
    target = rng.integers(0, c, size=n)
    kwargs = {}
    if kind == "options":
        target[::7] = -100
        kwargs = dict(weight=rng.uniform(0.5, 2.0, size=c), label_smoothing=0.1)
    elif kind == "probabilities":
        target = rng.dirichlet(np.ones(c), size=n)
    loss, grad = xent.fused.cross_entropy_and_grad(z, target, **kwargs)
    loss_in, grad_in = xent.fused.cross_entropy_and_grad(z, target, out=z, **kwargs)
    assert grad_in is z
    np.testing.assert_array_equal(loss_in, loss)
    np.testing.assert_array_equal(grad_in, grad)
