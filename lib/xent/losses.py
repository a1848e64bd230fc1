"""The cross-entropy loss on logits and its gradient, fused in one softmax pass.

Semantics are exactly those of ``torch.nn.functional.cross_entropy``:

* logits of shape (C,), (N, C) or (N, C, d1, d2, ...); the class axis is 1 (0 for 1-D);
* targets are either class indices (integer dtype, the logits' shape without the class
  axis) or class probabilities (float, the logits' shape);
* ``weight`` (one per class), ``ignore_index``, ``label_smoothing`` and ``reduction``.

How the pieces fit (chapters 4 and 5 derive all of it): with ``log p = log_softmax(z)``,
every variant is a weighted sum ``loss_i = -sum_c u_ic log p_ic`` for some non-negative
"effective target" row ``u_i``, and its gradient is

    dloss_i/dz_i = (sum_c u_ic) * p_i - u_i.

For class indices ``u_i = (1-eps) w_y e_y + (eps/C) w`` (``e_y`` the one-hot row) and
``u_i = 0`` for ignored rows; for probability targets ``u_i = w * ((1-eps) t_i + eps/C)``.
The code never materialises ``u`` for class indices: it keeps two numbers per row, the
coefficient ``a_i = (1-eps) w_y`` of the one-hot part and ``b_i = eps/C`` of the uniform part.

Reductions: 'sum' adds the ``loss_i``; 'none' returns them; 'mean' divides the sum by
``W = sum of w[y_i] over non-ignored rows`` for class indices (the count of non-ignored rows
without weights; all rows ignored gives nan) and by the number of rows ``N * d1 * ...``
for probability targets. The gradient for reduction='none' is that of ``sum(loss_i)``,
which is what torch's backward computes with a grad_output of ones.

Implementation: ``_prepare`` validates and reduces every variant to per-row coefficients;
``_block`` does one softmax pass over a block of rows, in place in the gradient's memory;
``_run`` hands the blocks to one or two threads. The speed tricks are explained where
they are used (and measured in benchmarks/README.md); the plain formulas above are what
tests/test_losses.py checks them against.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from ._checks import (
    as_array,
    as_float_array,
    check_class_indices,
    check_finite,
    check_integer_array,
    check_nonnegative,
)

__all__ = ["cross_entropy", "cross_entropy_and_grad", "cross_entropy_grad", "one_hot"]

Reduction = Literal["mean", "sum", "none"]
_REDUCTIONS = ("mean", "sum", "none")

# Work on blocks of rows that stay in the L2 cache (2 MiB per core on the reference
# machine), so the passes over a block (exp, row sums, min, scale, -1 at the targets)
# find it in cache: only the first read of z and the final write of the gradient go to
# memory. 512 KiB blocks are also big enough to amortise NumPy's per-call overhead (with
# 32 KiB blocks that overhead alone costs ~50% more time).
_BLOCK_BYTES = 1 << 19
# From this many bytes of logits on, the calling thread and a small pool share out the
# blocks. NumPy's big loops release the GIL, so the threads do run on separate cores
# (torch uses 2 threads here too), but every NumPy call has to take the GIL back, and the
# Python between calls holds it: with 512 KiB blocks two threads mostly wait for each
# other (measured: no gain at all), with 2 MiB blocks they run 1.7x faster than one.
# So threaded blocks are up to 2 MiB, but small enough to give each thread two.
_PARALLEL_MIN_BYTES = 1 << 20
_THREADED_BLOCK_BYTES = 1 << 21
# Up to this many classes, row maxima are computed column by column (see _row_max).
_FEW_CLASSES = 32
# Row sums of exp(z) in this range need no max-subtraction (see _exp_unshifted).
_SAFE_ROW_SUM = {
    np.float32: (np.float32(np.exp(-60.0)), np.finfo(np.float32).max),
    np.float64: (np.exp(-600.0), np.finfo(np.float64).max),
}
# Smallest and largest normal floats.
_NORMAL_RANGE = {t: (np.finfo(t).tiny, np.finfo(t).max) for t in (np.float32, np.float64)}
_USABLE_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
_NUM_THREADS = max(1, min(2, _USABLE_CPUS or 1))


@functools.cache
def _thread_pool() -> ThreadPoolExecutor:
    """The helper threads (created on first use; the calling thread is the other one)."""
    return ThreadPoolExecutor(max_workers=_NUM_THREADS - 1, thread_name_prefix="xent")


if hasattr(os, "register_at_fork"):  # a forked child has no threads: give it a new pool
    os.register_at_fork(after_in_child=_thread_pool.cache_clear)


@dataclass
class _Problem:
    """A validated problem, laid out as rows: ``z[i]`` holds the C logits of one sample."""

    z: np.ndarray  # (M, C) logits, class axis last, C-contiguous
    logits: np.ndarray  # the logits as given (to name a bad entry's position)
    y: np.ndarray | None  # (M,) class indices, ignored rows set to 0; None: prob targets
    a: np.ndarray | None  # (M,) coefficient of -log p_y: (1-eps) w[y], 0 if ignored
    b: np.ndarray | None  # (M,) eps/C, coefficient of -sum_c w_c log p_c; None if eps = 0
    t: np.ndarray | None  # (M, C) probability targets (prob-target case only)
    weight: np.ndarray | None  # (C,) class weights in the logits' dtype, or None
    smoothing: float
    reduction: str
    denominator: Any  # what 'mean' divides the summed loss by
    grad_a: np.ndarray | None  # a and b scaled for the gradient of the reduced loss
    grad_b: np.ndarray | None
    grad_scale: Any  # the same scale for probability targets
    out_shape: tuple[int, ...]  # shape of the per-sample losses (reduction='none')


# --------------------------------------------------------------------------- validation


def _as_rows(x: np.ndarray) -> np.ndarray:
    """(C,) -> (1, C); (N, C) -> itself; (N, C, d1, ...) -> (N*d1*..., C), class axis last."""
    if x.ndim == 1:
        return x[None, :]
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)).reshape(-1, x.shape[1])


def _from_rows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`_as_rows` for an array of the logits' shape."""
    if len(shape) == 1:
        return rows.reshape(shape)
    moved = rows.reshape((shape[0], *shape[2:], shape[1]))
    return np.ascontiguousarray(np.moveaxis(moved, -1, 1))


