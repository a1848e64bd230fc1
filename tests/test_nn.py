"""xent.nn: every backward against central differences (float64), initialisation statistics,
dropout behaviour, the fused loss module, and a tiny network that overfits a small batch."""

from __future__ import annotations

import numpy as np
import pytest
import xent
from helpers import raises_naming
from xent import nn, optim

RTOL_SMOOTH = 1e-6  # gradcheck relative error for smooth maps in float64
RTOL_KINK = 1e-5  # ReLU networks: points are kept away from the kinks, but leave room


def linear(n_in: int, n_out: int, seed: int = 0, **kw) -> nn.Linear:
    return nn.Linear(n_in, n_out, rng=np.random.default_rng(seed), dtype=np.float64, **kw)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with |x| in [0.1, 1.5]: a 1e-6 nudge never crosses ReLU's kink."""
    return rng.uniform(0.1, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def check_input_grad(make, x: np.ndarray, tol: float) -> None:
    """Compare ``backward(R)`` with the numerical gradient of ``sum(forward(x) * R)``."""
    r = np.random.default_rng(99).standard_normal(make().forward(x).shape)

    def f(v: np.ndarray) -> float:
        return float(np.sum(make().forward(v) * r))

    def grad_f(v: np.ndarray) -> np.ndarray:
        layer = make()
        layer.forward(v)
        return layer.backward(r)

    assert xent.gradcheck(f, grad_f, x) < tol


# ----------------------------------------------------------------------------- Linear


def test_linear_forward_is_affine() -> None:
    layer = linear(4, 3)
    x = np.random.default_rng(1).standard_normal((5, 4))
    layer.params["b"][:] = [1.0, -2.0, 0.5]
    np.testing.assert_allclose(
        layer.forward(x), x @ layer.params["W"] + layer.params["b"], rtol=1e-12
    )


def test_linear_backward_input_weight_bias() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 5))
    check_input_grad(lambda: linear(5, 4, init="xavier"), x, RTOL_SMOOTH)

    layer = linear(5, 4)
    layer.params["b"][:] = rng.standard_normal(4)
    r = rng.standard_normal((6, 4))
    layer.forward(x)
    layer.backward(r)
    for name in ("W", "b"):
        original = layer.params[name].copy()

        def f(value: np.ndarray, name: str = name) -> float:
            layer.params[name][...] = value
            return float(np.sum(layer.forward(x) * r))

        numeric = xent.numerical_gradient(f, original)
        layer.params[name][...] = original
        np.testing.assert_allclose(layer.grads[name], numeric, rtol=1e-7, atol=1e-9)


def test_linear_grads_are_overwritten_not_accumulated() -> None:
    layer = linear(3, 2)
    x = np.ones((2, 3))
    layer.forward(x)
    layer.backward(np.ones((2, 2)))
    first = layer.grads["W"].copy()
    layer.forward(x)
    layer.backward(np.ones((2, 2)))
    np.testing.assert_array_equal(layer.grads["W"], first)


def test_parameters_are_stable_pairs() -> None:
    layer = linear(3, 2)
    pairs = layer.parameters()
    assert [p is layer.params[k] for (p, _), k in zip(pairs, "Wb", strict=True)] == [True] * 2
    layer.forward(np.ones((1, 3)))
    layer.backward(np.ones((1, 2)))
    assert pairs[0][1] is layer.grads["W"]
    assert len(linear(3, 2, bias=False).parameters()) == 1


def test_he_and_xavier_initialisation_statistics() -> None:
    he = nn.Linear(1000, 500, rng=np.random.default_rng(0), init="he")
    assert he.params["W"].dtype == np.float32
    assert abs(he.params["W"].std() / np.sqrt(2 / 1000) - 1) < 0.01
    assert abs(he.params["W"].mean()) < 0.002
    np.testing.assert_array_equal(he.params["b"], 0)

    xavier = nn.Linear(1000, 500, rng=np.random.default_rng(0), init="xavier")
    limit = np.sqrt(6 / 1500)
    assert np.abs(xavier.params["W"]).max() <= limit
    # U(-a, a) has standard deviation a / sqrt(3)
    assert abs(xavier.params["W"].std() / (limit / np.sqrt(3)) - 1) < 0.01


