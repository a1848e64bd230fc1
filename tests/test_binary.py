"""xent.sigmoid and xent.binary_cross_entropy_with_logits (+ _grad, _and_grad).

References:
* hand-computed values;
* ``reference_bce`` below, the textbook formula in float64 (safe for moderate logits only), and
  ``exact_bce``, one element at a time with ``math.log1p``, for any logit;
* PyTorch: recorded in tests/data/torch_reference_bce.json (always checked) and, when torch is
  importable, live;
* gradients against ``xent.numerical_gradient``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import xent
from helpers import raises_naming

REFERENCE_JSON = Path(__file__).parent / "data" / "torch_reference_bce.json"
BCE = xent.binary_cross_entropy_with_logits


def reference_bce(x, t, weight=None, pos_weight=None):
    """The textbook Bernoulli NLL, elementwise, for moderate logits only (float64)."""
    x, t = np.asarray(x, float), np.asarray(t, float)
    s = 1.0 / (1.0 + np.exp(-x))
    rho = 1.0 if pos_weight is None else np.asarray(pos_weight, float)
    w = 1.0 if weight is None else np.asarray(weight, float)
    return -w * (rho * t * np.log(s) + (1 - t) * np.log(1 - s))


def exact_softplus(v: float) -> float:
    """log(1 + e^v) for any float, one element at a time with math (independent of xent)."""
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def exact_bce(x: float, t: float, rho: float = 1.0) -> float:
    return rho * t * exact_softplus(-x) + (1 - t) * exact_softplus(x)


# --------------------------------------------------------------------------- sigmoid


def test_sigmoid_hand_values():
    out = xent.sigmoid(np.array([0.0, math.log(3.0), -math.log(3.0)]))
    np.testing.assert_allclose(out, [0.5, 0.75, 0.25], rtol=1e-15)


def test_sigmoid_is_two_class_softmax(rng):
    z = rng.normal(scale=5, size=50)
    two = xent.softmax(np.stack([z, np.zeros_like(z)], axis=1), axis=1)[:, 0]
    np.testing.assert_allclose(xent.sigmoid(z), two, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_extreme_inputs_no_overflow(dtype):
    info = np.finfo(dtype)
    x = np.array([-info.max, -1e4, -100, -1, 0, 1, 100, 1e4, info.max, -np.inf, np.inf], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow is fine
        s = xent.sigmoid(x)
    assert s.dtype == dtype
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_array_equal(s[[0, 1, 9]], 0)
    np.testing.assert_array_equal(s[[7, 8, 10]], 1)
    assert s[4] == 0.5
    # in the far negative tail sigma(x) = e^x to full relative precision, not 0
    assert xent.sigmoid(np.float64(-700.0)) == pytest.approx(math.exp(-700.0), rel=1e-14)


def test_sigmoid_symmetry(rng):
    z = rng.normal(scale=20, size=200)
    np.testing.assert_allclose(xent.sigmoid(z) + xent.sigmoid(-z), 1.0, rtol=1e-15)


def test_sigmoid_types_and_bad_input():
    assert xent.sigmoid(np.array([1, 2])).dtype == np.float64  # integers -> float64
    assert isinstance(xent.sigmoid(0.0), np.floating)
    with raises_naming(ValueError, "z"):
        xent.sigmoid(np.array([0.0, np.nan]))
    with raises_naming(TypeError, "z"):
        xent.sigmoid(np.array(["a"]))


# --------------------------------------------------------------------------- loss: hand values


def test_bce_hand_values():
    # x = 0: sigma = 1/2, loss = log 2 whatever the target
    assert BCE(np.array([0.0]), np.array([1.0])) == pytest.approx(math.log(2), rel=1e-15)
    assert BCE(np.array([0.0]), np.array([0.3])) == pytest.approx(math.log(2), rel=1e-15)
    # x = log 3: sigma = 3/4; t = 1 -> -log(3/4); t = 0 -> -log(1/4)
    x = np.array([math.log(3), math.log(3)])
    t = np.array([1.0, 0.0])
    np.testing.assert_allclose(BCE(x, t, reduction="none"), [math.log(4 / 3), math.log(4)],
                               rtol=1e-15)
    assert BCE(x, t) == pytest.approx((math.log(4 / 3) + math.log(4)) / 2, rel=1e-15)
    assert BCE(x, t, reduction="sum") == pytest.approx(math.log(4 / 3) + math.log(4), rel=1e-15)
    # pos_weight 2 doubles the positive term only; weight scales everything
    np.testing.assert_allclose(BCE(x, t, pos_weight=np.array([2.0, 2.0]), reduction="none"),
                               [2 * math.log(4 / 3), math.log(4)], rtol=1e-15)
    np.testing.assert_allclose(BCE(x, t, weight=np.array([0.5, 3.0]), reduction="none"),
                               [0.5 * math.log(4 / 3), 3 * math.log(4)], rtol=1e-15)


def test_bce_matches_textbook_formula(rng):
    x = rng.normal(scale=3, size=(6, 4))
    t = rng.random((6, 4))
    w = rng.random((6, 1)) + 0.1
    rho = rng.random(4) * 3
    got = BCE(x, t, weight=w, pos_weight=rho, reduction="none")
    np.testing.assert_allclose(got, reference_bce(x, t, w, rho), rtol=1e-12)
    assert got.shape == x.shape


def test_bce_multilabel_equals_sum_of_binary_problems(rng):
    """C labels = C independent two-class softmax problems on logits (x, 0)."""
    x = rng.normal(scale=2, size=(5, 3))
    y = (rng.random((5, 3)) < 0.5).astype(float)
    two = np.stack([x, np.zeros_like(x)], axis=-1).reshape(-1, 2)
    ce = xent.cross_entropy(two, (1 - y).astype(int).reshape(-1), reduction="none")
    np.testing.assert_allclose(BCE(x, y, reduction="none").reshape(-1), ce, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_extreme_logits_exact(dtype):
    """Logits up to +-1e4: no overflow, no warning, and every loss exact in relative terms."""
    x = np.array([-1e4, -1e3, -100, -30, -20, -5, 0, 5, 20, 30, 100, 1e3, 1e4], dtype)
    for t_value in (0.0, 1.0, 0.3):
        t = np.full(x.shape, t_value, dtype)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            got = BCE(x, t, reduction="none")
        assert got.dtype == dtype and np.all(np.isfinite(got))
        want = [exact_bce(float(a), float(b)) for a, b in zip(x, t, strict=True)]
        tol = 1e-6 if dtype == np.float32 else 1e-14
        # below the smallest normal float (1.2e-38 in float32) precision is gradually lost
        np.testing.assert_allclose(got, want, rtol=tol, atol=np.finfo(dtype).tiny)


def test_bce_tiny_losses_are_not_rounded_away():
    """x = -30, t = 0: the loss is log(1 + e^-30) = 9.4e-14. The form
    (1-t) x + sp(-x) = -30 + (30 + 9.4e-14) would round it to 0 or a multiple of 3.6e-15."""
    got = BCE(np.array([-30.0]), np.array([0.0]))
    assert got == pytest.approx(math.log1p(math.exp(-30)), rel=1e-14)


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradient_matches_numerical(rng, reduction):
    x = rng.normal(scale=2, size=(3, 4))
    t = rng.random((3, 4))
    w = rng.random(4) + 0.2
    rho = rng.random(4) * 3 + 0.1

    def f(v):
        return np.sum(BCE(v, t, weight=w, pos_weight=rho, reduction=reduction))

    g = xent.binary_cross_entropy_with_logits_grad(x, t, weight=w, pos_weight=rho,
                                                   reduction=reduction)
    np.testing.assert_allclose(g, xent.numerical_gradient(f, x), rtol=1e-7, atol=1e-10)


def test_gradient_plain_is_sigmoid_minus_target(rng):
    x = rng.normal(scale=4, size=(5, 2))
    t = rng.random((5, 2))
    g = xent.binary_cross_entropy_with_logits_grad(x, t, reduction="sum")
    np.testing.assert_allclose(g, xent.sigmoid(x) - t, rtol=1e-14, atol=1e-16)
    g_mean = xent.binary_cross_entropy_with_logits_grad(x, t)
    np.testing.assert_allclose(g_mean, (xent.sigmoid(x) - t) / x.size, rtol=1e-14, atol=1e-17)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_and_grad_agrees_with_separate_calls(rng, dtype):
    x = (rng.normal(scale=3, size=(4, 3)) * 1000).astype(dtype)  # many saturated logits
    t = rng.random((4, 3)).astype(dtype)
    loss, grad = xent.binary_cross_entropy_with_logits_and_grad(x, t, pos_weight=[1.0, 2, 3])
    assert loss == BCE(x, t, pos_weight=[1.0, 2, 3])
    assert grad.dtype == dtype and grad.shape == x.shape and np.all(np.isfinite(grad))
    np.testing.assert_array_equal(
        grad, xent.binary_cross_entropy_with_logits_grad(x, t, pos_weight=[1.0, 2, 3]))


def test_saturated_gradients_are_exact():
    """sigma(-x) for large x is e^-x, not 1 - 1 = 0: a confident right answer still has a
    (tiny) gradient of the right size."""
    g = xent.binary_cross_entropy_with_logits_grad(np.array([40.0]), np.array([1.0]),
                                                   reduction="sum")
    assert g[0] == pytest.approx(-math.exp(-40.0), rel=1e-14)


# --------------------------------------------------------------------------- shapes, reductions


def test_shapes_dtypes_and_reductions(rng):
    x32 = rng.normal(size=(2, 3)).astype(np.float32)
    t32 = rng.random((2, 3)).astype(np.float32)
    assert BCE(x32, t32).dtype == np.float32
    assert BCE(x32, t32, reduction="none").dtype == np.float32
    assert BCE(np.float64(0.5), np.float64(1.0)) == pytest.approx(exact_bce(0.5, 1.0))
    # weight broadcast as torch: (C,), (N, 1), full shape; pos_weight (C,) and scalar
    full = BCE(x32, t32, weight=np.ones((2, 3)), reduction="none")
    np.testing.assert_array_equal(full, BCE(x32, t32, weight=np.ones(3), reduction="none"))
    np.testing.assert_array_equal(full, BCE(x32, t32, weight=np.ones((2, 1)), reduction="none"))
    np.testing.assert_array_equal(BCE(x32, t32, pos_weight=2.0, reduction="none"),
                                  BCE(x32, t32, pos_weight=[2.0] * 3, reduction="none"))


def test_empty_input():
    empty = np.zeros((0, 3))
    assert np.isnan(BCE(empty, empty))  # mean of nothing, as torch
    assert BCE(empty, empty, reduction="sum") == 0
    assert BCE(empty, empty, reduction="none").shape == (0, 3)


def test_inputs_not_modified(rng):
    x = rng.normal(size=(3, 2))
    t = rng.random((3, 2))
    x0, t0 = x.copy(), t.copy()
    xent.binary_cross_entropy_with_logits_and_grad(x, t, weight=np.ones(2), pos_weight=[2, 3])
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "kwargs, exc, argument",
    [
        ({"target": np.array([[0.5, 1.2]])}, ValueError, "target"),
        ({"target": np.array([[-0.1, 0.2]])}, ValueError, "target"),
        ({"target": np.array([[np.nan, 0.2]])}, ValueError, "target"),
        ({"target": np.array([[0.5, 0.5, 0.5]])}, ValueError, "target"),
        ({"target": np.array([[1, 0]])}, TypeError, "target"),
        ({"target": np.array([[True, False]])}, TypeError, "target"),
        ({"logits": np.array([[np.nan, 0.0]])}, ValueError, "logits"),
        ({"logits": np.array([[np.inf, 0.0]])}, ValueError, "logits"),
        ({"logits": np.array([["a", "b"]])}, TypeError, "logits"),
        ({"weight": np.array([-1.0, 1.0])}, ValueError, "weight"),
        ({"weight": np.array([1.0, 1.0, 1.0])}, ValueError, "weight"),
        ({"weight": np.ones((3, 2))}, ValueError, "weight"),
        ({"weight": np.array([np.nan, 1.0])}, ValueError, "weight"),
        ({"pos_weight": np.array([-2.0, 1.0])}, ValueError, "pos_weight"),
        ({"pos_weight": np.array([1.0, 2.0, 3.0])}, ValueError, "pos_weight"),
        ({"pos_weight": np.array([np.inf, 1.0])}, ValueError, "pos_weight"),
        ({"reduction": "avg"}, ValueError, "reduction"),
        ({"reduction": None}, ValueError, "reduction"),
    ],
)
@pytest.mark.parametrize(
    "fn",
    [BCE, xent.binary_cross_entropy_with_logits_grad,
     xent.binary_cross_entropy_with_logits_and_grad],
)
def test_bad_input_names_the_argument(fn, kwargs, exc, argument):
    args = {"logits": np.array([[0.5, -1.0]]), "target": np.array([[1.0, 0.0]]), **kwargs}
    logits, target = args.pop("logits"), args.pop("target")
    with raises_naming(exc, argument):
        fn(logits, target, **args)


# --------------------------------------------------------------------------- PyTorch


def _reference_cases():
    doc = json.loads(REFERENCE_JSON.read_text())
    return doc["cases"], doc["sigmoid"]


def _check_case(case, loss, grad):
    """float64 cases to 1e-12; float32 to a few ulps, plus torch's own rounding: torch
    evaluates (1-t) x + sp(-x), which loses up to ~ulp(|x|) absolutely (see the module
    docstring of xent.binary), so the absolute tolerance scales with the largest |x|."""
    scale = max(1.0, float(np.max(np.abs(case["logits"]))))
    if case["dtype"] == "float64":
        rtol, atol = 1e-12, 1e-15 * scale
    else:
        rtol, atol = 2e-6, 2e-7 * scale
    np.testing.assert_allclose(np.asarray(loss, dtype=np.float64), case["loss"], rtol=rtol,
                               atol=atol * max(1, np.size(case["logits"])), err_msg=case["name"])
    np.testing.assert_allclose(grad, case["grad"], rtol=rtol, atol=atol, err_msg=case["name"])


def _call(case):
    dt = np.float32 if case["dtype"] == "float32" else np.float64

    def arr(key):
        return None if case[key] is None else np.asarray(case[key], dtype=dt)

    return xent.binary_cross_entropy_with_logits_and_grad(
        arr("logits"), arr("target"), weight=arr("weight"), pos_weight=arr("pos_weight"),
        reduction=case["reduction"])


def test_against_stored_torch_reference():
    cases, sigmoid_cases = _reference_cases()
    assert len(cases) > 100
    for case in cases:
        loss, grad = _call(case)
        _check_case(case, loss, grad)
    for case in sigmoid_cases:
        dt = np.float32 if case["dtype"] == "float32" else np.float64
        got = xent.sigmoid(np.asarray(case["x"], dtype=dt))
        # torch gives 0 where the true value is a subnormal float (e.g. sigma(-100) in float32)
        np.testing.assert_allclose(got, case["sigmoid"], rtol=4 * np.finfo(dt).eps,
                                   atol=np.finfo(dt).tiny)


def test_against_live_torch(rng):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    import torch.nn.functional as F

    for dtype in (np.float64, np.float32):
        x = (rng.normal(scale=8, size=(7, 5))).astype(dtype)
        x[0] = [-1e4, -90, 0, 90, 1e4]
        t = rng.random((7, 5)).astype(dtype)
        t[1] = [0, 1, 0, 1, 0.5]
        w = (rng.random((7, 1)) + 0.1).astype(dtype)
        rho = (rng.random(5) * 4).astype(dtype)
        for reduction in ("mean", "sum", "none"):
            z = torch.tensor(x, requires_grad=True)
            loss = F.binary_cross_entropy_with_logits(
                z, torch.tensor(t), weight=torch.tensor(w), pos_weight=torch.tensor(rho),
                reduction=reduction)
            loss.backward(torch.ones_like(loss))
            case = {"name": f"live-{dtype.__name__}-{reduction}", "logits": x.tolist(),
                    "dtype": np.dtype(dtype).name, "loss": loss.detach().double().numpy(),
                    "grad": z.grad.double().numpy()}
            ours = xent.binary_cross_entropy_with_logits_and_grad(
                x, t, weight=w, pos_weight=rho, reduction=reduction)
            _check_case(case, *ours)
        np.testing.assert_allclose(xent.sigmoid(x), torch.sigmoid(torch.tensor(x)).numpy(),
                                   rtol=4 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny)


# --------------------------------------------------------------------------- found by the matrix


@pytest.mark.parametrize(
    "fn",
    [BCE, xent.binary_cross_entropy_with_logits_grad,
     xent.binary_cross_entropy_with_logits_and_grad],
)
def test_ragged_or_object_target_names_target(fn):
    """A ragged nested list as target was NumPy's "inhomogeneous shape" error (issue 10)."""
    logits = np.zeros((2, 3))
    with raises_naming(ValueError, "target"):
        fn(logits, [[0.0, 1.0, 0.5], [0.0, 1.0]])
    with raises_naming(TypeError, "target"):
        fn(logits, np.array([[0.5, None, 0.0]] * 2, dtype=object))


@pytest.mark.parametrize("argument", ["weight", "pos_weight"])
def test_weight_with_too_many_axes_names_the_argument(argument):
    """A weight of 40 unit axes made NumPy raise RuntimeError ("up to 32 dimensions")."""
    with raises_naming(ValueError, argument):
        BCE(np.zeros((2, 3)), np.zeros((2, 3)), **{argument: np.ones((1,) * 40)})
    with raises_naming(ValueError, argument):  # broadcasts, but to more axes than the logits
        BCE(np.zeros((2, 3)), np.zeros((2, 3)), **{argument: np.ones((1, 1, 3))})
