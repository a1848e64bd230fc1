"""The fused path: the loss of :mod:`xent.losses` and its gradient, made fast.

Same arguments, same validation (``xent._loss_args``), same numbers as the readable reference
``xent.cross_entropy_and_grad`` (a property test checks it over every option), computed
faster. This is what training (``xent.nn.CrossEntropyLoss``) and the benchmarks call:

    loss, grad = xent.fused.cross_entropy_and_grad(logits, target, weight=w)
    xent.fused.set_num_threads(1)   # 1 or more; default min(2, usable CPUs)

The reference computes ``log_softmax`` for the whole array and then ``(sum u) p - u``, with a
handful of full-size temporaries. Here every variant is reduced to a few numbers per row (the
coefficient ``a_i = (1-eps) w_y`` of the one-hot part of ``u_i``, ``b_i = eps/C`` of its
uniform part, or the rows ``u_i`` for probability targets), and one softmax pass per block of
rows writes the gradient in place in its own memory:

* blocks of rows that stay in the L2 cache between the passes over them;
* blocks shared out between the calling thread and a small pool (NumPy releases the GIL in
  its big loops);
* no max-subtraction where it is provably unneeded (see :func:`_exp_unshifted`);
* row sums with ``einsum`` and, for few classes, row maxima column by column (NumPy's
  reductions along a short axis pay a per-row overhead).

The speed tricks are measured in benchmarks/README.md. See chapter 4 (The cross-entropy +
softmax gradient) and chapter 5 (Weighted cross-entropy) for the formulas.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._loss_args import LossArgs, check_row_max, from_rows, loss_args
from .losses import Reduction, effective_target, mean_denominator

__all__ = [
    "cross_entropy",
    "cross_entropy_and_grad",
    "cross_entropy_grad",
    "get_num_threads",
    "set_num_threads",
]

# Blocks of rows that stay in the L2 cache (2 MiB per core on the reference machine), so
# the passes over a block (exp, row sums, scale, -a at the targets) find it in cache: only
# the first read of z and the final write of the gradient go to memory. 512 KiB blocks are
# also big enough to amortise NumPy's per-call overhead (32 KiB blocks: ~50% more time).
_BLOCK_BYTES = 1 << 19
# From this many bytes of logits on, threads share out the blocks. Every NumPy call takes
# the GIL back and the Python between calls holds it: with 512 KiB blocks two threads
# mostly waited for each other (measured: no gain); with 2 MiB blocks they ran 1.7x faster.
_PARALLEL_MIN_BYTES = 1 << 20
_THREADED_BLOCK_BYTES = 1 << 21
# Up to this many classes, row maxima are computed column by column (see _row_max).
_FEW_CLASSES = 32
# Skip the max-subtraction only if every row sum of exp(z) is at least this (see
# _exp_unshifted).
_MIN_ROW_SUM = 2.0**-6

# --------------------------------------------------------------------------- threads

_USABLE_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
_threads = {"n": max(1, min(2, _USABLE_CPUS or 1)), "pool": None}
_threads_lock = threading.Lock()


def set_num_threads(num_threads: int) -> None:
    """Use ``num_threads`` threads (>= 1) for large inputs: the caller and a pool of
    ``num_threads - 1`` helpers. The default is min(2, usable CPUs), like torch on 2 cores."""
    if isinstance(num_threads, bool) or not isinstance(num_threads, Integral):
        raise TypeError(f"num_threads: expected an integer >= 1; got {num_threads!r}")
    if num_threads < 1:
        raise ValueError(f"num_threads: expected an integer >= 1; got {num_threads}")
    with _threads_lock:
        if _threads["n"] != num_threads and _threads["pool"] is not None:
            _threads["pool"].shutdown(wait=True)
            _threads["pool"] = None
        _threads["n"] = int(num_threads)


def get_num_threads() -> int:
    """The number of threads large inputs are shared between (see
    :func:`xent.fused.set_num_threads`)."""
    return _threads["n"]


def _pool() -> ThreadPoolExecutor:
    """The helper threads, created on first use (only when more than one thread is set)."""
    with _threads_lock:
        if _threads["pool"] is None:
            _threads["pool"] = ThreadPoolExecutor(_threads["n"] - 1, thread_name_prefix="xent")
        return _threads["pool"]


if hasattr(os, "register_at_fork"):  # a forked child has no threads: it makes a new pool
    os.register_at_fork(after_in_child=lambda: _threads.update(pool=None))


# --------------------------------------------------------------------------- the plan


class _Plan(NamedTuple):
    """The problem as a few numbers per row; the gradient is ``scale * ((sum u) p - u)``."""

    args: LossArgs
    a: np.ndarray | None  # (M,) (1-eps) w[y_i], 0 on ignored rows (class indices)
    b: np.ndarray | None  # (M,) eps/C, 0 on ignored rows; None if eps = 0
    u: np.ndarray | None  # (M, C) effective targets (probability targets only)
    scale: Any  # the reduction's factor for the gradient: 1, or 1/Omega for 'mean'


def _plan(args: LossArgs) -> _Plan:
    dtype = args.z.dtype
    num_classes = args.z.shape[1]
    scale = dtype.type(1)
    if args.reduction == "mean":
        omega = mean_denominator(args)
        scale = dtype.type(1) / omega if omega else dtype.type(1)  # Omega = 0: see _reduce
    if args.t is not None:  # probability targets: the reference's u rows, as they are
        return _Plan(args, None, None, effective_target(args), scale)
    w_y = args.keep.astype(dtype) if args.weight is None else args.weight[args.y] * args.keep
    a = (1 - args.smoothing) * w_y if args.smoothing else w_y
    b = np.where(args.keep, args.smoothing / num_classes, 0).astype(dtype)
    return _Plan(args, a, b if args.smoothing else None, None, scale)


# --------------------------------------------------------------------------- one block


def _row_max(z: np.ndarray) -> np.ndarray:
    """``z.max(axis=1)``; with few classes as C long ``maximum`` calls over the columns,
    avoiding NumPy's per-row overhead for a reduction along a short axis."""
    if z.shape[1] > _FEW_CLASSES:
        return z.max(axis=1)
    m = z[:, 0].copy()
    for j in range(1, z.shape[1]):
        np.maximum(m, z[:, j], out=m)  # propagates nan, so check_row_max still sees it
    return m


