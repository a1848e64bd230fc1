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
import math
import os
import zipfile
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


def _shifted(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row minus its maximum (entries <= 0, a 0 in every row), and the labels' entries.

    softmax and the NLL only see these differences. A row spanning more than the float range
    gives -inf, which is exact enough: that class's probability is 0 at any temperature.
    """
    with np.errstate(over="ignore"):
        d = z - z.max(axis=1, keepdims=True)
    return d, d[np.arange(len(y)), y]


def _nll(d: np.ndarray, d_y: np.ndarray, beta: float) -> float:
    """Mean NLL of softmax(beta d) for shifted logits d (see :func:`_shifted`), beta finite.

    Each row's sum of exp(beta d) is in [1, C], so nothing overflows; beta d below the float
    range is -inf, i.e. a probability of 0 and an NLL of +inf, the correctly rounded value.
    """
    with np.errstate(over="ignore"):
        s = beta * d
        s_y = beta * d_y
    return float(np.mean(np.log(np.exp(s).sum(axis=1)) - s_y))


def _slope_and_curvature(d: np.ndarray, d_y: np.ndarray, beta: float) -> tuple[float, float]:
    """First and second derivative in beta of the mean NLL: mean E_p[d] - d_y and mean Var_p[d]."""
    e = np.exp(beta * d)
    p = e / e.sum(axis=1, keepdims=True)
    mean_d = np.sum(p * d, axis=1)
    slope = np.mean(mean_d - d_y)
    curvature = np.mean(np.sum(p * (d - mean_d[:, None]) ** 2, axis=1))
    return float(slope), float(curvature)


def temperature_nll(logits: ArrayLike, labels: ArrayLike, temperature: float) -> float:
    r"""Mean NLL :math:`\frac1N\sum_i -\log \operatorname{softmax}(z_i/T)_{y_i}`, in float64.

    ``logits`` (N, C), ``labels`` (N,) integer classes, ``temperature`` T > 0 with 1/T finite.
    The objective that :func:`xent.calibration.fit_temperature` minimises. Evaluated on each
    row minus its maximum, so it never overflows to nan; a true NLL beyond the float range is
    +inf. See chapter 8 (Calibration and temperature scaling).
    """
    t = check_positive_float(temperature, "temperature")
    beta = 1.0 / t
    if not np.isfinite(beta):
        raise ValueError(f"temperature: expected T with a finite 1/T (T >= about 5.6e-309); "
                         f"got {t!r}")
    z, y = _validated(logits, labels)
    return _nll(*_shifted(z, y), beta)


_MAX_EXPONENT = 1000  # bracket the optimal 1/T (of logits scaled to max |z| ~ 1) in 2**+-1000


def fit_temperature(logits: ArrayLike, labels: ArrayLike, *, rtol: float = 1e-10) -> float:
    r"""The temperature :math:`T > 0` minimising the mean NLL of softmax(logits / T).

    .. math::

        T^\star = \arg\min_{T > 0} \frac1N \sum_i -\log \operatorname{softmax}(z_i / T)_{y_i}

    Fit it on held-out (validation) logits, never on training or test data. The objective is
    convex in :math:`\beta = 1/T`, with derivative
    :math:`\frac1N\sum_i (\mathbb{E}_{p_i}[z_i] - z_{i y_i})` and second derivative
    :math:`\frac1N\sum_i \operatorname{Var}_{p_i}[z_i]`; the root of the derivative is found
    by Newton's method inside a bisection bracket, to a relative accuracy ``rtol`` in
    :math:`\beta` (default 1e-10, far better than the 1e-4 anyone needs). :math:`T^\star`
    scales with the logits, so they are first scaled by a power of two (exactly) to a largest
    magnitude near 1, and the result scaled back: logits of 1e-200 or 1e200 are fitted as
    accurately as logits of 1.

    ``logits`` (N, C) with N >= 1 and C >= 2, finite; ``labels`` (N,) integer classes. Raises
    ValueError naming ``logits`` when no finite minimiser exists: when the labels' logits are
    on average no larger than their rows' means (the NLL then keeps falling as T grows), or
    when every label's logit is the largest in its row (it keeps falling as T -> 0); also
    when :math:`T^\star` lies outside the float range.
    Argmax predictions, hence accuracy, do not depend on T. See chapter 8 (Calibration and
    temperature scaling); Guo et al. (2017).
    """
    z, y = _validated(logits, labels)
    if not (isinstance(rtol, float) and 0 < rtol < 1e-3):
        raise ValueError(f"rtol: expected a float in (0, 1e-3); got {rtol!r}")
    k = int(np.frexp(np.max(np.abs(z)))[1])  # max |z| = m * 2**k with m in [0.5, 1)
    d, d_y = _shifted(np.ldexp(z, -k), y)  # every entry in [-2, 0]
    # derivative at beta = 0 (uniform p): mean over rows of (mean_c z_c - z_y)
    if np.mean(d.mean(axis=1) - d_y) >= 0:
        raise ValueError("logits: the labels' logits are on average no larger than their rows' "
                         "means, so the NLL only decreases as T grows: no finite temperature "
                         "minimises it (are the logits and labels aligned?)")
    # derivative as beta -> infinity: mean over rows of (max_c z_c - z_y)
    if np.mean(-d_y) <= 0:
        raise ValueError("logits: every label's logit is the largest in its row, so the NLL "
                         "keeps decreasing as T -> 0: no positive temperature minimises it")

    def slope(beta: float) -> float:
        return _slope_and_curvature(d, d_y, beta)[0]

    # bracket the root in beta: slope <= 0 at lo, > 0 at hi, hi = 2 lo (slope increases)
    lo, hi = 0.5, 1.0
    while slope(hi) <= 0:
        lo, hi = hi, 2.0 * hi
        if hi > 2.0**_MAX_EXPONENT:
            raise ValueError("logits: the labels' logits are nearly always the largest in their "
                             "rows: the optimal temperature is too small to represent")
    while slope(lo) > 0:
        lo, hi = 0.5 * lo, lo
        if lo < 2.0**-_MAX_EXPONENT:
            raise ValueError("logits: the labels' logits are nearly no larger than their rows' "
                             "means: the optimal temperature is too large to represent")
    beta = hi
    for _ in range(200):
        d1, d2 = _slope_and_curvature(d, d_y, beta)
        if d1 <= 0:
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
    try:
        temperature = math.ldexp(1.0 / beta, k)
    except OverflowError:
        temperature = math.inf
    if not 0 < temperature < math.inf:
        raise ValueError(f"logits: the optimal temperature, 2**{k} / {beta!r}, is outside the "
                         f"float range")
    return temperature


def load_logits(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Load a logits ``.npz`` after checking its SHA-256 against ``<path>.sha256``.

    The sidecar file holds ``<hex digest>  <file name>`` (the format of ``sha256sum``). Returns
    the arrays by name; a ``meta`` entry (a JSON string) is returned parsed, as a dict. Never
    unpickles anything. Raises FileNotFoundError naming the missing file, and ValueError
    naming ``path`` when the digest does not match, when the path is a directory, when the
    file is not an ``.npz`` of numeric arrays, or when ``meta`` is not a JSON object. The
    book's file, ``chapters/data/fashion_mnist_logits.npz``, is written by
    ``tools/make_fashion_mnist_logits.py``. See chapter 8 (Calibration and temperature scaling).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path; got {type(path).__name__}")
    file = Path(path)
    sidecar = file.with_name(file.name + ".sha256")
    for f in (file, sidecar):
        if f.exists() and not f.is_file():
            raise ValueError(f"path: {f} is not a regular file (a directory?)")
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
    try:  # the digest matched, but a file written by mistake must still fail with its name
        loaded = np.load(BytesIO(blob), allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with loaded as npz:
            for name in npz.files:
                out[name] = npz[name]
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise ValueError(f"path: {file} is not an .npz archive of numeric arrays "
                         f"({exc})") from None
    if "meta" in out:  # a one-element str array holding a JSON object
        meta = out["meta"]
        try:
            if meta.size != 1 or meta.dtype.kind != "U":
                raise ValueError(f"expected one string, got {meta.dtype} of shape {meta.shape}")
            out["meta"] = json.loads(str(meta.reshape(-1)[0]))
            if not isinstance(out["meta"], dict):
                raise ValueError(f"expected a JSON object, got {type(out['meta']).__name__}")
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise ValueError(f"path: the 'meta' entry of {file} is not a JSON object "
                             f"({exc})") from None
    return out
