"""Classification metrics in NumPy (see chapter 6, Fashion-MNIST end to end).

All functions take integer class labels ``y_true`` and ``y_pred`` of shape ``(n,)`` (take
``logits.argmax(axis=1)`` first). ``num_classes`` fixes the set of classes ``0..K-1``; when it is
omitted it is ``max(y_true.max(), y_pred.max()) + 1``. A confusion matrix has at most
``MAX_CLASSES`` (4096) classes.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_array, check_integer

__all__ = ["accuracy", "confusion_matrix", "macro_f1", "precision_recall_f1"]

MAX_CLASSES = 4096
"""Largest number of classes for a confusion matrix (a K x K int64 array: 128 MiB at 4096).

A label of 10**6 or 2**32, given without ``num_classes``, would otherwise mean a matrix of
terabytes; such labels are almost always a bug (a pixel value, an id), so they are reported."""


def _labels(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None, *, need_k: bool):
    """Validate two label vectors; return them as int64 arrays and the number of classes.

    With ``need_k`` (a K x K matrix will be built), the number of classes is ``num_classes``
    or, if that is None, the largest label + 1, and must not exceed ``MAX_CLASSES``.
    """
    if num_classes is not None:
        num_classes = check_integer(num_classes, "num_classes", 1)
        if need_k and num_classes > MAX_CLASSES:
            raise ValueError(
                f"num_classes: at most {MAX_CLASSES} classes for a confusion matrix "
                f"({num_classes}^2 counts would not fit in memory); got {num_classes}"
            )
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        y = as_array(y, name)
        if y.ndim != 1:
            raise ValueError(f"{name}: expected a 1-D array of class labels; got shape {y.shape}")
        if y.size and not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"{name}: expected integer class labels; got dtype {y.dtype}")
        if y.size and y.min() < 0:
            raise ValueError(f"{name}: expected labels >= 0; found {y.min()}")
        if y.size and num_classes is not None and y.max() >= num_classes:
            raise ValueError(
                f"{name}: expected labels in [0, num_classes={num_classes}); found {y.max()}"
            )
        if y.size and need_k and num_classes is None and y.max() >= MAX_CLASSES:
            raise ValueError(
                f"{name}: found the label {y.max()}, which would make a confusion matrix of "
                f"{int(y.max()) + 1}^2 counts; labels must be class indices below "
                f"{MAX_CLASSES} (pass num_classes if the largest class is not in the data)"
            )
        # labels are now in [0, 2**63) unless need_k is off (accuracy): compare, don't convert
        arrays.append(y.astype(np.int64) if need_k else y)
    yt, yp = arrays
    if yt.shape != yp.shape:
        raise ValueError(
            f"y_pred: expected the same length as y_true ({yt.size}); got {yp.size}"
        )
    if yt.size == 0:
        raise ValueError("y_true: is empty (and so is y_pred); there is nothing to score")
    if num_classes is None and need_k:
        num_classes = int(max(yt.max(), yp.max())) + 1
    return yt, yp, num_classes


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of correct predictions, $\\frac1n \\sum_i [\\hat y_i = y_i]$."""
    yt, yp, _ = _labels(y_true, y_pred, None, need_k=False)
    return float(np.mean(yt == yp))


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None
) -> np.ndarray:
    """``C[i, j]`` = number of examples of true class ``i`` predicted as ``j`` (int64, K x K).

    K is ``num_classes``, or the largest label + 1 when it is omitted; at most ``MAX_CLASSES``
    (4096, a 128 MiB matrix): a label such as 10**6 or 2**32 is reported as a ``ValueError``
    naming ``y_true`` or ``y_pred`` instead of allocating terabytes.
    """
    yt, yp, k = _labels(y_true, y_pred, num_classes, need_k=True)
    return np.bincount(yt * k + yp, minlength=k * k).reshape(k, k)


def precision_recall_f1(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Per-class precision, recall, F1 and support (each of shape ``(K,)``).

    From the confusion matrix $C$: $\mathrm{TP}_k = C_{kk}$,
    precision $= \mathrm{TP}_k / \sum_i C_{ik}$, recall $= \mathrm{TP}_k / \sum_j C_{kj}$,
    $F_1 = 2PR/(P+R)$, support $= \sum_j C_{kj}$. A ratio whose denominator is 0 is defined
    as 0 (a class never predicted has precision 0).
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    precision = _safe_ratio(tp, predicted)
    recall = _safe_ratio(tp, support)
    f1 = _safe_ratio(2 * precision * recall, precision + recall)
    return precision, recall, f1, support


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None) -> float:
    """Unweighted mean of the per-class F1 scores: every class counts the same, however rare."""
    return float(np.mean(precision_recall_f1(y_true, y_pred, num_classes)[2]))


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


# --------------------------------------------------------------------------- calibration
# Chapter 8 (Calibration and temperature scaling). Kept together at the end of the module.

from typing import NamedTuple  # noqa: E402

from ._checks import (  # noqa: E402
    as_float_array,
    check_integer_array,
    check_probabilities,
    tolerance,
)

__all__ += ["ReliabilityCurve", "expected_calibration_error", "reliability_curve"]

_MAX_BINS = 1_000_000  # more bins than that is a mistake (and a large allocation), not a plot


