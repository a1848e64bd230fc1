"""``C += A @ B`` in one BLAS call, where NumPy's own OpenBLAS can be reached.

NumPy has no accumulating matrix product: ``np.matmul(a, b, out=c)`` overwrites ``c``, so
``c += a @ b`` costs a temporary and a separate pass over ``c``. BLAS's gemm computes
``C = alpha op(A) op(B) + beta C`` in one pass over ``C``; with ``beta = 1`` it accumulates.
NumPy's wheels bundle OpenBLAS (the ``scipy-openblas`` build, 64-bit integers, symbols with
a ``scipy_`` prefix and a ``64_`` suffix) in ``numpy.libs`` (Linux, Windows) or
``numpy/.dylibs`` (macOS); this module finds its ``cblas_sgemm`` and ``cblas_dgemm`` with
ctypes. Where it cannot (another NumPy build, ``XENT_NO_BLAS=1`` in the environment, or a
layout BLAS cannot take), :func:`matmul_add` returns False and the caller does the same with
NumPy. Used by :mod:`xent.linear_ce` (chapter 9).

Every argument is checked before the call (dtype, shape, contiguity, no overlap), so the
foreign function only ever sees memory that NumPy owns with the sizes it expects.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["available", "matmul_add"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS enum values
_SYMBOLS = {
    np.dtype(np.float32): "scipy_cblas_sgemm64_",
    np.dtype(np.float64): "scipy_cblas_dgemm64_",
}
_SCALAR = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}


def _library_candidates() -> list[Path]:
    """NumPy's bundled OpenBLAS files, where its wheels put them."""
    package = Path(np.__file__).resolve().parent
    found: list[Path] = []
    for folder in (package.parent / "numpy.libs", package / ".dylibs"):
        if folder.is_dir():
            found += sorted(folder.glob("libscipy_openblas64_*"))
    return found


@cache
def _functions() -> dict[np.dtype, Any]:
    """dtype -> the ctypes gemm function for it; empty if none could be loaded."""
    if os.environ.get("XENT_NO_BLAS"):
        return {}
    for path in _library_candidates():
        try:
            lib = ctypes.CDLL(str(path))
            found = {dtype: getattr(lib, symbol) for dtype, symbol in _SYMBOLS.items()}
        except (OSError, AttributeError):
            continue
        i64, ptr, enum = ctypes.c_int64, ctypes.c_void_p, ctypes.c_int
        for dtype, function in found.items():
            real = _SCALAR[dtype]
            # order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc
            function.argtypes = [enum, enum, enum, i64, i64, i64, real, ptr, i64, ptr, i64,
                                 real, ptr, i64]  # fmt: skip
            function.restype = None
        return found
    return {}


def available(dtype: Any = np.float32) -> bool:
    """True if :func:`matmul_add` can use BLAS for arrays of ``dtype``."""
    return np.dtype(dtype) in _functions()


def _operand(a: np.ndarray) -> tuple[int, int] | None:
    """(transpose flag, leading dimension) describing the 2-D array ``a`` to row-major
    BLAS: rows of contiguous elements (no transpose) or columns of them (transpose); None
    for any other layout."""
    item = a.itemsize
    rows, cols = a.shape
    s0, s1 = a.strides
    if s1 == item and s0 % item == 0 and s0 // item >= max(1, cols):
        return _NO_TRANS, s0 // item
    if s0 == item and s1 % item == 0 and s1 // item >= max(1, rows):
        return _TRANS, s1 // item
    return None


def matmul_add(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> bool:
    """``out += a @ b`` in one gemm call (``beta = 1``); return False, leaving ``out``
    untouched, when BLAS cannot take these arrays (the caller then uses NumPy).

    a: (M, K), b: (K, N), out: (M, N), all float32 or all float64 ndarrays, each a strided
    view whose rows or columns are contiguous; ``out`` writeable, with contiguous rows, and
    sharing no memory with ``a`` or ``b``."""
    arrays = (a, b, out)
    if not all(isinstance(arr, np.ndarray) and arr.ndim == 2 for arr in arrays):
        return False
    dtype = out.dtype
    function = _functions().get(dtype)
    if function is None or a.dtype != dtype or b.dtype != dtype:
        return False
    (m, k), (k2, n) = a.shape, b.shape
    if k != k2 or out.shape != (m, n) or 0 in (m, n, k):
        return False
    if not out.flags.writeable or np.may_share_memory(out, a) or np.may_share_memory(out, b):
        return False
    layout_a, layout_b, layout_out = _operand(a), _operand(b), _operand(out)
    if layout_a is None or layout_b is None or layout_out is None or layout_out[0] != _NO_TRANS:
        return False
    one = _SCALAR[dtype](1.0)
    function(
        _ROW_MAJOR, layout_a[0], layout_b[0], m, n, k, one, a.ctypes.data, layout_a[1],
        b.ctypes.data, layout_b[1], one, out.ctypes.data, layout_out[1],
    )  # fmt: skip
    return True
