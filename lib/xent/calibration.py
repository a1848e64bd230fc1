r"""Temperature scaling, and the shipped Fashion-MNIST logits that chapter 8 calibrates.

See chapter 8 (Calibration and temperature scaling). The calibration *metrics* (expected
calibration error, reliability curve) are in :mod:`xent.metrics`.

Temperature scaling (Guo et al., 2017) divides a trained model's logits by one number
$T > 0$, chosen on held-out data to minimise the mean negative log-likelihood

$$L(T) = \frac1N \sum_{i} -\log \operatorname{softmax}(z_i / T)_{y_i}.$$

In the inverse temperature $\beta = 1/T$ each term is
$\ell_i(\beta) = \operatorname{logsumexp}(\beta z_i) - \beta z_{i y_i}$, whose derivatives are

$$\ell_i'(\beta) = \mathbb{E}_{p_i}[z_i] - z_{i y_i}, \qquad
\ell_i''(\beta) = \operatorname{Var}_{p_i}[z_i] \ge 0, \qquad
p_i = \operatorname{softmax}(\beta z_i):$$

the mean NLL is *convex* in $\beta$, so it has at most one minimum, which Newton's method
finds in a few steps (safeguarded by bisection on the sign of the derivative).
"""

from __future__ import annotations

import hashlib
import json
import os
from io import BytesIO
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_float_array, check_finite, check_integer_array, check_positive_float

__all__ = ["fit_temperature", "load_logits", "temperature_nll"]


