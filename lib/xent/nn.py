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

from ._checks import (
    as_float_array,
    check_finite,
    check_integer,
    check_real,
)
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
        in_features = check_integer(in_features, "in_features", 1)
        out_features = check_integer(out_features, "out_features", 1)
        _check_rng(rng)
        if not isinstance(bias, bool | np.bool_):
            raise TypeError(f"bias: expected True or False; got {bias!r}")
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype: expected a float dtype; got {dtype!r}") from None
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"dtype: expected a float dtype; got {dtype}")
        shape = (in_features, out_features)
        if init == "he":
            weight = rng.normal(0.0, np.sqrt(2.0 / in_features), size=shape)
        elif init == "xavier":
            limit = np.sqrt(6.0 / (in_features + out_features))
            weight = rng.uniform(-limit, limit, size=shape)
        else:
            raise ValueError(f"init: expected 'he' or 'xavier'; got {init!r}")
        self.in_features, self.out_features, self.init = in_features, out_features, init
        self.params["W"] = weight.astype(dtype)
        self.grads["W"] = np.zeros_like(self.params["W"])
        if bias:
            self.params["b"] = np.zeros(out_features, dtype=dtype)
            self.grads["b"] = np.zeros_like(self.params["b"])
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _input(x, "x")
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x: expected shape (n, {self.in_features}); got {x.shape}")
        self._x = x
        y = x @ self.params["W"]
        if "b" in self.params:
            y += self.params["b"]
        return y

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        x = _saved(self._x, self)
        grad = _grad_like(grad, (x.shape[0], self.out_features))
        grad = grad.astype(self.params["W"].dtype, copy=False)
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
        x = _input(x, "x")
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray:
        mask = _saved(self._mask, self)
        return _grad_like(grad, mask.shape) * mask


class Dropout(Module):
    r"""Inverted dropout: in training, zero each unit with probability ``p`` and scale the rest
    by $1/(1-p)$, so that evaluation (the identity) needs no rescaling.

    Masks are drawn from the seeded ``rng``. Keeps for backward: the scaled mask
    (0 or $1/(1-p)$, in the input's dtype); nothing in evaluation mode.
    """

    def __init__(self, p: float, *, rng: np.random.Generator) -> None:
        super().__init__()
        p = check_real(p, "p", 0.0, 1.0, high_open=True)
        self.p, self.rng = p, _check_rng(rng)
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _input(x, "x")
        if not self.training or self.p == 0.0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        self._mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))
        return x * self._mask

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray:
        if self._mask is None:
            return _grad_like(grad, None)
        return _grad_like(grad, self._mask.shape) * self._mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Flatten(Module):
    """Reshape ``(n, d1, d2, ...)`` to ``(n, d1*d2*...)``. Keeps for backward: the input shape.

    An empty batch works as in torch: ``(0, 28, 28)`` becomes ``(0, 784)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _input(x, "x")
        if x.ndim < 1:
            raise ValueError("x: expected a batch (at least 1-D); got a scalar")
        self._shape = x.shape
        # the explicit size, not -1: reshape(0, -1) is ambiguous and NumPy refuses it
        return x.reshape(x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64)))

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray:
        shape = _saved(self._shape, self)
        flat = (shape[0], int(np.prod(shape[1:], dtype=np.int64)))
        return _grad_like(grad, flat).reshape(shape)


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse.

    ``params``/``grads`` hold the layers' arrays under keys ``"<index>.<name>"``.
    Keeps for backward: nothing itself; each layer keeps its own arrays.
    With ``input_grad=False`` the layers before the first one with parameters are skipped and
    that layer is not asked for dL/d(input): the data needs no gradient.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        if not layers:
            raise TypeError("layers: Sequential needs one or more Module instances; got none")
        for k, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"layers: Sequential takes Module instances; layer {k} is a "
                    f"{type(layer).__name__}"
                )
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
    ``backward(grad=1.0)`` returns the gradient with respect to the logits of ``sum(grad * L)``,
    as torch's ``loss.backward(grad)``: for ``"mean"``/``"sum"`` ``grad`` is a scalar; for
    ``"none"`` it is a scalar or has the shape of the per-sample losses, ``(N,)`` or
    ``(N, d1, ...)``, and scales sample i's gradient row (along the sample axes, not the class
    axis) by ``grad[i]``. Any other shape is a ``ValueError`` naming ``grad``.
    ``weight``, ``ignore_index``, ``label_smoothing`` and ``reduction`` mean what they mean
    in :func:`xent.cross_entropy` (chapter 5, Weighted cross-entropy, for the class weights).
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
        # checked now, as the loss functions would check them at the first forward
        if weight is not None:
            w = as_float_array(weight, "weight")
            if w.ndim != 1:
                raise ValueError(f"weight: expected one weight per class (1-D); got {w.shape}")
            check_finite(w, "weight")
            if (w < 0).any():
                raise ValueError("weight: expected non-negative class weights")
        ignore_index = check_integer(ignore_index, "ignore_index")
        label_smoothing = check_real(label_smoothing, "label_smoothing", 0.0, 1.0)
        if not isinstance(reduction, str) or reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction: expected one of 'mean', 'sum', 'none'; got {reduction!r}")
        self.weight = weight
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.reduction = reduction
        self._grad: np.ndarray | None = None
        self._loss_shape: tuple[int, ...] = ()

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
        self._grad = np.asarray(grad).astype(np.asarray(logits).dtype, copy=False)
        self._loss_shape = np.shape(loss)
        return loss

    def backward(self, grad: float | np.ndarray = 1.0) -> np.ndarray:
        saved = _saved(self._grad, self)
        g = as_float_array(grad, "grad")
        check_finite(g, "grad")
        if g.ndim == 0:
            return saved if g == 1.0 else saved * saved.dtype.type(g)
        if g.shape != self._loss_shape:
            want = f"the shape of the losses {self._loss_shape}" if self._loss_shape else "()"
            raise ValueError(
                f"grad: expected a scalar or {want} (reduction={self.reduction!r}); "
                f"got shape {g.shape}"
            )
        # the losses have the logits' shape without the class axis (axis 1): put it back
        return saved * np.expand_dims(g.astype(saved.dtype, copy=False), 1)

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
    if isinstance(sizes, str) or not isinstance(sizes, list | tuple):
        raise TypeError(f"sizes: expected a list of layer sizes; got {sizes!r}")
    if len(sizes) < 2:
        raise ValueError(f"sizes: needs an input and an output size; got {sizes}")
    sizes = [check_integer(n, "sizes", 1) for n in sizes]
    dropout = check_real(dropout, "dropout", 0.0, 1.0, high_open=True)
    layers: list[Module] = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [Linear(n_in, n_out, rng=rng, dtype=dtype), ReLU()]
        if dropout > 0:
            layers.append(Dropout(dropout, rng=rng))
    layers.append(Linear(sizes[-2], sizes[-1], rng=rng, init="xavier", dtype=dtype))
    return Sequential(*layers)


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator; got {type(rng).__name__}")
    return rng


def _input(x: Any, name: str) -> np.ndarray:
    """A layer's input must be a NumPy array of real numbers (as torch layers take tensors)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a NumPy array; got {type(x).__name__}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise TypeError(f"{name}: expected a real-valued array; got dtype {x.dtype}")
    return x


