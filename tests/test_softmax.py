"""xent.softmax, log_softmax, logsumexp, softmax_jacobian and softmax_backward."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import xent
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st

# softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6: an exact hand-computed reference
Z_123 = np.log([1.0, 2.0, 3.0])
P_123 = np.array([1.0, 2.0, 3.0]) / 6


def logits(dtype=np.float64, bound=1e4, min_dims=1, max_dims=3):
    """Hypothesis strategy: finite logit arrays with entries in [-bound, bound]."""
    width = 32 if dtype == np.float32 else 64
    return hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=6),
        elements=st.floats(-bound, bound, width=width),
    )


# --------------------------------------------------------------------------- softmax


def test_softmax_hand_computed():
    np.testing.assert_allclose(xent.softmax(Z_123), P_123, rtol=1e-15)
    np.testing.assert_allclose(xent.softmax(Z_123 + 1000.0), P_123, rtol=1e-13)


def test_softmax_two_classes_is_the_logistic_sigmoid():
    z = np.array([[2.0, 0.0], [-1.0, 0.5]])
    sigmoid = 1 / (1 + np.exp(-(z[:, 0] - z[:, 1])))
    np.testing.assert_allclose(xent.softmax(z)[:, 0], sigmoid, rtol=1e-14)


def test_softmax_temperature():
    z = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(xent.softmax(z, temperature=2.0), xent.softmax(z / 2), rtol=1e-15)
    # hot: close to uniform; cold: close to one-hot at the argmax
    np.testing.assert_allclose(xent.softmax(z, temperature=1e6), np.full(3, 1 / 3), atol=1e-5)
    np.testing.assert_allclose(xent.softmax(z, temperature=1e-3), [0, 0, 1], atol=1e-12)


def test_softmax_axis():
    z = np.arange(12.0).reshape(3, 4) / 5
    np.testing.assert_allclose(xent.softmax(z, axis=0), xent.softmax(z.T).T, rtol=1e-15)
    np.testing.assert_allclose(xent.softmax(z, axis=-2), xent.softmax(z, axis=0), rtol=0)
    np.testing.assert_allclose(xent.softmax(z, axis=0).sum(axis=0), np.ones(4), rtol=1e-15)


@pytest.mark.parametrize("func", [xent.softmax, xent.log_softmax, xent.logsumexp])
@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)],
)
def test_dtype_is_preserved(func, dtype, expected):
    assert func(np.array([1, 2, 3], dtype=dtype)).dtype == expected


def test_does_not_modify_input():
    z = np.array([3.0, 1.0, 2.0])
    before = z.copy()
    xent.softmax(z, temperature=3.0)
    xent.log_softmax(z)
    xent.logsumexp(z)
    np.testing.assert_array_equal(z, before)


def test_neg_inf_entries_act_as_a_mask():
    z = np.array([0.0, -np.inf, math.log(3.0)])
    np.testing.assert_allclose(xent.softmax(z), [0.25, 0.0, 0.75], rtol=1e-15)
    assert xent.log_softmax(z)[1] == -np.inf
    np.testing.assert_allclose(xent.logsumexp(z), math.log(4.0), rtol=1e-15)


# --------------------------------------------------------------------------- extreme logits


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_exact(dtype):
    z = np.array([1e4, -1e4, 0.0], dtype=dtype)
    np.testing.assert_array_equal(xent.softmax(z), np.array([1.0, 0.0, 0.0], dtype=dtype))
    np.testing.assert_array_equal(xent.log_softmax(z), np.array([0.0, -2e4, -1e4], dtype=dtype))
    assert xent.logsumexp(z) == dtype(1e4)
    both = np.array([1e4, 1e4], dtype=dtype)
    np.testing.assert_allclose(xent.logsumexp(both), 1e4 + math.log(2), rtol=1e-7)
    np.testing.assert_array_equal(xent.softmax(both), np.array([0.5, 0.5], dtype=dtype))
    neg = np.array([-1e4, -1e4 + math.log(3)], dtype=dtype)
    np.testing.assert_allclose(xent.softmax(neg), [0.25, 0.75], rtol=1e-3)


@given(z=st.one_of(logits(np.float32), logits(np.float64)))
def test_extreme_logits_are_finite(z):
    p = xent.softmax(z)
    lp = xent.log_softmax(z)
    lse = xent.logsumexp(z)
    for out in (p, lp, lse):
        assert np.isfinite(out).all()
        assert out.dtype == z.dtype
    assert (p >= 0).all() and (p <= 1).all()
    assert (lp <= 0).all()
    # logsumexp lies in [max, max + log K]
    k = z.shape[-1]
    m = z.max(axis=-1)
    slack = 1e-6 * np.maximum(1.0, np.abs(m))
    assert (lse >= m - slack).all() and (lse <= m + math.log(k) + slack).all()


# --------------------------------------------------------------------------- properties


@given(z=logits(bound=50.0), axis=st.integers(-1, 0))
def test_softmax_sums_to_one(z, axis):
    np.testing.assert_allclose(xent.softmax(z, axis=axis).sum(axis=axis), 1.0, rtol=1e-12)


@given(z=logits(bound=50.0), shift=st.floats(-100, 100))
def test_softmax_is_shift_invariant(z, shift):
    np.testing.assert_allclose(xent.softmax(z + shift), xent.softmax(z), rtol=1e-9, atol=1e-15)


@given(z=logits(bound=50.0))
def test_log_softmax_is_log_of_softmax(z):
    p = xent.softmax(z)
    finite = p > 1e-300  # where log(softmax) itself does not underflow
    expected = np.log(p[finite])
    np.testing.assert_allclose(xent.log_softmax(z)[finite], expected, rtol=1e-9, atol=1e-12)


@given(z=logits(bound=50.0))
def test_logsumexp_identities(z):
    lse = xent.logsumexp(z, keepdims=True)
    np.testing.assert_allclose(xent.log_softmax(z), z - lse, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.squeeze(lse, -1), xent.logsumexp(z), rtol=0)


def test_logsumexp_hand_computed_and_keepdims():
    np.testing.assert_allclose(xent.logsumexp(Z_123), math.log(6.0), rtol=1e-15)
    z = np.stack([Z_123, Z_123 + 1.0])
    np.testing.assert_allclose(xent.logsumexp(z), [math.log(6), math.log(6) + 1], rtol=1e-15)
    assert xent.logsumexp(z, keepdims=True).shape == (2, 1)
    assert xent.logsumexp(z, axis=0).shape == (3,)
    np.testing.assert_allclose(xent.log_softmax(Z_123), np.log(P_123), rtol=1e-14)


# --------------------------------------------------------------------------- Jacobian


def test_jacobian_hand_computed():
    p = np.array([0.2, 0.3, 0.5])
    expected = np.array(
        [
            [0.2 - 0.04, -0.06, -0.10],
            [-0.06, 0.3 - 0.09, -0.15],
            [-0.10, -0.15, 0.5 - 0.25],
        ]
    )
    np.testing.assert_allclose(xent.softmax_jacobian(p), expected, rtol=1e-14, atol=1e-16)


def test_jacobian_matches_finite_differences(rng):
    z = rng.normal(size=4)
    p = xent.softmax(z)
    numeric = np.stack(
        [xent.numerical_gradient(lambda v, i=i: xent.softmax(v)[i], z) for i in range(4)]
    )  # row i = gradient of p_i = dp_i/dz
    np.testing.assert_allclose(xent.softmax_jacobian(p), numeric, atol=1e-9)


def test_jacobian_batched_properties(rng):
    p = xent.softmax(rng.normal(size=(2, 3, 5)))
    jac = xent.softmax_jacobian(p)
    assert jac.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(jac, np.swapaxes(jac, -1, -2), rtol=0)  # symmetric
    np.testing.assert_allclose(jac.sum(axis=-1), 0.0, atol=1e-15)  # rows sum to 0
    np.testing.assert_allclose(xent.softmax_jacobian(p[1, 2]), jac[1, 2], rtol=0)
    assert xent.softmax_jacobian(p.astype(np.float32)).dtype == np.float32


# --------------------------------------------------------------------------- backward


def test_softmax_backward_hand_computed():
    p = np.array([0.2, 0.3, 0.5])
    g = np.array([1.0, 0.0, -1.0])
    # <g, p> = 0.2 - 0.5 = -0.3, so p * (g + 0.3)
    np.testing.assert_allclose(
        xent.softmax_backward(p, g), [0.2 * 1.3, 0.3 * 0.3, 0.5 * -0.7], rtol=1e-14
    )


def test_softmax_backward_equals_jacobian_product(rng):
    p = xent.softmax(rng.normal(size=(4, 6)))
    g = rng.normal(size=(4, 6))
    via_jacobian = np.einsum("nij,ni->nj", xent.softmax_jacobian(p), g)
    np.testing.assert_allclose(xent.softmax_backward(p, g), via_jacobian, rtol=1e-12, atol=1e-15)


@given(
    z=hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-5, 5)),
    seed=st.integers(0, 2**16),
)
def test_softmax_backward_matches_numerical_gradient(z, seed):
    g = np.random.default_rng(seed).normal(size=z.shape)
    analytic = xent.softmax_backward(xent.softmax(z), g)
    numeric = xent.numerical_gradient(lambda v: float(g @ xent.softmax(v)), z)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


# ----------------------------------------------------------------------------- issue 10


@pytest.mark.parametrize(
    "temperature", [1e-30, 3e-39, 1e-45, 1e-46, 1e-300, 5e-324, 1e30, 1e39, 1e300]
)
def test_float32_temperature_outside_float32_range(temperature):
    """Issue 10, defect 4: a T that rounds to 0 (or to a subnormal, or overflows) in float32.

    It used to give nan (0/0 at the maximum). The result must be float32 and equal the float64
    computation on the same float32 numbers, rounded to float32; the tiny temperatures give
    the one-hot limit (ties share it), the huge ones the uniform limit.
    """
    z = np.array([[1.0, 3.0, 3.0, -2.0], [0.0, 1e-38, -1e-38, 5e-39]], dtype=np.float32)
    got = xent.softmax(z, temperature=temperature)
    want = xent.softmax(z.astype(np.float64), temperature=temperature)
    assert got.dtype == np.float32
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=2e-7, atol=1e-45)
    if temperature <= 1e-45:
        np.testing.assert_array_equal(got[0], [0.0, 0.5, 0.5, 0.0])
        np.testing.assert_array_equal(got[1], [0.0, 1.0, 0.0, 0.0])
    if temperature >= 1e39:
        np.testing.assert_allclose(got, 0.25, rtol=1e-6)


def test_float32_temperature_at_the_edge_of_the_normal_range():
    """A T just inside float32's normal range keeps the float32 path and is still right."""
    z = np.array([0.0, 2e-38, -2e-38], dtype=np.float32)
    t = float(np.finfo(np.float32).tiny) * 4  # 4.7e-38: z / T is about 0.42
    want = xent.softmax(z.astype(np.float64) / t)
    np.testing.assert_allclose(xent.softmax(z, temperature=t), want, rtol=1e-6)


