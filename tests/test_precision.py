"""xent.precision: exact rounding to float16/bfloat16/float32, thresholds, emulated softmax."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import raises_naming
from xent import precision as P


def awkward_values(seed: int = 0) -> np.ndarray:
    """Float64 values from every regime: ordinary, ties, near the largest finite value,
    near the smallest normal and subnormal of each format, zeros, infinities, nan."""
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=5000) * 10.0 ** rng.integers(-50, 50, size=5000)]
    for fmt in (P.FLOAT16, P.BFLOAT16, P.FLOAT32):
        for anchor in (fmt.max, fmt.tiny, fmt.smallest_subnormal, 1.0, 3.0):
            u = float(P.ulp(anchor, fmt))
            steps = np.arange(-8, 9) * 0.25  # on the grid, at ties and between
            values.append(anchor + steps * u)
            values.append(-(anchor + steps * u))
        values.append(rng.uniform(-fmt.max * 1.01, fmt.max * 1.01, size=2000))
    values.append([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e308])
    return np.concatenate([np.ravel(v) for v in values])


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal as floats, nan equal to nan, and the sign of zero respected."""
    with np.errstate(invalid="ignore"):  # signalling nans among the random bit patterns
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | ((a == b) & (np.signbit(a) == np.signbit(b)))))


def test_round_to_float16_matches_numpy():
    x = awkward_values()
    with np.errstate(over="ignore"):
        want = x.astype(np.float16).astype(np.float64)
    assert same_values(P.round_to(x, "float16"), want)


def test_round_to_float32_matches_numpy():
    x = awkward_values(1)
    with np.errstate(over="ignore"):
        want = x.astype(np.float32).astype(np.float64)
    assert same_values(P.round_to(x, P.FLOAT32), want)


def test_round_to_bfloat16_matches_the_bit_reference():
    # on float32 inputs there is no double rounding: both must agree bit for bit
    with np.errstate(over="ignore"):
        x32 = awkward_values(2).astype(np.float32)
    rng = np.random.default_rng(3)
    random_bits = rng.integers(0, 2**32, size=20000, dtype=np.uint64).astype(np.uint32)
    x32 = np.concatenate([x32, random_bits.view(np.float32)])
    assert same_values(P.round_to(x32, "bfloat16"), P.bfloat16_from_float32(x32))


def test_bfloat16_bit_reference_by_hand():
    # 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even one, 1
    x = np.array([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, 3.3895314e38, 3.4e38], np.float32)
    want = [1.0, 1 + 2**-6, 1 + 2**-7, 3.3895314e38, np.inf]
    np.testing.assert_array_equal(P.bfloat16_from_float32(x), np.array(want, np.float32))


def test_format_constants():
    assert P.FLOAT16.max == 65504.0 == float(np.finfo(np.float16).max)
    assert P.FLOAT32.max == float(np.finfo(np.float32).max)
    assert P.FLOAT64.max == float(np.finfo(np.float64).max)
    for fmt, dtype in ((P.FLOAT16, np.float16), (P.FLOAT32, np.float32), (P.FLOAT64, np.float64)):
        assert fmt.tiny == float(np.finfo(dtype).smallest_normal)
        assert fmt.smallest_subnormal == float(np.finfo(dtype).smallest_subnormal)
        assert fmt.eps == float(np.finfo(dtype).eps)
    assert P.BFLOAT16.eps == 2**-7 and P.BFLOAT16.tiny == P.FLOAT32.tiny


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_exp_thresholds_match_numpy(dtype):
    fmt = P.get_format(np.dtype(dtype).name)
    over, sub, under = P.exp_thresholds(fmt)
    with np.errstate(over="ignore", under="ignore"):
        # exp of the format's values just below / at-or-above each threshold
        below = np.nextafter(dtype(over), dtype(-np.inf), dtype=dtype)
        assert np.isfinite(np.exp(below)) and np.isinf(np.exp(np.nextafter(
            dtype(over), dtype(np.inf), dtype=dtype)))  # fmt: skip
        assert np.exp(np.nextafter(dtype(under), dtype(np.inf), dtype=dtype)) > 0
        assert np.exp(np.nextafter(dtype(under), dtype(-np.inf), dtype=dtype)) == 0
        assert np.exp(dtype(sub) * (1 - 1e-3)) >= np.finfo(dtype).smallest_normal


def test_exp_thresholds_values():
    assert math.isclose(P.exp_thresholds("float16").overflow, 11.0901, abs_tol=1e-4)
    assert math.isclose(P.exp_thresholds("float32").overflow, 88.7228, abs_tol=1e-4)
    assert math.isclose(P.exp_thresholds("bfloat16").overflow, 88.7209, abs_tol=1e-4)
    assert math.isclose(P.exp_thresholds("float64").overflow, 709.7827, abs_tol=1e-4)
    assert math.isclose(P.exp_thresholds("float16").underflow, -25 * math.log(2))
    assert math.isclose(P.exp_thresholds("bfloat16").underflow, -134 * math.log(2))


def test_ulp():
    np.testing.assert_array_equal(P.ulp([1.0, 1.5, 2.0, 0.75], "bfloat16"),
                                  [2**-7, 2**-7, 2**-6, 2**-8])  # fmt: skip
    assert P.ulp(0.0, "float16") == 2**-24  # subnormal spacing


