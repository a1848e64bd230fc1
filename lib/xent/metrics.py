"""Classification metrics in NumPy (see chapter 6, Fashion-MNIST end to end).

All functions take integer class labels ``y_true`` and ``y_pred`` of shape ``(n,)`` (take
``logits.argmax(axis=1)`` first). ``num_classes`` fixes the set of classes ``0..K-1``; when it is
omitted it is ``max(y_true.max(), y_pred.max()) + 1``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "confusion_matrix", "macro_f1", "precision_recall_f1"]


def _labels(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None):
    """Validate two label vectors; return them as int64 arrays and the number of classes."""
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of class labels, got shape {y.shape}")
        if y.size and not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
        if y.size and y.min() < 0:
            raise ValueError(f"{name} must hold labels >= 0, found {y.min()}")
        arrays.append(y.astype(np.int64))
    yt, yp = arrays
    if yt.shape != yp.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {yt.size} and {yp.size}"
        )
    if yt.size == 0:
        raise ValueError("y_true and y_pred are empty")
    largest = int(max(yt.max(), yp.max()))
    if num_classes is None:
        num_classes = largest + 1
    elif num_classes < 1 or largest >= num_classes:
        raise ValueError(f"num_classes={num_classes} but a label {largest} was found")
    return yt, yp, num_classes


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of correct predictions, $\\frac1n \\sum_i [\\hat y_i = y_i]$."""
    yt, yp, _ = _labels(y_true, y_pred, None)
    return float(np.mean(yt == yp))


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None
) -> np.ndarray:
    """``C[i, j]`` = number of examples of true class ``i`` predicted as ``j`` (int64, K x K)."""
    yt, yp, k = _labels(y_true, y_pred, num_classes)
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
