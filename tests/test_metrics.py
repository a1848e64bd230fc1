"""xent.metrics against small cases counted by hand."""

from __future__ import annotations

import numpy as np
import pytest
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
    ("y_true", "y_pred", "error", "match"),
    [
        ([0, 1], [0, 1, 1], ValueError, "same length"),
        ([[0, 1]], [[0, 1]], ValueError, "1-D"),
        ([0.0, 1.0], [0, 1], TypeError, "integer"),
        ([0, -1], [0, 1], ValueError, ">= 0"),
        ([], [], ValueError, "empty"),
    ],
)
def test_validation(y_true, y_pred, error, match) -> None:
    with pytest.raises(error, match=match):
        metrics.confusion_matrix(y_true, y_pred)


def test_num_classes_too_small() -> None:
    with pytest.raises(ValueError, match="num_classes"):
        metrics.confusion_matrix([0, 3], [0, 1], num_classes=3)
