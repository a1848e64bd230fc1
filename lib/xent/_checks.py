"""Shared input validation for the xent library.

Every check raises a ``ValueError`` or ``TypeError`` whose message starts with the
name of the offending argument and says what was expected, e.g.::

    target: class indices must be in [0, 10) or equal ignore_index=-100; got 12 at position 3

so that a reader never meets an ``IndexError`` from deep inside NumPy, nor a
silently wrong number.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = [
    "as_array",
    "as_float_array",
    "as_probabilities",
    "check_axis",
    "check_class_indices",
    "check_finite",
    "check_integer",
    "check_integer_array",
    "check_nonnegative",
    "check_positive_float",
    "check_probabilities",
    "check_real",
    "check_same_shape",
    "position",
    "tolerance",
]


def position(flat_index: int, shape: tuple[int, ...]) -> str:
    """Human-readable position of a flat index: ``3`` for 1-D arrays, ``(0, 3)`` otherwise."""
    if len(shape) <= 1:
        return str(int(flat_index))
    return str(tuple(int(i) for i in np.unravel_index(flat_index, shape)))


def as_array(x: Any, name: str) -> np.ndarray:
    """``np.asarray(x)``, but a ragged nested list or an object array is a named error."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # e.g. [[1, 2], [3]]: "inhomogeneous shape"
        raise ValueError(
            f"{name}: expected a rectangular array (nested lists of equal lengths); "
            f"could not convert it ({exc})"
        ) from None
    if arr.dtype == object:
        raise TypeError(
            f"{name}: expected an array of numbers; got an object array "
            f"(ragged nested lists or non-numeric entries)"
        )
    return arr


def as_float_array(x: Any, name: str) -> np.ndarray:
    """Return ``x`` as a float array: float32 and float64 are kept, integers become float64.

    float16 (and long double) inputs are also computed in float64, so the result is float64:
    float16 cannot hold the intermediate sums of a softmax or a loss without losing most of
    its 11 bits. Checks that depend on the precision of the *input* (the sum-to-1 tolerance of
    a probability vector) use :func:`tolerance` of the original dtype instead.
    """
    arr = as_array(x, name)
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return arr
    if np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating):
        return arr.astype(np.float64)
    raise TypeError(
        f"{name}: expected a real-valued array (float32, float64 or integer dtype); "
        f"got dtype {arr.dtype}"
    )


def tolerance(dtype: Any) -> float:
    """Sum-to-1 tolerance of a probability vector given in ``dtype``: ``max(1e-6, sqrt(eps))``.

    1e-6 for float64 (and integers), about 3.5e-4 for float32 and 3.1e-2 for float16: the sum
    of K probabilities each rounded to the dtype is off by up to about ``K eps / 2``.
    """
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        return 1e-6
    return max(1e-6, math.sqrt(float(np.finfo(dtype).eps)))


def as_probabilities(p: Any, name: str, axis: int = -1) -> np.ndarray:
    """``p`` as a float array (see :func:`as_float_array`) checked by :func:`check_probabilities`
    at the tolerance of the dtype ``p`` came in (a float16 vector summing to 0.99976 is fine)."""
    arr = as_array(p, name)
    tol = tolerance(arr.dtype)
    out = as_float_array(arr, name)
    check_probabilities(out, name, axis, tol=tol)
    return out


def check_finite(x: np.ndarray, name: str) -> None:
    """Reject nan and +-inf entries."""
    finite = np.isfinite(x)
    if not finite.all():
        bad = int(np.argmin(finite.ravel()))
        raise ValueError(
            f"{name}: expected finite values (no nan or inf); "
            f"got {x.ravel()[bad]} at position {position(bad, x.shape)}"
        )


def check_nonnegative(x: np.ndarray, name: str, what: str = "values") -> None:
    """Reject negative (and nan) entries."""
    ok = x >= 0
    if not ok.all():
        bad = int(np.argmin(ok.ravel()))
        raise ValueError(
            f"{name}: expected non-negative {what}; "
            f"got {x.ravel()[bad]} at position {position(bad, x.shape)}"
        )