def test_linear_is_reproducible_from_seed_and_validates() -> None:
    a = nn.Linear(4, 3, rng=np.random.default_rng(7))
    b = nn.Linear(4, 3, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    with raises_naming(ValueError, "init"):
        nn.Linear(4, 3, rng=np.random.default_rng(0), init="lecun")
    with raises_naming(TypeError, "rng"):
        nn.Linear(4, 3, rng=0)
    with raises_naming(ValueError, "x"):
        a.forward(np.ones((2, 5), dtype=np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Linear(4, 3, rng=np.random.default_rng(0)).backward(np.ones((1, 3)))


# ----------------------------------------------------------------------------- ReLU, Flatten


def test_relu_forward_backward() -> None:
    x = away_from_zero(np.random.default_rng(3), (4, 7))
    check_input_grad(nn.ReLU, x, RTOL_SMOOTH)
    relu = nn.ReLU()
    np.testing.assert_array_equal(relu.forward(np.array([[-2.0, 0.0, 3.0]])), [[0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(relu.backward(np.array([[5.0, 5.0, 5.0]])), [[0.0, 0.0, 5.0]])


def test_flatten_round_trip() -> None:
    x = np.random.default_rng(4).standard_normal((3, 2, 4))
    check_input_grad(nn.Flatten, x, RTOL_SMOOTH)
    flat = nn.Flatten()
    assert flat.forward(x).shape == (3, 8)
    assert flat.backward(np.ones((3, 8))).shape == (3, 2, 4)


# ----------------------------------------------------------------------------- Dropout


def test_dropout_backward_matches_numerical_gradient() -> None:
    x = np.random.default_rng(5).standard_normal((6, 8))
    # A fresh layer with the same seed draws the same mask every time.
    check_input_grad(lambda: nn.Dropout(0.4, rng=np.random.default_rng(11)), x, RTOL_SMOOTH)


def test_dropout_is_inverted_and_seeded() -> None:
    x = np.ones((400, 500), dtype=np.float32)
    drop = nn.Dropout(0.3, rng=np.random.default_rng(0))
    y = drop.forward(x)
    assert y.dtype == np.float32
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.005  # fraction dropped ~ p
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)  # survivors scaled by 1/(1-p)
    assert abs(y.mean() - 1.0) < 0.01  # expectation preserved
    np.testing.assert_array_equal(drop.backward(x) != 0, kept)  # same mask in backward
    again = nn.Dropout(0.3, rng=np.random.default_rng(0)).forward(x)
    np.testing.assert_array_equal(again, y)


def test_dropout_eval_mode_is_identity() -> None:
    x = np.random.default_rng(6).standard_normal((5, 5))
    drop = nn.Dropout(0.5, rng=np.random.default_rng(0)).eval()
    assert drop.forward(x) is x
    assert drop.backward(x) is x
    with raises_naming(ValueError, "p"):
        nn.Dropout(1.0, rng=np.random.default_rng(0))


# ----------------------------------------------------------------------------- Sequential + loss


def small_net(seed: int = 0, dtype=np.float64, p: float = 0.0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(12, 8, rng=rng, dtype=dtype),
        nn.ReLU(),
        nn.Dropout(p, rng=rng),
        nn.Linear(8, 5, rng=rng, init="xavier", dtype=dtype),
    )


def test_sequential_backward_through_loss_matches_numerical_gradient() -> None:
    rng = np.random.default_rng(8)
    x = rng.standard_normal((7, 3, 4))
    y = rng.integers(0, 5, size=7)
    loss_fn = nn.CrossEntropyLoss()

    def f(v: np.ndarray) -> float:
        return float(loss_fn.forward(small_net().forward(v), y))

    def grad_f(v: np.ndarray) -> np.ndarray:
        net = small_net()
        loss_fn.forward(net.forward(v), y)
        return net.backward(loss_fn.backward())

    assert xent.gradcheck(f, grad_f, x) < RTOL_KINK

    # ... and with respect to every parameter of the network.
    net = small_net()
    loss_fn.forward(net.forward(x), y)
    net.backward(loss_fn.backward())
    for key, param in net.params.items():
        original = param.copy()

        def f_param(value: np.ndarray, param: np.ndarray = param) -> float:
            param[...] = value
            return float(loss_fn.forward(net.forward(x), y))

        numeric = xent.numerical_gradient(f_param, original)
        param[...] = original
        np.testing.assert_allclose(net.grads[key], numeric, rtol=1e-5, atol=1e-8, err_msg=key)


def test_sequential_skips_input_gradient_when_asked() -> None:
    rng = np.random.default_rng(9)
    x, g = rng.standard_normal((4, 12)), rng.standard_normal((4, 5))
    full, skip = small_net(), small_net()
    full.forward(x)
    skip.forward(x)
    assert full.backward(g).shape == (4, 12)
    assert skip.backward(g, input_grad=False) is None
    for key in full.grads:
        np.testing.assert_allclose(skip.grads[key], full.grads[key], rtol=1e-12)


def test_sequential_train_eval_propagates() -> None:
    net = small_net(p=0.5)
    net.eval()
    assert not any(layer.training for layer in net.layers)
    net.train()
    assert all(layer.training for layer in net.layers)
    assert sorted(net.params) == ["1.W", "1.b", "4.W", "4.b"]
    with raises_naming(TypeError, "layers"):
        nn.Sequential()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"weight": np.array([0.5, 2.0, 1.0, 0.1, 3.0])},
        {"label_smoothing": 0.2},
        {"ignore_index": 3},
        {"reduction": "sum", "weight": np.array([1.0, 2.0, 1.0, 1.0, 0.5])},
    ],
)
def test_cross_entropy_loss_module_passes_options_through(kwargs: dict) -> None:
    rng = np.random.default_rng(10)
    z = rng.standard_normal((9, 5))
    y = rng.integers(0, 5, size=9)
    y[0] = 3
    loss_fn = nn.CrossEntropyLoss(**kwargs)
    loss = loss_fn.forward(z, y)
    np.testing.assert_allclose(loss, xent.cross_entropy(z, y, **kwargs), rtol=1e-12)
    numeric = xent.numerical_gradient(lambda v: xent.cross_entropy(v, y, **kwargs), z)
    np.testing.assert_allclose(loss_fn.backward(), numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(loss_fn.backward(2.0), 2 * numeric, rtol=1e-6, atol=1e-9)


def test_float32_stays_float32() -> None:
    net = small_net(dtype=np.float32, p=0.2)
    x = np.random.default_rng(0).standard_normal((4, 12)).astype(np.float32)
    loss_fn = nn.CrossEntropyLoss()
    logits = net.forward(x)
    assert logits.dtype == np.float32
    loss_fn.forward(logits, np.array([0, 1, 2, 3]))
    assert loss_fn.backward().dtype == np.float32
    assert net.backward(loss_fn.backward()).dtype == np.float32
    assert all(g.dtype == np.float32 for _, g in net.parameters())


# ----------------------------------------------------------------------------- training


def test_tiny_network_overfits_a_small_batch() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 20)).astype(np.float32)
    y = rng.integers(0, 4, size=32)  # random labels: only memorisation can fit them
    net = nn.Sequential(
        nn.Linear(20, 64, rng=rng), nn.ReLU(), nn.Linear(64, 4, rng=rng, init="xavier")
    )
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(net.parameters(), lr=1e-2)
    first = float(loss_fn.forward(net.forward(x), y))
    for _ in range(300):
        logits = net.forward(x)
        loss = float(loss_fn.forward(logits, y))
        net.backward(loss_fn.backward(), input_grad=False)
        opt.step()
    assert first > 1.0
    assert loss < 0.02
    assert np.all(net.forward(x).argmax(axis=1) == y)


def test_train_epoch_and_predict_logits() -> None:
    rng = np.random.default_rng(1)
    centers = rng.standard_normal((3, 10)) * 3
    y = rng.integers(0, 3, size=300)
    x = (centers[y] + rng.standard_normal((300, 10))).astype(np.float32)
    net = nn.Sequential(
        nn.Linear(10, 16, rng=rng), nn.ReLU(), nn.Dropout(0.2, rng=rng), nn.Linear(16, 3, rng=rng)
    )
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    seen_lrs = []

    def schedule(step: int) -> float:
        seen_lrs.append(step)
        return 0.1

    history = [
        nn.train_epoch(
            net, nn.CrossEntropyLoss(), opt, x, y, batch_size=32, rng=rng, lr_schedule=schedule
        )
        for _ in range(5)
    ]
    assert seen_lrs == list(range(5 * 10))  # 300 / 32 -> 10 batches per epoch
    assert history[-1][0] < history[0][0]
    assert history[-1][1] > 0.95
    logits = nn.predict_logits(net, x, batch_size=64)
    assert logits.shape == (300, 3) and net.training  # mode restored
    # No dropout at evaluation: the default batch size gives the same logits, up to float32
    # rounding. Not bit for bit: BLAS blocks the matrix products by the batch shape, so a sum
    # of 16 products can round differently; allow a few ulps of the largest logit.
    other = nn.predict_logits(net, x)
    scale = float(np.abs(logits).max())
    np.testing.assert_allclose(other, logits, rtol=0, atol=32 * np.finfo(np.float32).eps * scale)
    assert np.mean(logits.argmax(axis=1) == y) > 0.95


def test_iterate_minibatches_covers_everything_once() -> None:
    batches = list(nn.iterate_minibatches(10, 4, np.random.default_rng(0)))
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(10))
    np.testing.assert_array_equal(np.concatenate(list(nn.iterate_minibatches(5, 2))), range(5))
    with raises_naming(ValueError, "batch_size"):
        next(nn.iterate_minibatches(5, 0))


