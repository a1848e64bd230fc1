"""xent: softmax and cross-entropy, exact and small.

The one shared library of the book *Softmax and Cross-Entropy, in Depth*.
Every chapter imports it; every function names the chapter that derives it.

``import xent`` loads only the numeric core (NumPy). The other submodules -- ``xent.fused``
(the fast loss kernel), ``xent.data`` (Fashion-MNIST) and the notebook UI (``xent.web`` and
the explorers, which need the ``xent[notebook]`` extra) -- are attributes that load on
first use.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from . import info, metrics, nn, optim
from .binary import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_and_grad,
    binary_cross_entropy_with_logits_grad,
    sigmoid,
)
from .calibration import fit_temperature
from .gradcheck import gradcheck, numerical_gradient
from .linear_ce import linear_cross_entropy_and_grad
from .losses import cross_entropy, cross_entropy_and_grad, cross_entropy_grad, one_hot
from .softmax import log_softmax, logsumexp, softmax, softmax_backward, softmax_jacobian

__all__ = [
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_and_grad",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy",
    "cross_entropy_and_grad",
    "cross_entropy_grad",
    "data",
    "fit_temperature",
    "fused",
    "gradcheck",
    "info",
    "linear_cross_entropy_and_grad",
    "log_softmax",
    "logsumexp",
    "metrics",
    "nn",
    "numerical_gradient",
    "one_hot",
    "optim",
    "precision",
    "sigmoid",
    "softmax",
    "softmax_backward",
    "softmax_jacobian",
]


def _submodules() -> set[str]:
    """The public submodules that exist in this installation (found, not imported)."""
    return {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}


def __getattr__(name: str) -> ModuleType:
    """Load a submodule (``xent.data``, ``xent.fused``, ``xent.web``, ...) on first use."""
    if name in _submodules():
        return importlib.import_module(f"{__name__}.{name}")  # also sets it as an attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _submodules())