def _row_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=1)`` via ``einsum``, which avoids the same short-axis overhead."""
    return np.einsum("ij->i", x)


def _exp_unshifted(z: np.ndarray, buf: np.ndarray, a: np.ndarray, scale: Any):
    """Try the shift-free pass: ``buf = exp(z)``; return the row sums ``s``, or None when
    the block needs the max-subtraction after all.

    Softmax is shift-invariant, so subtracting the row max only matters for rounding; it
    costs a row reduction and a full subtraction. Skipping it is exactly as accurate when,
    in every row,

    * ``s`` is finite (no overflow; nan and +inf logits also fail here), and at least
      ``2**-6``: then ``exp(z_c) = p_c s`` is subnormal only where torch's own ``p_c`` is
      at most 2**6 above the subnormal range, where torch's ``exp(log p_c)`` already
      carries a relative error of about 2**-18 (|log p_c| > 80);
    * the gradient's row factor ``scale * a / s`` is a normal float (or the row's ``a`` is
      0): a large ``s`` with small weights must not push it into the subnormal range,
      where it would lose bits that the shifted pass keeps.
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        np.exp(z, out=buf)
        s = _row_sum(buf)
        if not np.all((s >= _MIN_ROW_SUM) & (s <= np.finfo(z.dtype).max)):
            return None
        factor = (scale * a) / s
    if not np.all((factor >= np.finfo(z.dtype).tiny) | (a == 0)):
        return None
    return s


