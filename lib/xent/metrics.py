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