def _grad_like(grad: Any, shape: tuple[int, ...] | None) -> np.ndarray:
    """The incoming gradient of a backward pass: a real array of the layer output's shape."""
    grad = _input(grad, "grad")
    if shape is not None and grad.shape != shape:
        raise ValueError(f"grad: expected the output's shape {shape}; got {grad.shape}")
    return grad


def _saved(value: Any, layer: Any) -> Any:
    if value is None:
        raise RuntimeError(f"{type(layer).__name__}.backward called before forward")
    return value


# --------------------------------------------------------------------------- training helpers


def iterate_minibatches(
    n: int, batch_size: int, rng: np.random.Generator | None = None
) -> Iterator[np.ndarray]:
    """Index arrays covering ``range(n)`` in batches; shuffled when ``rng`` is given.

    The last batch may be smaller. The arguments are checked at the call, not at the first
    ``next``.
    """
    n = check_integer(n, "n", 0)
    batch_size = check_integer(batch_size, "batch_size", 1)
    if rng is not None:
        _check_rng(rng)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return (order[start : start + batch_size] for start in range(0, n, batch_size))


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
    _check_data(model, x, y, labels=True)
    for name, obj, methods in (
        ("loss_fn", loss_fn, ("forward", "backward")),
        ("optimizer", optimizer, ("step",)),
    ):
        if not all(callable(getattr(obj, m, None)) for m in methods):
            raise TypeError(
                f"{name}: expected an object with {' and '.join(methods)}(); "
                f"got {type(obj).__name__}"
            )
    _check_optional_callable(transform, "transform")
    _check_optional_callable(lr_schedule, "lr_schedule")
    batch_size = check_integer(batch_size, "batch_size", 1)
    _check_rng(rng)
    if len(x) == 0:
        raise ValueError("x: expected at least one example to train on; got 0")
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
    """Logits for all of ``x`` in evaluation mode (dropout off); the mode is restored after.

    An empty ``x`` gives an empty ``(0, num_classes)`` array (the model runs on the empty
    batch, as in torch). The rows do not depend on ``batch_size`` exactly: the matrix
    products are blocked differently for different batch sizes, so float32 logits can differ
    in the last few bits from one ``batch_size`` to another.
    """
    _check_data(model, x, None)
    _check_optional_callable(transform, "transform")
    batches = iterate_minibatches(len(x), batch_size)
    was_training = model.training
    model.eval()
    try:
        out = []
        for idx in batches if len(x) else [np.arange(0)]:
            xb = x[idx] if transform is None else transform(x[idx])
            out.append(model.forward(xb))
    finally:
        model.train(was_training)
    return np.concatenate(out)


def _check_optional_callable(f: Any, name: str) -> None:
    if f is not None and not callable(f):
        raise TypeError(f"{name}: expected a function or None; got {f!r}")


def _check_data(model: Any, x: Any, y: Any, *, labels: bool = False) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"model: expected an xent.nn.Module; got {type(model).__name__}")
    if not isinstance(x, np.ndarray) or x.ndim < 1:
        raise TypeError(f"x: expected a NumPy array of examples; got {type(x).__name__}")
    if labels:
        if not isinstance(y, np.ndarray) or y.ndim != 1:
            raise TypeError(f"y: expected a 1-D NumPy array of labels; got {type(y).__name__}")
        if len(y) != len(x):
            raise ValueError(f"y: expected one label per example ({len(x)}); got {len(y)}")
