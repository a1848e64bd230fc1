"""Cross-entropy of a linear layer's output, without ever holding the N x V logits.

See chapter 9 (Numbers and scale), section "A loss over a huge vocabulary without its logits".

A language model's last layer maps N hidden states ``x`` (N, d) to logits ``Z = x W + b``
over a vocabulary of V classes (``W`` of shape (d, V), as in :class:`xent.nn.Linear`). For
N = 8192 tokens and V = 128,000 the logits alone take 4 GiB in float32, and their gradient
another 4 GiB, although everything the training step needs from them is small: the loss and

    dL/dx = G W^T   (N, d),     dL/dW = x^T G   (d, V),     dL/db = sum_i G_i   (V,)

with ``G = dL/dZ`` the cross-entropy gradient of chapter 4. Every row of ``G`` depends only
on the same row of ``Z``, so the rows can be taken a chunk at a time: for rows ``i0:i1``,
compute ``Z_c = x_c W + b``, its loss and ``G_c``, then ``dx_c = G_c W^T`` and
``dW += x_c^T G_c``, ``db += sum G_c``. Only one chunk of logits exists at any time, and
its gradient overwrites it (``xent.fused.cross_entropy_and_grad(..., out=Z_c)``); the chunk
buffer is allocated once and reused, so no chunk pays for fresh memory.

The one global quantity is the 'mean' denominator ``Omega``, the number of non-ignored
targets: it is known from the targets before any logit is computed, so every chunk is
computed as a 'sum' and scaled by ``1 / Omega``.

Two of the per-chunk steps accumulate: ``dW += x_c^T G_c`` and ``Z_c = x_c W + b``. NumPy has
no accumulating product, so where NumPy's own OpenBLAS can be reached (:mod:`xent._blas`) each
is one gemm call with ``beta = 1`` (for the logits: ``b`` copied into the chunk, the product
added to it); elsewhere NumPy does the same in two steps, with the same results.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike

from . import _blas
from ._checks import (
    as_array,
    as_float_array,
    check_class_indices,
    check_finite,
    check_integer_array,
)

__all__ = ["DEFAULT_CHUNK_BYTES", "default_chunk_size", "linear_cross_entropy_and_grad"]

# Memory budget for one chunk of logits, whose gradient is written over it. 64 MiB keeps
# the whole computation at N=2048, d=256, V=65536 in float32 under 160 MiB including the
# 64 MiB dW output (the materialised path needs 3 x 512 MiB). Bigger chunks would be a little
# faster (every chunk reads all of W twice, in x_c W and G_c W^T), smaller ones slower
# (measured in benchmarks/README.md).
DEFAULT_CHUNK_BYTES = 64 << 20
# Without BLAS's accumulating gemm, dW is accumulated in column blocks of this many bytes,
# through one reused buffer, so the product x_c^T G_c never needs a second (d, V) array.
_DW_BLOCK_BYTES = 8 << 20
_REDUCTIONS = ("mean", "sum", "none")
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def default_chunk_size(num_classes: int, dtype: ArrayLike = np.float32) -> int:
    """Rows per chunk: as many as fit ``DEFAULT_CHUNK_BYTES`` of logits (at least 1), for
    ``num_classes`` classes in ``dtype`` (float32 or float64)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, Integral):
        raise TypeError(f"num_classes: expected a positive integer; got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes: expected a positive integer; got {num_classes}")
    try:
        itemsize = np.dtype(dtype).itemsize if np.dtype(dtype) in _FLOAT_DTYPES else None
    except TypeError:
        itemsize = None
    if itemsize is None:
        raise TypeError(f"dtype: expected float32 or float64; got {dtype!r}")
    return max(1, DEFAULT_CHUNK_BYTES // (int(num_classes) * itemsize))


def _check_args(x, W, target, b, ignore_index, reduction, label_smoothing, chunk_size):
    """Validate everything before any product is computed; return the arrays to use."""
    x = as_float_array(x, "x")
    W = as_float_array(W, "W")
    if x.ndim != 2:
        raise ValueError(f"x: expected hidden states of shape (N, d); got shape {x.shape}")
    if W.ndim != 2:
        raise ValueError(f"W: expected a weight matrix of shape (d, V); got shape {W.shape}")
    if W.shape[0] != x.shape[1]:
        raise ValueError(
            f"W: expected shape (d, V) with d = {x.shape[1]} (x has shape {x.shape}); "
            f"got shape {W.shape}"
        )
    if W.shape[1] == 0:
        raise ValueError(f"W: expected at least one class (V >= 1); got shape {W.shape}")
    num_rows, num_classes = x.shape[0], W.shape[1]
    arrays = [x, W]
    if b is not None:
        b = as_float_array(b, "b")
        if b.shape != (num_classes,):
            raise ValueError(
                f"b: expected one bias per class, shape ({num_classes},); got {b.shape}"
            )
        arrays.append(b)
    dtype = np.result_type(*arrays)  # float32 only if every array is float32, as x @ W + b
    x, W = x.astype(dtype, copy=False), W.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    check_finite(x, "x")  # x is small (N x d); W and b are checked by their extremes
    max_abs = {"W": _finite_max_abs(W), "b": 0.0 if b is None else _finite_max_abs(b)}
    for arr, name in ((W, "W"), (b, "b")):
        if arr is not None and not max_abs[name] < np.inf:
            check_finite(arr, name)  # raises, naming the first bad entry

    tgt = as_array(target, "target")
    if tgt.ndim == 2 and tgt.shape == (num_rows, num_classes) and tgt.dtype.kind == "f":
        raise TypeError(
            "target: expected class indices of shape (N,); class-probability targets are "
            "not supported here (they would be the N x V array this function avoids)"
        )
    tgt = check_integer_array(tgt, "target")
    if tgt.shape != (num_rows,):
        raise ValueError(
            f"target: expected class indices of shape ({num_rows},) (x has shape {x.shape}); "
            f"got shape {tgt.shape}"
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, Integral):
        raise TypeError(f"ignore_index: expected an integer; got {ignore_index!r}")
    check_class_indices(tgt, num_classes, "target", int(ignore_index))

    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"reduction: expected one of 'mean', 'sum', 'none'; got {reduction!r}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, Real):
        raise TypeError(f"label_smoothing: expected a float in [0, 1]; got {label_smoothing!r}")
    if not 0.0 <= float(label_smoothing) <= 1.0:  # also rejects nan
        raise ValueError(f"label_smoothing: expected a float in [0, 1]; got {label_smoothing!r}")

    if chunk_size is None:
        chunk_size = default_chunk_size(num_classes, dtype)
    elif isinstance(chunk_size, bool) or not isinstance(chunk_size, Integral):
        raise TypeError(f"chunk_size: expected a positive integer or None; got {chunk_size!r}")
    elif chunk_size <= 0:
        raise ValueError(f"chunk_size: expected a positive integer or None; got {chunk_size}")
    return x, W, tgt, b, int(chunk_size), max_abs


def _finite_max_abs(arr: np.ndarray) -> float:
    """``max |arr|`` (0 for an empty array) as a Python float: inf or nan if ``arr`` has a
    non-finite entry (``max`` and ``min`` propagate nan). Two passes without temporaries,
    where ``np.isfinite(arr).all()`` would build a boolean copy of W; the same number
    then bounds the logits (:func:`_logits_cannot_overflow`)."""
    if arr.size == 0:
        return 0.0
    return max(float(arr.max()), -float(arr.min()))


def _logits_cannot_overflow(x: np.ndarray, max_abs_W: float, max_abs_b: float) -> bool:
    """True if no entry of ``x @ W + b`` can overflow, by the bound
    ``|Z_ij| <= max_i ||x_i||_1 max|W| + max|b|`` (computed in float64), with a factor 2 for
    the rounding of the products (which is below ``(d + 1) eps`` relative). It reads W once
    instead of every chunk of logits twice; when it fails, each chunk is checked."""
    if x.size == 0:
        return True
    eps = float(np.finfo(x.dtype).eps)
    with np.errstate(over="ignore"):  # an infinite bound just means: check every chunk
        bound = float(np.abs(x).sum(axis=1, dtype=np.float64).max()) * max_abs_W + max_abs_b
    return (x.shape[1] + 1) * eps < 0.5 and 2 * bound < float(np.finfo(x.dtype).max)


def _logits(x_c: np.ndarray, W: np.ndarray, b: np.ndarray | None, out: np.ndarray) -> None:
    """``out = x_c @ W + b``. With BLAS reachable (:mod:`xent._blas`) the bias is copied into
    ``out`` and the product added to it in the same call (gemm with beta = 1), which saves
    the separate read-and-write pass of ``+= b`` over the chunk."""
    if b is None:
        np.matmul(x_c, W, out=out)
        return
    out[...] = b
    if not _blas.matmul_add(x_c, W, out):
        np.matmul(x_c, W, out=out)
        out += b


def _dW_block_cols(dW: np.ndarray) -> int:
    """Columns per block of :func:`_accumulate_dW`: ``_DW_BLOCK_BYTES`` of dW (at least 1)."""
    return max(1, _DW_BLOCK_BYTES // max(1, dW.shape[0] * dW.itemsize))


def _accumulate_dW(
    dW: np.ndarray, x_c: np.ndarray, G_c: np.ndarray, first: bool, tmp: np.ndarray | None
) -> np.ndarray | None:
    """``dW += x_c^T G_c`` (or ``=`` for the first chunk). In one gemm call with beta = 1
    where BLAS is reachable (:mod:`xent._blas`); otherwise in column blocks, through the
    reused buffer ``tmp`` of shape (d, _dW_block_cols(dW)) (allocated on first need and
    returned for the next call), instead of a second (d, V) array."""
    if first:
        np.matmul(x_c.T, G_c, out=dW)
        return tmp
    if _blas.matmul_add(x_c.T, G_c, dW):
        return tmp
    num_classes = dW.shape[1]
    if tmp is None:
        tmp = np.empty((dW.shape[0], min(_dW_block_cols(dW), num_classes)), dW.dtype)
    cols = tmp.shape[1]
    for j in range(0, num_classes, cols):
        k = min(cols, num_classes - j)
        np.matmul(x_c.T, G_c[:, j : j + k], out=tmp[:, :k])
        dW[:, j : j + k] += tmp[:, :k]
    return tmp


def linear_cross_entropy_and_grad(
    x: ArrayLike,
    W: ArrayLike,
    target: ArrayLike,
    *,
    b: ArrayLike | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    chunk_size: int | None = None,
) -> tuple[np.ndarray | np.floating, np.ndarray, np.ndarray, np.ndarray | None]:
    r"""Cross-entropy of the logits ``Z = x @ W + b`` and its gradients, in row chunks.

    Returns ``(loss, dx, dW, db)``, equal (up to rounding) to the materialised path
    ``loss, G = cross_entropy_and_grad(x @ W + b, target, ...)``, then
    ``dx = G @ W.T``, ``dW = x.T @ G``, ``db = G.sum(axis=0)`` (``db`` is None when ``b`` is),
    but no (N, V) array is ever allocated: rows are processed ``chunk_size`` at a time

    .. math::

        Z_c = x_c W + b, \qquad G_c = \partial L / \partial Z_c,

    .. math::

        dx_c = G_c W^\top, \qquad dW \mathrel{+}= x_c^\top G_c, \qquad
        db \mathrel{+}= \textstyle\sum_i G_{c,i}.

    x: (N, d) hidden states. W: (d, V), as in :class:`xent.nn.Linear`. b: (V,) or None.
    target: (N,) class indices in ``[0, V)`` or ``ignore_index``. ``ignore_index``,
    ``reduction`` ('mean' | 'sum' | 'none') and ``label_smoothing`` mean exactly what they
    mean in :func:`xent.cross_entropy`; 'mean' divides by the number of non-ignored targets
    (nan if there are none), and for 'none' the gradients are those of the summed losses.
    Probability targets are not accepted (they would be an (N, V) array themselves).
    chunk_size: rows per chunk; by default as many as fit 64 MiB of logits (the chunk's
    gradient is written over its logits, in one buffer allocated once).

    The result dtype is that of ``x @ W + b`` (float32 only if all of them are float32).
    See chapter 9 (Numbers and scale) and, for the gradient, chapter 4.
    """
    from .fused import cross_entropy_and_grad as chunk_loss_and_grad  # loaded on first use

    x, W, target, b, chunk_size, max_abs = _check_args(
        x, W, target, b, ignore_index, reduction, label_smoothing, chunk_size
    )
    num_rows, num_classes = x.shape[0], W.shape[1]
    dtype = x.dtype
    kept = int(np.count_nonzero(target != ignore_index))  # Omega, the 'mean' denominator
    # 1/Omega scales the 'sum' gradients (dx, dW, db are linear in G): dW through x, the
    # small ones at the end; with nothing kept every row's gradient is exactly 0 and stays
    # 0 (as in the materialised path), only the loss is 0/0 = nan
    grad_scale = dtype.type(1.0 / kept) if reduction == "mean" and kept else None
    x_for_dW = x if grad_scale is None else x * grad_scale
    chunk_reduction = "none" if reduction == "none" else "sum"
    check_chunks = not _logits_cannot_overflow(x, max_abs["W"], max_abs["b"])

    dx = np.empty_like(x)
    dW = np.empty_like(W) if num_rows else np.zeros_like(W)  # the first chunk writes it
    db = None if b is None else np.zeros(num_classes, dtype)
    losses = np.empty(num_rows, dtype) if reduction == "none" else None
    total = dtype.type(0)
    # allocated once: the chunk's logits, then (in place) its gradient
    chunk = np.empty((min(chunk_size, num_rows), num_classes), dtype)
    ones = np.ones(min(chunk_size, num_rows), dtype)  # db_c = ones @ G_c, a BLAS product
    db_c = None if b is None else np.empty(num_classes, dtype)
    dW_tmp = None  # dW's block buffer, only if BLAS cannot accumulate (see _accumulate_dW)
    for lo in range(0, num_rows, chunk_size):
        hi = min(lo + chunk_size, num_rows)
        x_c = x[lo:hi]
        Z_c = chunk[: hi - lo]
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            _logits(x_c, W, b, out=Z_c)
        # x, W, b are finite, so a non-finite logit is an overflow of the product
        if check_chunks and not (np.isfinite(Z_c.max()) and np.isfinite(Z_c.min())):
            raise ValueError(
                f"x: the logits x @ W + b overflow {dtype} in rows {lo}..{hi - 1}; "
                f"scale x or W down (or compute in float64)"
            )
        loss_c, G_c = chunk_loss_and_grad(
            Z_c, target[lo:hi], ignore_index=ignore_index, reduction=chunk_reduction,
            label_smoothing=label_smoothing, out=Z_c,
        )  # fmt: skip  # G_c is Z_c, overwritten
        if losses is not None:
            losses[lo:hi] = loss_c
        else:
            total += loss_c
        np.matmul(G_c, W.T, out=dx[lo:hi])
        dW_tmp = _accumulate_dW(dW, x_for_dW[lo:hi], G_c, first=lo == 0, tmp=dW_tmp)
        if db is not None:
            db += np.matmul(ones[: hi - lo], G_c, out=db_c)
    if grad_scale is not None:
        dx *= grad_scale
        if db is not None:
            db *= grad_scale

    if reduction == "none":
        loss = losses
    elif reduction == "sum":
        loss = total
    else:
        with np.errstate(invalid="ignore", divide="ignore"):  # nothing kept: nan, as torch
            loss = (total / dtype.type(kept)).astype(dtype)[()]
    return loss, dx, dW, db
