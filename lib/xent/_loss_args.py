"""Validation shared by the two implementations of the cross-entropy loss.

``xent.losses`` (the readable reference) and ``xent.fused`` (the fast kernel) accept exactly
the same arguments and reject exactly the same bad ones, because both start with
:func:`loss_args`. It checks every argument, names the offending one in the error, and lays
the problem out as rows: ``z[i]`` holds the C logits of one sample (class axis last).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np

from ._checks import (
    as_array,
    as_float_array,
    check_class_indices,
    check_finite,
    check_integer_array,
    check_nonnegative,
    position,
)

REDUCTIONS = ("mean", "sum", "none")


class LossArgs(NamedTuple):
    """A validated problem. Exactly one of ``y`` (class indices) and ``t`` (probabilities)
    is set."""

    z: np.ndarray  # (M, C) logits, class axis last, C-contiguous, float32 or float64
    y: np.ndarray | None  # (M,) class indices; ignored rows hold 0 (and keep[i] is False)
    keep: np.ndarray | None  # (M,) bool: row i is not ignored (class indices only)
    t: np.ndarray | None  # (M, C) class probabilities, in the logits' dtype
    weight: np.ndarray | None  # (C,) class weights in the logits' dtype, or None
    smoothing: float  # label smoothing eps in [0, 1]
    reduction: str  # 'mean' | 'sum' | 'none'
    shape: tuple[int, ...]  # the logits' shape as given
    out_shape: tuple[int, ...]  # the per-sample losses' shape (reduction='none')


def as_rows(x: np.ndarray) -> np.ndarray:
    """(C,) -> (1, C); (N, C) -> itself; (N, C, d1, ...) -> (N*d1*..., C), class axis last."""
    if x.ndim == 1:
        return np.ascontiguousarray(x[None, :])
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)).reshape(-1, x.shape[1])


def from_rows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`as_rows` for an array of the logits' shape."""
    if len(shape) == 1:
        return rows.reshape(shape)
    moved = rows.reshape((shape[0], *shape[2:], shape[1]))
    return np.ascontiguousarray(np.moveaxis(moved, -1, 1))


def bad_logits_error(logits: np.ndarray) -> ValueError:
    """The error for logits holding nan or +inf, or a sample whose logits are all -inf.

    ``-inf`` logits are allowed: they mask a class (probability 0), as in torch.
    """
    bad = np.isnan(logits) | (logits == np.inf)
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        return ValueError(
            f"logits: expected finite values or -inf (no nan or +inf); "
            f"got {logits.ravel()[i]} at position {position(i, logits.shape)}"
        )
    rows = as_rows(logits)
    i = int(np.argmax((rows == -np.inf).all(axis=1)))
    return ValueError(
        f"logits: every sample needs at least one finite logit; sample {i} (in row order, "
        f"class axis last) has all {rows.shape[1]} logits -inf"
    )


def check_row_max(m: np.ndarray, logits: np.ndarray) -> None:
    """Row maxima of the logits must be finite: a nan or +inf shows up in them, and so
    does a row that is all -inf. One check on the maxima, no extra pass over the logits."""
    if not np.isfinite(m).all():
        raise bad_logits_error(logits)


def loss_args(
    logits: Any,
    target: Any,
    weight: Any,
    ignore_index: Any,
    reduction: Any,
    label_smoothing: Any,
) -> LossArgs:
    """Validate every argument of ``cross_entropy`` and lay the problem out as rows.

    The logits' values are not checked here (that needs a pass over them): the caller
    checks the row maxima with :func:`check_row_max`.
    """
    z_full = as_float_array(logits, "logits")
    if z_full.ndim == 0:
        raise ValueError("logits: expected shape (C,), (N, C) or (N, C, d1, ...); got a scalar")
    class_axis = 0 if z_full.ndim == 1 else 1
    num_classes = z_full.shape[class_axis]
    if num_classes == 0:
        raise ValueError(
            f"logits: the class axis (axis {class_axis}) is empty; shape {z_full.shape}"
        )
    dtype = z_full.dtype

    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction: expected one of 'mean', 'sum', 'none'; got {reduction!r}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, Real):
        raise TypeError(f"label_smoothing: expected a float in [0, 1]; got {label_smoothing!r}")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:  # also rejects nan
        raise ValueError(f"label_smoothing: expected a float in [0, 1]; got {eps!r}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, Integral):
        raise TypeError(f"ignore_index: expected an integer; got {ignore_index!r}")
    ignore_index = int(ignore_index)

    w = None
    if weight is not None:
        w = as_float_array(weight, "weight")
        if w.shape != (num_classes,):
            raise ValueError(
                f"weight: expected one weight per class, shape ({num_classes},); got {w.shape}"
            )
        check_finite(w, "weight")
        check_nonnegative(w, "weight", "class weights")
        w = w.astype(dtype, copy=False)

    tgt = as_array(target, "target")
    index_shape = z_full.shape[:class_axis] + z_full.shape[class_axis + 1 :]
    common = dict(
        z=as_rows(z_full), weight=w, smoothing=eps, reduction=reduction, shape=z_full.shape,
        out_shape=index_shape,
    )  # fmt: skip

    if tgt.shape == z_full.shape:  # ---- class-probability targets
        if not np.issubdtype(tgt.dtype, np.floating):
            raise TypeError(
                f"target: class-probability targets (same shape as logits, {z_full.shape}) "
                f"must have a float dtype; got dtype {tgt.dtype}"
            )
        if ignore_index != -100:
            raise ValueError(
                f"ignore_index: only supported with class-index targets; got "
                f"ignore_index={ignore_index} with class-probability targets (torch silently "
                f"ignores it; mask the rows out of the target instead)"
            )
        check_finite(tgt, "target")
        check_nonnegative(tgt, "target", "class probabilities")
        return LossArgs(y=None, keep=None, t=as_rows(tgt.astype(dtype, copy=False)), **common)

    if tgt.shape != index_shape:  # ---- class-index targets
        raise ValueError(
            f"target: expected class indices of shape {index_shape} or class probabilities "
            f"of shape {z_full.shape} (logits shape {z_full.shape}); got shape {tgt.shape}"
        )
    tgt = check_integer_array(tgt, "target")
    check_class_indices(tgt, num_classes, "target", ignore_index)
    y = tgt.reshape(-1).astype(np.intp)
    keep = y != ignore_index
    y = np.where(keep, y, 0)  # any valid class: ignored rows count nowhere
    return LossArgs(y=y, keep=keep, t=None, **common)