def _prepare(
    logits: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> _Problem:
    """Validate every argument (see xent._checks) and lay the problem out as rows."""
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

    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
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

    tgt = as_array(target, "target")  # a ragged nested list is a named error
    index_shape = z_full.shape[:class_axis] + z_full.shape[class_axis + 1 :]
    z = _as_rows(z_full)
    num_rows = z.shape[0]
    common = dict(
        z=z, logits=z_full, weight=w, smoothing=eps, reduction=reduction, out_shape=index_shape
    )

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
        rows = num_rows if num_rows > 0 else np.nan  # torch: 'mean' of nothing is nan
        grad_scale = 1.0 / rows if reduction == "mean" else 1.0
        return _Problem(
            y=None, a=None, b=None, t=_as_rows(tgt.astype(dtype, copy=False)),
            denominator=dtype.type(rows), grad_a=None, grad_b=None,
            grad_scale=dtype.type(grad_scale), **common,
        )  # fmt: skip

    if tgt.shape != index_shape:  # ---- class-index targets
        raise ValueError(
            f"target: expected class indices of shape {index_shape} or class probabilities "
            f"of shape {z_full.shape} (logits shape {z_full.shape}); got shape {tgt.shape}"
        )
    tgt = check_integer_array(tgt, "target")
    check_class_indices(tgt, num_classes, "target", ignore_index)
    y = tgt.reshape(-1).astype(np.intp)
    keep = y != ignore_index
    y = np.where(keep, y, 0)  # any valid class; the row's coefficients are 0 anyway
    w_y = keep.astype(dtype) if w is None else np.where(keep, w[y], 0).astype(dtype)
    total_weight = w_y.sum(dtype=dtype)  # W: 'mean' divides by it (0 -> nan, as torch)
    a = (1.0 - eps) * w_y if eps else w_y
    b = np.where(keep, eps / num_classes, 0).astype(dtype) if eps else None
    if reduction == "mean":
        with np.errstate(divide="ignore"):
            scale = np.where(keep, 1.0 / total_weight, 0).astype(dtype)  # 0 on ignored rows
        with np.errstate(invalid="ignore"):  # W = 0 with a kept row: inf * 0 = nan, as torch
            grad_a, grad_b = a * scale, (None if b is None else b * scale)
    else:
        grad_a, grad_b = a, b
    return _Problem(
        y=y, a=a, b=b, t=None, denominator=total_weight, grad_a=grad_a, grad_b=grad_b,
        grad_scale=None, **common,
    )  # fmt: skip


# --------------------------------------------------------------------------- the fused kernel


def _row_max(z: np.ndarray) -> np.ndarray:
    """``z.max(axis=1)``. With few classes NumPy pays a per-row overhead for a reduction
    along a short axis (~3 ms for 65536 x 10), so loop over the C columns instead: C
    long vectorised ``maximum`` calls."""
    if z.shape[1] > _FEW_CLASSES:
        return z.max(axis=1)
    m = z[:, 0].copy()
    for j in range(1, z.shape[1]):
        np.maximum(m, z[:, j], out=m)
    return m


def _row_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=1)`` via ``einsum``, which avoids the same short-axis overhead."""
    return np.einsum("ij->i", x)


def _exp_unshifted(z: np.ndarray, buf: np.ndarray) -> np.ndarray | None:
    """Fast path: ``buf = exp(z)`` and return the row sums, or None if the block needs the
    textbook shift after all.

    Softmax is shift-invariant, so the max-subtraction is only needed when ``exp(z)`` would
    misbehave; it costs a reduction along rows and a broadcast subtraction, two of the
    slowest passes. Without it the result is as accurate whenever every row sum is finite
    (no overflow) and at least ``exp(-R)`` (R = 60 in float32, 600 in float64: the terms
    that matter are then normal floats, and underflowed ones are too small to count).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        np.exp(z, out=buf)
    s = _row_sum(buf)
    low, high = _SAFE_ROW_SUM[z.dtype.type]
    # comparisons with nan are False, so nan takes the slow path; -inf logits vanish in
    # exp, so the block's minimum (a fast whole-block reduction) checks for them
    if np.all((s >= low) & (s <= high)) and np.isfinite(z.min()):
        return s
    return None


