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

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "clip_grad_norm", "cosine_lr", "step_lr"]

ParamPairs = Iterable[tuple[np.ndarray, np.ndarray]]


class Optimizer:
    """Common part: validated ``(param, grad)`` pairs, ``lr`` and a step counter."""

    def __init__(self, params: ParamPairs, lr: float, weight_decay: float) -> None:
        self.pairs = list(params)
        if not self.pairs:
            raise ValueError("params is empty: pass model.parameters()")
        for p, g in self.pairs:
            if not (isinstance(p, np.ndarray) and isinstance(g, np.ndarray)) or p.shape != g.shape:
                raise ValueError("params must be (param, grad) pairs of arrays of equal shape")
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr = lr
        self.weight_decay = weight_decay
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
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0")
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
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        if eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps}")
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
    if max_norm <= 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    grads = list(grads)
    if not all(isinstance(g, np.ndarray) for g in grads):
        raise TypeError("grads must be NumPy arrays (e.g. [g for _, g in model.parameters()])")
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
    if total_steps < 1 or not 0 <= warmup_steps < total_steps or step < 0:
        raise ValueError(
            f"need 0 <= warmup_steps < total_steps and step >= 0, got step={step}, "
            f"total_steps={total_steps}, warmup_steps={warmup_steps}"
        )
    if step < warmup_steps:
        return lr_max * (step + 1) / warmup_steps
    span = total_steps - warmup_steps
    s = min(step - warmup_steps, span)
    return lr_min + 0.5 * (lr_max - lr_min) * (1.0 + math.cos(math.pi * s / span))


def step_lr(epoch: int, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    """Step decay: ``lr0 * gamma ** (epoch // step_size)``."""
    if step_size < 1 or epoch < 0:
        raise ValueError(f"need step_size >= 1 and epoch >= 0, got {step_size}, {epoch}")
    return lr0 * gamma ** (epoch // step_size)
