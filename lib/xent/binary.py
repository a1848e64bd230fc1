r"""The logistic sigmoid and binary cross-entropy on logits (multi-label classification).

See chapter 7 (Sigmoid, binary and multi-label cross-entropy), which derives everything here.

One logit $x$ per label; its probability is $\sigma(x) = 1/(1 + e^{-x})$, the softmax of the
two logits $(x, 0)$. With a target probability $t \in [0, 1]$, the Bernoulli negative
log-likelihood is

$$\ell = -\bigl[t \log \sigma(x) + (1-t) \log(1 - \sigma(x))\bigr].$$

Computing it as written fails twice over: $\sigma(x)$ rounds to 1 for $x \gtrsim 37$ (float64)
and $\log(1 - 1) = -\infty$, and it underflows to 0 for very negative $x$. On logits it is
exact, through the *softplus* $\operatorname{sp}(x) = \log(1 + e^{x})$:

$$-\log \sigma(x) = \operatorname{sp}(-x), \qquad -\log(1 - \sigma(x)) = \operatorname{sp}(x),
\qquad \operatorname{sp}(\pm x) = \max(\pm x, 0) + \log(1 + e^{-|x|}),$$

where $e^{-|x|} \le 1$ never overflows and ``log1p`` keeps its tiny values. With PyTorch's
``pos_weight`` $\rho$ (scales the positive term) and ``weight`` $w$ (scales the whole loss),

$$\ell = w\,\bigl[\rho\, t\, \operatorname{sp}(-x) + (1-t)\, \operatorname{sp}(x)\bigr],
\qquad \frac{\partial \ell}{\partial x} = w\,\bigl[(1-t)\,\sigma(x) - \rho\, t\,\sigma(-x)\bigr],$$

which is $w(\sigma(x) - t)$ when $\rho = 1$. Both terms of $\ell$ are non-negative, so nothing
cancels. (PyTorch evaluates the equivalent $(1-t)x + (1 + (\rho-1)t)\operatorname{sp}(-x)$; for
$x \ll 0$ and $t = 0$ that is $x + (-x + e^{x})$, where $e^{x}$ is rounded away: the loss
comes out as 0 instead of $e^{x}$. Chapter 7 measures it.)
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_array, as_float_array, check_finite, check_nonnegative, position

__all__ = [
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_and_grad",
    "binary_cross_entropy_with_logits_grad",
    "sigmoid",
]

Reduction = Literal["mean", "sum", "none"]
_REDUCTIONS = ("mean", "sum", "none")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Stable sigmoid, no checks: ``1/(1+e)`` or ``e/(1+e)`` with ``e = exp(-|x|)``."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def sigmoid(z: ArrayLike) -> np.ndarray:
    r"""The logistic sigmoid :math:`\sigma(z) = 1/(1 + e^{-z}) = e^{z}/(1 + e^{z})`, elementwise.

    Evaluated as ``1/(1 + exp(-|z|))`` for z >= 0 and ``exp(-|z|)/(1 + exp(-|z|))`` for z < 0,
    so the exponential never overflows: any finite float32 or float64 input (e.g. +-1e4) gives a
    result in [0, 1] with no warning, as do +-inf (giving 1 and 0). :math:`\sigma(z)` is
    ``softmax([z, 0])[0]``, the two-class softmax. float32 stays float32, float64 stays
    float64, integers are computed in float64; nan is rejected. See chapter 7 (Sigmoid,
    binary and multi-label cross-entropy).
    """
    x = as_float_array(z, "z")
    nan = np.isnan(x)
    if nan.any():
        i = int(np.argmax(nan.ravel()))
        raise ValueError(f"z: expected real values (no nan); got nan at position "
                         f"{position(i, x.shape)}")
    return _sigmoid(x).astype(x.dtype, copy=False)[()]


def _broadcastable(arr: np.ndarray, shape: tuple[int, ...], name: str, hint: str) -> None:
    fits = arr.ndim <= len(shape)  # more axes than the logits (NumPy fails above 32 of them)
    if fits:
        try:
            fits = np.broadcast_shapes(arr.shape, shape) == shape
        except ValueError:
            fits = False
    if not fits:
        raise ValueError(f"{name}: expected a shape that broadcasts to the logits' shape {shape} "
                         f"({hint}); got {arr.shape}")


def _prepare(logits, target, weight, pos_weight, reduction):
    """Validate every argument; return float arrays (x, t, w, rho) in the logits' dtype."""
    x = as_float_array(logits, "logits")
    dtype = x.dtype
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"reduction: expected one of 'mean', 'sum', 'none'; got {reduction!r}")
    t = as_array(target, "target")  # a ragged nested list is a named error
    if not (t.dtype == np.float32 or t.dtype == np.float64 or t.dtype == np.float16):
        raise TypeError(f"target: expected float probabilities in [0, 1] (float32 or float64); "
                        f"got dtype {t.dtype} (convert 0/1 labels with .astype(float))")
    if t.shape != x.shape:
        raise ValueError(f"target: expected the logits' shape {x.shape} (one target per "
                         f"logit); got {t.shape}")
    check_finite(x, "logits")
    check_finite(t, "target")
    inside = (t >= 0) & (t <= 1)
    if not inside.all():
        i = int(np.argmin(inside.ravel()))
        raise ValueError(f"target: expected probabilities in [0, 1]; got {t.ravel()[i]} at "
                         f"position {position(i, t.shape)}")
    t = t.astype(dtype, copy=False)
    out = [x, t]
    for name, value, hint in (
        ("weight", weight, "it rescales each element's loss"),
        ("pos_weight", pos_weight, "usually one value per label, shape (C,) for the last axis"),
    ):
        if value is None:
            out.append(None)
            continue
        v = as_float_array(value, name)
        _broadcastable(v, x.shape, name, hint)
        check_finite(v, name)
        check_nonnegative(v, name, "weights")
        out.append(v.astype(dtype, copy=False))
    return tuple(out)