def check_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """Validate an axis for an array of ``ndim`` dimensions; return it as a non-negative int."""
    if isinstance(axis, bool) or not isinstance(axis, Integral):
        raise TypeError(f"{name}: expected an integer axis; got {axis!r}")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{name}: expected an axis in [{-ndim}, {ndim}) for an array with {ndim} "
            f"dimension(s); got {axis}"
        )
    return axis % ndim


def check_positive_float(value: Any, name: str) -> float:
    """A finite real number > 0 (e.g. a temperature or a finite-difference step)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name}: expected a finite float > 0; got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}: expected a finite float > 0; got {value!r}")
    return value


def check_integer(value: Any, name: str, minimum: int | None = None) -> int:
    """A Python or NumPy integer (not a bool, not a float such as ``4.0``), ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name}: expected an integer; got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}; got {value}")
    return value


def check_real(
    value: Any,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    high_open: bool = False,
) -> float:
    """A finite real number (not a bool, not a string) in ``[low, high]`` (or ``[low, high)``).

    nan and +-inf are always rejected: a learning rate or a probability of nan would
    silently turn every later number into nan.
    """
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    want = f"a finite number in [{lo}, {hi}{')' if high_open or high is None else ']'}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name}: expected {want}; got {value!r}")
    value = float(value)
    ok = math.isfinite(value) and (low is None or value >= low)
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise ValueError(f"{name}: expected {want}; got {value!r}")
    return value


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Both arrays must have exactly the same shape (no broadcasting)."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_b}: expected the same shape as {name_a} {a.shape}; got {b.shape}"
        )


def check_probabilities(
    p: np.ndarray, name: str, axis: int = -1, tol: float | None = None
) -> None:
    """Finite, non-negative and summing to 1 along ``axis``.

    The sum tolerance ``tol`` defaults to :func:`tolerance` of ``p``'s dtype: 1e-6 for
    float64 and about 3.5e-4 for float32 (a float32 softmax of 4096 classes sums to 1 within
    ~1e-6).
    """
    if p.ndim == 0:
        raise ValueError(f"{name}: expected a probability vector (at least 1-D); got a scalar")
    if p.shape[axis] == 0:
        raise ValueError(f"{name}: expected at least one class along axis {axis}; got 0")
    check_finite(p, name)
    check_nonnegative(p, name, "probabilities")
    if tol is None:
        tol = tolerance(p.dtype)
    sums = p.sum(axis=axis)
    bad = np.abs(sums - 1) > tol
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        raise ValueError(
            f"{name}: probabilities must sum to 1 along axis {axis} (tolerance {tol:.1e}); "
            f"got a sum of {sums.ravel()[i]!r} at position {position(i, sums.shape)}"
        )


def check_integer_array(y: Any, name: str, what: str = "class indices") -> np.ndarray:
    """Return ``y`` as an integer array; a float or bool array is a TypeError."""
    arr = as_array(y, name)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{name}: {what} must have an integer dtype; got dtype {arr.dtype} "
            f"(convert with .astype(int) if the values are whole numbers)"
        )
    return arr


def check_class_indices(
    y: np.ndarray, num_classes: int, name: str = "target", ignore_index: int | None = None
) -> None:
    """Every entry in ``[0, num_classes)`` (or equal to ``ignore_index`` when given)."""
    ok = (y >= 0) & (y < num_classes)
    if ignore_index is not None:
        ok |= y == ignore_index
    if not ok.all():
        bad = int(np.argmin(ok.ravel()))
        extra = f" or equal ignore_index={ignore_index}" if ignore_index is not None else ""
        raise ValueError(
            f"{name}: class indices must be in [0, {num_classes}){extra}; "
            f"got {y.ravel()[bad]} at position {position(bad, y.shape)}"
        )
