"""Floating-point formats in exact arithmetic: rounding to float16, bfloat16 and float32.

See chapter 9 (Numbers and scale).

A binary floating-point format with ``m`` stored fraction bits and ``k`` exponent bits holds
``+-1.f x 2^e`` (``p = m + 1`` significant bits) for ``emin <= e <= emax`` with
``emax = 2^(k-1) - 1`` and ``emin = 1 - emax``, plus the subnormals ``+-0.f x 2^emin``:

=========  ====  ====  ==================  =====================  =====================
format      m     k    largest             smallest normal        smallest subnormal
=========  ====  ====  ==================  =====================  =====================
float16     10     5   65504               2^-14 = 6.1e-5         2^-24 = 6.0e-8
bfloat16     7     8   3.39e38             2^-126 = 1.2e-38       2^-133 = 9.2e-41
float32     23     8   3.40e38             2^-126 = 1.2e-38       2^-149 = 1.4e-45
float64     52    11   1.80e308            2^-1022 = 2.2e-308     2^-1074 = 4.9e-324
=========  ====  ====  ==================  =====================  =====================

:func:`round_to` rounds float64 values to any of them exactly as IEEE 754 does (round to
nearest, ties to even, overflow to infinity), with no help from hardware: scale by the unit
in the last place, ``numpy.rint``, scale back. It is the reference for the chapter's
emulated arithmetic and for the browser explorer, which does the same in JavaScript.
NumPy's own ``float16`` and ``float32`` casts and :func:`bfloat16_from_float32` (the usual
bit trick on float32 bits) check it in tests/test_precision.py.

Emulated arithmetic: an operation on format values is computed in float64 and rounded once.
For +, -, x, / and sqrt this gives the correctly rounded result of the format (float64 has
53 >= 2p + 2 bits); for exp and log it gives the correctly rounded result except in rare
near-ties, which is what a good math library delivers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._checks import as_array

__all__ = [
    "BFLOAT16",
    "FLOAT16",
    "FLOAT32",
    "FLOAT64",
    "FORMATS",
    "MAX_SUM_TERMS",
    "ExpThresholds",
    "FloatFormat",
    "bfloat16_from_float32",
    "emulate_softmax",
    "exp_thresholds",
    "get_format",
    "round_to",
    "sum_in_format",
    "ulp",
]


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format: ``mantissa_bits`` stored fraction bits (the leading 1
    is implicit) and ``exponent_bits`` exponent bits, IEEE 754 style."""

    name: str
    mantissa_bits: int
    exponent_bits: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name: expected a string; got {self.name!r}")
        # emulated in float64, so no wider than float64; at least 2 significant bits (so ties
        # to even mean something) and 2 exponent bits (so emin <= emax)
        for field, value, low, high in (("mantissa_bits", self.mantissa_bits, 1, 52),
                                        ("exponent_bits", self.exponent_bits, 2, 11)):
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise TypeError(f"{field}: expected an integer; got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{field}: expected an integer in [{low}, {high}]; got {value}")

    @property
    def precision(self) -> int:
        """Significant bits p, counting the implicit leading 1."""
        return self.mantissa_bits + 1

    @property
    def emax(self) -> int:
        return 2 ** (self.exponent_bits - 1) - 1

    @property
    def emin(self) -> int:
        return 1 - self.emax

    @property
    def max(self) -> float:
        """Largest finite value, ``(2 - 2^-m) 2^emax``."""
        return math.ldexp(2.0 - 2.0**-self.mantissa_bits, self.emax)

    @property
    def tiny(self) -> float:
        """Smallest positive normal value, ``2^emin``."""
        return math.ldexp(1.0, self.emin)

    @property
    def smallest_subnormal(self) -> float:
        """Smallest positive value, ``2^(emin - m)``."""
        return math.ldexp(1.0, self.emin - self.mantissa_bits)

    @property
    def eps(self) -> float:
        """Gap between 1 and the next larger value, ``2^-m``."""
        return 2.0**-self.mantissa_bits


FLOAT16 = FloatFormat("float16", 10, 5)
BFLOAT16 = FloatFormat("bfloat16", 7, 8)
FLOAT32 = FloatFormat("float32", 23, 8)
FLOAT64 = FloatFormat("float64", 52, 11)
FORMATS = {f.name: f for f in (FLOAT16, BFLOAT16, FLOAT32, FLOAT64)}
# sum_in_format adds in a Python loop (about a microsecond a term): a larger input is a mistake
MAX_SUM_TERMS = 1_000_000


