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
    "as_float_array",
    "check_axis",
    "check_class_indices",
    "check_finite",
    "check_integer_array",
    "check_nonnegative",
    "check_positive_float",
    "check_probabilities",
    "check_same_shape",
    "position",
]


def position(flat_index: int, shape: tuple[int, ...]) -> str:
    """Human-readable position of a flat index: ``3`` for 1-D arrays, ``(0, 3)`` otherwise."""
    if len(shape) <= 1:
        return str(int(flat_index))
    return str(tuple(int(i) for i in np.unravel_index(flat_index, shape)))


def as_float_array(x: Any, name: str) -> np.ndarray:
    """Return ``x`` as a float array: float32 and float64 are kept, integers become float64."""
    arr = np.asarray(x)
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return arr
    if np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating):
        # integers, float16 and long double are computed in float64
        return arr.astype(np.float64)
    raise TypeError(
        f"{name}: expected a real-valued array (float32, float64 or integer dtype); "
        f"got dtype {arr.dtype}"
    )


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


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Both arrays must have exactly the same shape (no broadcasting)."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_b}: expected the same shape as {name_a} {a.shape}; got {b.shape}"
        )


def check_probabilities(p: np.ndarray, name: str, axis: int = -1) -> None:
    """Finite, non-negative and summing to 1 along ``axis``.

    The sum tolerance is ``max(1e-6, sqrt(eps))`` of the dtype: 1e-6 for float64 and
    about 3.5e-4 for float32 (a float32 softmax of 4096 classes sums to 1 within ~1e-6).
    """
    if p.ndim == 0:
        raise ValueError(f"{name}: expected a probability vector (at least 1-D); got a scalar")
    if p.shape[axis] == 0:
        raise ValueError(f"{name}: expected at least one class along axis {axis}; got 0")
    check_finite(p, name)
    check_nonnegative(p, name, "probabilities")
    tol = max(1e-6, math.sqrt(np.finfo(p.dtype).eps))
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
    arr = np.asarray(y)
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