def _block(
    plan: _Plan, lo: int, hi: int, buf: np.ndarray, losses: np.ndarray,
    grad: np.ndarray | None,
):  # fmt: skip
    """Rows ``lo:hi``: the per-row losses into ``losses[lo:hi]`` and, if ``grad`` is given,
    the gradient into ``grad`` (its rows ``lo:hi``), using ``buf`` (hi - lo rows) as the
    workspace. ``buf`` is either those gradient rows themselves or a scratch block; with a
    scratch block, ``grad`` is written only by the last step, after every read of ``z``, so
    ``grad`` may be the logits' own rows (``out=logits``).

    One softmax pass in place in ``buf``: with a shift ``m`` (the row max, or 0 on the
    shift-free path) ``e = exp(z - m)``, ``s = sum e``, ``log p = (z - m) - log s``. The
    loss is assembled from non-negative pieces, so nothing large cancels in float32:

    * ``-log p_y = log(s / e_y)``, or ``log s + (m - z_y)`` when ``e_y`` underflows;
    * ``-(u . log p) = (sum u) log s - u . (z - m)``  (smoothing, probability targets).

    The gradient ``scale * ((sum u) e / s - u)`` is written over ``e`` (or from it).
    """
    args = plan.args
    z = args.z[lo:hi]
    g = None if grad is None else grad[lo:hi]
    s = None
    if plan.u is None and plan.b is None:  # plain or weighted NLL: try the shift-free pass
        s = _exp_unshifted(z, buf, plan.a[lo:hi], plan.scale)
        m = 0
    if s is None:
        m = _row_max(z)
        check_row_max(m, args.z)  # no nan, +inf or all -inf row (names the first bad one)
        np.subtract(z, m[:, None], out=buf)  # z - m, needed for the dot products below
        with np.errstate(invalid="ignore"):  # 0 * -inf at a masked class: nan, as torch
            if plan.u is not None:
                u = plan.u[lo:hi]
                u_dot_d = np.einsum("ij,ij->i", u, buf)
            elif plan.b is not None:
                w = np.ones(z.shape[1], z.dtype) if args.weight is None else args.weight
                w_dot_d = np.einsum("ij,j->i", buf, w)  # einsum, not BLAS: no extra threads
        np.exp(buf, out=buf)
        s = _row_sum(buf)
    log_s = np.log(s)

    if plan.u is not None:  # probability targets
        u_sum = _row_sum(u)
        losses[lo:hi] = u_sum * log_s - u_dot_d
        if g is not None:
            np.multiply(buf, (plan.scale * u_sum / s)[:, None], out=g)
            g -= plan.scale * u
        return

    # class indices: u = a e_y + b w, so sum u = a + b sum(w)
    rows = np.arange(hi - lo)
    y = args.y[lo:hi]
    a = plan.a[lo:hi]
    e_y = buf[rows, y]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        ratio = s / e_y
        ratio_ok = (e_y >= np.finfo(z.dtype).tiny) & (ratio <= np.finfo(z.dtype).max)
        nll = np.where(ratio_ok, np.log(np.where(ratio_ok, ratio, 1)), log_s + (m - z[rows, y]))
        loss = a * nll  # 0 * inf (weight 0, masked target): nan, as torch
        if plan.b is not None:  # smoothing: b (-(w . log p)) = b (sum(w) log s - w . (z - m))
            w_sum = z.shape[1] if args.weight is None else args.weight.sum()
            loss += plan.b[lo:hi] * (w_sum * log_s - w_dot_d)
    losses[lo:hi] = np.where(args.keep[lo:hi], loss, 0)  # ignored rows: 0, whatever z holds
    if g is not None:
        u_sum = a if plan.b is None else a + plan.b[lo:hi] * w_sum
        np.multiply(buf, (plan.scale * u_sum / s)[:, None], out=g)  # scale (sum u) p, from e
        g[rows, y] -= plan.scale * a  # - scale a e_y
        if plan.b is not None:  # - scale b w
            gb = (plan.scale * plan.b[lo:hi])[:, None]
            g -= gb if args.weight is None else gb * args.weight


# --------------------------------------------------------------------------- all blocks


