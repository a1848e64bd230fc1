"""Bad inputs raise ValueError / TypeError naming the argument and what was expected.

Never an IndexError from deep inside NumPy, never a silently wrong number.
"""

from __future__ import annotations

import numpy as np
import pytest
import xent
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


@pytest.mark.parametrize(
    ("target", "match"),
    [
        (np.array([0, 1, 2]), r"target: expected class indices of shape \(4,\)"),
        (np.zeros((4, 2)), r"target: expected class indices of shape \(4,\) or class prob"),
        (np.zeros((4, 3, 1)), "target: expected class indices"),
    ],
)
def test_target_shape_mismatch(loss_fn, target, match):
    with pytest.raises(ValueError, match=match):
        loss_fn(Z, target)


def test_class_index_out_of_range(loss_fn):
    msg = r"target: class indices must be in \[0, 3\) or equal ignore_index=-100; got 12 at "
    with pytest.raises(ValueError, match=msg + "position 3"):
        loss_fn(Z, np.array([0, 1, 2, 12]))
    with pytest.raises(ValueError, match=r"got -1 at position 1"):
        loss_fn(Z, np.array([0, -1, 2, 0]))
    with pytest.raises(ValueError, match=r"ignore_index=5; got -100 at position 0"):
        loss_fn(Z, np.array([-100, 1, 2, 0]), ignore_index=5)  # -100 is not special then
    with pytest.raises(ValueError, match=r"target: .* got 3 at position \(1, 0\)"):
        loss_fn(np.zeros((2, 3, 2)), np.array([[0, 1], [3, 0]]))


def test_class_index_of_float_dtype(loss_fn):
    with pytest.raises(TypeError, match="target: class indices must have an integer dtype"):
        loss_fn(Z, Y.astype(np.float64))
    with pytest.raises(TypeError, match="target: class indices must have an integer dtype"):
        loss_fn(Z, Y.astype(bool))
    with pytest.raises(TypeError, match="target: class-probability targets .* float dtype"):
        loss_fn(Z, np.zeros((4, 3), dtype=np.int64))


@pytest.mark.parametrize("bad", [np.nan, np.inf])  # -inf masks a class: see test_losses.py
def test_non_finite_logits(loss_fn, bad):
    z = np.zeros((4, 3))
    z[2, 1] = bad
    with pytest.raises(ValueError, match=r"logits: expected finite values .* position \(2, 1\)"):
        loss_fn(z, Y)
    with pytest.raises(ValueError, match="logits: expected finite values"):
        loss_fn(z.astype(np.float32), np.full((4, 3), 1 / 3))


def test_non_finite_logits_in_the_threaded_path():
    z = np.zeros((2000, 100))
    z[1500, 7] = np.nan
    with pytest.raises(ValueError, match=r"logits: .* position \(1500, 7\)"):
        xent.cross_entropy_and_grad(z, np.zeros(2000, dtype=int))


def test_bad_logits(loss_fn):
    with pytest.raises(ValueError, match="logits: expected shape"):
        loss_fn(np.float64(1.0), 0)
    with pytest.raises(ValueError, match=r"logits: the class axis \(axis 1\) is empty"):
        loss_fn(np.zeros((4, 0)), Y)
    with pytest.raises(ValueError, match=r"logits: the class axis \(axis 0\) is empty"):
        loss_fn(np.zeros(0), 0)
    with pytest.raises(TypeError, match="logits: expected a real-valued array"):
        loss_fn(np.array([["a", "b"]]), [0])
    with pytest.raises(TypeError, match="logits: expected a real-valued array"):
        loss_fn(np.ones((1, 2), dtype=complex), [0])


def test_weight(loss_fn):
    with pytest.raises(ValueError, match="weight: expected non-negative class weights; got -1.0"):
        loss_fn(Z, Y, weight=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match=r"weight: expected one weight per class, shape \(3,\)"):
        loss_fn(Z, Y, weight=[1.0, 1.0])
    with pytest.raises(ValueError, match=r"weight: expected one weight per class"):
        loss_fn(Z, Y, weight=np.ones((1, 3)))
    with pytest.raises(ValueError, match="weight: expected finite values"):
        loss_fn(Z, Y, weight=[1.0, np.nan, 1.0])


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan")])
def test_label_smoothing_range(loss_fn, eps):
    with pytest.raises(ValueError, match=r"label_smoothing: expected a float in \[0, 1\]"):
        loss_fn(Z, Y, label_smoothing=eps)


def test_label_smoothing_type(loss_fn):
    with pytest.raises(TypeError, match="label_smoothing"):
        loss_fn(Z, Y, label_smoothing="0.1")


def test_probability_targets(loss_fn):
    t = np.full((4, 3), 1 / 3)
    t[1, 2] = -0.5
    with pytest.raises(ValueError, match=r"target: expected non-negative class probabilities"):
        loss_fn(Z, t)
    t[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"target: expected finite values"):
        loss_fn(Z, t)
    # like torch, targets need not sum to 1 (no error): the loss is linear in them
    twice = np.full((4, 3), 2 / 3)
    assert xent.cross_entropy(Z, twice) == pytest.approx(2 * np.log(3))


def test_ignore_index_with_probability_targets(loss_fn):
    t = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match="ignore_index: only supported with class-index targets"):
        loss_fn(Z, t, ignore_index=0)
    loss_fn(Z, t)  # the default ignore_index is fine
    with pytest.raises(TypeError, match="ignore_index: expected an integer"):
        loss_fn(Z, Y, ignore_index=1.5)


