"""Entropy, cross-entropy and KL divergence of probability vectors.

All three work along the last axis (a batch of distributions gives a batch of numbers)
and use the conventions of information theory:

* ``0 * log 0 = 0``: a class with ``p_i = 0`` contributes nothing, even where ``q_i = 0``;
* ``q_i = 0`` where ``p_i > 0`` gives ``+inf`` for the cross-entropy and the KL
  divergence: that is the mathematics (q says the event is impossible, p says it happens),
  not an overflow.

``base=None`` gives nats (natural log), ``base=2`` bits; any base > 0 other than 1 works.
Inputs must be non-negative and sum to 1 along the last axis, within a tolerance that follows
the input's dtype: 1e-6 for float64, about 3.5e-4 for float32, 3.1e-2 for float16. Results are
float64 for every input dtype except float32 (float32 in, float32 out); float16 inputs are
computed in float64.
See chapter 1 (Entropy, cross-entropy and KL divergence).

Not to be confused with :func:`xent.cross_entropy`, the loss on *logits*.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_probabilities, check_positive_float, check_same_shape

__all__ = ["cross_entropy", "entropy", "kl_divergence"]


def _distribution(p: ArrayLike, name: str) -> np.ndarray:
    return as_probabilities(p, name)


def _in_base(nats: np.ndarray, base: float | None) -> np.ndarray | np.floating:
    if base is not None:
        b = check_positive_float(base, "base")
        if b == 1.0:
            raise ValueError("base: expected a logarithm base > 0 other than 1; got 1")
        nats = nats / math.log(b)
    return nats[()]  # a 0-d result becomes a NumPy scalar


def _minus_sum_plogq(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``-sum_i p_i log q_i`` with the convention ``0 * log q = 0`` (also for ``q = 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf; 0 * -inf is masked
        terms = np.where(p > 0, p * np.log(q), 0.0)
    # "0.0 -" rather than unary minus: a certain outcome has entropy 0.0, not -0.0
    return 0.0 - terms.sum(axis=-1)


def entropy(p: ArrayLike, base: float | None = None) -> np.ndarray | np.floating:
    """Shannon entropy ``H(p) = -sum_i p_i log p_i`` (with ``0 log 0 = 0``).

    See chapter 1 (Entropy, cross-entropy and KL divergence).
    """
    arr = _distribution(p, "p")
    return _in_base(_minus_sum_plogq(arr, arr), base)


def cross_entropy(
    p: ArrayLike, q: ArrayLike, base: float | None = None
) -> np.ndarray | np.floating:
    """Cross-entropy ``H(p, q) = -sum_i p_i log q_i`` (``+inf`` if some ``q_i = 0 < p_i``).

    ``p`` is the true distribution, ``q`` the model's. ``H(p, q) = H(p) + KL(p || q)``.
    See chapter 1 (Entropy, cross-entropy and KL divergence).
    """
    pa = _distribution(p, "p")
    qa = _distribution(q, "q")
    check_same_shape(pa, qa, "p", "q")
    return _in_base(_minus_sum_plogq(pa, qa), base)


def kl_divergence(
    p: ArrayLike, q: ArrayLike, base: float | None = None
) -> np.ndarray | np.floating:
    """Kullback-Leibler divergence ``KL(p || q) = sum_i p_i log(p_i / q_i) >= 0``.

    Zero iff ``p == q``; ``+inf`` if some ``q_i = 0 < p_i``; not symmetric in p and q.
    See chapter 1 (Entropy, cross-entropy and KL divergence).
    """
    pa = _distribution(p, "p")
    qa = _distribution(q, "q")
    check_same_shape(pa, qa, "p", "q")
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf; 0 * inf is masked
        log_ratio = np.log(np.where(pa > 0, pa, 1.0)) - np.log(qa)
        terms = np.where(pa > 0, pa * log_ratio, 0.0)
    # sum_i p_i log(p_i/q_i) can come out a hair below 0 by rounding when p == q
    return _in_base(np.maximum(terms.sum(axis=-1), 0.0), base)
