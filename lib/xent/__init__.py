"""xent: softmax and cross-entropy, exact and small.

The one shared library of the book *Softmax and Cross-Entropy, in Depth*.
Every chapter imports it; every function names the chapter that derives it.
"""

from . import info, metrics, nn, optim, web
from .gradcheck import gradcheck, numerical_gradient
from .losses import cross_entropy, cross_entropy_and_grad, cross_entropy_grad, one_hot
from .softmax import log_softmax, logsumexp, softmax, softmax_backward, softmax_jacobian

__all__ = [
    "cross_entropy",
    "cross_entropy_and_grad",
    "cross_entropy_grad",
    "gradcheck",
    "info",
    "log_softmax",
    "logsumexp",
    "metrics",
    "nn",
    "numerical_gradient",
    "one_hot",
    "optim",
    "softmax",
    "softmax_backward",
    "softmax_jacobian",
    "web",
]
