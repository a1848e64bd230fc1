"""A small multilayer perceptron, written out by hand in NumPy.

See chapter 6 (Fashion-MNIST end to end).

Every layer is a :class:`Module` with ``forward(x)`` and ``backward(grad)``: ``backward`` takes
dL/d(output) and returns dL/d(input), and *overwrites* (never accumulates) the layer's parameter
gradients. Parameters and their gradients live in two dicts with the same keys, ``layer.params``
and ``layer.grads``; ``layer.parameters()`` lists them as ``(param, grad)`` pairs, the same
array objects for the whole life of the layer, which is what the optimisers in :mod:`xent.optim`
hold on to.

The loss is the fused softmax + cross-entropy :func:`xent.cross_entropy_and_grad`, whose
gradient with respect to the logits is ``(softmax(z) - y) / n`` (chapter 4, The cross-entropy +
softmax gradient).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .fused import cross_entropy_and_grad

__all__ = [
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Linear",
    "Module",
    "ReLU",
    "Sequential",
    "iterate_minibatches",
    "mlp",
    "predict_logits",
    "train_epoch",
]


class Module:
    """Base class: ``forward``, ``backward``, ``params``/``grads`` dicts and a train/eval switch.

    ``backward(grad, input_grad=True)``: with ``input_grad=False`` a layer may skip computing
    dL/d(input) (and return ``None``) when nobody needs it, e.g. for the first layer of a network.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(param, grad)`` pairs; the optimisers update ``param`` in place from ``grad``."""
        return [(self.params[k], self.grads[k]) for k in self.params]

    def train(self, mode: bool = True) -> Module:
        """Switch training behaviour (dropout) on or off; returns ``self``."""
        self.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout becomes the identity."""
        return self.train(False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Module):
    r"""Affine layer $y = x W + b$ with $W$ of shape ``(in_features, out_features)``.

    Backward: $\partial L/\partial W = x^\top g$, $\partial L/\partial b = \sum_i g_i$,
    $\partial L/\partial x = g W^\top$ (with $g = \partial L/\partial y$).
    Keeps for backward: the input ``x``.

    Initialisation from the seeded ``rng``: ``"he"`` draws $W \sim \mathcal N(0, 2/n_{in})$ (suits
    ReLU), ``"xavier"`` draws $W \sim U(-a, a)$ with $a = \sqrt{6/(n_{in}+n_{out})}$; $b = 0$.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rng: np.random.Generator,
        init: str = "he",
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        if in_features < 1 or out_features < 1:
            raise ValueError(
                f"in_features and out_features must be >= 1, got {in_features}, {out_features}"
            )
        shape = (in_features, out_features)
        if init == "he":
            weight = rng.normal(0.0, np.sqrt(2.0 / in_features), size=shape)
        elif init == "xavier":
            limit = np.sqrt(6.0 / (in_features + out_features))
            weight = rng.uniform(-limit, limit, size=shape)
        else:
            raise ValueError(f"init must be 'he' or 'xavier', got {init!r}")
        self.in_features, self.out_features, self.init = in_features, out_features, init
        self.params["W"] = weight.astype(dtype)
        self.grads["W"] = np.zeros_like(self.params["W"])
        if bias:
            self.params["b"] = np.zeros(out_features, dtype=dtype)
            self.grads["b"] = np.zeros_like(self.params["b"])
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x must have shape (n, {self.in_features}), got {x.shape}")
        self._x = x
        y = x @ self.params["W"]
        if "b" in self.params:
            y += self.params["b"]
        return y

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        x = _saved(self._x, self)
        np.matmul(x.T, grad, out=self.grads["W"])
        if "b" in self.grads:
            np.sum(grad, axis=0, out=self.grads["b"])
        return grad @ self.params["W"].T if input_grad else None

    def __repr__(self) -> str:
        return (
            f"Linear({self.in_features}, {self.out_features}, init={self.init!r}, "
            f"bias={'b' in self.params})"
        )


class ReLU(Module):
    """$y = \\max(x, 0)$; backward passes the gradient where $x > 0$.

    Keeps for backward: the boolean mask ``x > 0``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray:
        return grad * _saved(self._mask, self)


class Dropout(Module):
    r"""Inverted dropout: in training, zero each unit with probability ``p`` and scale the rest
    by $1/(1-p)$, so that evaluation (the identity) needs no rescaling.

    Masks are drawn from the seeded ``rng``. Keeps for backward: the scaled mask
    (0 or $1/(1-p)$, in the input's dtype); nothing in evaluation mode.
    """

    def __init__(self, p: float, *, rng: np.random.Generator) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"p must be in [0, 1), got {p}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self.p, self.rng = p, rng
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        self._mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))
        return x * self._mask

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray:
        return grad if self._mask is None else grad * self._mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Flatten(Module):
    """Reshape ``(n, d1, d2, ...)`` to ``(n, d1*d2*...)``. Keeps for backward: the input shape."""

    def __init__(self) -> None:
        super().__init__()
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray:
        return grad.reshape(_saved(self._shape, self))


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse.

    ``params``/``grads`` hold the layers' arrays under keys ``"<index>.<name>"``.
    Keeps for backward: nothing itself; each layer keeps its own arrays.
    With ``input_grad=False`` the layers before the first one with parameters are skipped and
    that layer is not asked for dL/d(input): the data needs no gradient.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        if not layers or not all(isinstance(layer, Module) for layer in layers):
            raise TypeError("Sequential needs one or more Module instances")
        self.layers = list(layers)
        for i, layer in enumerate(self.layers):
            for name in layer.params:
                self.params[f"{i}.{name}"] = layer.params[name]
                self.grads[f"{i}.{name}"] = layer.grads[name]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        first = 0
        if not input_grad:
            with_params = [i for i, layer in enumerate(self.layers) if layer.params]
            first = with_params[0] if with_params else len(self.layers)
        for i in range(len(self.layers) - 1, first - 1, -1):
            grad = self.layers[i].backward(grad, input_grad=input_grad or i > first)
        return grad if input_grad else None

    def train(self, mode: bool = True) -> Sequential:
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def __repr__(self) -> str:
        inner = ",\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