@pytest.mark.parametrize("reduction", ["avg", "MEAN", None, ""])
def test_bad_reduction(loss_fn, reduction):
    with pytest.raises(ValueError, match="reduction: expected one of 'mean', 'sum', 'none'"):
        loss_fn(Z, Y, reduction=reduction)


def test_one_hot():
    with pytest.raises(ValueError, match=r"y: class indices must be in \[0, 3\); got 3 at pos"):
        xent.one_hot([0, 3], 3)
    with pytest.raises(ValueError, match=r"y: class indices must be in \[0, 3\); got -1"):
        xent.one_hot([-1], 3)
    with pytest.raises(TypeError, match="y: class indices must have an integer dtype"):
        xent.one_hot([0.0, 1.0], 3)
    with pytest.raises(ValueError, match="num_classes: expected a positive integer"):
        xent.one_hot([0], 0)
    with pytest.raises(TypeError, match="num_classes: expected a positive integer"):
        xent.one_hot([0], 2.0)


# --------------------------------------------------------------------------- softmax family


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("inf"), float("nan")])
def test_temperature_value(temperature):
    with pytest.raises(ValueError, match="temperature: expected a finite float > 0"):
        xent.softmax([1.0, 2.0], temperature=temperature)


def test_temperature_type():
    with pytest.raises(TypeError, match="temperature: expected a finite float > 0"):
        xent.softmax([1.0, 2.0], temperature="hot")


@pytest.mark.parametrize("func", [xent.softmax, xent.log_softmax, xent.logsumexp])
def test_softmax_family_inputs(func):
    with pytest.raises(ValueError, match=r"z: expected finite values or -inf .* position 1"):
        func([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match=r"z: expected finite values or -inf .* got inf at"):
        func([0.0, np.inf])
    with pytest.raises(ValueError, match="z: every slice along axis 1 needs at least one finite"):
        func([[0.0, 1.0], [-np.inf, -np.inf]])
    with pytest.raises(ValueError, match="z: expected at least one entry along axis"):
        func(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="z: expected an array with at least 1 dimension"):
        func(1.0)
    with pytest.raises(ValueError, match=r"axis: expected an axis in \[-2, 2\)"):
        func(np.zeros((2, 2)), axis=2)
    with pytest.raises(TypeError, match="axis: expected an integer axis"):
        func(np.zeros((2, 2)), axis=0.0)
    with pytest.raises(TypeError, match="z: expected a real-valued array"):
        func(["a", "b"])


def test_jacobian_and_backward_inputs():
    with pytest.raises(ValueError, match="p: probabilities must sum to 1"):
        xent.softmax_jacobian([1.0, 2.0, 3.0])  # logits instead of probabilities
    with pytest.raises(ValueError, match="p: expected non-negative probabilities"):
        xent.softmax_jacobian([1.5, -0.5])
    with pytest.raises(ValueError, match="p: expected a probability vector"):
        xent.softmax_jacobian(1.0)
    with pytest.raises(ValueError, match=r"grad_p: expected the same shape as p \(2,\)"):
        xent.softmax_backward([0.5, 0.5], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="p: probabilities must sum to 1"):
        xent.softmax_backward([0.5, 0.6], [1.0, 2.0])
    with pytest.raises(ValueError, match="grad_p: expected finite values"):
        xent.softmax_backward([0.5, 0.5], [1.0, np.nan])


# --------------------------------------------------------------------------- xent.info


@pytest.mark.parametrize("func", [info.entropy, lambda p: info.cross_entropy(p, [0.5, 0.5])])
def test_info_p_validation(func):
    with pytest.raises(ValueError, match="p: probabilities must sum to 1"):
        func([0.5, 0.6])
    with pytest.raises(ValueError, match="p: expected non-negative probabilities; got -0.5"):
        func([1.5, -0.5])
    with pytest.raises(ValueError, match="p: expected finite values"):
        func([np.nan, 1.0])


def test_info_q_validation():
    with pytest.raises(ValueError, match="q: probabilities must sum to 1"):
        info.kl_divergence([0.5, 0.5], [0.5, 0.4])
    with pytest.raises(ValueError, match="q: expected non-negative probabilities"):
        info.cross_entropy([0.5, 0.5], [1.5, -0.5])
    with pytest.raises(ValueError, match=r"q: expected the same shape as p \(2,\); got \(3,\)"):
        info.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])


@pytest.mark.parametrize("base", [0, -2, 1, float("nan")])
def test_info_base(base):
    with pytest.raises(ValueError, match="base: expected"):
        info.entropy([0.5, 0.5], base=base)


# --------------------------------------------------------------------------- gradcheck


def test_gradcheck_inputs():
    with pytest.raises(ValueError, match="eps: expected a finite float > 0"):
        xent.numerical_gradient(np.sum, np.ones(2), eps=0.0)
    with pytest.raises(ValueError, match="x: expected finite values"):
        xent.numerical_gradient(np.sum, [1.0, np.inf])
    with pytest.raises(TypeError, match="x: expected a real-valued array"):
        xent.numerical_gradient(np.sum, ["a"])
    with pytest.raises(ValueError, match=r"grad_f: must return an array of x's shape \(3,\)"):
        xent.gradcheck(np.sum, lambda v: np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match=r"f: expected f\(x\) to return a scalar; got shape"):
        xent.numerical_gradient(lambda v: v * 2, np.ones(3))