def _validated(logits: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    z = as_float_array(logits, "logits")
    if z.ndim != 2:
        raise ValueError(f"logits: expected shape (N, C), one row of logits per sample; "
                         f"got shape {z.shape}")
    if z.shape[0] == 0:
        raise ValueError("logits: expected at least one sample; got 0 rows")
    if z.shape[1] < 2:
        raise ValueError(f"logits: expected at least 2 classes; got shape {z.shape}")
    check_finite(z, "logits")
    y = check_integer_array(labels, "labels")
    if y.shape != (z.shape[0],):
        raise ValueError(f"labels: expected shape ({z.shape[0]},), one class index per row of "
                         f"logits; got shape {y.shape}")
    if y.min() < 0 or y.max() >= z.shape[1]:
        bad = int(np.flatnonzero((y < 0) | (y >= z.shape[1]))[0])
        raise ValueError(f"labels: class indices must be in [0, {z.shape[1]}); got {y[bad]} at "
                         f"position {bad}")
    return z.astype(np.float64), y.astype(np.intp)


def _nll_and_derivatives(z: np.ndarray, z_y: np.ndarray, beta: float):
    """Mean NLL of softmax(beta z) and its first two derivatives with respect to beta."""
    s = beta * z
    m = s.max(axis=1, keepdims=True)
    e = np.exp(s - m)
    total = e.sum(axis=1, keepdims=True)
    p = e / total
    mean_z = np.sum(p * z, axis=1)
    nll = np.mean(m[:, 0] + np.log(total[:, 0]) - beta * z_y)
    d1 = np.mean(mean_z - z_y)
    d2 = np.mean(np.sum(p * (z - mean_z[:, None]) ** 2, axis=1))
    return float(nll), float(d1), float(d2)


def temperature_nll(logits: ArrayLike, labels: ArrayLike, temperature: float) -> float:
    r"""Mean NLL :math:`\frac1N\sum_i -\log \operatorname{softmax}(z_i/T)_{y_i}`, in float64.

    ``logits`` (N, C), ``labels`` (N,) integer classes, ``temperature`` T > 0. The objective
    that :func:`xent.fit_temperature` minimises. See chapter 8 (Calibration and temperature
    scaling).
    """
    t = check_positive_float(temperature, "temperature")
    z, y = _validated(logits, labels)
    return _nll_and_derivatives(z, z[np.arange(len(y)), y], 1.0 / t)[0]


def fit_temperature(logits: ArrayLike, labels: ArrayLike, *, rtol: float = 1e-10) -> float:
    r"""The temperature :math:`T > 0` minimising the mean NLL of softmax(logits / T).

    .. math::

        T^\star = \arg\min_{T > 0} \frac1N \sum_i -\log \operatorname{softmax}(z_i / T)_{y_i}

    Fit it on held-out (validation) logits, never on training or test data. The objective is
    convex in :math:`\beta = 1/T`, with derivative
    :math:`\frac1N\sum_i (\mathbb{E}_{p_i}[z_i] - z_{i y_i})` and second derivative
    :math:`\frac1N\sum_i \operatorname{Var}_{p_i}[z_i]`; the root of the derivative is found
    by Newton's method inside a bisection bracket, to a relative accuracy ``rtol`` in
    :math:`\beta` (default 1e-10, far better than the 1e-4 anyone needs).

    ``logits`` (N, C) with N >= 1 and C >= 2, finite; ``labels`` (N,) integer classes. Raises
    ValueError naming ``logits`` when no finite minimiser exists: when the labels' logits are
    on average no larger than their rows' means (the NLL then keeps falling as T grows), or
    when every label's logit is the largest in its row (it keeps falling as T -> 0).
    Argmax predictions, hence accuracy, do not depend on T. See chapter 8 (Calibration and
    temperature scaling); Guo et al. (2017).
    """
    z, y = _validated(logits, labels)
    if not (isinstance(rtol, float) and 0 < rtol < 1e-3):
        raise ValueError(f"rtol: expected a float in (0, 1e-3); got {rtol!r}")
    z_y = z[np.arange(len(y)), y]
    # derivative at beta = 0 (uniform p): mean over rows of (mean_c z_c - z_y)
    if np.mean(z.mean(axis=1) - z_y) >= 0:
        raise ValueError("logits: the labels' logits are on average no larger than their rows' "
                         "means, so the NLL only decreases as T grows: no finite temperature "
                         "minimises it (are the logits and labels aligned?)")
    # derivative as beta -> infinity: mean over rows of (max_c z_c - z_y)
    if np.mean(z.max(axis=1) - z_y) <= 0:
        raise ValueError("logits: every label's logit is the largest in its row, so the NLL "
                         "keeps decreasing as T -> 0: no positive temperature minimises it")
    lo, hi = 0.0, 1.0  # bracket in beta: derivative < 0 at lo, > 0 at hi
    while _nll_and_derivatives(z, z_y, hi)[1] <= 0:
        lo, hi = hi, 2.0 * hi
        if hi > 1e300:  # unreachable for finite logits with the checks above
            raise ValueError("logits: could not bracket the optimal temperature")
    beta = 1.0
    for _ in range(200):
        _, d1, d2 = _nll_and_derivatives(z, z_y, beta)
        if d1 < 0:
            lo = max(lo, beta)
        else:
            hi = min(hi, beta)
        step = d1 / d2 if d2 > 0 else np.inf
        new = beta - step
        if not lo < new < hi:  # Newton would leave the bracket: bisect instead
            new = 0.5 * (lo + hi)
        if abs(new - beta) <= rtol * new or hi - lo <= rtol * lo:
            beta = new
            break
        beta = new
    return float(1.0 / beta)


def load_logits(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load a logits ``.npz`` after checking its SHA-256 against ``<path>.sha256``.

    The sidecar file holds ``<hex digest>  <file name>`` (the format of ``sha256sum``). Returns
    the arrays by name; a ``meta`` entry (a JSON string) is returned parsed, as a dict. Never
    unpickles anything. Raises FileNotFoundError naming the missing file and ValueError
    naming ``path`` when the digest does not match. The book's file,
    ``chapters/data/fashion_mnist_logits.npz``, is written by
    ``tools/make_fashion_mnist_logits.py``. See chapter 8 (Calibration and temperature scaling).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path; got {type(path).__name__}")
    file = Path(path)
    sidecar = file.with_name(file.name + ".sha256")
    for f in (file, sidecar):
        if not f.is_file():
            raise FileNotFoundError(f"path: {f} not found (written by "
                                    f"tools/make_fashion_mnist_logits.py)")
    blob = file.read_bytes()
    expected = sidecar.read_text().split()[0].lower() if sidecar.read_text().split() else ""
    actual = hashlib.sha256(blob).hexdigest()
    if actual != expected:
        raise ValueError(f"path: SHA-256 of {file} is {actual}, but {sidecar.name} says "
                         f"{expected or '(nothing)'}; the file is corrupt or was changed "
                         f"without updating its checksum")
    out: dict = {}
    with np.load(BytesIO(blob), allow_pickle=False) as npz:
        for name in npz.files:
            out[name] = npz[name]
    if "meta" in out:
        out["meta"] = json.loads(str(out["meta"].reshape(-1)[0]))  # a one-element str array
    return out
