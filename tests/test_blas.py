"""xent._blas.matmul_add: ``out += a @ b`` in one gemm call, or False (and ``out`` untouched)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import xent
from xent import _blas

pytestmark = pytest.mark.skipif(
    not _blas.available(np.float32), reason="this NumPy build bundles no scipy-openblas"
)


def layouts(rng, shape, dtype):
    """The same matrix in the layouts BLAS takes: C-ordered, transposed, row-strided."""
    m = rng.standard_normal(shape).astype(dtype)
    yield "C", m
    yield "T", np.ascontiguousarray(m.T).T  # columns contiguous
    padded = np.zeros((shape[0], shape[1] + 3), dtype)
    padded[:, 1 : shape[1] + 1] = m
    yield "strided rows", padded[:, 1 : shape[1] + 1]


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (1, 7, 3), (5, 1, 4), (17, 33, 9), (64, 256, 300)])
def test_equals_numpy_in_every_layout(dtype, tol, m, k, n):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    for name_a, a in layouts(rng, (m, k), dtype):
        for name_b, b in layouts(rng, (k, n), dtype):
            start = rng.standard_normal((m, n + 2)).astype(dtype)[:, 1 : n + 1]  # strided out
            want = start.astype(np.float64) + a.astype(np.float64) @ b.astype(np.float64)
            out = start.copy()
            assert _blas.matmul_add(a, b, out), (name_a, name_b)
            np.testing.assert_allclose(out, want, rtol=tol, atol=tol * k, err_msg=name_a + name_b)


def test_declines_what_blas_cannot_take():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal((3, 5)).astype(np.float32)
    out = np.zeros((4, 5), np.float32)
    frozen = out.copy()
    frozen.flags.writeable = False
    big = np.zeros((8, 8), np.float32)
    cases = {
        "dtype mismatch": (a.astype(np.float64), b, out),
        "float16": (a.astype(np.float16), b.astype(np.float16), out.astype(np.float16)),
        "integers": (a.astype(int), b.astype(int), out.astype(int)),
        "inner sizes differ": (a, b[:2], out),
        "wrong out shape": (a, b, out[:3]),
        "empty": (a[:, :0], b[:0], out),
        "out transposed": (a, b, np.zeros((5, 4), np.float32).T),
        "out read-only": (a, b, frozen),
        "out overlaps a": (big[:4, :3], b, big[:4, :5]),
        "every other column": (a[:, ::2], b[::2], out),
        "not an array": (a.tolist(), b, out),
        "3-D": (a[None], b, out),
    }
    for name, (x, y, o) in cases.items():
        before = o.copy() if isinstance(o, np.ndarray) else None
        assert _blas.matmul_add(x, y, o) is False, name
        if before is not None:
            np.testing.assert_array_equal(o, before, err_msg=name)


def test_float32_and_float64_are_found_with_the_pinned_numpy_wheel():
    assert _blas.available(np.float32) and _blas.available(np.float64)
    assert not _blas.available(np.float16)


def test_XENT_NO_BLAS_switches_it_off():
    code = "import numpy as np; from xent import _blas; print(_blas.available(np.float32))"
    env = dict(os.environ, XENT_NO_BLAS="1")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert result.stdout.strip() == "False"


def test_linear_ce_takes_every_accumulation_to_blas(monkeypatch):
    """With BLAS reachable, the bias-plus-logits and every dW accumulation go through one
    gemm call each: none falls back to NumPy because of a layout the wrapper refused."""
    calls = []
    real = _blas.matmul_add

    def recording(a, b, out):
        calls.append(real(a, b, out))
        return calls[-1]

    monkeypatch.setattr(_blas, "matmul_add", recording)
    for dtype in (np.float32, np.float64):
        calls.clear()
        rng = np.random.default_rng(2)
        x = rng.standard_normal((50, 6)).astype(dtype)
        W = rng.standard_normal((6, 40)).astype(dtype)
        b = rng.standard_normal(40).astype(dtype)
        target = rng.integers(0, 40, size=50)
        xent.linear_cross_entropy_and_grad(x, W, target, b=b, chunk_size=8)
        chunks = 7  # 50 rows in chunks of 8
        assert calls == [True] * (chunks + chunks - 1)  # logits of every chunk, dW after the first
