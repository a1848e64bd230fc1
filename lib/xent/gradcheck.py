"""Numerical gradients by central differences, and a gradient checker.

See chapter 3 (The softmax Jacobian) and chapter 4 (The cross-entropy + softmax gradient).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_float_array, check_finite, check_positive_float

__all__ = ["gradcheck", "numerical_gradient"]


def _scalar(value: object, name: str) -> float:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected f(x) to return a real number; got {value!r}") from None
    if arr.size != 1:
        raise ValueError(f"{name}: expected f(x) to return a scalar; got shape {arr.shape}")
    return float(arr.reshape(()))


def _callable(f: object, name: str) -> None:
    if not callable(f):
        raise TypeError(f"{name}: expected a function; got {f!r}")


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: ArrayLike, eps: float = 1e-6
) -> np.ndarray:
    """Central differences ``g_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry.

    ``f`` maps an array shaped like ``x`` to a scalar. Works on a float64 copy of ``x``
    (``x`` itself is never modified) and returns a float64 array of ``x``'s shape. Costs
    ``2 * x.size`` calls of ``f``; the error is O(eps^2) truncation plus about
    ``1e-16 |f| / eps`` rounding. See chapter 3 (The softmax Jacobian).
    """
    _callable(f, "f")
    h = check_positive_float(eps, "eps")
    point = as_float_array(x, "x").astype(np.float64, copy=True)
    check_finite(point, "x")
    flat = point.reshape(-1)  # a view: nudging flat[i] nudges point
    grad = np.empty(flat.shape, dtype=np.float64)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + h
        f_plus = _scalar(f(point), "f")
        flat[i] = original - h
        f_minus = _scalar(f(point), "f")
        flat[i] = original
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad.reshape(point.shape)


def gradcheck(
    f: Callable[[np.ndarray], float],
    grad_f: Callable[[np.ndarray], ArrayLike],
    x: ArrayLike,
    eps: float = 1e-6,
    tiny: float = 1e-12,
) -> float:
    """Largest relative error between ``grad_f(x)`` (analytic, a) and ``numerical_gradient`` (n).

    ``rel_err = max_i abs(a_i - n_i) / max(abs(a_i), abs(n_i), tiny)``

    ``tiny`` only keeps 0/0 away (both gradients exactly zero count as agreeing). Rules
    of thumb in float64 with eps=1e-6 (as in Stanford's CS231n notes): rel_err < 1e-7 the
    gradient is right; up to ~1e-4 acceptable for functions with kinks (ReLU, max);
    1e-4 to 1e-2 suspicious; > 1e-2 the gradient is probably wrong. Rounding puts an
    absolute error of about ``1e-16 * abs(f) / eps`` (1e-10 ``abs(f)`` at eps=1e-6) on every
    numerical entry, so an entry with ``abs(a_i)`` below about ``1e-3 * abs(f)`` can already
    show more than 1e-7 on its own: check at points where gradients are not tiny (moderate
    logits), or use a larger eps (1e-5). See chapter 4 (The cross-entropy + softmax gradient).
    """
    _callable(f, "f")
    _callable(grad_f, "grad_f")
    check_positive_float(eps, "eps")
    tiny = check_positive_float(tiny, "tiny")
    point = as_float_array(x, "x").astype(np.float64, copy=True)
    check_finite(point, "x")
    try:
        analytic = np.asarray(grad_f(point.copy()), dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("grad_f: expected grad_f(x) to return an array of real numbers") from None
    if analytic.shape != point.shape:
        raise ValueError(
            f"grad_f: must return an array of x's shape {point.shape}; got {analytic.shape}"
        )
    numeric = numerical_gradient(f, point, eps)
    if point.size == 0:
        return 0.0
    denominator = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), tiny)
    return float(np.max(np.abs(analytic - numeric) / denominator))