def get_format(fmt: str | FloatFormat, name: str = "fmt") -> FloatFormat:
    """A :class:`FloatFormat` from itself or its name ('float16', 'bfloat16', ...); ``name``
    is the argument to name in the error."""
    if not isinstance(name, str):
        raise TypeError(f"name: expected the argument's name, a string; got {name!r}")
    if isinstance(fmt, FloatFormat):
        return fmt
    if isinstance(fmt, str) and fmt in FORMATS:
        return FORMATS[fmt]
    raise ValueError(f"{name}: expected one of {sorted(FORMATS)} or a FloatFormat; got {fmt!r}")


def _as_float64(x: ArrayLike, name: str = "x") -> np.ndarray:
    arr = as_array(x, name)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name}: expected real numbers; got dtype {arr.dtype}")
    with np.errstate(invalid="ignore"):  # a signalling nan stays a nan
        return arr.astype(np.float64)


def round_to(x: ArrayLike, fmt: str | FloatFormat) -> np.ndarray:
    """Round float64 values to the nearest value of ``fmt`` (ties to even), as float64.

    With ``|x|`` in ``[2^(e-1), 2^e)`` the grid spacing is ``u = 2^(max(e, emin+1) - p)``
    (constant below the smallest normal: the subnormals); the result is ``rint(x / u) * u``,
    and anything beyond the largest finite value becomes ``+-inf``. Both scalings are exact
    (powers of two), so the only rounding is ``rint``'s, which is ties-to-even.
    """
    fmt = get_format(fmt)
    x = _as_float64(x)
    if fmt.precision >= 53:
        return x
    _, e = np.frexp(x)
    exponent = np.maximum(e, fmt.emin + 1) - fmt.precision
    with np.errstate(invalid="ignore", over="ignore"):
        r = np.ldexp(np.rint(np.ldexp(x, -exponent)), exponent)
        r = np.where(np.abs(r) > fmt.max, np.copysign(np.inf, x), r)
    return np.where(np.isfinite(x), r, x)  # inf and nan stay as they are


def bfloat16_from_float32(x: ArrayLike) -> np.ndarray:
    """Round float32 values to bfloat16 on their bits (returned as float32).

    bfloat16 is the top half of a float32: add ``0x7FFF`` plus the lowest kept bit (so a
    tie goes to the even neighbour) and clear the low 16 bits. A carry moves into the
    exponent, and past the largest finite value into infinity, as rounding should. nan
    stays nan. This is how hardware and frameworks convert; it is the independent
    reference that :func:`round_to` is tested against.
    """
    arr = as_array(x, "x")
    if arr.dtype != np.float32:
        raise TypeError(
            f"x: expected a float32 array (bfloat16 rounds float32 bits); got {arr.dtype}"
        )
    bits = np.ascontiguousarray(arr).view(np.uint32)
    lowest_kept = (bits >> np.uint32(16)) & np.uint32(1)
    with np.errstate(over="ignore"):
        rounded = (bits + np.uint32(0x7FFF) + lowest_kept) & np.uint32(0xFFFF0000)
    return np.where(np.isnan(arr), arr, rounded.view(np.float32))


def ulp(x: ArrayLike, fmt: str | FloatFormat) -> np.ndarray:
    """Spacing of ``fmt``'s grid at ``|x|``: ``2^(max(e, emin+1) - p)`` for
    ``|x|`` in ``[2^(e-1), 2^e)`` (the distance to the next larger magnitude); as
    ``math.ulp``, inf for +-inf and nan for nan."""
    fmt = get_format(fmt)
    x = _as_float64(x)
    _, e = np.frexp(x)
    e = np.where(x == 0, fmt.emin + 1, e)  # frexp(0) gives e = 0; 0 is on the subnormal grid
    u = np.ldexp(1.0, np.maximum(e, fmt.emin + 1) - fmt.precision)
    return np.where(np.isfinite(x), u, np.abs(x))[()]  # frexp(inf) gives e = 0: no answer


class ExpThresholds(NamedTuple):
    """Where ``exp(z)``, correctly rounded to a format, leaves its range.

    overflow: smallest z with exp(z) = inf, ``log(max + ulp(max)/2) = log((2 - 2^-p) 2^emax)``.
    subnormal: below ``log(tiny)`` exp(z) is subnormal (fewer significant bits).
    underflow: at and below ``log(smallest_subnormal / 2)`` exp(z) rounds to 0.
    """

    overflow: float
    subnormal: float
    underflow: float


