"""xent.optim: each update rule against updates worked out by hand, clipping and schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import raises_naming
from xent import optim


def one_param(value: list[float]) -> tuple[np.ndarray, np.ndarray]:
    p = np.array(value, dtype=np.float64)
    return p, np.zeros_like(p)


def test_plain_sgd() -> None:
    p, g = one_param([1.0, -2.0])
    opt = optim.SGD([(p, g)], lr=0.1)
    g[:] = [0.5, -1.0]
    opt.step()
    np.testing.assert_allclose(p, [0.95, -1.9], rtol=1e-15)
    assert opt.steps == 1


def test_sgd_momentum_and_weight_decay_by_hand() -> None:
    # lr 0.1, momentum 0.9, weight decay 0.01, p0 = 1, gradients 1.0 then 2.0
    # step 1: g = 1 + 0.01*1 = 1.01; v = 1.01; p = 1 - 0.101 = 0.899
    # step 2: g = 2 + 0.01*0.899 = 2.00899; v = 0.9*1.01 + 2.00899 = 2.91799;
    #         p = 0.899 - 0.291799 = 0.607201
    p, g = one_param([1.0])
    opt = optim.SGD([(p, g)], lr=0.1, momentum=0.9, weight_decay=0.01)
    g[:] = 1.0
    opt.step()
    np.testing.assert_allclose(p, [0.899], rtol=1e-14)
    g[:] = 2.0
    opt.step()
    np.testing.assert_allclose(p, [0.607201], rtol=1e-14)
    np.testing.assert_allclose(g, [2.0])  # the gradient array itself is left alone


def test_sgd_nesterov_by_hand() -> None:
    # step 1: v = 1; p = 1 - 0.1 (1 + 0.9*1) = 0.81
    # step 2: v = 0.9 + 1 = 1.9; p = 0.81 - 0.1 (1 + 0.9*1.9) = 0.81 - 0.271 = 0.539
    p, g = one_param([1.0])
    opt = optim.SGD([(p, g)], lr=0.1, momentum=0.9, nesterov=True)
    g[:] = 1.0
    opt.step()
    np.testing.assert_allclose(p, [0.81], rtol=1e-14)
    opt.step()
    np.testing.assert_allclose(p, [0.539], rtol=1e-14)


def test_adam_by_hand() -> None:
    # Step 1 of Adam moves every coordinate by -lr * sign(g) (up to eps):
    # m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2.
    p, g = one_param([1.0, 1.0])
    opt = optim.Adam([(p, g)], lr=0.01)
    g[:] = [0.5, -3.0]
    opt.step()
    np.testing.assert_allclose(p, [0.99, 1.01], rtol=1e-9)
    after_first = p[0]  # 0.99 up to the eps in the denominator (~2e-10)
    # Step 2 with g = 1 on the first coordinate:
    # m = 0.9*0.05 + 0.1*1 = 0.145, v = 0.999*0.00025 + 0.001*1 = 0.00124975
    # m_hat = 0.145/0.19, v_hat = 0.00124975/0.001999
    g[:] = [1.0, -3.0]
    opt.step()
    m_hat, v_hat = 0.145 / 0.19, 0.00124975 / (1 - 0.999**2)
    expected = after_first - 0.01 * m_hat / (math.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(p[0], expected, rtol=1e-12)
    np.testing.assert_allclose(p[1], 1.02, rtol=1e-9)


def test_adam_l2_versus_adamw_decoupled_decay() -> None:
    # Zero gradient, p = 2, lr = 0.1, decay 0.5.
    # Adam (L2): g = 0.5*2 = 1 -> first step moves by -lr: p = 1.9.
    # AdamW: p *= 1 - 0.1*0.5 -> 1.9, then the Adam step on g = 0 does nothing.
    p, g = one_param([2.0])
    optim.Adam([(p, g)], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(p, [1.9], rtol=1e-9)
    p, g = one_param([2.0])
    opt = optim.AdamW([(p, g)], lr=0.1, weight_decay=0.5)
    opt.step()
    np.testing.assert_allclose(p, [1.9], rtol=1e-15)
    opt.step()
    np.testing.assert_allclose(p, [1.805], rtol=1e-15)


def test_optimisers_keep_float32() -> None:
    p = np.ones(3, dtype=np.float32)
    g = np.full(3, 0.5, dtype=np.float32)
    for make in (
        lambda: optim.SGD([(p, g)], lr=0.1, momentum=0.9, weight_decay=1e-4),
        lambda: optim.AdamW([(p, g)], lr=0.1),
    ):
        opt = make()
        opt.step()
        opt.step()
        assert p.dtype == np.float32


def test_optimiser_validation() -> None:
    p, g = one_param([1.0])
    with raises_naming(ValueError, "params"):
        optim.SGD([], lr=0.1)
    with raises_naming(ValueError, "params"):
        optim.SGD([(p, np.zeros(2))], lr=0.1)
    with raises_naming(ValueError, "lr"):
        optim.SGD([(p, g)], lr=-1)
    with raises_naming(ValueError, "nesterov"):
        optim.SGD([(p, g)], lr=0.1, nesterov=True)
    with raises_naming(ValueError, "betas"):
        optim.Adam([(p, g)], betas=(0.9, 1.0))


def test_clip_grad_norm() -> None:
    a, b = np.array([3.0, 0.0]), np.array([[0.0], [4.0]])  # joint norm 5
    assert optim.clip_grad_norm([a, b], max_norm=10.0) == pytest.approx(5.0)
    np.testing.assert_array_equal(a, [3.0, 0.0])  # below the limit: untouched
    assert optim.clip_grad_norm([a, b], max_norm=1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(a, [0.6, 0.0], rtol=1e-15)
    np.testing.assert_allclose(b, [[0.0], [0.8]], rtol=1e-15)
    with raises_naming(ValueError, "max_norm"):
        optim.clip_grad_norm([a], 0.0)
    with raises_naming(TypeError, "grads"):
        optim.clip_grad_norm([[1.0, 2.0]], 1.0)


def test_cosine_lr() -> None:
    assert optim.cosine_lr(0, 100, 1.0) == pytest.approx(1.0)
    assert optim.cosine_lr(50, 100, 1.0, lr_min=0.2) == pytest.approx(0.6)
    assert optim.cosine_lr(100, 100, 1.0, lr_min=0.2) == pytest.approx(0.2)
    assert optim.cosine_lr(500, 100, 1.0, lr_min=0.2) == pytest.approx(0.2)
    # warm-up: 1/4, 2/4, 3/4, 4/4 of lr_max, then cosine over the remaining 96 steps
    warm = [optim.cosine_lr(s, 100, 2.0, warmup_steps=4) for s in range(5)]
    np.testing.assert_allclose(warm, [0.5, 1.0, 1.5, 2.0, 2.0])
    assert optim.cosine_lr(52, 100, 2.0, warmup_steps=4) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        optim.cosine_lr(0, 10, 1.0, warmup_steps=10)


def test_step_lr() -> None:
    assert [optim.step_lr(e, 1.0, 3, 0.5) for e in range(7)] == [
        1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25,
    ]  # fmt: skip
    with pytest.raises(ValueError):
        optim.step_lr(0, 1.0, 0)


NAN = float("nan")


@pytest.mark.parametrize(
    ("make", "error", "argument"),
    [
        # issue 10, defect 9: nan was accepted silently, "0.1" failed inside a comparison
        (lambda pairs: optim.SGD(pairs, lr=NAN), ValueError, "lr"),
        (lambda pairs: optim.SGD(pairs, lr=float("inf")), ValueError, "lr"),
        (lambda pairs: optim.SGD(pairs, lr="0.1"), TypeError, "lr"),
        (lambda pairs: optim.SGD(pairs, lr=None), TypeError, "lr"),
        (lambda pairs: optim.SGD(pairs, lr=0.1, momentum=NAN), ValueError, "momentum"),
        (lambda pairs: optim.SGD(pairs, lr=0.1, weight_decay=NAN), ValueError, "weight_decay"),
        (lambda pairs: optim.SGD(pairs, lr=0.1, momentum=0.9, nesterov="yes"), TypeError,
         "nesterov"),
        (lambda pairs: optim.Adam(pairs, eps=NAN), ValueError, "eps"),
        (lambda pairs: optim.Adam(pairs, eps=0.0), ValueError, "eps"),
        (lambda pairs: optim.Adam(pairs, lr=NAN), ValueError, "lr"),
        (lambda pairs: optim.Adam(pairs, betas=(NAN, 0.999)), ValueError, "betas"),
        (lambda pairs: optim.Adam(pairs, betas=0.9), TypeError, "betas"),
        (lambda pairs: optim.AdamW(pairs, weight_decay="0.01"), TypeError, "weight_decay"),
        (lambda pairs: optim.SGD(3, lr=0.1), TypeError, "params"),
        (lambda pairs: optim.SGD([(np.zeros(2, int), np.zeros(2, int))], lr=0.1), TypeError,
         "params"),
        (lambda pairs: optim.clip_grad_norm([pairs[0][1]], NAN), ValueError, "max_norm"),
        (lambda pairs: optim.cosine_lr(0, 10.0, 0.1), TypeError, "total_steps"),
        (lambda pairs: optim.cosine_lr(0, 10, 0.1, warmup_steps=10), ValueError, "warmup_steps"),
        (lambda pairs: optim.cosine_lr(-1, 10, 0.1), ValueError, "step"),
        (lambda pairs: optim.cosine_lr(0, 10, NAN), ValueError, "lr_max"),
        (lambda pairs: optim.step_lr(1, 0.1, 0), ValueError, "step_size"),
        (lambda pairs: optim.step_lr(1, 0.1, 2, gamma=NAN), ValueError, "gamma"),
    ],
)  # fmt: skip
def test_hyperparameters_are_checked_and_named(make, error, argument) -> None:
    pairs = [one_param([1.0, 2.0])]
    with raises_naming(error, argument):
        make(pairs)