def test_float16_dtype_policy():
    """float16 inputs are computed and returned in float64 (documented in xent.softmax)."""
    z16 = np.array([1.0, 2.0, 3.0], dtype=np.float16)
    for func in (xent.softmax, xent.log_softmax, xent.logsumexp):
        assert func(z16).dtype == np.float64
        np.testing.assert_array_equal(func(z16), func(z16.astype(np.float64)))


def test_float16_probabilities_use_float16_tolerance():
    """Issue 10, defect 7: a float16 softmax output does not sum to 1 within 1e-6.

    Its sum is checked at float16's tolerance (sqrt(eps) = 0.031); the result is float64.
    """
    p16 = np.array([0.1316, 0.2686, 0.2214, 0.3782], dtype=np.float16)
    assert abs(float(p16.astype(np.float64).sum()) - 1.0) > 1e-6  # 0.99976: off by 2.4e-4
    jac = xent.softmax_jacobian(p16)
    assert jac.dtype == np.float64
    p = p16.astype(np.float64)
    np.testing.assert_allclose(jac, np.diag(p) - np.outer(p, p), rtol=1e-15, atol=1e-17)
    g = np.array([1.0, 0.0, -1.0, 0.5])
    assert xent.softmax_backward(p16, g).dtype == np.float64
    # still rejected when float16 cannot explain the error
    with raises_naming(ValueError, "p"):
        xent.softmax_jacobian(np.array([0.5, 0.55], dtype=np.float16))
    # and float64 keeps its tight tolerance for the very same numbers
    with raises_naming(ValueError, "p"):
        xent.softmax_jacobian(p16.astype(np.float64))