def test_sum_in_format_stalls_in_bfloat16_not_with_a_float32_accumulator():
    ones = np.ones(1000)
    assert P.sum_in_format(ones, "bfloat16") == 256.0  # 256 + 1 rounds back to 256
    assert P.sum_in_format(ones, "bfloat16", accumulator="float32") == 1000.0


def test_emulated_softmax_regimes():
    # float16: 12 overflows exp (11.09), the naive softmax is nan; the stable one is fine
    out = P.emulate_softmax([12.0, 0.0, -1.0], "float16")
    assert np.isnan(out["naive"][0]) and np.all(np.isfinite(out["stable"]))
    np.testing.assert_allclose(out["stable"].sum(), 1.0, atol=2e-3)
    # a gap of 20 underflows p to 0 in float16: log(softmax) is -inf, log_softmax is right
    out = P.emulate_softmax([20.0, 0.0], "float16")
    assert out["stable"][1] == 0 and out["log_of_softmax"][1] == -np.inf
    assert out["log_softmax"][1] == -20.0
    # all logits very negative: every naive term underflows, 0/0
    out = P.emulate_softmax([-30.0, -31.0], "float16")
    assert np.all(np.isnan(out["naive"])) and np.all(np.isfinite(out["stable"]))


def test_emulated_softmax_float64_is_the_library_softmax():
    import xent

    z = np.random.default_rng(0).normal(size=7) * 3
    out = P.emulate_softmax(z, "float64")
    np.testing.assert_allclose(out["stable"], xent.softmax(z), rtol=1e-14)
    np.testing.assert_allclose(out["log_softmax"], xent.log_softmax(z), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: P.round_to([1.0], "float8"), ValueError, "fmt"),
        (lambda: P.round_to(["a"], "float16"), TypeError, "x"),
        (lambda: P.bfloat16_from_float32(np.ones(2)), TypeError, "x"),
        (lambda: P.sum_in_format([1.0], "float16", accumulator="int8"), ValueError, "accumulator"),
        (lambda: P.emulate_softmax(np.ones((2, 2)), "float16"), ValueError, "z"),
        (lambda: P.emulate_softmax([], "float16"), ValueError, "z"),
    ],
)
def test_bad_input_names_the_argument(call, exc, name):
    with raises_naming(exc, name):
        call()


# --------------------------------------------------------------------------- found by the matrix


@pytest.mark.parametrize(
    "call, exc, name",
    [  # each was NumPy's, Python's or no error at all
        (lambda: P.round_to([[1.0, 2.0], [3.0]], "float16"), ValueError, "x"),  # ragged
        (lambda: P.bfloat16_from_float32([[1.0, 2.0], [3.0]]), ValueError, "x"),
        (lambda: P.sum_in_format([[1.0], []], "float16"), ValueError, "values"),
        (lambda: P.emulate_softmax([1.0, np.nan], "float16"), ValueError, "z"),  # all nan
        (lambda: P.emulate_softmax([np.inf, 0.0], "float16"), ValueError, "z"),
        (lambda: P.sum_in_format(np.zeros(P.MAX_SUM_TERMS + 1), "float16"), ValueError, "values"),
        (lambda: P.FloatFormat("fp8", -1, 5), ValueError, "mantissa_bits"),
        (lambda: P.FloatFormat("fp8", 60, 5), ValueError, "mantissa_bits"),  # wider than float64
        (lambda: P.FloatFormat("fp8", 2.0, 5), TypeError, "mantissa_bits"),
        (lambda: P.FloatFormat("fp8", 2, 1), ValueError, "exponent_bits"),  # emin > emax
        (lambda: P.FloatFormat("fp8", 2, 2000), ValueError, "exponent_bits"),  # OverflowError
        (lambda: P.FloatFormat(8, 2, 5), TypeError, "name"),
        (lambda: P.get_format("float16", name=3), TypeError, "name"),
    ],
)
def test_more_bad_input_names_the_argument(call, exc, name):
    with raises_naming(exc, name):
        call()


def test_ulp_of_inf_and_nan_follows_math_ulp():
    """frexp(inf) gives exponent 0, so ulp(inf) was the ulp of 0.5: silently wrong."""
    for fmt in ("float16", "bfloat16", "float32", "float64"):
        assert P.ulp(np.inf, fmt) == math.ulp(math.inf) == np.inf
        assert P.ulp(-np.inf, fmt) == np.inf
        assert np.isnan(P.ulp(np.nan, fmt))
    assert P.ulp(1.0, "float64") == math.ulp(1.0)
    assert P.ulp(1.0, "float16") == 2.0**-10


def test_emulate_softmax_masked_logit():
    """-inf is a masked logit, as in xent.softmax: probability 0, log-softmax -inf."""
    out = P.emulate_softmax([0.0, -np.inf, 0.0], "float16")
    np.testing.assert_array_equal(out["stable"], [0.5, 0.0, 0.5])
    assert out["log_softmax"][1] == -np.inf


@pytest.mark.parametrize("fmt", ["float16", "bfloat16", "float32", "float64"])
def test_sum_in_format_scalar_rounding_equals_round_to(fmt):
    """The running sum rounds each partial sum in plain Python (fast); on every regime of
    awkward_values, and on -0.0, it must equal round_to bit for bit."""
    from xent.precision import _round_scalar

    x = awkward_values(7)
    want = P.round_to(x, fmt)
    got = np.array([_round_scalar(v, P.get_format(fmt)) for v in x.tolist()])
    assert same_values(got, want)
    assert math.copysign(1.0, P.sum_in_format([-0.0], fmt)) == 1.0  # 0.0 + -0.0 = 0.0