def _losses_and_grad(x, t, w, rho, want_grad: bool):
    """Elementwise losses (and d loss / dx) of the stable form in the module docstring."""
    e = np.exp(-np.abs(x))
    log_term = np.log1p(e)  # log(1 + e^{-|x|}), shared by sp(x) and sp(-x)
    sp_pos = np.maximum(x, 0) + log_term  # sp(x)  = -log(1 - sigma(x))
    sp_neg = np.maximum(-x, 0) + log_term  # sp(-x) = -log sigma(x)
    pos = t if rho is None else rho * t  # coefficient of the positive term
    losses = pos * sp_neg + (1 - t) * sp_pos
    if w is not None:
        losses = w * losses
    losses = np.broadcast_to(losses, x.shape).astype(x.dtype, copy=False)
    if not want_grad:
        return losses, None
    sig = np.where(x >= 0, 1.0, e) / (1.0 + e)  # sigma(x)
    sig_neg = np.where(x >= 0, e, 1.0) / (1.0 + e)  # sigma(-x) = 1 - sigma(x), no cancellation
    grad = (1 - t) * sig - pos * sig_neg
    if w is not None:
        grad = w * grad
    return losses, np.broadcast_to(grad, x.shape).astype(x.dtype, copy=False)


def _reduce(losses: np.ndarray, reduction: str):
    if reduction == "none":
        return losses.copy()
    total = losses.sum(dtype=losses.dtype)
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore"):  # mean of nothing is nan, as in torch
        return (total / losses.dtype.type(losses.size) if losses.size else
                losses.dtype.type(np.nan))


def binary_cross_entropy_with_logits_and_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
) -> tuple[np.ndarray | np.floating, np.ndarray]:
    r"""Loss and ``dL/dlogits`` of :func:`binary_cross_entropy_with_logits` (same arguments).

    Elementwise

    .. math::

        \frac{\partial \ell}{\partial x} = w\,\bigl[(1-t)\,\sigma(x) - \rho\, t\, \sigma(-x)\bigr],

    i.e. :math:`w(\sigma(x) - t)` without ``pos_weight``; 'mean' divides it by the number of
    elements. For reduction='none' the gradient is that of ``sum(losses)``. The gradient has
    the logits' shape and dtype. See chapter 7 (Sigmoid, binary and multi-label
    cross-entropy).
    """
    x, t, w, rho = _prepare(logits, target, weight, pos_weight, reduction)
    losses, grad = _losses_and_grad(x, t, w, rho, want_grad=True)
    if reduction == "mean" and x.size:
        grad = grad / x.dtype.type(x.size)
    return _reduce(losses, reduction), np.array(grad, dtype=x.dtype)


def binary_cross_entropy_with_logits(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
) -> np.ndarray | np.floating:
    r"""Binary cross-entropy on logits, as ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Elementwise, for a logit :math:`x`, a target probability :math:`t \in [0, 1]`, a
    ``weight`` :math:`w` and a ``pos_weight`` :math:`\rho` (both default 1):

    .. math::

        \ell = -w\,\bigl[\rho\, t \log \sigma(x) + (1-t) \log(1 - \sigma(x))\bigr]
              = w\,\bigl[\rho\, t\, \operatorname{sp}(-x) + (1-t)\, \operatorname{sp}(x)\bigr],

    with the softplus :math:`\operatorname{sp}(x) = \log(1+e^{x})` evaluated stably, so logits
    of +-1e4 in float32 give exact losses without overflow.

    logits: any shape (e.g. (N, C): one logit per sample and label). target: the same shape,
    float, every entry in [0, 1] (soft targets allowed). weight: broadcastable to the logits'
    shape, >= 0; rescales each element's loss. pos_weight: broadcastable to the logits' shape
    (usually (C,), one per label along the last axis), >= 0; multiplies the loss of the
    positive part only, so :math:`\rho > 1` favours recall. reduction: 'mean' (over all
    elements; weights do not change the denominator), 'sum' or 'none'. See chapter 7
    (Sigmoid, binary and multi-label cross-entropy).
    """
    x, t, w, rho = _prepare(logits, target, weight, pos_weight, reduction)
    losses, _ = _losses_and_grad(x, t, w, rho, want_grad=False)
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
) -> np.ndarray:
    r"""``dL/dlogits`` of :func:`binary_cross_entropy_with_logits` (same arguments).

    :math:`w\,[(1-t)\,\sigma(x) - \rho\, t\,\sigma(-x)]` elementwise, divided by the number of
    elements for 'mean'. See chapter 7 (Sigmoid, binary and multi-label cross-entropy).
    """
    return binary_cross_entropy_with_logits_and_grad(
        logits, target, weight=weight, pos_weight=pos_weight, reduction=reduction
    )[1]