def exp_thresholds(fmt: str | FloatFormat) -> ExpThresholds:
    """The exp overflow, subnormal and underflow thresholds of ``fmt`` (see
    :class:`ExpThresholds`); float16 overflows from 11.09, float32 from 88.72."""
    fmt = get_format(fmt)
    ln2 = math.log(2.0)
    return ExpThresholds(
        overflow=math.log(2.0 - 2.0**-fmt.precision) + fmt.emax * ln2,
        subnormal=fmt.emin * ln2,
        underflow=(fmt.emin - fmt.mantissa_bits - 1) * ln2,
    )


def sum_in_format(
    values: ArrayLike, fmt: str | FloatFormat, accumulator: str | FloatFormat | None = None
) -> float:
    """Add ``values`` left to right in ``accumulator``'s format (default: ``fmt``), rounding
    after every addition, the values themselves first rounded to ``fmt``.

    A plain loop, as a naive kernel would do it (real kernels add in blocks or trees, which
    loses less); with ``accumulator='float32'`` it is the mixed-precision rule: store in a
    16-bit format, add in float32.
    """
    fmt = get_format(fmt)
    acc = fmt if accumulator is None else get_format(accumulator, "accumulator")
    v = _as_float64(values, "values").ravel()
    if v.size > MAX_SUM_TERMS:
        raise ValueError(f"values: at most {MAX_SUM_TERMS} values (added one at a time); "
                         f"got {v.size}")
    total = 0.0
    for term in round_to(v, fmt).tolist():
        total = _round_scalar(total + term, acc)
    return total


def _round_scalar(x: float, fmt: FloatFormat) -> float:
    """:func:`round_to` of one Python float, in plain Python (a NumPy call per term of a
    sum costs 30 times more). ``round`` of a float is ties-to-even, as ``numpy.rint``."""
    if fmt.precision >= 53 or not math.isfinite(x) or x == 0:
        return x
    exponent = max(math.frexp(x)[1], fmt.emin + 1) - fmt.precision
    r = abs(math.ldexp(round(math.ldexp(x, -exponent)), exponent))
    return math.copysign(math.inf if r > fmt.max else r, x)  # -0.0 stays -0.0


def emulate_softmax(
    z: ArrayLike, fmt: str | FloatFormat, accumulator: str | FloatFormat | None = None
) -> dict[str, np.ndarray]:
    """Softmax of one logit vector computed four ways in ``fmt``'s arithmetic.

    Every intermediate is rounded to ``fmt``, sums are added left to right in
    ``accumulator``'s format (default ``fmt``; ``'float32'`` is the mixed-precision rule), and
    the logarithm of a sum is taken in that format before its result is rounded to ``fmt``.
    Returns:

    * ``"z"``: the logits rounded to ``fmt``;
    * ``"naive"``: ``exp(z_c) / sum_j exp(z_j)`` (inf/inf = nan on overflow, 0/0 = nan
      when everything underflows);
    * ``"stable"``: the same with ``z - max(z)``: no overflow, at least one term is 1;
    * ``"log_of_softmax"``: ``log(stable)``, -inf where a probability underflowed to 0;
    * ``"log_softmax"``: ``(z_c - max) - log(sum_j exp(z_j - max))``, finite for finite z.

    The browser explorer of chapter 9 computes exactly these steps in JavaScript.
    """
    fmt = get_format(fmt)
    acc = fmt if accumulator is None else get_format(accumulator, "accumulator")
    z = _as_float64(z, "z")
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"z: expected a non-empty vector of logits; got shape {z.shape}")
    if z.size > MAX_SUM_TERMS:
        raise ValueError(f"z: at most {MAX_SUM_TERMS} logits (sums are added one term at a "
                         f"time); got {z.size}")
    bad = np.isnan(z) | (z == np.inf)  # -inf is a masked logit, as in xent.softmax
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"z: expected real logits (no nan or +inf); got {z[i]} at position {i}")
    z = round_to(z, fmt)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = round_to(np.exp(z), fmt)
        naive = round_to(e / sum_in_format(e, fmt, acc), fmt)
        d = round_to(z - z.max(), fmt)
        e_shifted = round_to(np.exp(d), fmt)
        s = sum_in_format(e_shifted, fmt, acc)
        stable = round_to(e_shifted / s, fmt)
        log_of_softmax = round_to(np.log(stable), fmt)
        log_softmax = round_to(d - round_to(np.log(s), acc), fmt)
    return {
        "z": z,
        "naive": naive,
        "stable": stable,
        "log_of_softmax": log_of_softmax,
        "log_softmax": log_softmax,
    }