def _run(
    plan: _Plan, want_grad: bool, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row losses (M,) and, if wanted, the gradient rows (M, C), block by block, into
    ``out`` (rows of shape (M, C)) if given: a separate array or the logits' own rows."""
    num_rows, num_classes = plan.args.z.shape
    dtype = plan.args.z.dtype
    losses = np.empty(num_rows, dtype=dtype)
    grad = None
    if want_grad:
        grad = np.empty((num_rows, num_classes), dtype=dtype) if out is None else out
    # the gradient written over the logits: the exponentials go to a scratch block
    in_place = out is not None and np.may_share_memory(out, plan.args.z)
    row_bytes = num_classes * dtype.itemsize
    threads = get_num_threads() if num_rows * row_bytes >= _PARALLEL_MIN_BYTES else 1
    block_bytes = _BLOCK_BYTES
    if threads > 1:  # big blocks (see _THREADED_BLOCK_BYTES), at least two per thread
        share = num_rows * row_bytes // (2 * threads)
        block_bytes = min(_THREADED_BLOCK_BYTES, max(_BLOCK_BYTES, share))
    block_rows = max(1, block_bytes // row_bytes)
    starts = iter(range(0, num_rows, block_rows))
    lock = threading.Lock()

    def next_start() -> int | None:
        with lock:
            return next(starts, None)

    def work() -> None:
        # Each thread takes the next unprocessed block until none is left, so a thread that
        # starts late on a busy machine holds nobody up. Without a gradient to write into,
        # or when it is written over the logits, a small scratch buffer holds the
        # exponentials.
        use_grad = want_grad and not in_place
        scratch = None if use_grad else np.empty((min(block_rows, num_rows), num_classes), dtype)
        while (start := next_start()) is not None:
            stop = min(start + block_rows, num_rows)
            buf = grad[start:stop] if use_grad else scratch[: stop - start]
            _block(plan, start, stop, buf, losses, grad)

    helpers = [_pool().submit(work) for _ in range(threads - 1)]
    try:
        work()  # the calling thread works too
    finally:
        for helper in helpers:
            helper.result()  # wait for all; re-raises a helper's exception (bad logits)
    return losses, grad


def _reduce(plan: _Plan, losses: np.ndarray, grad: np.ndarray | None):
    """The reduction of the losses; the gradient was already scaled in the blocks, except
    when 'mean' has nothing to average (Omega = 0): then, as torch, the loss is nan and so
    is the gradient of every row not ignored."""
    args = plan.args
    if args.reduction == "none":
        return losses.reshape(args.out_shape), grad
    total = losses.sum(dtype=losses.dtype)
    if args.reduction == "sum":
        return total, grad
    omega = mean_denominator(args)
    if not omega:
        if grad is not None and args.keep is not None:
            grad[args.keep] = np.nan
        return losses.dtype.type(np.nan), grad
    return (total / omega).astype(losses.dtype)[()], grad


# --------------------------------------------------------------------------- public API


def cross_entropy_and_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray | np.floating, np.ndarray]:
    """:func:`xent.cross_entropy_and_grad`, fused: the loss and ``dL/dlogits`` from one
    softmax pass per block of rows, ``(sum u) p - u`` written in place. Same arguments,
    results and errors. See chapter 4 (The cross-entropy + softmax gradient).

    out: where to write the gradient (returned as the second result) instead of a new
    array: a C-contiguous ndarray of the logits' shape and the result dtype, for logits of
    shape (C,) or (N, C). It may be a separate array or the logits array itself
    (``out=logits``): then the gradient overwrites the logits, which saves the memory of a
    second (N, C) array (used by :func:`xent.linear_cross_entropy_and_grad`); if an error
    is raised for bad logit values, they are left partly overwritten."""
    plan = _plan(loss_args(logits, target, weight, ignore_index, reduction, label_smoothing))
    rows_out = None if out is None else _check_out(out, plan.args)
    loss, grad = _reduce(plan, *_run(plan, want_grad=True, out=rows_out))
    return loss, (out if out is not None else from_rows(grad, plan.args.shape))


def _check_out(out: Any, args: LossArgs) -> np.ndarray:
    """Validate ``out`` for :func:`cross_entropy_and_grad`; return it as (M, C) rows."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out: expected a NumPy array or None; got {type(out).__name__}")
    if len(args.shape) > 2:
        raise ValueError(
            f"out: supported only for logits of shape (C,) or (N, C); got logits of shape "
            f"{args.shape}"
        )
    if out.shape != args.shape or out.dtype != args.z.dtype:
        raise ValueError(
            f"out: expected shape {args.shape} and dtype {args.z.dtype}; got shape "
            f"{out.shape} and dtype {out.dtype}"
        )
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out: expected a writeable C-contiguous array")
    rows = out.reshape(args.z.shape)  # a view: out is C-contiguous
    # both are C-contiguous with the same shape: the same start means the same elements
    same_start = rows.__array_interface__["data"][0] == args.z.__array_interface__["data"][0]
    if np.may_share_memory(rows, args.z) and not same_start:
        raise ValueError("out: overlaps the logits without being the logits array itself")
    return rows


def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> np.ndarray | np.floating:
    """:func:`xent.cross_entropy`, fused: ``-(u . log_softmax(z))`` per row, reduced, without
    materialising ``log_softmax``. Same arguments, results and errors. See chapter 4."""
    plan = _plan(loss_args(logits, target, weight, ignore_index, reduction, label_smoothing))
    return _reduce(plan, *_run(plan, want_grad=False))[0]


def cross_entropy_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> np.ndarray:
    """:func:`xent.cross_entropy_grad`, fused (same arguments). See chapter 4."""
    return cross_entropy_and_grad(
        logits, target, weight=weight, ignore_index=ignore_index, reduction=reduction,
        label_smoothing=label_smoothing,
    )[1]  # fmt: skip
