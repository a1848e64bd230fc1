"""xent.numerical_gradient and xent.gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import xent


def cube_sum(x):
    return float(np.sum(x**3))


def test_numerical_gradient_of_a_cubic(rng):
    x = rng.normal(size=(3, 4))
    numeric = xent.numerical_gradient(cube_sum, x)
    assert numeric.shape == x.shape and numeric.dtype == np.float64
    # central differences are exact up to eps^2 f''' / 6 = 1e-12 here, plus rounding
    np.testing.assert_allclose(numeric, 3 * x**2, rtol=1e-7, atol=1e-9)


def test_numerical_gradient_does_not_touch_its_input():
    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    before = x.copy()
    seen = []

    def f(v):
        seen.append(v.dtype)
        return float(np.sum(v**2))

    numeric = xent.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    assert set(seen) == {np.dtype(np.float64)}  # f sees a float64 copy
    np.testing.assert_allclose(numeric, 2 * before.astype(np.float64), rtol=1e-8)


def test_numerical_gradient_of_integer_input_and_step():
    np.testing.assert_allclose(xent.numerical_gradient(cube_sum, [1, 2]), [3.0, 12.0], rtol=1e-8)
    coarse = xent.numerical_gradient(cube_sum, [1.0], eps=0.1)
    np.testing.assert_allclose(coarse, [3.0 + 0.01], rtol=1e-12)  # error eps^2 f'''/6 = 0.01


def test_numerical_gradient_accepts_numpy_scalars_and_0d_arrays():
    x = np.array([0.3, 0.7])
    g = xent.numerical_gradient(lambda v: np.array(v @ v), x)  # f returns a 0-d array
    np.testing.assert_allclose(g, 2 * x, rtol=1e-8)


def test_gradcheck_accepts_a_correct_gradient(rng):
    x = rng.normal(size=5)
    assert xent.gradcheck(cube_sum, lambda v: 3 * v**2, x) < 1e-7


def test_gradcheck_flags_a_wrong_gradient(rng):
    x = rng.normal(size=5)
    error = xent.gradcheck(cube_sum, lambda v: 2 * v**2, x)  # should be 3 v^2
    assert error == pytest.approx(1 / 3, rel=1e-6)  # |2 - 3| / 3


def test_gradcheck_formula_exactly():
    # analytic [1, 0, 0] against the numerical gradient [1, 0, 0] of f = x0 ...
    x = np.array([0.5, 0.2, -0.1])
    assert xent.gradcheck(lambda v: float(v[0]), lambda v: np.array([1.0, 0.0, 0.0]), x) < 1e-9
    # ... and against an analytic gradient off by 0.5 in the second entry:
    # |0.5 - 0| / max(0.5, 0, tiny) = 1
    bad = xent.gradcheck(lambda v: float(v[0]), lambda v: np.array([1.0, 0.5, 0.0]), x)
    assert bad == pytest.approx(1.0, rel=1e-12)


def test_gradcheck_on_the_library_gradients(rng):
    z = rng.normal(size=(4, 5))
    y = rng.integers(0, 5, size=4)
    w = rng.uniform(0.5, 2.0, size=5)
    kw = dict(weight=w, label_smoothing=0.1)
    error = xent.gradcheck(
        lambda v: xent.cross_entropy(v, y, **kw), lambda v: xent.cross_entropy_grad(v, y, **kw), z
    )
    assert error < 1e-6
    g = rng.normal(size=5)
    error = xent.gradcheck(
        lambda v: float(g @ xent.softmax(v)),
        lambda v: xent.softmax_backward(xent.softmax(v), g),
        z[0],
    )
    assert error < 1e-6
