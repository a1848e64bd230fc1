"""xent.linear_cross_entropy_and_grad: equal to the materialised path, chunk by chunk."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import xent
from helpers import raises_naming
from xent import _blas
from xent.linear_ce import default_chunk_size


@pytest.fixture(autouse=True, params=["blas", "numpy"])
def products(request, monkeypatch):
    """Every test runs twice: with the accumulating gemm of xent._blas (where this NumPy
    has it) and with the NumPy fallback that the other builds use."""
    if request.param == "numpy":
        monkeypatch.setattr(_blas, "_functions", lambda: {})
    elif not _blas.available(np.float32):
        pytest.skip("this NumPy build bundles no scipy-openblas")
    return request.param


def materialised(x, W, target, b=None, **options):
    """The reference: build the (N, V) logits, then the library's loss and gradient."""
    logits = x @ W if b is None else x @ W + b
    loss, G = xent.cross_entropy_and_grad(logits, target, **options)
    return loss, G @ W.T, x.T @ G, (None if b is None else G.sum(axis=0))


def problem(n, d, v, seed=0, dtype=np.float64, ignore_frac=0.0, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(dtype)
    W = (rng.normal(size=(d, v)) / np.sqrt(d)).astype(dtype)
    b = rng.normal(size=v).astype(dtype) if bias else None
    target = rng.integers(0, v, size=n)
    target[rng.random(n) < ignore_frac] = -100
    return x, W, target, b


def assert_same(got, want, tol):
    for g, w in zip(got, want, strict=True):
        if w is None:
            assert g is None
            continue
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


@pytest.mark.parametrize("n, d, v", [(1, 1, 1), (7, 3, 5), (64, 16, 100), (33, 8, 1000)])
@pytest.mark.parametrize("chunk_size", [None, 1, 5, 32, 1000])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_equals_materialised_path_float64(n, d, v, chunk_size, reduction):
    x, W, target, b = problem(n, d, v, seed=n * v)
    got = xent.linear_cross_entropy_and_grad(
        x, W, target, b=b, reduction=reduction, chunk_size=chunk_size
    )
    assert_same(got, materialised(x, W, target, b, reduction=reduction), 1e-10)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("ignore_frac", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("bias", [True, False])
def test_options_equal_materialised_path(label_smoothing, ignore_frac, reduction, bias):
    x, W, target, b = problem(50, 12, 37, seed=3, ignore_frac=ignore_frac, bias=bias)
    options = dict(reduction=reduction, label_smoothing=label_smoothing)
    got = xent.linear_cross_entropy_and_grad(x, W, target, b=b, chunk_size=7, **options)
    assert_same(got, materialised(x, W, target, b, **options), 1e-10)


def test_custom_ignore_index_and_all_ignored():
    x, W, target, b = problem(20, 4, 6, seed=5)
    target[::3] = 2  # ignore class 2 instead of -100
    got = xent.linear_cross_entropy_and_grad(x, W, target, b=b, ignore_index=2, chunk_size=4)
    assert_same(got, materialised(x, W, target, b, ignore_index=2), 1e-10)

    everything_ignored = np.full(20, -100)
    got = xent.linear_cross_entropy_and_grad(x, W, everything_ignored, b=b, chunk_size=4)
    want = materialised(x, W, everything_ignored, b)
    assert np.isnan(got[0]) and np.isnan(want[0])  # 'mean' of nothing is nan, as torch
    assert_same(got[1:], want[1:], 0.0)  # and every gradient is exactly 0


def test_empty_batch():
    x, W, target, b = problem(0, 4, 6)
    loss, dx, dW, db = xent.linear_cross_entropy_and_grad(x, W, target, b=b, reduction="sum")
    assert loss == 0 and dx.shape == (0, 4) and not dW.any() and not db.any()


def test_float32_and_mixed_dtypes():
    x, W, target, b = problem(300, 32, 500, seed=9, dtype=np.float32)
    got = xent.linear_cross_entropy_and_grad(x, W, target, b=b, chunk_size=64)
    assert_same(got, materialised(x, W, target, b), 2e-5)
    # float64 anywhere promotes everything, exactly as x @ W + b does
    got = xent.linear_cross_entropy_and_grad(x, W.astype(np.float64), target, b=b)
    assert got[1].dtype == got[2].dtype == got[3].dtype == np.float64
    assert_same(got, materialised(x.astype(np.float64), W.astype(np.float64), target, b), 1e-10)


def test_default_chunk_size_follows_the_memory_budget():
    assert default_chunk_size(65536, np.float32) == 256  # 64 MiB of float32 logits
    assert default_chunk_size(65536, np.float64) == 128
    assert default_chunk_size(10**9, np.float64) == 1  # never 0 rows


def test_peak_memory_stays_near_one_chunk():
    """N x V logits would be 16 MiB here; the chunked path must stay far below."""
    n, d, v = 2048, 16, 1024
    x, W, target, b = problem(n, d, v, seed=1, dtype=np.float32)
    tracemalloc.start()
    try:
        xent.linear_cross_entropy_and_grad(x, W, target, b=b, chunk_size=64)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    chunk_bytes = 64 * v * 4
    outputs = (n * d + d * v + v) * 4
    assert peak < outputs + 4 * chunk_bytes  # logits chunk, its gradient, slack
    assert peak < n * v * 4 / 2


def test_overflowing_logits_name_x():
    x = np.full((4, 2), 1e20, np.float32)
    W = np.full((2, 3), 1e20, np.float32)
    with raises_naming(ValueError, "x"):
        xent.linear_cross_entropy_and_grad(x, W, np.zeros(4, int))


@pytest.mark.parametrize(
    "kwargs, exc, name",
    [
        (dict(x=np.zeros(3)), ValueError, "x"),
        (dict(x=np.zeros((4, 3), dtype=complex)), TypeError, "x"),
        (dict(W=np.zeros((2, 5))), ValueError, "W"),
        (dict(W=np.zeros(5)), ValueError, "W"),
        (dict(W=np.zeros((3, 0))), ValueError, "W"),
        (dict(b=np.zeros(4)), ValueError, "b"),
        (dict(b=np.zeros((1, 5))), ValueError, "b"),
        (dict(target=np.zeros(3, int)), ValueError, "target"),
        (dict(target=np.zeros(4)), TypeError, "target"),
        (dict(target=np.full((4, 5), 0.2)), TypeError, "target"),
        (dict(target=np.array([0, 1, 5, 2])), ValueError, "target"),
        (dict(target=np.array([0, 1, -1, 2])), ValueError, "target"),
        (dict(x=np.array([[0, 1, np.nan]] * 4)), ValueError, "x"),
        (dict(W=np.full((3, 5), np.inf)), ValueError, "W"),
        (dict(b=np.array([0, 0, np.nan, 0, 0])), ValueError, "b"),
        (dict(ignore_index=1.5), TypeError, "ignore_index"),
        (dict(reduction="avg"), ValueError, "reduction"),
        (dict(label_smoothing=1.5), ValueError, "label_smoothing"),
        (dict(label_smoothing="0.1"), TypeError, "label_smoothing"),
        (dict(chunk_size=0), ValueError, "chunk_size"),
        (dict(chunk_size=-3), ValueError, "chunk_size"),
        (dict(chunk_size=2.0), TypeError, "chunk_size"),
        (dict(chunk_size=True), TypeError, "chunk_size"),
    ],
)
def test_bad_input_names_the_argument(kwargs, exc, name):
    args = dict(x=np.ones((4, 3)), W=np.ones((3, 5)), target=np.array([0, 1, 4, 2]),
                b=np.zeros(5))  # fmt: skip
    args.update(kwargs)
    x, W, target = args.pop("x"), args.pop("W"), args.pop("target")
    with raises_naming(exc, name):
        xent.linear_cross_entropy_and_grad(x, W, target, **args)


# --------------------------------------------------------------------------- found by the matrix


@pytest.mark.parametrize(
    "call, exc, name",
    [  # each was NumPy's or Python's own error, or a silently returned number
        (lambda: xent.linear_cross_entropy_and_grad(np.ones((2, 3)), np.ones((3, 4)),
                                                    [[0], [1, 2]]),
         ValueError, "target"),  # ragged: "inhomogeneous shape"
        (lambda: default_chunk_size("1000"), TypeError, "num_classes"),
        (lambda: default_chunk_size(None), TypeError, "num_classes"),
        (lambda: default_chunk_size(-5), ValueError, "num_classes"),  # gave 33554432 rows
        (lambda: default_chunk_size(1000, "float-ish"), TypeError, "dtype"),
        (lambda: default_chunk_size(1000, int), TypeError, "dtype"),  # int64 logits?
        (lambda: default_chunk_size(1000, object), TypeError, "dtype"),
    ],
)
def test_more_bad_input_names_the_argument(call, exc, name):
    with raises_naming(exc, name):
        call()

