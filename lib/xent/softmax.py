"""Softmax, log-softmax, log-sum-exp and the softmax Jacobian.

All functions subtract the maximum before exponentiating, so any finite input works:
logits of +-1e4 in float32 give exact results with no overflow and no nan.
float32 in gives float32 out, float64 gives float64; integers, float16 and long double are
computed in float64 and give float64 (float16 has too few bits for the intermediate sums). The
probability checks of ``softmax_jacobian`` and ``softmax_backward`` use the tolerance of the
dtype ``p`` came in: a float16 softmax output summing to 0.99976 is accepted.

``-inf`` entries are allowed (they get probability 0, which is how masking is usually
done), as long as each slice has at least one finite entry; nan and +inf are rejected.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._checks import (
    as_float_array,
    as_probabilities,
    check_axis,
    check_finite,
    check_positive_float,
    check_same_shape,
    position,
)

__all__ = ["log_softmax", "logsumexp", "softmax", "softmax_backward", "softmax_jacobian"]


def _max_along(z: np.ndarray, axis: int, name: str) -> np.ndarray:
    """``max(z, axis, keepdims=True)``, checking it is finite.

    One check on the maximum catches nan (``max`` propagates it), +inf and slices that
    are entirely -inf, without an extra pass over ``z``.
    """
    if z.shape[axis] == 0:
        raise ValueError(f"{name}: expected at least one entry along axis {axis}; got 0")
    m = np.max(z, axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        bad = np.isnan(z) | (z == np.inf)
        if bad.any():
            i = int(np.argmax(bad.ravel()))
            raise ValueError(
                f"{name}: expected finite values or -inf (no nan or +inf); "
                f"got {z.ravel()[i]} at position {position(i, z.shape)}"
            )
        raise ValueError(  # every entry of some slice is -inf
            f"{name}: every slice along axis {axis} needs at least one finite entry; "
            f"found a slice that is all -inf"
        )
    return m


def _prepare(z: ArrayLike, axis: int, name: str = "z") -> tuple[np.ndarray, int]:
    arr = as_float_array(z, name)
    if arr.ndim == 0:
        raise ValueError(f"{name}: expected an array with at least 1 dimension; got a scalar")
    return arr, check_axis(axis, arr.ndim)


def softmax(z: ArrayLike, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Softmax with temperature: ``p_i = exp(z_i / T) / sum_j exp(z_j / T)``.

    Computed as ``exp((z - max z) / T)`` normalised, which is the same vector (softmax is
    shift-invariant) but never overflows. ``temperature`` T must be a finite float > 0.

    Any such T gives the right answer, also one too small or too large for float32: when T
    is not a normal float32 number (below about 1.2e-38, where it would round to a subnormal
    or to 0 and ``0 / 0`` would make nan, or above 3.4e38), a float32 input is computed in
    float64 and the result rounded back to float32. As T -> 0 the result tends to the one-hot
    vector of the argmax (shared equally by tied maxima), which is what a tiny T returns.
    See chapter 2 (Softmax).
    """
    t = check_positive_float(temperature, "temperature")
    arr, ax = _prepare(z, axis)
    work = arr
    info = np.finfo(arr.dtype)
    if not float(info.tiny) <= t <= float(info.max):
        work = arr.astype(np.float64)  # T is exactly representable in float64
    e = work - _max_along(work, ax, "z")
    if t != 1.0:
        with np.errstate(over="ignore"):  # -d/T overflows to -inf, and exp(-inf) = 0 is right
            e /= np.asarray(t, dtype=work.dtype)
    np.exp(e, out=e)
    e /= e.sum(axis=ax, keepdims=True)  # the max entries give exp(0) = 1, so the sum is >= 1
    return e.astype(arr.dtype, copy=False)


def logsumexp(z: ArrayLike, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log(sum_i exp(z_i)) = m + log(sum_i exp(z_i - m))`` with ``m = max_i z_i``.

    See chapter 2 (Softmax).
    """
    arr, ax = _prepare(z, axis)
    if not isinstance(keepdims, bool | np.bool_):
        raise TypeError(f"keepdims: expected True or False; got {keepdims!r}")
    m = _max_along(arr, ax, "z")
    out = m + np.log(np.exp(arr - m).sum(axis=ax, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=ax)[()]  # 1-D input: a NumPy scalar


def log_softmax(z: ArrayLike, axis: int = -1) -> np.ndarray:
    """``log p_i = z_i - logsumexp(z) = (z_i - m) - log(sum_j exp(z_j - m))``.

    Exact even where ``softmax`` underflows to 0 (it returns e.g. -2e4, not -inf).
    See chapter 2 (Softmax).
    """
    arr, ax = _prepare(z, axis)
    shifted = arr - _max_along(arr, ax, "z")
    return shifted - np.log(np.exp(shifted).sum(axis=ax, keepdims=True))


def softmax_jacobian(p: ArrayLike) -> np.ndarray:
    """Jacobian of softmax from its output: ``J = diag(p) - p p^T``.

    Entry by entry ``dp_i/dz_j = p_i (d_ij - p_j)`` with ``d_ij`` the Kronecker delta.

    Batched: ``p`` of shape (..., K) gives (..., K, K). ``p`` must be a probability vector
    along the last axis (the softmax *output*, not the logits). See chapter 3 (The softmax
    Jacobian).
    """
    arr = as_probabilities(p, "p")
    jac = -arr[..., :, None] * arr[..., None, :]
    k = np.arange(arr.shape[-1])
    jac[..., k, k] += arr
    return jac


def softmax_backward(p: ArrayLike, grad_p: ArrayLike) -> np.ndarray:
    """Vector-Jacobian product of softmax: ``grad_z = p * (g - <g, p>)`` along the last axis.

    Equal to ``J^T g`` with ``J = softmax_jacobian(p)`` (J is symmetric) but costs O(K)
    per vector instead of O(K^2): the K x K matrix is never built. ``p`` is the softmax
    output, ``grad_p`` the gradient of the loss with respect to it. See chapter 3 (The
    softmax Jacobian).
    """
    arr = as_probabilities(p, "p")
    g = as_float_array(grad_p, "grad_p")
    check_same_shape(arr, g, "p", "grad_p")
    check_finite(g, "grad_p")
    return arr * (g - np.sum(g * arr, axis=-1, keepdims=True))