def test_mlp_builder() -> None:
    net = nn.mlp([784, 32, 16, 10], rng=np.random.default_rng(0), dropout=0.25)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert net.layers[0].init == "he" and net.layers[-1].init == "xavier"
    assert net.forward(np.zeros((3, 784), dtype=np.float32)).shape == (3, 10)
    plain = nn.mlp([5, 3], rng=np.random.default_rng(0))
    assert [type(layer).__name__ for layer in plain.layers] == ["Linear"]
    with raises_naming(ValueError, "sizes"):
        nn.mlp([5], rng=np.random.default_rng(0))


# ----------------------------------------------------------------------------- issue 10


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (2, 5, 3, 2)])  # N == C, N != C, (N, C, d1, d2)
def test_cross_entropy_loss_backward_scales_each_sample(shape) -> None:
    """Issue 10, defect 2: reduction='none' backward(g) scales sample i's gradient by g[i].

    The gradient of sum_i g_i L_i is sum_i g_i dL_i/dz, and dL_i/dz is row i of the
    unreduced gradient: g multiplies along the sample axes (0, 2, 3, ...), never the class
    axis (1). It used to multiply along the last axis: silently wrong when N == C.
    """
    rng = np.random.default_rng(10)
    logits = rng.standard_normal(shape)
    target = rng.integers(0, shape[1], size=(shape[0], *shape[2:]))
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    losses = loss_fn(logits, target)
    g = rng.uniform(0.5, 2.0, size=losses.shape)
    got = loss_fn.backward(g)

    def weighted_sum(z: np.ndarray) -> float:
        return float(np.sum(g * xent.cross_entropy(z, target, reduction="none")))

    np.testing.assert_allclose(got, xent.numerical_gradient(weighted_sum, logits), atol=1e-8)
    # the same as torch's rule written out: unreduced gradient times g with a class axis
    unreduced = xent.cross_entropy_grad(logits, target, reduction="none")
    np.testing.assert_allclose(got, unreduced * np.expand_dims(g, 1), rtol=1e-15)
    assert loss_fn.backward(2.0) == pytest.approx(2 * unreduced)  # a scalar scales everything


