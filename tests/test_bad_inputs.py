"""Bad inputs raise ValueError / TypeError naming the argument and what was expected.

Never an IndexError from deep inside NumPy, never a silently wrong number.
"""

from __future__ import annotations

import numpy as np
import pytest
import xent
from helpers import raises_naming
from xent import info

Z = np.zeros((4, 3))  # 4 samples, 3 classes
Y = np.array([0, 1, 2, 0])


def ce(logits=Z, target=Y, **kwargs):
    return xent.cross_entropy(logits, target, **kwargs)


# every check must hold for all three entry points
@pytest.fixture(params=["cross_entropy", "cross_entropy_grad", "cross_entropy_and_grad"])
def loss_fn(request):
    return getattr(xent, request.param)


# --------------------------------------------------------------------------- cross_entropy


@pytest.mark.parametrize("target", [np.array([0, 1, 2]), np.zeros((4, 2)), np.zeros((4, 3, 1))])
def test_target_shape_mismatch(loss_fn, target):
    with raises_naming(ValueError, "target"):
        loss_fn(Z, target)


def test_class_index_out_of_range(loss_fn):
    # the message names the argument and where the bad entry is (the position, 0-based)
    with raises_naming(ValueError, "target") as exc:
        loss_fn(Z, np.array([0, 1, 2, 12]))
    assert "12" in str(exc.value) and "3" in str(exc.value)
    with raises_naming(ValueError, "target") as exc:
        loss_fn(Z, np.array([0, -1, 2, 0]))
    assert "-1" in str(exc.value)
    with raises_naming(ValueError, "target") as exc:
        loss_fn(Z, np.array([-100, 1, 2, 0]), ignore_index=5)  # -100 is not special then
    assert "-100" in str(exc.value)
    with raises_naming(ValueError, "target"):
        loss_fn(np.zeros((2, 3, 2)), np.array([[0, 1], [3, 0]]))


def test_class_index_of_float_dtype(loss_fn):
    with raises_naming(TypeError, "target"):
        loss_fn(Z, Y.astype(np.float64))
    with raises_naming(TypeError, "target"):
        loss_fn(Z, Y.astype(bool))
    with raises_naming(TypeError, "target"):
        loss_fn(Z, np.zeros((4, 3), dtype=np.int64))


@pytest.mark.parametrize("bad", [np.nan, np.inf])  # -inf masks a class: see test_losses.py
def test_non_finite_logits(loss_fn, bad):
    z = np.zeros((4, 3))
    z[2, 1] = bad
    with raises_naming(ValueError, "logits"):
        loss_fn(z, Y)
    with raises_naming(ValueError, "logits"):
        loss_fn(z.astype(np.float32), np.full((4, 3), 1 / 3))


def test_non_finite_logits_in_the_threaded_path():
    z = np.zeros((2000, 100))
    z[1500, 7] = np.nan
    with raises_naming(ValueError, "logits") as exc:
        xent.cross_entropy_and_grad(z, np.zeros(2000, dtype=int))
    assert "(1500, 7)" in str(exc.value)


def test_bad_logits(loss_fn):
    with raises_naming(ValueError, "logits"):
        loss_fn(np.float64(1.0), 0)
    with raises_naming(ValueError, "logits"):
        loss_fn(np.zeros((4, 0)), Y)
    with raises_naming(ValueError, "logits"):
        loss_fn(np.zeros(0), 0)
    with raises_naming(TypeError, "logits"):
        loss_fn(np.array([["a", "b"]]), [0])
    with raises_naming(TypeError, "logits"):
        loss_fn(np.ones((1, 2), dtype=complex), [0])


def test_weight(loss_fn):
    with raises_naming(ValueError, "weight"):
        loss_fn(Z, Y, weight=[1.0, -1.0, 1.0])
    with raises_naming(ValueError, "weight"):
        loss_fn(Z, Y, weight=[1.0, 1.0])
    with raises_naming(ValueError, "weight"):
        loss_fn(Z, Y, weight=np.ones((1, 3)))
    with raises_naming(ValueError, "weight"):
        loss_fn(Z, Y, weight=[1.0, np.nan, 1.0])


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan")])
def test_label_smoothing_range(loss_fn, eps):
    with raises_naming(ValueError, "label_smoothing"):
        loss_fn(Z, Y, label_smoothing=eps)


def test_label_smoothing_type(loss_fn):
    with raises_naming(TypeError, "label_smoothing"):
        loss_fn(Z, Y, label_smoothing="0.1")


def test_probability_targets(loss_fn):
    t = np.full((4, 3), 1 / 3)
    t[1, 2] = -0.5
    with raises_naming(ValueError, "target"):
        loss_fn(Z, t)
    t[1, 2] = np.nan
    with raises_naming(ValueError, "target"):
        loss_fn(Z, t)
    # like torch, targets need not sum to 1 (no error): the loss is linear in them
    twice = np.full((4, 3), 2 / 3)
    assert xent.cross_entropy(Z, twice) == pytest.approx(2 * np.log(3))


def test_ignore_index_with_probability_targets(loss_fn):
    t = np.full((4, 3), 1 / 3)
    with raises_naming(ValueError, "ignore_index"):
        loss_fn(Z, t, ignore_index=0)
    loss_fn(Z, t)  # the default ignore_index is fine
    with raises_naming(TypeError, "ignore_index"):
        loss_fn(Z, Y, ignore_index=1.5)


