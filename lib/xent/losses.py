"""The cross-entropy loss on logits and its gradient, written as the formulas of chapters 4 and 5.

Semantics are exactly those of ``torch.nn.functional.cross_entropy``: logits of shape (C,),
(N, C) or (N, C, d1, ...) with the class axis 1 (0 for 1-D); targets are class indices
(integers, the logits' shape without the class axis) or class probabilities (floats, the
logits' shape); options ``weight``, ``ignore_index``, ``label_smoothing``, ``reduction``.

Every variant is one formula. Lay the samples out as rows ``z_i`` (class axis last), let
``log p_i = log_softmax(z_i)`` and build each row's *effective target* ``u_i``:

* class index y:        ``u_i = (1-eps) w_y e_y + (eps/C) w``   (e_y: the one-hot row),
                         and ``u_i = 0`` if ``y == ignore_index``;
* class probabilities t: ``u_i = w * ((1-eps) t_i + eps/C)``.

Then the per-row loss and its gradient are

    loss_i = -(u_i . log p_i)            dloss_i/dz_i = (sum_c u_ic) p_i - u_i

and the reduction adds them ('sum'), keeps them ('none') or averages them ('mean'): divided
by ``Omega = sum of w_y over the rows not ignored`` for class indices, by the number of rows
``N * d1 * ...`` for probabilities (nothing to average: nan, as torch).

Logits may be -inf (a masked class: probability 0), as in torch and ``xent.softmax``.

This module is the reference: whole arrays, plain NumPy, no tricks (the same shape as
tinygrad's ``Tensor.cross_entropy``: build the smoothed target, multiply by the
log-softmax, reduce). ``xent.fused`` computes
the same numbers faster (cache-sized blocks, threads, no max-subtraction when it is safe) and
is what training (``xent.nn.CrossEntropyLoss``) and the benchmarks call; a property test
checks that the two agree on every option.
"""

from __future__ import annotations

from numbers import Integral
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from ._checks import check_class_indices, check_integer_array
from ._loss_args import LossArgs, check_row_max, from_rows, loss_args
from .softmax import log_softmax

__all__ = ["cross_entropy", "cross_entropy_and_grad", "cross_entropy_grad", "one_hot"]

Reduction = Literal["mean", "sum", "none"]


def effective_target(a: LossArgs) -> np.ndarray:
    """The rows ``u_i`` of the module docstring, shape (M, C), in the logits' dtype."""
    num_classes = a.z.shape[1]
    w = np.ones(num_classes, a.z.dtype) if a.weight is None else a.weight
    eps = a.smoothing
    if a.t is not None:  # class probabilities
        return w * ((1 - eps) * a.t + eps / num_classes)
    rows = np.arange(len(a.y))
    u = np.zeros_like(a.z)
    u[rows, a.y] = (1 - eps) * w[a.y]  # (1-eps) w_y e_y
    u += (eps / num_classes) * w  # (eps/C) w
    u[~a.keep] = 0  # ignored rows
    return u


def row_losses(a: LossArgs, log_p: np.ndarray) -> np.ndarray:
    """``loss_i = -(u_i . log p_i)``, shape (M,).

    For class indices the dot product is taken by the two parts of ``u_i``,
    ``(1-eps) w_y (-log p_iy) + (eps/C) (-(w . log p_i))``, the second only when eps > 0. A
    masked class (logit -inf, so log p = -inf) then counts only where torch counts it: not
    at all outside the target without smoothing, as an infinite loss with it.
    """
    with np.errstate(invalid="ignore"):  # 0 * -inf (a masked class in the sum): nan, as torch
        if a.t is not None:
            return -(effective_target(a) * log_p).sum(axis=1)
        num_classes = a.z.shape[1]
        w = np.ones(num_classes, a.z.dtype) if a.weight is None else a.weight
        eps = a.smoothing
        nll = -log_p[np.arange(len(a.y)), a.y]
        loss = (1 - eps) * w[a.y] * nll
        if eps > 0:
            loss = loss + (eps / num_classes) * -(log_p * w).sum(axis=1)
    return np.where(a.keep, loss, 0).astype(a.z.dtype)  # ignored rows: 0


def mean_denominator(a: LossArgs) -> np.floating:
    """What 'mean' divides by: Omega = sum of w_y over kept rows, or the number of rows."""
    if a.t is not None:
        return a.z.dtype.type(len(a.z))
    w_y = np.ones(len(a.y), a.z.dtype) if a.weight is None else a.weight[a.y]
    return np.where(a.keep, w_y, 0).sum(dtype=a.z.dtype)


