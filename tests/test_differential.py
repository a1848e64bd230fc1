"""Differential test of the cross-entropy loss: every regime, layout and option, three ways.

Hypothesis draws a problem -- dtype (float32/float64), shape ((C,), (N, C), (N, C, d1, ...)),
memory layout (C order, Fortran order, strided, reversed), options (weights incl. zeros,
ignore_index, label smoothing, probability targets, reductions) and logits from one regime:

    ordinary      N(0, 3)
    overflow      near exp's overflow threshold (80-88.5 in float32, 700-709.5 in float64)
    underflow     from -20 to -104 (-600 to -745), spread up to 40: exp underflows for some
    huge          uniform in [-1e4, 1e4]
    masked        some logits -inf (sometimes the target's), at least one finite per sample
    zero_weights  class weights with zeros (sometimes every target's)
    all_ignored   every sample has target == ignore_index

and checks, against the readable reference computed in float64 on the same (rounded) inputs:

* the reference (``xent.cross_entropy_and_grad``) and the fused kernel (``xent.fused``) at the
  input's dtype, within a dtype-aware rounding allowance (:func:`errors`);
* the same nan/inf pattern as the float64 result (torch's semantics for masks and empty
  means);
* when torch is importable, torch on the same problem: ours never worse than torch's own
  error (measured in the same allowance units).

Set XENT_DIFF_STATS=path to write the worst errors per regime and dtype as JSON.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict

import numpy as np
import pytest
import xent
import xent.fused
from hypothesis import given, settings
from hypothesis import strategies as st

REGIMES = ["ordinary", "overflow", "underflow", "huge", "masked", "zero_weights", "all_ignored"]
LAYOUTS = ["C", "F", "strided", "reversed"]
OFFSETS = {  # logits offset for the exp-overflow and -underflow regimes
    np.float32: {"overflow": (80.0, 88.5), "underflow": (-104.0, -20.0)},
    np.float64: {"overflow": (700.0, 709.5), "underflow": (-745.0, -600.0)},
}
# Errors are measured in units of a rounding allowance (see errors()); both of our paths must
# stay within this many units, and never above max(2 x torch's error, TORCH_SLACK).
MAX_UNITS = 16.0
TORCH_SLACK = 8.0
STATS: dict = defaultdict(lambda: defaultdict(float))


def with_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """The same values in another memory layout."""
    if x.ndim == 0:
        return x
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "strided":  # every other element of a bigger array, along every axis
        big = np.zeros(tuple(2 * s for s in x.shape), dtype=x.dtype)
        big[tuple(slice(None, None, 2) for _ in x.shape)] = x
        return big[tuple(slice(None, None, 2) for _ in x.shape)]
    if layout == "reversed":  # negative strides
        flipped = np.ascontiguousarray(x[tuple(slice(None, None, -1) for _ in x.shape)])
        return flipped[tuple(slice(None, None, -1) for _ in x.shape)]
    return np.ascontiguousarray(x)


@st.composite
def problems(draw):
    """(regime, dtype, logits, target, kwargs), logits and target in a drawn layout."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    regime = draw(st.sampled_from(REGIMES))
    ndim = draw(st.sampled_from([1, 2, 2, 2, 3, 4]))
    num_classes = draw(st.integers(1, 12))
    if ndim == 1:
        shape = (num_classes,)
    else:
        extra = tuple(draw(st.integers(1, 3)) for _ in range(ndim - 2))
        shape = (draw(st.integers(0 if ndim == 2 else 1, 40)), num_classes, *extra)
    gen = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    axis = 0 if ndim == 1 else 1
    index_shape = tuple(s for i, s in enumerate(shape) if i != axis)

    z = gen.normal(scale=3.0, size=shape)
    if regime in ("overflow", "underflow"):  # one offset for the batch, a drawn spread
        lo, hi = OFFSETS[dtype][regime]
        spread = gen.uniform(0.1, 2.0) if regime == "overflow" else gen.uniform(1.0, 40.0)
        z = gen.uniform(lo, hi) + gen.normal(scale=spread, size=shape)
    elif regime == "huge":
        z = gen.uniform(-1e4, 1e4, size=shape)
    y = gen.integers(0, num_classes, size=index_shape)
    if regime == "masked":
        mask = gen.random(shape) < 0.4
        keep = np.expand_dims(gen.integers(0, num_classes, size=index_shape), axis)
        np.put_along_axis(mask, keep, False, axis=axis)  # one finite logit per sample
        if draw(st.booleans()):  # usually spare the target's logit, not always
            np.put_along_axis(mask, np.expand_dims(y, axis), False, axis=axis)
        z = np.where(mask, -np.inf, z)
    z = z.astype(dtype)

    kwargs = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0]))
    weight_kind = "zeros" if regime == "zero_weights" else draw(st.sampled_from([None, "random"]))
    if weight_kind is not None:
        w = gen.uniform(0.1, 3.0, size=num_classes)
        if weight_kind == "zeros":
            w[gen.random(num_classes) < 0.5] = 0.0
            if draw(st.booleans()):  # every target of weight 0: 'mean' has nothing to average
                w[np.unique(y)] = 0.0
        kwargs["weight"] = w.astype(dtype)

    use_probabilities = regime not in ("all_ignored",) and draw(st.integers(0, 3)) == 0
    if use_probabilities:
        t = gen.random(shape) * (gen.random(shape) < 0.7)
        t /= np.maximum(t.sum(axis=axis, keepdims=True), 1e-12)
        target = with_layout(t.astype(dtype), draw(st.sampled_from(LAYOUTS)))
    else:
        ignore_index = draw(st.sampled_from([-100, -100, 0, 3]))
        if regime == "all_ignored":
            y = np.full(index_shape, ignore_index)
        elif draw(st.booleans()):
            y = np.where(gen.random(index_shape) < 0.3, ignore_index, y)
        if ignore_index != -100:
            kwargs["ignore_index"] = ignore_index
        y_dtype = draw(st.sampled_from([np.int64, np.int32]))
        target = with_layout(np.asarray(y, dtype=y_dtype), draw(st.sampled_from(LAYOUTS)))
    return regime, dtype, with_layout(z, draw(st.sampled_from(LAYOUTS))), target, kwargs


