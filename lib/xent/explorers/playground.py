"""The training playground: a softmax classifier on 2-D points, trained by gradient descent.

``z_n = (x_n W + b) / T`` with ``W`` of shape ``(2, K)``; the loss is the class-weighted,
label-smoothed cross-entropy of chapters 4 and 5 (``xent.cross_entropy_and_grad``), and a step is
``W <- W - lr X^T G``, ``b <- b - lr sum_n G_n`` with ``G = dL/dz / T``. On the website the view
(``web_assets/explorers/playground.js``) trains in the browser; in Jupyter its Play and Step
buttons ask the kernel, which steps with xent (:meth:`PlaygroundExplorer.train`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import traitlets

from ..losses import cross_entropy_and_grad
from ..web import Explorer, check_floats, check_int, check_slider

#: slider ranges (min, max, step)
RANGES = {
    "lr": (0.05, 5.0, 0.05),
    "T": (0.25, 4.0, 0.05),
    "eps": (0.0, 0.5, 0.01),
    "w": (0.0, 5.0, 0.1),
}
MAX_POINTS = 400


def loss_and_grads(
    points: np.ndarray,
    labels: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    *,
    temperature: float,
    weight: np.ndarray,
    smoothing: float,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Loss, dL/dW, dL/db and dL/dx (one row per point) with xent; no usable point: nan, zeros."""
    if len(labels) == 0 or not weight[labels].sum() > 0:
        return math.nan, np.zeros_like(W), np.zeros_like(b), np.zeros((len(labels), 2))
    z = (points @ W + b) / temperature
    loss, g = cross_entropy_and_grad(z, labels, weight=weight, label_smoothing=smoothing)
    g = g / temperature  # dL/d(x W + b)
    return float(loss), points.T @ g, g.sum(axis=0), g @ W.T


