"""xent.metrics against small cases counted by hand."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import raises_naming
from xent import metrics

# 3 classes, 8 examples
Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 0, 1, 1, 2, 2, 2, 0])
# confusion (rows true, columns predicted):
#   [[2, 1, 0],
#    [0, 1, 1],
#    [1, 0, 2]]
# precision: 2/3, 1/2, 2/3   recall: 2/3, 1/2, 2/3   -> F1 equal to both


def test_accuracy() -> None:
    assert metrics.accuracy(Y_TRUE, Y_PRED) == pytest.approx(5 / 8)
    assert metrics.accuracy([1, 2], [1, 2]) == 1.0


def test_confusion_matrix() -> None:
    cm = metrics.confusion_matrix(Y_TRUE, Y_PRED)
    np.testing.assert_array_equal(cm, [[2, 1, 0], [0, 1, 1], [1, 0, 2]])
    assert cm.sum() == len(Y_TRUE)
    wide = metrics.confusion_matrix(Y_TRUE, Y_PRED, num_classes=5)
    assert wide.shape == (5, 5) and wide[3:].sum() == 0 and wide[:, 3:].sum() == 0


def test_precision_recall_f1() -> None:
    p, r, f1, support = metrics.precision_recall_f1(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(p, [2 / 3, 1 / 2, 2 / 3])
    np.testing.assert_allclose(r, [2 / 3, 1 / 2, 2 / 3])
    np.testing.assert_allclose(f1, [2 / 3, 1 / 2, 2 / 3])
    np.testing.assert_array_equal(support, [3, 2, 3])


def test_unequal_precision_and_recall() -> None:
    # class 0: TP 1, predicted 3 times, 1 true -> P = 1/3, R = 1, F1 = 2(1/3)/(4/3) = 1/2
    # class 1: TP 1, predicted once, 3 true   -> P = 1,   R = 1/3, F1 = 1/2
    y_true = [0, 1, 1, 1]
    y_pred = [0, 0, 0, 1]
    p, r, f1, _ = metrics.precision_recall_f1(y_true, y_pred)
    np.testing.assert_allclose(p, [1 / 3, 1])
    np.testing.assert_allclose(r, [1, 1 / 3])
    np.testing.assert_allclose(f1, [0.5, 0.5])
    assert metrics.macro_f1(y_true, y_pred) == pytest.approx(0.5)


def test_classes_never_predicted_or_absent_score_zero() -> None:
    # class 2 never predicted (P = R = F1 = 0); class 3 absent and never predicted (all 0)
    p, r, f1, support = metrics.precision_recall_f1([0, 1, 2], [0, 1, 1], num_classes=4)
    np.testing.assert_allclose(p, [1, 0.5, 0, 0])
    np.testing.assert_allclose(r, [1, 1, 0, 0])
    np.testing.assert_allclose(f1, [1, 2 / 3, 0, 0])
    np.testing.assert_array_equal(support, [1, 1, 1, 0])
    assert metrics.macro_f1([0, 1, 2], [0, 1, 1], num_classes=4) == pytest.approx(
        (1 + 2 / 3) / 4
    )


def test_macro_f1_counts_rare_classes_equally() -> None:
    # 98 correct on class 0, the 2 examples of class 1 both missed:
    # accuracy 0.98 but macro-F1 = (F1_0 + 0)/2 with F1_0 = 2*0.98*1/(1.98)
    y_true = np.array([0] * 98 + [1] * 2)
    y_pred = np.zeros(100, dtype=int)
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(0.98)
    assert metrics.macro_f1(y_true, y_pred) == pytest.approx((2 * 0.98 / 1.98) / 2)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "error", "argument"),
    [
        ([0, 1], [0, 1, 1], ValueError, "y_pred"),
        ([[0, 1]], [[0, 1]], ValueError, "y_true"),
        ([0.0, 1.0], [0, 1], TypeError, "y_true"),
        ([0, 1], [0, -1], ValueError, "y_pred"),
        ([], [], ValueError, "y_true"),
        ([[0, 1], [0]], [0, 1], ValueError, "y_true"),  # ragged
    ],
)
def test_validation(y_true, y_pred, error, argument) -> None:
    with raises_naming(error, argument):
        metrics.confusion_matrix(y_true, y_pred)


def test_num_classes_too_small() -> None:
    with raises_naming(ValueError, "y_true"):
        metrics.confusion_matrix([0, 3], [0, 1], num_classes=3)


@pytest.mark.parametrize("num_classes", [4.0, "4", True, None])
def test_num_classes_must_be_an_integer(num_classes) -> None:
    if num_classes is None:
        assert metrics.confusion_matrix([0, 3], [0, 1]).shape == (4, 4)
        return
    with raises_naming(TypeError, "num_classes"):
        metrics.confusion_matrix([0, 3], [0, 1], num_classes=num_classes)
    with raises_naming(TypeError, "num_classes"):
        metrics.macro_f1([0, 3], [0, 1], num_classes=num_classes)


@pytest.mark.parametrize("label", [10**6, 2**32, 2**63 + 5])
def test_huge_labels_are_reported_not_allocated(label) -> None:
    """Issue 10, defect 9: a label of 2**32 used to start a 7 TiB allocation."""
    big = np.array([0, label], dtype=np.uint64 if label >= 2**63 else np.int64)
    with raises_naming(ValueError, "y_true"):
        metrics.confusion_matrix(big, [0, 1])
    with raises_naming(ValueError, "y_pred"):
        metrics.precision_recall_f1([0, 1], big)
    with raises_naming(ValueError, "num_classes"):
        metrics.confusion_matrix([0, 1], [0, 1], num_classes=label)
    # accuracy builds no matrix: any labels work
    assert metrics.accuracy(big, big) == 1.0
    assert metrics.accuracy(big, [0, 1]) == 0.5


def test_max_classes_is_allowed() -> None:
    k = metrics.MAX_CLASSES
    cm = metrics.confusion_matrix([k - 1], [0])
    assert cm.shape == (k, k) and cm[k - 1, 0] == 1 and cm.sum() == 1