class ReliabilityCurve(NamedTuple):
    """Per-bin summary of top-label confidence (see :func:`reliability_curve`)."""

    edges: np.ndarray  # (M+1,) bin edges 0, 1/M, ..., 1; bin m is (edges[m], edges[m+1]]
    confidence: np.ndarray  # (M,) mean top probability in each bin (nan if the bin is empty)
    accuracy: np.ndarray  # (M,) fraction of correct top-label predictions (nan if empty)
    count: np.ndarray  # (M,) number of samples in each bin (int64)


def _top_label(probs, labels, n_bins) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate; return each sample's top probability, whether its argmax is right, and M."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)):
        raise TypeError(f"n_bins: expected a positive integer; got {n_bins!r}")
    if not 1 <= n_bins <= _MAX_BINS:
        raise ValueError(f"n_bins: expected an integer in [1, {_MAX_BINS}]; got {n_bins}")
    raw = as_array(probs, "probs")
    p = as_float_array(raw, "probs")  # float16 is computed in float64
    if p.ndim != 2:
        raise ValueError(f"probs: expected shape (N, C), one probability row per sample; "
                         f"got shape {p.shape}")
    if p.shape[0] == 0:
        raise ValueError("probs: expected at least one sample; got 0 rows")
    check_probabilities(p, "probs", axis=1, tol=tolerance(raw.dtype))  # the input's precision
    y = check_integer_array(labels, "labels")
    if y.shape != (p.shape[0],):
        raise ValueError(f"labels: expected shape ({p.shape[0]},), one label per row of probs; "
                         f"got shape {y.shape}")
    if y.min() < 0 or y.max() >= p.shape[1]:
        bad = int(np.flatnonzero((y < 0) | (y >= p.shape[1]))[0])
        raise ValueError(f"labels: class indices must be in [0, {p.shape[1]}); "
                         f"got {y[bad]} at position {bad}")
    confidence = p.max(axis=1).astype(np.float64)
    correct = p.argmax(axis=1) == y
    return confidence, correct, int(n_bins)


def reliability_curve(
    probs: np.ndarray, labels: np.ndarray, n_bins: int = 15
) -> ReliabilityCurve:
    r"""Top-label reliability diagram data: per-bin confidence, accuracy and count.

    Each sample :math:`i` has a top probability (its *confidence*)
    :math:`\hat p_i = \max_c p_{ic}` and a prediction :math:`\hat y_i = \arg\max_c p_{ic}`.
    With :math:`M` equal-width bins
    :math:`B_m = \{i : \hat p_i \in ((m-1)/M,\, m/M]\}` (:math:`m = 1, \dots, M`, stored at
    index :math:`m-1`; a confidence of exactly 0 goes into the first bin),

    .. math::

        \operatorname{conf}(B_m) = \frac{1}{\lvert B_m \rvert}\sum_{i \in B_m} \hat p_i,
        \qquad
        \operatorname{acc}(B_m) = \frac{1}{\lvert B_m \rvert}\sum_{i \in B_m} [\hat y_i = y_i].

    A calibrated model has :math:`\operatorname{acc}(B_m) \approx \operatorname{conf}(B_m)` in
    every bin. ``probs`` is (N, C), rows summing to 1 (e.g. ``xent.softmax(logits, axis=1)``);
    ``labels`` (N,) integer classes. Returns a :class:`ReliabilityCurve` ``(edges, confidence,
    accuracy, count)``; empty bins have nan confidence and accuracy and count 0.
    See chapter 8 (Calibration and temperature scaling); Guo et al. (2017).
    """
    confidence, correct, m = _top_label(probs, labels, n_bins)
    edges = np.arange(m + 1) / m  # each m/M correctly rounded
    # bin m holds edges[m] < confidence <= edges[m+1]: searchsorted(side="left") gives m + 1
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, m - 1)
    count = np.bincount(which, minlength=m)
    conf_sum = np.bincount(which, weights=confidence, minlength=m)
    correct_sum = np.bincount(which, weights=correct.astype(np.float64), minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty bins: 0/0 = nan, on purpose
        return ReliabilityCurve(edges, conf_sum / count, correct_sum / count, count)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    r"""Top-label expected calibration error (ECE) with ``n_bins`` equal-width bins.

    .. math::

        \mathrm{ECE} = \sum_{m=1}^{M} \frac{\lvert B_m \rvert}{N}\,
        \bigl\lvert \operatorname{acc}(B_m) - \operatorname{conf}(B_m) \bigr\rvert,

    the bins :math:`B_m` being those of :func:`reliability_curve` (confidence in
    :math:`((m-1)/M, m/M]`): the gap between accuracy and confidence, averaged over the samples.
    0 for a perfectly calibrated model; at most 1. This is the definition of Guo et al. (2017),
    with their :math:`M = 15` as the default. ``probs`` (N, C) rows summing to 1; ``labels``
    (N,). See chapter 8 (Calibration and temperature scaling).
    """
    curve = reliability_curve(probs, labels, n_bins)
    full = curve.count > 0
    gaps = np.abs(curve.accuracy[full] - curve.confidence[full])
    return float(np.sum(curve.count[full] / curve.count.sum() * gaps))