def _row_max_checked(z: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Row maxima, after making sure the block holds no nan or inf."""
    m = _row_max(z)
    # nan and +inf show in the maxima, -inf in the block's minimum: no full isfinite pass
    if not (np.isfinite(m).all() and np.isfinite(z.min())):
        check_finite(logits, "logits")  # raises, naming the first bad entry
    return m


def _target_rows(prob: _Problem, lo: int, hi: int) -> np.ndarray | None:
    """Effective targets ``u = w * ((1-eps) t + eps/C)`` for probability targets, else None."""
    if prob.t is None:
        return None
    t = prob.t[lo:hi]
    u = t * (1.0 - prob.smoothing) + prob.smoothing / t.shape[1] if prob.smoothing else t.copy()
    if prob.weight is not None:
        u *= prob.weight
    return u


def _block(prob: _Problem, lo: int, hi: int, buf: np.ndarray, losses: np.ndarray, want_grad: bool):
    """Rows ``lo:hi``: write the per-row losses into ``losses[lo:hi]`` and, if
    ``want_grad``, the gradient into ``buf`` (which is then the gradient's own rows).

    One softmax pass, in place in ``buf``: with a shift ``m`` (the row max, or 0 on the
    fast path) ``e = exp(z - m)``, ``s = sum e``, ``logsumexp(z) = m + log s`` and
    ``p = e / s``. The loss is assembled from non-negative pieces so that nothing large
    cancels (float32 results as accurate as torch's):

    * ``-log p_y = log(s / e_y)``, or ``(m - z_y) + log s`` when ``e_y`` underflows;
    * ``sum_c u_c (-log p_c) = (sum u) log s - <u, z - m>``  (smoothing, prob targets).

    The gradient is ``(sum u) e / s - u``, overwriting ``e``.
    """
    z = prob.z[lo:hi]
    u = _target_rows(prob, lo, hi)
    s = None
    if u is None and prob.b is None:  # plain or weighted NLL: try the shift-free path
        s = _exp_unshifted(z, buf)
        m = 0
    if s is None:
        m = _row_max_checked(z, prob.logits)
        np.subtract(z, m[:, None], out=buf)  # buf = z - m, still needed for the dots below
        if u is not None:
            u_dot_d = np.einsum("ij,ij->i", u, buf)
        elif prob.b is not None:
            w = np.ones(z.shape[1], z.dtype) if prob.weight is None else prob.weight
            w_dot_d = np.einsum("ij,j->i", buf, w)  # einsum, not BLAS: no extra threads
        np.exp(buf, out=buf)
        s = _row_sum(buf)
    log_s = np.log(s)

    if u is not None:  # probability targets
        u_sum = _row_sum(u)
        losses[lo:hi] = u_sum * log_s - u_dot_d
        if want_grad:
            buf *= (prob.grad_scale * u_sum / s)[:, None]
            u *= prob.grad_scale
            buf -= u
        return

    # class indices: u = a e_y + b w, so sum u = a + b sum(w)
    rows = np.arange(hi - lo)
    y = prob.y[lo:hi]
    e_y = buf[rows, y]
    z_y = z[rows, y]
    with np.errstate(divide="ignore", over="ignore"):
        ratio = s / e_y
    tiny, huge = _NORMAL_RANGE[z.dtype.type]
    ratio_ok = (e_y >= tiny) & (ratio <= huge)
    nll = np.where(ratio_ok, np.log(np.where(ratio_ok, ratio, 1)), log_s + (m - z_y))
    loss = prob.a[lo:hi] * nll
    if prob.b is not None:  # smoothing term -sum_c w_c log p_c = sum(w) log s - <w, z - m>
        w_sum = z.shape[1] if prob.weight is None else prob.weight.sum()
        loss += prob.b[lo:hi] * (w_sum * log_s - w_dot_d)
    losses[lo:hi] = loss
    if want_grad:
        ga = prob.grad_a[lo:hi]
        u_sum = ga if prob.grad_b is None else ga + prob.grad_b[lo:hi] * w_sum
        buf *= (u_sum / s)[:, None]  # (sum u) p, computed on e in place
        buf[rows, y] -= ga  # - a e_y
        if prob.grad_b is not None:  # - b w
            gb = prob.grad_b[lo:hi, None]
            buf -= gb if prob.weight is None else gb * prob.weight


def _run(prob: _Problem, want_grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row losses (M,) and, if wanted, the gradient rows (M, C)."""
    num_rows, num_classes = prob.z.shape
    dtype = prob.z.dtype
    losses = np.empty(num_rows, dtype=dtype)
    grad = np.empty((num_rows, num_classes), dtype=dtype) if want_grad else None
    row_bytes = num_classes * dtype.itemsize
    threads = _NUM_THREADS if num_rows * row_bytes >= _PARALLEL_MIN_BYTES else 1
    block_bytes = _BLOCK_BYTES
    if threads > 1:
        share = num_rows * row_bytes // (2 * threads)
        block_bytes = min(_THREADED_BLOCK_BYTES, max(_BLOCK_BYTES, share))
    block_rows = max(1, block_bytes // row_bytes)
    starts = iter(range(0, num_rows, block_rows))
    lock = threading.Lock()

    def next_start() -> int | None:
        with lock:
            return next(starts, None)

    def work() -> None:
        # Every thread takes the next unprocessed block until none is left, so a thread
        # that starts late or is descheduled on a busy machine holds nobody up. The
        # gradient rows double as the scratch buffer; the loss alone needs a small one.
        scratch = None if want_grad else np.empty((min(block_rows, num_rows), num_classes), dtype)
        while (start := next_start()) is not None:
            stop = min(start + block_rows, num_rows)
            buf = grad[start:stop] if want_grad else scratch[: stop - start]
            _block(prob, start, stop, buf, losses, want_grad)

    helpers = [_thread_pool().submit(work) for _ in range(threads - 1)]
    try:
        work()  # the calling thread works too
    finally:
        for helper in helpers:
            helper.result()  # wait for all; re-raises a helper's exception (bad logits)
    return losses, grad


def _reduce(prob: _Problem, losses: np.ndarray) -> np.ndarray | np.floating:
    if prob.reduction == "none":
        return losses.reshape(prob.out_shape)
    total = losses.sum(dtype=losses.dtype)
    if prob.reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):  # nothing to average: nan, as torch
        return (total / prob.denominator).astype(losses.dtype)[()]


# --------------------------------------------------------------------------- public API


def cross_entropy_and_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> tuple[np.ndarray | np.floating, np.ndarray]:
    """Loss and ``dL/dlogits`` from one shared softmax pass (same arguments as
    :func:`cross_entropy`).

    Per sample, ``dloss_i/dz_i = (sum_c u_ic) softmax(z_i) - u_i``, which is ``p - onehot(y)``
    in the plain case; the reduction then scales it (``1/W`` for 'mean'). For
    reduction='none' the gradient is that of ``sum(losses)``. The gradient has the logits'
    shape and dtype. See chapter 4 (The cross-entropy + softmax gradient) and chapter 5
    (Weighted cross-entropy).
    """
    prob = _prepare(logits, target, weight, ignore_index, reduction, label_smoothing)
    losses, grad_rows = _run(prob, want_grad=True)
    return _reduce(prob, losses), _from_rows(grad_rows, prob.logits.shape)


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

    Class indices y:  ``loss_i = (1-eps) w[y_i] (-log p_i[y_i]) + (eps/C) sum_c w_c (-log p_ic)``
    with ``p_i = softmax(z_i)``; rows with ``y_i == ignore_index`` give 0. 'mean' divides
    the sum by ``W = sum_i w[y_i]`` over non-ignored rows (nan if there are none).

    Class probabilities t:  ``loss_i = -sum_c w_c t'_ic log p_ic`` with
    ``t' = (1-eps) t + eps/C``; 'mean' divides by the number of rows (N * d1 * ...), not by
    a weight sum. ``ignore_index`` is not allowed here (torch silently ignores it).

    logits: (C,), (N, C) or (N, C, d1, ...), class axis 1 (0 for 1-D). weight: (C,) >= 0.
    reduction: 'mean' | 'sum' | 'none'. label_smoothing eps in [0, 1].
    See chapter 4 (The cross-entropy + softmax gradient) and chapter 5 (Weighted
    cross-entropy).
    """
    prob = _prepare(logits, target, weight, ignore_index, reduction, label_smoothing)
    losses, _ = _run(prob, want_grad=False)
    return _reduce(prob, losses)


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

    Plain case, reduction='mean': ``(softmax(z) - onehot(y)) / N``. For reduction='none'
    it is the gradient of ``sum(losses)``. See chapter 4 (The cross-entropy + softmax
    gradient).
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