def test_cross_entropy_loss_backward_rejects_wrong_shapes() -> None:
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    loss_fn(np.zeros((4, 3)), np.array([0, 1, 2, 0]))
    for bad in (np.ones(3), np.ones((4, 3)), np.ones((1, 4)), [[1.0], [2.0, 3.0]]):
        with raises_naming(ValueError, "grad"):
            loss_fn.backward(bad)
    with raises_naming(ValueError, "grad"):
        loss_fn.backward(np.array([1.0, np.nan, 1.0, 1.0]))
    with raises_naming(TypeError, "grad"):
        loss_fn.backward("1.0")
    mean = nn.CrossEntropyLoss()
    mean(np.zeros((4, 3)), np.array([0, 1, 2, 0]))
    with raises_naming(ValueError, "grad"):
        mean.backward(np.ones(4))  # 'mean' gives a scalar loss: grad must be a scalar
    np.testing.assert_allclose(mean.backward(np.float64(3.0)), 3 * mean.backward())


def test_empty_batches_like_torch() -> None:
    """Issue 10, defect 9: torch's Flatten maps (0, 28, 28) to (0, 784); so do we."""
    flat = nn.Flatten()
    out = flat(np.zeros((0, 28, 28), dtype=np.float32))
    assert out.shape == (0, 784)
    assert flat.backward(np.zeros((0, 784), dtype=np.float32)).shape == (0, 28, 28)
    net = nn.Sequential(nn.Flatten(), *nn.mlp([784, 8, 10], rng=np.random.default_rng(0)).layers)
    logits = nn.predict_logits(net, np.zeros((0, 28, 28), dtype=np.uint8))
    assert logits.shape == (0, 10) and logits.dtype == np.float32
    with raises_naming(ValueError, "x"):
        nn.train_epoch(
            net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.1),
            np.zeros((0, 784), np.float32), np.zeros(0, int),
            batch_size=4, rng=np.random.default_rng(0),
        )  # fmt: skip