def _loss_and_grad_rows(a: LossArgs, want_grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row losses (M,) and, if wanted, the gradient rows (M, C) of their sum."""
    check_row_max(a.z.max(axis=1, initial=-np.inf), a.z)  # no nan, +inf or all -inf rows
    log_p = log_softmax(a.z, axis=1)
    losses = row_losses(a, log_p)
    if not want_grad:
        return losses, None
    u = effective_target(a)
    return losses, u.sum(axis=1, keepdims=True) * np.exp(log_p) - u


def _reduce(a: LossArgs, losses: np.ndarray, grad: np.ndarray | None):
    """Apply the reduction to the losses and scale the gradient the same way."""
    if a.reduction == "none":
        return losses.reshape(a.out_shape), grad
    total = losses.sum(dtype=losses.dtype)
    if a.reduction == "sum":
        return total, grad
    omega = mean_denominator(a)
    if omega:
        return (total / omega).astype(losses.dtype)[()], None if grad is None else grad / omega
    # Omega = 0 leaves nothing to average: like torch, the loss is nan, and so is the
    # gradient of every row not ignored (ignored rows keep their 0)
    if grad is not None and a.keep is not None:
        grad = np.where(a.keep[:, None], np.nan, grad)
    return losses.dtype.type(np.nan), grad


def cross_entropy_and_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> tuple[np.ndarray | np.floating, np.ndarray]:
    """Loss and ``dL/dlogits`` (same arguments as :func:`cross_entropy`).

    Per row ``dloss_i/dz_i = (sum_c u_ic) softmax(z_i) - u_i`` (``p - onehot(y)`` in the plain
    case), scaled as the reduction scales the loss (``1/Omega`` for 'mean'). For
    reduction='none' it is the gradient of ``sum(losses)``, what torch's backward gives with a
    grad_output of ones. The gradient has the logits' shape and dtype. See chapter 4 (The
    cross-entropy + softmax gradient) and chapter 5 (Weighted cross-entropy).
    """
    a = loss_args(logits, target, weight, ignore_index, reduction, label_smoothing)
    loss, grad = _reduce(a, *_loss_and_grad_rows(a, want_grad=True))
    return loss, from_rows(grad, a.shape)


def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> np.ndarray | np.floating:
    """Cross-entropy loss on logits, exactly as ``torch.nn.functional.cross_entropy``.

    ``loss_i = -(u_i . log_softmax(z_i))`` with the effective target
    ``u_i = (1-eps) w_y e_y + (eps/C) w`` for a class index y (0 if ``y == ignore_index``)
    and ``u_i = w * ((1-eps) t_i + eps/C)`` for class probabilities t. 'mean' divides the
    sum by ``Omega = sum_i w[y_i]`` over rows not ignored (nan if there are none), or by
    the number of rows ``N * d1 * ...`` for probabilities; 'sum' adds; 'none' keeps them.

    logits: (C,), (N, C) or (N, C, d1, ...), class axis 1 (0 for 1-D); finite or -inf (a
    masked class), at least one finite logit per sample. weight: (C,) >= 0.
    reduction: 'mean' | 'sum' | 'none'. label_smoothing eps in [0, 1]. ``ignore_index`` only
    with class indices (torch silently ignores it with probabilities).
    See chapter 4 (The cross-entropy + softmax gradient) and chapter 5 (Weighted
    cross-entropy).
    """
    a = loss_args(logits, target, weight, ignore_index, reduction, label_smoothing)
    return _reduce(a, *_loss_and_grad_rows(a, want_grad=False))[0]


def cross_entropy_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> np.ndarray:
    """``dL/dlogits`` of :func:`cross_entropy` (same arguments), same shape/dtype as logits.

    Plain case, reduction='mean': ``(softmax(z) - onehot(y)) / N``; in general
    ``((sum_c u_c) p - u)`` scaled by the reduction. See chapter 4 (The cross-entropy +
    softmax gradient).
    """
    return cross_entropy_and_grad(
        logits, target, weight=weight, ignore_index=ignore_index, reduction=reduction,
        label_smoothing=label_smoothing,
    )[1]  # fmt: skip


def one_hot(y: ArrayLike, num_classes: int) -> np.ndarray:
    """One-hot encoding: ``out[..., c] = 1.0 if y[...] == c else 0.0``, float64, shape (..., C).

    ``y`` must hold integers in ``[0, num_classes)``. See chapter 4 (The cross-entropy +
    softmax gradient).
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, Integral):
        raise TypeError(f"num_classes: expected a positive integer; got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes: expected a positive integer; got {num_classes}")
    labels = check_integer_array(y, "y")
    check_class_indices(labels, int(num_classes), "y")
    return (labels[..., None] == np.arange(num_classes)).astype(np.float64)
