"""Optimisers and learning-rate schedules for :mod:`xent.nn`.

See chapter 6 (Fashion-MNIST end to end).

An optimiser holds ``(param, grad)`` pairs (``model.parameters()``) and, on ``step()``, updates
every ``param`` in place from its ``grad``. The update rules follow PyTorch's ``torch.optim``
conventions, so results can be compared with it. ``optimizer.lr`` may be changed between steps
(that is all a schedule does); ``optimizer.steps`` counts the steps taken.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from ._checks import check_integer, check_positive_float, check_real

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "clip_grad_norm", "cosine_lr", "step_lr"]

ParamPairs = Iterable[tuple[np.ndarray, np.ndarray]]


def _param_pairs(params: ParamPairs) -> list[tuple[np.ndarray, np.ndarray]]:
    """``params`` as a list of ``(param, grad)`` float arrays of equal shapes, or a named error."""
    try:
        pairs = list(params)
    except TypeError:
        raise TypeError(
            f"params: expected (param, grad) pairs such as model.parameters(); got {params!r}"
        ) from None
    if not pairs:
        raise ValueError("params: is empty; pass model.parameters()")
    for k, pair in enumerate(pairs):
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise ValueError(f"params: entry {k} is not a (param, grad) pair; got {pair!r}")
        p, g = pair
        if not (isinstance(p, np.ndarray) and isinstance(g, np.ndarray)):
            raise TypeError(f"params: entry {k} must be a pair of NumPy arrays")
        if p.shape != g.shape:
            raise ValueError(
                f"params: entry {k} pairs a param of shape {p.shape} with a grad of shape "
                f"{g.shape}"
            )
        if not (np.issubdtype(p.dtype, np.floating) and np.issubdtype(g.dtype, np.floating)):
            raise TypeError(
                f"params: entry {k} must hold float arrays (updated in place); got dtypes "
                f"{p.dtype} and {g.dtype}"
            )
    return [tuple(pair) for pair in pairs]


class Optimizer:
    """Common part: validated ``(param, grad)`` pairs, ``lr`` and a step counter."""

    def __init__(self, params: ParamPairs, lr: float, weight_decay: float) -> None:
        self.pairs = _param_pairs(params)
        self.lr = check_real(lr, "lr", 0.0)
        self.weight_decay = check_real(weight_decay, "weight_decay", 0.0)
        self.steps = 0

    def step(self) -> None:
        """Update every parameter in place from its gradient."""
        self.steps += 1
        for i, (p, g) in enumerate(self.pairs):
            self._update(i, p, g)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, Nesterov momentum and L2 decay.

    With $g \leftarrow g + \lambda\theta$ (``weight_decay`` $\lambda$):
    $v \leftarrow \mu v + g$ (and $v = g$ on the first step), then
    $\theta \leftarrow \theta - \eta\,(g + \mu v)$ if ``nesterov`` else $\theta - \eta v$;
    without momentum simply $\theta \leftarrow \theta - \eta g$.
    """

    def __init__(
        self,
        params: ParamPairs,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        momentum = check_real(momentum, "momentum", 0.0, 1.0, high_open=True)
        if not isinstance(nesterov, bool | np.bool_):
            raise TypeError(f"nesterov: expected True or False; got {nesterov!r}")
        if nesterov and momentum == 0.0:
            raise ValueError("nesterov: nesterov=True needs momentum > 0")
        self.momentum, self.nesterov = momentum, nesterov
        self.velocity: list[np.ndarray | None] = [None] * len(self.pairs)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            v = self.velocity[i]
            if v is None:
                v = self.velocity[i] = g.copy()
            else:
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        p -= self.lr * g


class Adam(Optimizer):
    r"""Adam (Kingma & Ba) with bias correction; ``weight_decay`` is L2 ($g + \lambda\theta$).

    $m \leftarrow \beta_1 m + (1-\beta_1) g$, $v \leftarrow \beta_2 v + (1-\beta_2) g^2$,
    $\theta \leftarrow \theta - \eta\,\hat m / (\sqrt{\hat v} + \epsilon)$ with
    $\hat m = m/(1-\beta_1^t)$, $\hat v = v/(1-\beta_2^t)$.
    """

    decoupled = False

    def __init__(
        self,
        params: ParamPairs,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not (isinstance(betas, tuple | list) and len(betas) == 2):
            raise TypeError(f"betas: expected a pair (beta1, beta2); got {betas!r}")
        beta1 = check_real(betas[0], "betas", 0.0, 1.0, high_open=True)
        beta2 = check_real(betas[1], "betas", 0.0, 1.0, high_open=True)
        eps = check_positive_float(eps, "eps")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [np.zeros_like(p) for p, _ in self.pairs]
        self.v = [np.zeros_like(p) for p, _ in self.pairs]

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        if self.weight_decay:
            if self.decoupled:
                p *= 1.0 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p
        m, v = self.m[i], self.v[i]
        m *= self.beta1
        m += (1.0 - self.beta1) * g
        v *= self.beta2
        v += (1.0 - self.beta2) * np.square(g)
        # theta -= lr * m_hat / (sqrt(v_hat) + eps), with the bias corrections folded into scalars
        correction1 = 1.0 - self.beta1**self.steps
        root_correction2 = math.sqrt(1.0 - self.beta2**self.steps)
        denom = np.sqrt(v)
        denom /= root_correction2
        denom += self.eps
        p -= (self.lr / correction1) * (m / denom)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter): $\theta \leftarrow
    \theta(1 - \eta\lambda)$ before the Adam step, instead of adding $\lambda\theta$ to $g$."""

    decoupled = True

    def __init__(
        self,
        params: ParamPairs,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


def clip_grad_norm(grads: Sequence[np.ndarray], max_norm: float) -> float:
    r"""Scale all ``grads`` in place so their joint L2 norm is at most ``max_norm``.

    Returns the norm before clipping, $\|g\| = \sqrt{\sum_k \|g_k\|^2}$; if it exceeds
    ``max_norm`` every gradient is multiplied by ``max_norm / ||g||``.
    """
    max_norm = check_positive_float(max_norm, "max_norm")
    try:
        grads = list(grads)
    except TypeError:
        raise TypeError(f"grads: expected a list of NumPy arrays; got {grads!r}") from None
    if not all(isinstance(g, np.ndarray) and np.issubdtype(g.dtype, np.floating) for g in grads):
        raise TypeError(
            "grads: expected float NumPy arrays (e.g. [g for _, g in model.parameters()])"
        )
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if total > max_norm:
        scale = max_norm / total
        for g in grads:
            g *= scale
    return total


def cosine_lr(
    step: int, total_steps: int, lr_max: float, lr_min: float = 0.0, warmup_steps: int = 0
) -> float:
    r"""Linear warm-up to ``lr_max`` over ``warmup_steps``, then cosine decay to ``lr_min``.

    After warm-up, with $s$ = ``step - warmup_steps`` and $S$ = ``total_steps - warmup_steps``:
    $\eta = \eta_{min} + \tfrac12(\eta_{max}-\eta_{min})(1 + \cos(\pi s/S))$; constant
    ``lr_min`` beyond ``total_steps``.
    """
    step = check_integer(step, "step", 0)
    total_steps = check_integer(total_steps, "total_steps", 1)
    warmup_steps = check_integer(warmup_steps, "warmup_steps", 0)
    if warmup_steps >= total_steps:
        raise ValueError(
            f"warmup_steps: expected fewer than total_steps={total_steps}; got {warmup_steps}"
        )
    lr_max = check_real(lr_max, "lr_max", 0.0)
    lr_min = check_real(lr_min, "lr_min", 0.0)
    if step < warmup_steps:
        return lr_max * (step + 1) / warmup_steps
    span = total_steps - warmup_steps
    s = min(step - warmup_steps, span)
    return lr_min + 0.5 * (lr_max - lr_min) * (1.0 + math.cos(math.pi * s / span))


def step_lr(epoch: int, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    """Step decay: ``lr0 * gamma ** (epoch // step_size)``."""
    epoch = check_integer(epoch, "epoch", 0)
    lr0 = check_real(lr0, "lr0", 0.0)
    step_size = check_integer(step_size, "step_size", 1)
    gamma = check_real(gamma, "gamma", 0.0)
    return lr0 * gamma ** (epoch // step_size)