class PlaygroundExplorer(Explorer):
    """The playground's state and results ``{loss, accuracy, grad_x, steps, points}``."""

    kind = "playground"
    title = "Training playground: a softmax classifier trained by gradient descent"
    state = ("classes", "points", "labels", "W", "b", "lr", "temperature", "smoothing",
             "weight", "steps", "history", "seed", "running", "ranges")  # fmt: skip

    classes = traitlets.Any(3).tag(sync=True)
    points = traitlets.Any([]).tag(sync=True)
    labels = traitlets.Any([]).tag(sync=True)
    W = traitlets.Any([[0.0] * 3, [0.0] * 3]).tag(sync=True)
    b = traitlets.Any([0.0] * 3).tag(sync=True)
    lr = traitlets.Any(0.5).tag(sync=True)
    temperature = traitlets.Any(1.0).tag(sync=True)
    smoothing = traitlets.Any(0.0).tag(sync=True)
    weight = traitlets.Any([1.0] * 3).tag(sync=True)
    steps = traitlets.Any(0).tag(sync=True)
    history = traitlets.Any([]).tag(sync=True)
    seed = traitlets.Any(7).tag(sync=True)
    running = traitlets.Any(False).tag(sync=True)
    ranges = traitlets.Dict({k: list(v) for k, v in RANGES.items()}, read_only=True).tag(sync=True)
    #: Jupyter only: the view's Play/Step buttons ask for this many steps (done with xent)
    train_request = traitlets.Int(0).tag(sync=True)

    @traitlets.validate("classes")
    def _check_classes(self, proposal: dict[str, Any]) -> int:
        return check_int(proposal["value"], "classes", 3, 6)

    @traitlets.validate("lr", "temperature", "smoothing")
    def _check_scalar(self, proposal: dict[str, Any]) -> float:
        name = proposal["trait"].name
        grid = RANGES[{"lr": "lr", "temperature": "T", "smoothing": "eps"}[name]]
        return check_slider(proposal["value"], name, grid)

    @traitlets.validate("weight", "b")
    def _check_vector(self, proposal: dict[str, Any]) -> list[float]:
        return check_floats(proposal["value"], proposal["trait"].name, min_len=3, max_len=5)

    @traitlets.validate("W")
    def _check_W(self, proposal: dict[str, Any]) -> list[list[float]]:
        rows = [check_floats(r, "W", min_len=3, max_len=5) for r in proposal["value"]]
        if len(rows) != 2 or len(rows[0]) != len(rows[1]):
            raise ValueError(f"W must be 2 rows of 3 to 5 numbers, got {proposal['value']!r}")
        return rows

    @traitlets.validate("points")
    def _check_points(self, proposal: dict[str, Any]) -> list[list[float]]:
        value = proposal["value"]
        if len(value) > MAX_POINTS:
            raise ValueError(f"points must be at most {MAX_POINTS}, got {len(value)}")
        return [check_floats(p, "points", min_len=2, max_len=2) for p in value]

    @traitlets.validate("labels")
    def _check_labels(self, proposal: dict[str, Any]) -> list[int]:
        return [check_int(y, "labels", 0, 5) for y in proposal["value"]]

    @traitlets.validate("steps", "seed")
    def _check_count(self, proposal: dict[str, Any]) -> int:
        return check_int(proposal["value"], proposal["trait"].name, 0, 2**31)

    @traitlets.validate("history")
    def _check_history(self, proposal: dict[str, Any]) -> list[float]:
        # a NaN loss (no usable point) arrives from the browser as null
        return [math.nan if v is None else float(v) for v in proposal["value"]]

    @traitlets.observe("train_request")
    def _on_train_request(self, change: dict[str, Any]) -> None:
        if change["new"] > 0:
            self.train(min(int(change["new"]), 100))
            self.train_request = 0

    def _arrays(self) -> dict[str, Any]:
        return {
            "points": np.asarray(self.points, dtype=np.float64).reshape(-1, 2),
            "labels": np.asarray(self.labels, dtype=np.int64),
            "W": np.asarray(self.W, dtype=np.float64),
            "b": np.asarray(self.b, dtype=np.float64),
        }

    def _options(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "weight": np.asarray(self.weight, dtype=np.float64),
            "smoothing": self.smoothing,
        }

    def compute(self) -> dict[str, Any]:
        a = self._arrays()
        n = len(a["labels"])
        K = len(a["b"])
        if (
            a["W"].shape[1] != K
            or len(self.weight) != K
            or len(a["points"]) != n
            or (n and a["labels"].max() >= K)
        ):
            # the state is changed one key at a time (the view sends W, b, points, ... in one
            # message, applied trait by trait): a mixed state has nothing to show yet
            return {
                "loss": math.nan, "accuracy": math.nan, "grad_x": np.zeros((n, 2)),
                "steps": int(self.steps), "points": n,
            }  # fmt: skip
        loss, _, _, grad_x = loss_and_grads(**a, **self._options())
        right = ((a["points"] @ a["W"] + a["b"]).argmax(axis=1) == a["labels"]).sum() if n else 0
        return {
            "loss": loss,
            "accuracy": float(right / n) if n else math.nan,
            "grad_x": grad_x,
            "steps": int(self.steps),
            "points": n,
        }

    def train(self, steps: int = 1) -> PlaygroundExplorer:
        """Take ``steps`` steps of gradient descent with xent (the live widget redraws)."""
        a = self._arrays()
        W, b = a["W"], a["b"]
        history = list(self.history)
        for _ in range(check_int(steps, "steps", 1, 10**6)):
            loss, dW, db, _ = loss_and_grads(a["points"], a["labels"], W, b, **self._options())
            history.append(loss)
            W, b = W - self.lr * dW, b - self.lr * db
        with self.hold_trait_notifications():
            self.W, self.b = W.tolist(), b.tolist()
            self.history = history[-600:]
            self.steps = int(self.steps) + steps
        return self

    def _repr_html_(self) -> str:
        # the container carries the class "playground" too (issue 14)
        return (
            super()
            ._repr_html_()
            .replace('class="xent-explorer ', 'class="xent-explorer playground ', 1)
        )

    def __repr__(self) -> str:
        r = self.results
        return (
            f"PlaygroundExplorer(classes={self.classes}, lr={self.lr}, temperature="
            f"{self.temperature}, smoothing={self.smoothing}, weight={self.weight}) -> step "
            f"{r['steps']}, {r['points']} points, loss {float(r['loss']):.4f}"
        )


def playground_explorer(
    classes: int = 3,
    lr: float = 0.5,
    temperature: float = 1.0,
    smoothing: float = 0.0,
    weight: Sequence[float] | None = None,
    *,
    seed: int = 7,
    name: str = "playground",
) -> PlaygroundExplorer:
    """The training playground: K = ``classes`` blobs of 2-D points (drawn by the view from
    ``seed``), a softmax classifier from zero weights, gradient descent with learning rate
    ``lr``, ``temperature``, label ``smoothing`` and class ``weight`` (default all 1)."""
    k = check_int(classes, "classes", 3, 6)
    w = [1.0] * k if weight is None else list(weight)
    if len(w) != k:
        raise ValueError(f"weight must have one entry per class ({k}), got {len(w)}")
    return PlaygroundExplorer(
        classes=k,
        lr=lr,
        temperature=temperature,
        smoothing=smoothing,
        weight=w,
        W=[[0.0] * k, [0.0] * k],
        b=[0.0] * k,
        seed=seed,
        name=name,
    )
