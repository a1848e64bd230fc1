"""xent.info: entropy, cross-entropy and KL divergence of probability vectors."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import xent
from helpers import raises_naming
from hypothesis import given
from hypothesis import strategies as st
from xent import info


def _normalise(w: np.ndarray) -> np.ndarray:
    w = w.copy()
    w[..., 0] += 1e-3  # never an all-zero vector
    return w / w.sum(axis=-1, keepdims=True)


def distributions(shape):
    """Hypothesis strategy: probability vectors of ``shape`` with some exact zeros."""
    weights = st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.0])
    return hnp.arrays(np.float64, shape, elements=weights).map(_normalise)


batch_shapes = st.tuples(st.integers(1, 4), st.integers(1, 6))


def test_entropy_hand_computed():
    assert info.entropy([0.5, 0.5], base=2) == pytest.approx(1.0, rel=1e-15)
    assert info.entropy([0.25, 0.25, 0.5], base=2) == pytest.approx(1.5, rel=1e-15)
    assert info.entropy(np.full(8, 1 / 8)) == pytest.approx(math.log(8), rel=1e-15)
    assert info.entropy([1.0, 0.0, 0.0]) == 0.0  # 0 log 0 = 0
    # a certain outcome carries no surprise: +0.0, which prints as "0.0", never "-0.0"
    assert not np.signbit(info.entropy([1.0, 0.0, 0.0]))
    assert not np.signbit(info.cross_entropy([0.0, 1.0], [0.0, 1.0]))
    assert info.entropy([0.5, 0.5], base=10) == pytest.approx(math.log10(2), rel=1e-14)


def test_batched_shapes_and_dtype():
    p = np.array([[0.5, 0.5], [1.0, 0.0], [0.25, 0.75]])
    h = info.entropy(p, base=2)
    assert h.shape == (3,)
    np.testing.assert_allclose(h, [1.0, 0.0, -(0.25 * -2 + 0.75 * math.log2(0.75))], rtol=1e-14)
    assert info.cross_entropy(p, p).shape == (3,)
    assert info.kl_divergence(p, p).shape == (3,)
    assert info.entropy(p.astype(np.float32)).dtype == np.float32
    assert np.ndim(info.entropy([0.5, 0.5])) == 0


def test_cross_entropy_and_kl_hand_computed():
    p = [0.5, 0.5]
    q = [0.25, 0.75]
    expected_ce = -(0.5 * math.log(0.25) + 0.5 * math.log(0.75))
    assert info.cross_entropy(p, q) == pytest.approx(expected_ce, rel=1e-15)
    expected_kl = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert info.kl_divergence(p, q) == pytest.approx(expected_kl, rel=1e-14)
    assert info.kl_divergence([1.0, 0.0], [0.5, 0.5], base=2) == pytest.approx(1.0, rel=1e-15)
    assert info.cross_entropy([1.0, 0.0], [0.5, 0.5], base=2) == pytest.approx(1.0, rel=1e-15)


def test_zero_probability_conventions():
    # q_i = 0 where p_i > 0: the model calls a possible event impossible -> +inf
    with np.errstate(all="raise"):  # and no floating-point warning on the way
        assert info.cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
        assert info.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
        # p_i = 0 terms contribute 0, even where q_i = 0 too
        assert info.cross_entropy([1.0, 0.0], [1.0, 0.0]) == 0.0
        assert info.kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0.0
        assert info.kl_divergence([0.0, 1.0], [0.5, 0.5]) == pytest.approx(math.log(2))


@given(p=batch_shapes.flatmap(distributions))
def test_self_comparisons(p):
    np.testing.assert_allclose(info.cross_entropy(p, p), info.entropy(p), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(info.kl_divergence(p, p), 0.0, atol=1e-15)
    assert (info.entropy(p) >= 0).all()
    assert (info.entropy(p) <= np.log(p.shape[-1]) + 1e-12).all()


@given(data=st.data())
def test_decomposition_and_gibbs_inequality(data):
    shape = data.draw(batch_shapes)
    p = data.draw(distributions(shape))
    q = data.draw(distributions(shape))
    ce = info.cross_entropy(p, q)
    kl = info.kl_divergence(p, q)
    assert (kl >= 0).all()  # Gibbs' inequality
    finite = np.isfinite(ce)
    assert np.array_equal(finite, np.isfinite(kl))
    np.testing.assert_allclose(ce[finite], (info.entropy(p) + kl)[finite], rtol=1e-10, atol=1e-12)
    bits = info.kl_divergence(p, q, base=2)
    np.testing.assert_allclose(bits[finite], kl[finite] / math.log(2), rtol=1e-12, atol=1e-15)


def test_info_cross_entropy_agrees_with_the_loss(rng):
    # the loss on logits is the information-theoretic cross-entropy against softmax(z)
    z = rng.normal(size=(5, 4))
    y = rng.integers(0, 4, size=5)
    per_sample = info.cross_entropy(xent.one_hot(y, 4), xent.softmax(z))
    np.testing.assert_allclose(
        xent.cross_entropy(z, y, reduction="none"), per_sample, rtol=1e-12
    )


# ----------------------------------------------------------------------------- issue 10

P16 = np.array([0.1316, 0.2686, 0.2214, 0.3782], dtype=np.float16)  # sums to 0.99976


def test_float16_distributions_are_checked_at_float16_tolerance():
    """Issue 10, defect 7: float16 probabilities were checked at float64's 1e-6."""
    q16 = np.array([0.25, 0.25, 0.25, 0.25], dtype=np.float16)
    p = P16.astype(np.float64)
    h = info.entropy(P16)
    assert h.dtype == np.float64  # the output policy: float16 in, float64 out
    assert h == pytest.approx(-np.sum(p * np.log(p)), rel=1e-15)
    assert info.cross_entropy(P16, q16) == pytest.approx(np.log(4) * p.sum(), rel=1e-15)
    assert info.kl_divergence(P16, q16, base=2).dtype == np.float64
    with raises_naming(ValueError, "p"):
        info.entropy(p)  # the same numbers in float64 are not a distribution


def test_float32_in_float32_out():
    p32 = np.array([0.2, 0.3, 0.5], dtype=np.float32)
    for value in (info.entropy(p32), info.cross_entropy(p32, p32), info.kl_divergence(p32, p32)):
        assert value.dtype == np.float32


def test_ragged_and_object_inputs_are_named():
    with raises_naming(ValueError, "p"):
        info.entropy([[0.5, 0.5], [1.0]])
    with raises_naming(ValueError, "q"):
        info.kl_divergence([0.5, 0.5], [[0.5, 0.5], [1.0]])
    with raises_naming(TypeError, "p"):
        info.entropy(np.array([0.5, None], dtype=object))