@pytest.mark.parametrize("reduction", ["avg", "MEAN", None, ""])
def test_bad_reduction(loss_fn, reduction):
    with raises_naming(ValueError, "reduction"):
        loss_fn(Z, Y, reduction=reduction)


def test_one_hot():
    with raises_naming(ValueError, "y"):
        xent.one_hot([0, 3], 3)
    with raises_naming(ValueError, "y"):
        xent.one_hot([-1], 3)
    with raises_naming(TypeError, "y"):
        xent.one_hot([0.0, 1.0], 3)
    with raises_naming(ValueError, "num_classes"):
        xent.one_hot([0], 0)
    with raises_naming(TypeError, "num_classes"):
        xent.one_hot([0], 2.0)


# --------------------------------------------------------------------------- softmax family


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("inf"), float("nan")])
def test_temperature_value(temperature):
    with raises_naming(ValueError, "temperature"):
        xent.softmax([1.0, 2.0], temperature=temperature)


def test_temperature_type():
    with raises_naming(TypeError, "temperature"):
        xent.softmax([1.0, 2.0], temperature="hot")


@pytest.mark.parametrize("func", [xent.softmax, xent.log_softmax, xent.logsumexp])
def test_softmax_family_inputs(func):
    with raises_naming(ValueError, "z"):
        func([0.0, np.nan, 1.0])
    with raises_naming(ValueError, "z"):
        func([0.0, np.inf])
    with raises_naming(ValueError, "z"):
        func([[0.0, 1.0], [-np.inf, -np.inf]])
    with raises_naming(ValueError, "z"):
        func(np.zeros((2, 0)))
    with raises_naming(ValueError, "z"):
        func(1.0)
    with raises_naming(ValueError, "axis"):
        func(np.zeros((2, 2)), axis=2)
    with raises_naming(TypeError, "axis"):
        func(np.zeros((2, 2)), axis=0.0)
    with raises_naming(TypeError, "z"):
        func(["a", "b"])


def test_jacobian_and_backward_inputs():
    with raises_naming(ValueError, "p"):
        xent.softmax_jacobian([1.0, 2.0, 3.0])  # logits instead of probabilities
    with raises_naming(ValueError, "p"):
        xent.softmax_jacobian([1.5, -0.5])
    with raises_naming(ValueError, "p"):
        xent.softmax_jacobian(1.0)
    with raises_naming(ValueError, "grad_p"):
        xent.softmax_backward([0.5, 0.5], [1.0, 2.0, 3.0])
    with raises_naming(ValueError, "p"):
        xent.softmax_backward([0.5, 0.6], [1.0, 2.0])
    with raises_naming(ValueError, "grad_p"):
        xent.softmax_backward([0.5, 0.5], [1.0, np.nan])


# --------------------------------------------------------------------------- xent.info


@pytest.mark.parametrize("func", [info.entropy, lambda p: info.cross_entropy(p, [0.5, 0.5])])
def test_info_p_validation(func):
    with raises_naming(ValueError, "p"):
        func([0.5, 0.6])
    with raises_naming(ValueError, "p"):
        func([1.5, -0.5])
    with raises_naming(ValueError, "p"):
        func([np.nan, 1.0])


def test_info_q_validation():
    with raises_naming(ValueError, "q"):
        info.kl_divergence([0.5, 0.5], [0.5, 0.4])
    with raises_naming(ValueError, "q"):
        info.cross_entropy([0.5, 0.5], [1.5, -0.5])
    with raises_naming(ValueError, "q"):
        info.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])


@pytest.mark.parametrize("base", [0, -2, 1, float("nan")])
def test_info_base(base):
    with raises_naming(ValueError, "base"):
        info.entropy([0.5, 0.5], base=base)


# --------------------------------------------------------------------------- gradcheck


def test_gradcheck_inputs():
    with raises_naming(ValueError, "eps"):
        xent.numerical_gradient(np.sum, np.ones(2), eps=0.0)
    with raises_naming(ValueError, "x"):
        xent.numerical_gradient(np.sum, [1.0, np.inf])
    with raises_naming(TypeError, "x"):
        xent.numerical_gradient(np.sum, ["a"])
    with raises_naming(ValueError, "grad_f"):
        xent.gradcheck(np.sum, lambda v: np.zeros(2), np.ones(3))
    with raises_naming(ValueError, "f"):
        xent.numerical_gradient(lambda v: v * 2, np.ones(3))


# --------------------------------------------------------------------------- ragged (issue 10)

RAGGED = [[0.0, 1.0, 2.0], [0.0, 1.0]]


def test_ragged_logits_are_named(loss_fn):
    """Issue 10, defect 9: NumPy's "inhomogeneous shape" error named no argument."""
    with raises_naming(ValueError, "logits"):
        loss_fn(RAGGED, [0, 1])


@pytest.mark.parametrize("func", [xent.softmax, xent.log_softmax, xent.logsumexp])
def test_ragged_z_is_named(func):
    with raises_naming(ValueError, "z"):
        func(RAGGED)
    with raises_naming(TypeError, "z"):
        func(np.array([1.0, None], dtype=object))


def test_ragged_everywhere_else():
    with raises_naming(ValueError, "p"):
        xent.softmax_jacobian([[0.5, 0.5], [1.0]])
    with raises_naming(ValueError, "grad_p"):
        xent.softmax_backward([0.5, 0.5], [[1.0], [1.0, 2.0]])
    with raises_naming(ValueError, "x"):
        xent.numerical_gradient(np.sum, RAGGED)
    with raises_naming(ValueError, "y"):
        xent.one_hot([[0], [0, 1]], 3)