@pytest.mark.parametrize(
    ("make", "error", "argument"),
    [
        (lambda: nn.Linear(4.0, 3, rng=np.random.default_rng(0)), TypeError, "in_features"),
        (lambda: nn.Linear(4, 0, rng=np.random.default_rng(0)), ValueError, "out_features"),
        (lambda: nn.Linear(4, 3, rng=np.random.default_rng(0), dtype=int), TypeError, "dtype"),
        (lambda: nn.Dropout("0.5", rng=np.random.default_rng(0)), TypeError, "p"),
        (lambda: nn.Dropout(float("nan"), rng=np.random.default_rng(0)), ValueError, "p"),
        (lambda: nn.mlp([784, 0, 10], rng=np.random.default_rng(0)), ValueError, "sizes"),
        (lambda: nn.mlp([784, 10], rng=np.random.default_rng(0), dropout=1.0), ValueError,
         "dropout"),
        (lambda: nn.iterate_minibatches(10, 2.5), TypeError, "batch_size"),  # checked at the call
        (lambda: nn.Linear(4, 3, rng=np.random.default_rng(0)).forward([[1.0] * 4]), TypeError,
         "x"),
        (lambda: nn.predict_logits(nn.ReLU(), np.ones((2, 2)), batch_size=0), ValueError,
         "batch_size"),
    ],
)  # fmt: skip
def test_layer_arguments_are_named(make, error, argument) -> None:
    with raises_naming(error, argument):
        make()