class CrossEntropyLoss:
    """Softmax + cross-entropy on logits, through the fused :func:`xent.cross_entropy_and_grad`.

    ``forward(logits, target)`` returns the loss (a float for ``reduction="mean"``/``"sum"``);
    ``backward(grad=1.0)`` returns ``grad * dL/dlogits``. ``weight``, ``ignore_index``,
    ``label_smoothing`` and ``reduction`` mean what they mean in :func:`xent.cross_entropy`
    (chapter 5, Weighted cross-entropy, for the class weights).
    Keeps for backward: dL/dlogits from the forward pass (one shared softmax pass).
    """

    def __init__(
        self,
        weight: np.ndarray | None = None,
        *,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
        reduction: str = "mean",
    ) -> None:
        self.weight = weight
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.reduction = reduction
        self._grad: np.ndarray | None = None

    def __call__(self, logits: np.ndarray, target: np.ndarray) -> Any:
        return self.forward(logits, target)

    def forward(self, logits: np.ndarray, target: np.ndarray) -> Any:
        loss, grad = cross_entropy_and_grad(
            logits,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )
        self._grad = np.asarray(grad).astype(logits.dtype, copy=False)
        return loss

    def backward(self, grad: float | np.ndarray = 1.0) -> np.ndarray:
        saved = _saved(self._grad, self)
        return saved if np.all(np.equal(grad, 1.0)) else saved * grad

    def __repr__(self) -> str:
        return (
            f"CrossEntropyLoss(weight={'None' if self.weight is None else 'array'}, "
            f"label_smoothing={self.label_smoothing}, reduction={self.reduction!r})"
        )


def mlp(
    sizes: list[int] | tuple[int, ...],
    *,
    rng: np.random.Generator,
    dropout: float = 0.0,
    dtype: Any = np.float32,
) -> Sequential:
    """A multilayer perceptron ``sizes[0] -> ... -> sizes[-1]``.

    Every hidden layer is ``Linear`` (He initialisation) + ``ReLU`` (+ ``Dropout(dropout)`` if
    ``dropout > 0``); the output layer is a plain ``Linear`` with Xavier initialisation, whose
    outputs are the logits. All randomness (weights, dropout masks) comes from ``rng``.
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes needs an input and an output size, got {sizes}")
    layers: list[Module] = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [Linear(n_in, n_out, rng=rng, dtype=dtype), ReLU()]
        if dropout > 0:
            layers.append(Dropout(dropout, rng=rng))
    layers.append(Linear(sizes[-2], sizes[-1], rng=rng, init="xavier", dtype=dtype))
    return Sequential(*layers)


def _saved(value: Any, layer: Any) -> Any:
    if value is None:
        raise RuntimeError(f"{type(layer).__name__}.backward called before forward")
    return value


# --------------------------------------------------------------------------- training helpers


def iterate_minibatches(
    n: int, batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[np.ndarray]:
    """Index arrays covering ``range(n)`` in batches; shuffled when ``rng`` is given.

    The last batch may be smaller.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def train_epoch(
    model: Module,
    loss_fn: CrossEntropyLoss,
    optimizer: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int,
    rng: np.random.Generator,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    lr_schedule: Callable[[int], float] | None = None,
) -> tuple[float, float]:
    """One pass over ``(x, y)`` in shuffled minibatches; returns (mean loss, accuracy).

    Per batch: ``transform`` (e.g. augmentation + scaling to float32), forward, loss, backward,
    then ``optimizer.lr = lr_schedule(optimizer.steps)`` if a schedule is given, and
    ``optimizer.step()``. Loss and accuracy are averaged over the epoch *while training*
    (dropout on), so they are a running estimate, not an evaluation.
    """
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for idx in iterate_minibatches(len(x), batch_size, rng):
        xb, yb = x[idx], y[idx]
        if transform is not None:
            xb = transform(xb)
        logits = model.forward(xb)
        loss = loss_fn.forward(logits, yb)
        model.backward(loss_fn.backward(), input_grad=False)
        if lr_schedule is not None:
            optimizer.lr = lr_schedule(optimizer.steps)
        optimizer.step()
        total_loss += float(loss) * len(idx)
        correct += int(np.count_nonzero(logits.argmax(axis=1) == yb))
        seen += len(idx)
    return total_loss / seen, correct / seen


def predict_logits(
    model: Module,
    x: np.ndarray,
    *,
    batch_size: int = 2000,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Logits for all of ``x`` in evaluation mode (dropout off); the mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        out = []
        for idx in iterate_minibatches(len(x), batch_size):
            xb = x[idx] if transform is None else transform(x[idx])
            out.append(model.forward(xb))
    finally:
        model.train(was_training)
    return np.concatenate(out)