def float64_problem(z, target, kwargs):
    """The same problem in float64 (the float32 values are exact in float64)."""
    kw = dict(kwargs)
    if "weight" in kw:
        kw["weight"] = kw["weight"].astype(np.float64)
    t = target.astype(np.float64) if np.issubdtype(target.dtype, np.floating) else target
    return z.astype(np.float64), t, kw


def allowances(z64, target, kwargs):
    """Per-entry rounding allowances, in units of the input dtype's eps, for the loss
    (reduced as asked) and the gradient, computed from the exact float64 problem.

    A gradient entry ``scale * ((sum u) p_c - u_c)`` is allowed ``|g_c| (1 + |log p_c|)``
    (exp of a rounded log-probability, as torch computes it) plus ``scale * sum u`` where
    ``u_c != 0`` (the subtraction cancels there). A per-sample loss ``-(u . log p)`` is
    allowed ``sum_c u_c (1 + |log p_c|)``. The reduction adds them up (times ``1/Omega``)."""
    axis = 0 if z64.ndim == 1 else 1
    c = z64.shape[axis]
    w = kwargs.get("weight", np.ones(c))
    eps = kwargs.get("label_smoothing", 0.0)
    bshape = [1] * z64.ndim
    bshape[axis] = c
    wb = np.reshape(w, bshape)
    if target.shape == z64.shape:
        u = wb * ((1 - eps) * target + eps / c)
    else:
        keep = target != kwargs.get("ignore_index", -100)
        y = np.where(keep, target, 0)
        onehot = np.moveaxis(xent.one_hot(y, c), -1, axis) if z64.ndim > 1 else xent.one_hot(y, c)
        u = (1 - eps) * onehot * wb + eps / c * wb
        u = u * np.expand_dims(keep, axis)
    with np.errstate(invalid="ignore"):
        log_p = xent.log_softmax(z64, axis=axis) if z64.size else z64
        mag = np.where(u != 0, u * (1 + np.abs(log_p)), 0).sum(axis=axis)
    u_sum = u.sum(axis=axis, keepdims=True)
    reduction = kwargs["reduction"]
    scale = 1.0
    if reduction == "mean":
        if target.shape == z64.shape:
            scale = 1.0 / max(1, z64.size // c)
        else:
            omega = (np.take(w, y) * keep).sum()
            scale = 1.0 / omega if omega else 1.0
    loss_allow = mag if reduction == "none" else scale * mag.sum() * (1 + math.log2(1 + mag.size))
    return loss_allow, (1 + np.abs(np.nan_to_num(log_p, neginf=0))), scale * u_sum, u != 0


def errors(got, exact, z64, target, kwargs, dtype) -> tuple[float, float]:
    """(loss error, gradient error) of ``got = (loss, grad)`` in allowance units; the
    nan/inf pattern must match exactly (else inf)."""
    eps = float(np.finfo(dtype).eps)
    tiny_step = float(np.finfo(dtype).smallest_subnormal)
    loss_allow, rel, row_scale, cancels = allowances(z64, target, kwargs)
    out = []
    for k, (g, e) in enumerate(zip(got, exact, strict=True)):
        g = np.asarray(g, dtype=np.float64)
        e = np.asarray(e, dtype=np.float64)
        if g.shape != e.shape:
            return math.inf, math.inf
        same_special = (np.isnan(g) == np.isnan(e)).all() and (
            g[np.isinf(e)] == e[np.isinf(e)]
        ).all() and not np.isinf(g[~np.isinf(e)]).any()
        if not same_special:
            out.append(math.inf)
            continue
        ok = np.isfinite(e)
        if k == 0:
            allow = eps * np.broadcast_to(loss_allow, e.shape) + tiny_step
        else:
            # 2**6 subnormal steps per unit of the row's gradient scale: xent.fused's
            # documented leeway where exp(z) is subnormal but torch's p is not (quite)
            allow = eps * (np.abs(e) * rel + np.where(cancels, row_scale, 0)) + tiny_step * (
                1 + 64 * row_scale
            )
        diff = np.abs(g[ok] - e[ok]) / np.broadcast_to(allow, e.shape)[ok]
        out.append(float(diff.max(initial=0.0)))
    return out[0], out[1]


def check_paths(regime, dtype, z, target, kwargs):
    """Both of our paths against the float64 reference; returns their worst errors."""
    z64, t64, kw64 = float64_problem(z, target, kwargs)
    exact = xent.cross_entropy_and_grad(z64, t64, **kw64)
    worst = 0.0
    for name, impl in [("reference", xent), ("fused", xent.fused)]:
        got = impl.cross_entropy_and_grad(z, target, **kwargs)
        assert got[1].dtype == dtype and np.asarray(got[0]).dtype == dtype, name
        loss_only = impl.cross_entropy(z, target, **kwargs)
        err = max(*errors(got, exact, z64, t64, kw64, dtype),
                  errors((loss_only, exact[1]), exact, z64, t64, kw64, dtype)[0])  # fmt: skip
        assert err <= MAX_UNITS, (name, regime, err)
        stats = STATS[f"{regime}/{np.dtype(dtype).name}"]
        stats[f"{name}_units"] = max(stats[f"{name}_units"], err)
        stats["cases"] += 0.5
        worst = max(worst, err)
    return exact, worst


@settings(max_examples=300)
@given(problem=problems())
def test_both_paths_match_float64_reference(problem):
    check_paths(*problem)


def to_torch(torch, x):
    return torch.tensor(np.array(x))  # a C-ordered copy (0-d stays 0-d)


@settings(max_examples=300)
@given(problem=problems())
def test_never_worse_than_torch(problem):
    torch = pytest.importorskip("torch", reason="torch not installed (optional reference)")
    torch.set_num_threads(1)  # tiny arrays: no benefit from threads, and no wait on busy cores
    regime, dtype, z, target, kwargs = problem
    z64, t64, kw64 = float64_problem(z, target, kwargs)
    exact = xent.cross_entropy_and_grad(z64, t64, **kw64)
    if (z == -np.inf).all(axis=0 if z.ndim == 1 else 1).any():
        return  # not drawn: every sample keeps a finite logit
    zt = to_torch(torch, z).requires_grad_(True)
    kw_t = dict(kwargs)
    if "weight" in kw_t:
        kw_t["weight"] = to_torch(torch, kw_t["weight"])
    t_t = to_torch(torch, target if target.dtype.kind == "f" else target.astype(np.int64))
    expected = torch.nn.functional.cross_entropy(zt, t_t, **kw_t)
    expected.backward(torch.ones_like(expected))
    theirs = (expected.detach().numpy(), zt.grad.numpy())
    torch_err = max(errors(theirs, exact, z64, t64, kw64, dtype))
    stats = STATS[f"{regime}/{np.dtype(dtype).name}"]
    stats["torch_units"] = max(stats["torch_units"], torch_err)
    stats["torch_cases"] += 1
    for name, impl in [("reference", xent), ("fused", xent.fused)]:
        ours = max(errors(impl.cross_entropy_and_grad(z, target, **kwargs), exact, z64, t64,
                          kw64, dtype))  # fmt: skip
        ratio = ours / max(torch_err, 1.0)
        stats[f"{name}_vs_torch"] = max(stats[f"{name}_vs_torch"], ratio)
        assert ours <= max(2 * torch_err, TORCH_SLACK), (name, regime, ours, torch_err)


@pytest.fixture(autouse=True, scope="module")
def write_stats():
    """After this module's tests: write the per-regime worst errors if XENT_DIFF_STATS is set."""
    yield
    path = os.environ.get("XENT_DIFF_STATS")
    if path:
        with open(path, "w") as out:
            json.dump({k: dict(v) for k, v in sorted(STATS.items())}, out, indent=1)
