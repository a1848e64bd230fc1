"""The bad-input matrix: every public callable of xent, fed every wrong thing (issue 10).

A table, :data:`TABLE`, lists each public function, class and layer method of ``xent`` with a
valid value for each argument and the argument's *kind*. Each kind has a list of bad values
(:data:`BAD`): wrong types, wrong shapes, non-finite numbers, empty arrays, ragged nested
lists, absurd sizes. The test calls the function with all arguments valid except one, bad,
and requires a ``ValueError`` or ``TypeError`` whose message names that argument
(:func:`helpers.raises_naming`): never a NumPy-internal error, an ``AttributeError``, a
silently returned number, a hang (an alarm stops any call after a few seconds) or a large
allocation (``tracemalloc`` traces NumPy's arrays; the peak must stay small).

Adding a function to xent means adding one row here: ``test_every_public_callable_is_in_the_table``
fails until then. A row is ``Row("xent.name", callable, {"arg": (kind, good)})``;
``extra`` holds bad cases particular to that function (say, a target of the wrong length).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib
import inspect
import io
import pkgutil
import signal
import struct
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xent
from helpers import raises_naming
from xent import calibration, data, info, linear_ce, metrics, nn, optim
from xent import precision as prec

TIMEOUT_S = 5  # a hang is a failure; normal cases take milliseconds
PEAK_BYTES = 32 << 20  # 32 MiB of traced allocations per case at most
NAN, INF = float("nan"), float("inf")


# ----------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Fresh:
    """A value made anew for every call (mutable objects, files, layers after forward)."""

    make: Callable[[], Any]


def value(v: Any) -> Any:
    return v.make() if isinstance(v, Fresh) else v


def with_entry(x: float) -> Callable[[Any], np.ndarray]:
    """A bad value from the good one: the same array with its first entry replaced by x."""

    def bad(good: Any) -> np.ndarray:
        arr = np.array(good, dtype=np.float64)
        arr.reshape(-1)[0] = x
        return arr

    return bad


def same(v: Any) -> Callable[[Any], Any]:
    return lambda good: v


RAGGED = [[0.0, 1.0, 2.0], [0.0, 1.0]]

# label -> how to make a bad value from the good one, for every kind of argument
ARRAY_TYPES = {
    "ragged": same(RAGGED),
    "object": same(np.array([0.5, None], dtype=object)),
    "strings": same(np.array([["a", "b", "c"]])),
    "complex": lambda good: np.ones(np.shape(good), dtype=complex),
    "bool": lambda good: np.ones(np.shape(good), dtype=bool),
    "None": same(None),
}
NON_FINITE = {"nan": with_entry(NAN), "+inf": with_entry(INF)}
BAD: dict[str, dict[str, Callable[[Any], Any]]] = {
    # real arrays of any shape (gradcheck's x)
    "values": {**ARRAY_TYPES, **NON_FINITE},
    # logits: classes along the last axis (softmax) or axis 1 (losses); -inf is a mask, valid
    "logits": {
        **ARRAY_TYPES,
        **NON_FINITE,
        "scalar": same(1.0),
        "no-classes": lambda good: np.zeros((*np.shape(good)[:-1], 0)),
    },
    # probability vectors along the last axis
    "probs": {
        **ARRAY_TYPES,
        **NON_FINITE,
        "negative": lambda good: np.array([1.5, -0.5] + [0.0] * (np.shape(good)[-1] - 2)),
        "sum-0.9": lambda good: np.array(good, dtype=np.float64) * 0.9,
        "scalar": same(1.0),
        "no-classes": same(np.zeros((2, 0))),
    },
    # integer class indices in [0, C)
    "class_indices": {
        "float": lambda good: np.array(good, dtype=np.float64),
        "bool": lambda good: np.ones(np.shape(good), dtype=bool),
        "ragged": same([[0, 1], [0]]),
        "object": same(np.array([0, None], dtype=object)),
        "None": same(None),
        "C": lambda good: np.full(np.shape(good), 3),
        "-2": lambda good: np.full(np.shape(good), -2),
        "2**40": lambda good: np.full(np.shape(good), 2**40),
    },
    # integer labels of a metric (no upper limit: accuracy takes any labels)
    "labels": {
        "float": lambda good: np.array(good, dtype=np.float64),
        "bool": lambda good: np.ones(np.shape(good), dtype=bool),
        "ragged": same([[0, 1], [0]]),
        "object": same(np.array([0, None], dtype=object)),
        "None": same(None),
        "negative": lambda good: np.full(np.shape(good), -1),
        "2-D": lambda good: np.array([good]),
        "empty": same(np.zeros(0, dtype=int)),
        "wrong-length": lambda good: np.concatenate([good, good]),
    },
    # labels of a K x K confusion matrix: also no huge label (7 TiB for 2**32)
    "matrix_labels": {},  # filled in below
    "positive": {  # a finite float > 0
        "0": same(0.0), "-1": same(-1.0), "nan": same(NAN), "inf": same(INF),
        "str": same("1.0"), "None": same(None), "True": same(True), "list": same([1.0]),
    },  # fmt: skip
    "nonnegative": {  # a finite float >= 0
        "-1": same(-1.0), "nan": same(NAN), "inf": same(INF), "str": same("0.1"),
        "None": same(None), "True": same(True), "list": same([0.1]),
    },  # fmt: skip
    "real": {  # any finite float
        "nan": same(NAN), "inf": same(-INF), "str": same("0.1"), "None": same(None),
        "True": same(True),
    },  # fmt: skip
    "unit_open": {  # a float in [0, 1)
        "-0.1": same(-0.1), "1": same(1.0), "nan": same(NAN), "str": same("0.5"),
        "None": same(None), "True": same(True),
    },  # fmt: skip
    "unit_closed": {  # a float in [0, 1]
        "-0.1": same(-0.1), "1.5": same(1.5), "nan": same(NAN), "inf": same(INF),
        "str": same("0.5"), "None": same(None), "True": same(True),
    },  # fmt: skip
    "count": {  # an integer >= 1
        "0": same(0), "-1": same(-1), "2.5": same(2.5), "2.0": same(2.0), "str": same("3"),
        "None": same(None), "True": same(True),
    },  # fmt: skip
    "index": {  # an integer >= 0
        "-1": same(-1), "2.5": same(2.5), "2.0": same(2.0), "str": same("3"), "None": same(None),
        "True": same(True),
    },  # fmt: skip
    "integer": {"1.5": same(1.5), "str": same("x"), "None": same(None), "True": same(True)},
    "axis": {"0.0": same(0.0), "str": same("0"), "None": same(None), "5": same(5), "-5": same(-5)},
    "flag": {"str": same("yes"), "1": same(1), "None": same(None)},
    "function": {"int": same(3), "str": same("f")},
    "function_or_none": {"int": same(3), "str": same("f")},
    "rng": {"int": same(0), "None": same(None), "legacy": same(np.random.RandomState(0))},
    "reduction": {"avg": same("avg"), "MEAN": same("MEAN"), "None": same(None), "1": same(1)},
    "path": {"int": same(3), "None": same(None), "bytes": same(b"x")},
    "dir_or_none": {"int": same(3), "bytes": same(b"x"), "list": same(["x"])},
    "sha256": {"short": same("abc"), "int": same(5)},
    "split": {"validation": same("validation"), "None": same(None), "list": same(["train"])},
    "checksums": {"str": same("abc"), "list": same(["abc"])},
    "images": {
        "list": lambda good: np.asarray(good).tolist(),
        "None": same(None),
        "strings": same(np.array([["a"]])),
        "complex": lambda good: np.ones(np.shape(good), dtype=complex),
        "27x28": same(np.zeros((2, 27, 28), dtype=np.uint8)),
        "scalar": same(np.uint8(3)),
    },
    # the input or incoming gradient of a layer: a NumPy array of the right shape
    "layer_array": {
        "list": lambda good: np.asarray(good).tolist(),
        "None": same(None),
        "strings": lambda good: np.full(np.shape(good), "a"),
        "complex": lambda good: np.ones(np.shape(good), dtype=complex),
    },
    "model": {"None": same(None), "int": same(3), "function": same(lambda x: x)},
    "params": {
        "int": same(3),
        "empty": same([]),
        "single": lambda good: [(p,) for p, _ in good],
        "shapes": lambda good: [(p, np.zeros(p.size + 1)) for p, _ in good],
        "int-arrays": same([(np.zeros(2, dtype=int), np.zeros(2, dtype=int))]),
        "lists": same([([1.0], [0.0])]),
    },
    "betas": {
        "float": same(0.9), "one": same((0.9,)), "1.0": same((0.9, 1.0)), "nan": same((NAN, 0.9)),
        "str": same(("0.9", 0.999)),
    },  # fmt: skip
    "grads": {"int": same(3), "lists": same([[1.0, 2.0]]), "ints": same([np.array([1, 2])])},
    "sizes": {
        "one": same([784]), "str": same("784,10"), "zero": same([784, 0]),
        "float": same([784, 2.5]), "None": same(None),
    },  # fmt: skip
    "float_dtype": {"int": same(int), "str": same("float-ish"), "object": same(object)},
    "class_weights": {  # None is valid: no weights
        **{k: v for k, v in ARRAY_TYPES.items() if k != "None"},
        **NON_FINITE,
        "negative": with_entry(-1.0),
        "2-D": lambda good: np.array([good]),
    },
}
BAD["matrix_labels"] = {**BAD["labels"], "10**6": same(np.array([0, 10**6])),
                        "2**32": same(np.array([0, 2**32]))}  # fmt: skip
BAD["labels"].pop("wrong-length")  # only the second label vector can have the wrong length
BAD["matrix_labels"].pop("wrong-length")
BAD["second_labels"] = {**BAD["labels"], "wrong-length": lambda good: np.concatenate([good, good])}
BAD["second_matrix_labels"] = {**BAD["matrix_labels"], **BAD["second_labels"]}
BAD["positive_or_none"] = {k: v for k, v in BAD["positive"].items() if k != "None"}
BAD["count_or_none"] = {k: v for k, v in BAD["count"].items() if k != "None"}
# binary cross-entropy: any shape; soft targets in [0, 1]; weights broadcast to the logits
BAD["elementwise"] = {**ARRAY_TYPES, "nan": with_entry(NAN)}  # sigmoid: +-inf are fine
BAD["binary_logits"] = {**ARRAY_TYPES, **NON_FINITE, "-inf": with_entry(-INF)}
BAD["soft_targets"] = {
    **ARRAY_TYPES,
    **NON_FINITE,
    "negative": with_entry(-0.1),
    "above-1": with_entry(1.5),
    "ints": lambda good: np.zeros(np.shape(good), dtype=np.int64),
    "transposed": lambda good: np.array(good).T,
    "broadcast": lambda good: np.array(good)[:1],  # torch requires the logits' shape exactly
    "scalar": same(0.5),
}
BAD["broadcast_weights"] = {  # None is valid: no weights
    **{k: v for k, v in ARRAY_TYPES.items() if k != "None"},
    **NON_FINITE,
    "negative": with_entry(-1.0),
    "wrong-length": same(np.ones(2)),
    "too-many-dims": same(np.ones((2, 4, 3))),
    "40-D": same(np.ones((1,) * 40)),  # NumPy's broadcasting stops at 32 axes
    "empty": same(np.zeros(0)),
}
# calibration: (N, C) rows of logits or probabilities, N >= 1, C >= 2
ROWS_SHAPES = {
    "1-D": lambda good: np.asarray(good, dtype=np.float64)[0],
    "3-D": lambda good: np.asarray(good, dtype=np.float64)[None],
    "scalar": same(1.0),
    "no-rows": lambda good: np.zeros((0, np.shape(good)[1])),
    "no-classes": lambda good: np.zeros((np.shape(good)[0], 0)),
}
BAD["logit_rows"] = {**ARRAY_TYPES, **NON_FINITE, **ROWS_SHAPES, "-inf": with_entry(-INF),
                     "one-class": lambda good: np.ones((np.shape(good)[0], 1))}  # fmt: skip
BAD["prob_rows"] = {
    **ARRAY_TYPES,
    **NON_FINITE,
    **ROWS_SHAPES,
    "negative": lambda good: np.vstack([[1.5, -0.5, 0.0], np.asarray(good)[1:]]),
    "sum-0.9": lambda good: np.array(good, dtype=np.float64) * 0.9,
}
BAD["row_labels"] = {**BAD["class_indices"],
                     "wrong-length": lambda good: np.concatenate([good, good]),
                     "2-D": lambda good: np.array([good]), "scalar": same(0)}  # fmt: skip
BAD["logits_file"] = {
    "int": same(3), "None": same(None), "bytes": same(b"logits.npz"),
    "directory": lambda good: tiny_dir(),
    "digest-mismatch": lambda good: npz_file("changed.npz", GOOD_LOGITS, digest="0" * 64),
    "empty-sidecar": lambda good: npz_file("nosum.npz", GOOD_LOGITS, digest=""),
    "not-npz": lambda good: npz_file("text.npz", {}, raw=b"not a zip archive"),
    "truncated": lambda good: npz_file("cut.npz", {}, raw=good.read_bytes()[:100]),
    "pickled": lambda good: npz_file("pickle.npz", {"x": np.array([{}, 1], dtype=object)}),
    "npy": lambda good: npz_file("one.npz", {}, raw=npy_bytes(Z)),
    "bad-meta": lambda good: npz_file("meta.npz", {**GOOD_LOGITS, "meta": np.array(["{"])}),
    "meta-list": lambda good: npz_file("meta.npz", {**GOOD_LOGITS, "meta": np.array(["[1]"])}),
    "meta-float": lambda good: npz_file("meta.npz", {**GOOD_LOGITS, "meta": np.ones(1)}),
    "meta-empty": lambda good: npz_file("meta.npz", {**GOOD_LOGITS, "meta": np.array([], "U1")}),
}  # fmt: skip
# linear_cross_entropy_and_grad: x (N, d), W (d, V), b (V,)
BAD["hidden"] = {**ARRAY_TYPES, **NON_FINITE, "-inf": with_entry(-INF), "1-D": same(np.ones(2)),
                 "3-D": same(np.ones((1, 4, 2))), "scalar": same(1.0)}  # fmt: skip
BAD["weight_matrix"] = {
    **BAD["hidden"],
    "1-D": same(np.ones(3)),
    "no-classes": same(np.ones((2, 0))),
    "wrong-d": same(np.ones((3, 3))),
}
BAD["bias"] = {**{k: v for k, v in ARRAY_TYPES.items() if k != "None"}, **NON_FINITE,
               "wrong-length": same(np.ones(2)), "2-D": same(np.ones((1, 3))),
               "scalar": same(1.0)}  # fmt: skip
BAD["row_targets"] = {**BAD["class_indices"], "wrong-length": same(np.array([0, 1])),
                      "2-D": same(np.zeros((4, 1), dtype=int)),
                      "probabilities": same(np.full((4, 3), 1 / 3))}  # fmt: skip
# xent.precision
BAD["format"] = {"float8": same("float8"), "FLOAT16": same("FLOAT16"), "None": same(None),
                 "int": same(16), "dtype": same(np.float16), "list": same(["float16"])}  # fmt: skip
BAD["format_or_none"] = {k: v for k, v in BAD["format"].items() if k != "None"}
BAD["exact_values"] = dict(ARRAY_TYPES)  # nan and +-inf are values of every format
BAD["float32_values"] = {**ARRAY_TYPES, "float64": lambda good: np.asarray(good, np.float64),
                         "ints": lambda good: np.zeros(np.shape(good), dtype=np.int32)}  # fmt: skip
BAD["sum_terms"] = {**ARRAY_TYPES, "too-many": same(np.zeros(prec.MAX_SUM_TERMS + 1))}
BAD["logit_vector"] = {**ARRAY_TYPES, **NON_FINITE, "2-D": same(np.zeros((2, 2))),
                       "empty": same(np.zeros(0)), "scalar": same(1.0),
                       "too-many": same(np.zeros(prec.MAX_SUM_TERMS + 1))}  # fmt: skip
BAD["text"] = {"int": same(8), "None": same(None), "bytes": same(b"fp8")}
BAD["fraction_bits"] = {**BAD["count"], "53": same(53)}
BAD["exponent_bits"] = {**BAD["index"], "1": same(1), "12": same(12), "2000": same(2000)}
BAD["bins"] = {**BAD["count"], "huge": same(10**9), "numpy-float": same(np.float64(15))}
BAD["tolerance"] = {k: v for k, v in BAD["positive"].items()} | {"1": same(1.0)}


# ----------------------------------------------------------------------------- the table


@dataclass
class Row:
    """One public callable: its name, how to call it, and each argument's kind and good value.

    ``target`` is the public object the row covers (a function, a class, or a
    ``(class, method name)`` pair); by default ``call`` itself. ``extra`` lists bad cases
    particular to the function: ``(label, argument, bad value, exception type)``.
    """

    name: str
    call: Callable[..., Any]
    args: dict[str, tuple[str, Any]]
    target: Any = None
    extra: list[tuple[str, str, Any, type[Exception]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.target is None:
            self.target = self.call

    def good(self) -> dict[str, Any]:
        return {arg: value(good) for arg, (_, good) in self.args.items()}


Z = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0], [3.0, 1.0, -2.0], [1.0, 2.0, 3.0]])
Y = np.array([0, 1, 2, 0])
P = np.array([0.2, 0.3, 0.5])
LOSS = {
    "logits": ("logits", Z),
    "target": ("class_indices", Y),
    "weight": ("class_weights", np.array([1.0, 2.0, 0.5])),
    "ignore_index": ("integer", -100),
    "reduction": ("reduction", "mean"),
    "label_smoothing": ("unit_closed", 0.1),
}
LOSS_EXTRA = [
    ("target-length-3", "target", np.array([0, 1, 2]), ValueError),
    ("weight-length-2", "weight", np.array([1.0, 1.0]), ValueError),
    ("probability-target-ints", "target", np.zeros((4, 3), dtype=np.int64), TypeError),
]
RNG = Fresh(lambda: np.random.default_rng(0))
X8 = np.linspace(-1, 1, 24, dtype=np.float32).reshape(3, 8)


def pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array([1.0, -2.0]), np.array([0.1, 0.3]))]


def linear() -> nn.Linear:
    return nn.Linear(8, 4, rng=np.random.default_rng(0))


def after_forward(layer: nn.Module, x: np.ndarray) -> nn.Module:
    layer.forward(x)
    return layer


def tiny_net() -> nn.Sequential:
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(8, 5, rng=rng), nn.ReLU(), nn.Linear(5, 3, rng=rng))


def trained_loss() -> nn.CrossEntropyLoss:
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    loss_fn.forward(Z, Y)
    return loss_fn


TINY_DIR: Path | None = None  # set by the module fixture: one tiny Fashion-MNIST-shaped split


def tiny_dir() -> Path:
    assert TINY_DIR is not None
    return TINY_DIR


def tiny_images_file() -> Path:
    return tiny_dir() / "train-images-idx3-ubyte.gz"


IMAGES = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)

# binary cross-entropy on (N, C) = (4, 3): soft targets, weight per sample, pos_weight per label
BINARY = {
    "logits": ("binary_logits", Z),
    "target": ("soft_targets", np.array([[0.0, 1.0, 0.3]] * 4)),
    "weight": ("broadcast_weights", np.array([[1.0], [2.0], [0.5], [1.0]])),
    "pos_weight": ("broadcast_weights", np.array([1.0, 3.0, 0.5])),
    "reduction": ("reduction", "mean"),
}
BINARY_EXTRA = [("column-weight", "weight", np.ones((3, 1)), ValueError)]
Y_CAL = np.array([2, 1, 0, 1])  # mostly right, so a finite temperature minimises the NLL
PROBS = np.array([[0.1, 0.2, 0.7], [0.3, 0.4, 0.3], [0.8, 0.1, 0.1], [0.25, 0.25, 0.5]])


# linear cross-entropy: N = 4 rows, d = 2 features, V = 3 classes
X_LIN = np.array([[0.5, -1.0], [0.0, 2.0], [1.5, 0.5], [-1.0, -1.0]])
W_LIN = np.array([[1.0, -0.5, 0.2], [0.3, 0.8, -1.0]])
# precision: values of every kind a format meets (nan and +-inf included: they are values)
AWKWARD = np.array([1.0, -0.0, 65504.0, 65520.0, 6e-8, 1e-300, np.inf, -np.inf, np.nan])


def npz_file(name: str, arrays: dict[str, Any], *, raw: bytes | None = None,
             digest: str | None = None) -> Path:
    """A logits file in the tiny directory with its ``.sha256`` sidecar (right unless given)."""
    path = tiny_dir() / name
    if raw is None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        raw = buffer.getvalue()
    path.write_bytes(raw)
    digest = hashlib.sha256(raw).hexdigest() if digest is None else digest
    path.with_name(name + ".sha256").write_text(f"{digest}  {name}\n")
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


GOOD_LOGITS = {"val_logits": Z, "val_labels": Y_CAL, "meta": np.array(['{"seed": 0}'])}


def logits_file() -> Path:
    return npz_file("logits.npz", GOOD_LOGITS)


def loss_rows() -> list[Row]:
    """The three loss functions wherever xent defines them: at the top level, in the readable
    reference ``xent.losses`` and in the fast kernel ``xent.fused`` (when it exists); all
    must check their arguments the same way. Plus the kernel's thread setting, if any."""
    rows: list[Row] = []
    seen: set[int] = set()
    for module_name in ("xent", "xent.losses", "xent.fused"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in ("cross_entropy", "cross_entropy_grad", "cross_entropy_and_grad"):
            func = getattr(module, name, None)
            if func is not None and id(func) not in seen:
                seen.add(id(func))
                rows.append(Row(f"{module_name}.{name}", func, LOSS, extra=LOSS_EXTRA))
        if hasattr(module, "set_num_threads"):
            get = module.get_num_threads
            rows.append(Row(f"{module_name}.get_num_threads", get, {}))
            rows.append(Row(f"{module_name}.set_num_threads", module.set_num_threads,
                            {"num_threads": ("count", Fresh(get))}))  # fmt: skip
    return rows


TABLE: list[Row] = [
    # ---- xent (top level), xent.losses, xent.fused
    *loss_rows(),
    Row("xent.one_hot", xent.one_hot, {"y": ("class_indices", Y), "num_classes": ("count", 3)}),
    Row("xent.softmax", xent.softmax, {"z": ("logits", Z), "axis": ("axis", -1),
        "temperature": ("positive", 0.5)}),  # fmt: skip
    Row("xent.log_softmax", xent.log_softmax, {"z": ("logits", Z), "axis": ("axis", 1)}),
    Row("xent.logsumexp", xent.logsumexp, {"z": ("logits", Z), "axis": ("axis", -1),
        "keepdims": ("flag", False)}),  # fmt: skip
    Row("xent.softmax_jacobian", xent.softmax_jacobian, {"p": ("probs", P)}),
    Row("xent.softmax_backward", xent.softmax_backward,
        {"p": ("probs", P), "grad_p": ("values", np.array([1.0, 0.0, -1.0]))},
        extra=[("shape", "grad_p", np.ones(4), ValueError)]),  # fmt: skip
    Row("xent.numerical_gradient", xent.numerical_gradient,
        {"f": ("function", np.sum), "x": ("values", P), "eps": ("positive", 1e-6)},
        extra=[("returns-array", "f", lambda v: v * 2, ValueError),
               ("returns-str", "f", lambda v: "a", TypeError)]),  # fmt: skip
    Row("xent.gradcheck", xent.gradcheck,
        {"f": ("function", np.sum), "grad_f": ("function", np.ones_like),
         "x": ("values", P), "eps": ("positive", 1e-6), "tiny": ("positive", 1e-12)},
        extra=[("wrong-shape", "grad_f", lambda v: np.ones(2), ValueError)]),  # fmt: skip
    # ---- xent.info
    Row("xent.info.entropy", info.entropy, {"p": ("probs", P), "base": ("positive_or_none", 2)},
        extra=[("base-1", "base", 1, ValueError)]),  # fmt: skip
    Row("xent.info.cross_entropy", info.cross_entropy,
        {"p": ("probs", P), "q": ("probs", P[::-1]), "base": ("positive_or_none", None)},
        extra=[("shape", "q", np.array([0.5, 0.5]), ValueError)]),  # fmt: skip
    Row("xent.info.kl_divergence", info.kl_divergence,
        {"p": ("probs", P), "q": ("probs", P[::-1]), "base": ("positive_or_none", None)},
        extra=[("shape", "q", np.array([0.5, 0.5]), ValueError)]),  # fmt: skip
    # ---- xent.metrics
    *[
        Row(f"xent.metrics.{f.__name__}", f,
            {"y_true": ("matrix_labels", Y), "y_pred": ("second_matrix_labels", Y[::-1].copy()),
             "num_classes": ("count_or_none", 3)},
            extra=[("too-few", "y_true", np.array([0, 5, 0, 0]), ValueError),
                   ("huge", "num_classes", 10**6, ValueError)])
        for f in (metrics.confusion_matrix, metrics.precision_recall_f1, metrics.macro_f1)
    ],  # fmt: skip
    Row("xent.metrics.accuracy", metrics.accuracy,
        {"y_true": ("labels", Y), "y_pred": ("second_labels", Y[::-1].copy())}),  # fmt: skip
    # ---- xent.binary (chapter 7): top level and module
    Row("xent.sigmoid", xent.sigmoid, {"z": ("elementwise", Z)}),
    *[
        Row(f"xent.{f.__name__}", f, BINARY, extra=BINARY_EXTRA)
        for f in (xent.binary_cross_entropy_with_logits, xent.binary_cross_entropy_with_logits_grad,
                  xent.binary_cross_entropy_with_logits_and_grad)
    ],  # fmt: skip
    # ---- xent.calibration and the calibration metrics (chapter 8)
    Row("xent.fit_temperature", xent.fit_temperature,
        {"logits": ("logit_rows", Z), "labels": ("row_labels", Y_CAL),
         "rtol": ("tolerance", 1e-8)},
        extra=[("no-minimiser", "logits", np.zeros((4, 3)), ValueError),
               ("all-right", "logits", np.eye(3)[Y_CAL] * 5.0, ValueError)]),
    Row("xent.calibration.temperature_nll", calibration.temperature_nll,
        {"logits": ("logit_rows", Z), "labels": ("row_labels", Y_CAL),
         "temperature": ("positive", 1.5)}),
    Row("xent.calibration.load_logits", calibration.load_logits,
        {"path": ("logits_file", Fresh(logits_file))},
        extra=[("missing", "path", Path(__file__).parent / "no-such-logits.npz",
                FileNotFoundError)]),
    *[
        Row(f"xent.metrics.{f.__name__}", f,
            {"probs": ("prob_rows", PROBS), "labels": ("row_labels", Y_CAL),
             "n_bins": ("bins", 15)})
        for f in (metrics.expected_calibration_error, metrics.reliability_curve)
    ],  # fmt: skip
    # ---- xent.linear_ce (chapter 9)
    Row("xent.linear_cross_entropy_and_grad", xent.linear_cross_entropy_and_grad,
        {"x": ("hidden", X_LIN), "W": ("weight_matrix", W_LIN), "target": ("row_targets", Y),
         "b": ("bias", np.array([0.1, -0.2, 0.3])), "ignore_index": ("integer", -100),
         "reduction": ("reduction", "mean"), "label_smoothing": ("unit_closed", 0.1),
         "chunk_size": ("count_or_none", 3)},
        extra=[("logits-overflow", "x", np.full((4, 2), 1.5e308), ValueError),
               ("x-wrong-d", "x", np.ones((4, 5)), ValueError)]),
    Row("xent.linear_ce.default_chunk_size", linear_ce.default_chunk_size,
        {"num_classes": ("count", 50_000), "dtype": ("float_dtype", np.float32)}),
    # ---- xent.precision (chapter 9)
    Row("xent.precision.FloatFormat", prec.FloatFormat,
        {"name": ("text", "e5m2"), "mantissa_bits": ("fraction_bits", 2),
         "exponent_bits": ("exponent_bits", 5)}),
    Row("xent.precision.get_format", prec.get_format,
        {"fmt": ("format", "bfloat16"), "name": ("text", "fmt")}),
    Row("xent.precision.round_to", prec.round_to,
        {"x": ("exact_values", AWKWARD), "fmt": ("format", "float16")}),
    Row("xent.precision.ulp", prec.ulp,
        {"x": ("exact_values", AWKWARD), "fmt": ("format", "float16")}),
    Row("xent.precision.bfloat16_from_float32", prec.bfloat16_from_float32,
        {"x": ("float32_values", AWKWARD.astype(np.float32))}),
    Row("xent.precision.exp_thresholds", prec.exp_thresholds, {"fmt": ("format", "float32")}),
    Row("xent.precision.sum_in_format", prec.sum_in_format,
        {"values": ("sum_terms", AWKWARD), "fmt": ("format", "bfloat16"),
         "accumulator": ("format_or_none", "float32")}),
    Row("xent.precision.emulate_softmax", prec.emulate_softmax,
        {"z": ("logit_vector", np.array([12.0, 0.0, -np.inf, -18.0])), "fmt": ("format", "float16"),
         "accumulator": ("format_or_none", None)}),
    # ---- xent.optim
    Row("xent.optim.Optimizer", optim.Optimizer,
        {"params": ("params", Fresh(pairs)), "lr": ("nonnegative", 0.1),
         "weight_decay": ("nonnegative", 0.0)}),  # fmt: skip
    Row("xent.optim.SGD", optim.SGD,
        {"params": ("params", Fresh(pairs)), "lr": ("nonnegative", 0.1),
         "momentum": ("unit_open", 0.9), "weight_decay": ("nonnegative", 1e-4),
         "nesterov": ("flag", True)}),  # fmt: skip
    *[
        Row(f"xent.optim.{cls.__name__}", cls,
            {"params": ("params", Fresh(pairs)), "lr": ("nonnegative", 1e-3),
             "betas": ("betas", (0.9, 0.999)), "eps": ("positive", 1e-8),
             "weight_decay": ("nonnegative", 1e-2)})
        for cls in (optim.Adam, optim.AdamW)
    ],  # fmt: skip
    Row("xent.optim.clip_grad_norm", optim.clip_grad_norm,
        {"grads": ("grads", Fresh(lambda: [np.array([3.0, 4.0])])),
         "max_norm": ("positive", 1.0)}),  # fmt: skip
    Row("xent.optim.cosine_lr", optim.cosine_lr,
        {"step": ("index", 3), "total_steps": ("count", 10), "lr_max": ("nonnegative", 0.1),
         "lr_min": ("nonnegative", 0.0), "warmup_steps": ("index", 2)},
        extra=[("warmup-too-long", "warmup_steps", 10, ValueError)]),  # fmt: skip
    Row("xent.optim.step_lr", optim.step_lr,
        {"epoch": ("index", 3), "lr0": ("nonnegative", 0.1), "step_size": ("count", 2),
         "gamma": ("nonnegative", 0.5)}),  # fmt: skip
    # ---- xent.nn: constructors
    Row("xent.nn.Module", nn.Module, {}),
    Row("xent.nn.Linear", nn.Linear,
        {"in_features": ("count", 8), "out_features": ("count", 4), "rng": ("rng", RNG),
         "init": ("init", "he"), "bias": ("flag", True), "dtype": ("float_dtype", np.float32)}),
    Row("xent.nn.ReLU", nn.ReLU, {}),
    Row("xent.nn.Dropout", nn.Dropout, {"p": ("unit_open", 0.5), "rng": ("rng", RNG)}),
    Row("xent.nn.Flatten", nn.Flatten, {}),
    Row("xent.nn.Sequential", lambda layers: nn.Sequential(*layers),
        {"layers": ("layers", Fresh(lambda: [nn.ReLU()]))}, target=nn.Sequential),
    Row("xent.nn.CrossEntropyLoss", nn.CrossEntropyLoss,
        {k: LOSS[k] for k in ("weight", "ignore_index", "reduction", "label_smoothing")}),
    Row("xent.nn.mlp", nn.mlp,
        {"sizes": ("sizes", [8, 5, 3]), "rng": ("rng", RNG), "dropout": ("unit_open", 0.1),
         "dtype": ("float_dtype", np.float32)}),  # fmt: skip
    # ---- xent.nn: layer methods (backward after a forward of X8)
    *[
        Row(f"xent.nn.{cls.__name__}.forward", lambda x, make=make: make().forward(x),
            {"x": ("layer_array", x)}, target=(cls, "forward"),
            extra=[("shape", "x", np.ones((3, 7), np.float32), ValueError)] if cls in
            (nn.Linear, nn.Sequential) else [])
        for cls, make, x in (
            (nn.Linear, linear, X8), (nn.ReLU, nn.ReLU, X8), (nn.Flatten, nn.Flatten, X8),
            (nn.Dropout, lambda: nn.Dropout(0.5, rng=np.random.default_rng(0)), X8),
            (nn.Sequential, tiny_net, X8),
        )
    ],  # fmt: skip
    *[
        Row(f"xent.nn.{cls.__name__}.backward",
            lambda grad, make=make: after_forward(make(), X8).backward(grad),
            {"grad": ("layer_array", np.ones(shape, np.float32))}, target=(cls, "backward"),
            extra=[("shape", "grad", np.ones((2, shape[1]), np.float32), ValueError)])
        for cls, make, shape in (
            (nn.Linear, linear, (3, 4)), (nn.ReLU, nn.ReLU, (3, 8)),
            (nn.Flatten, nn.Flatten, (3, 8)),
            (nn.Dropout, lambda: nn.Dropout(0.5, rng=np.random.default_rng(0)), (3, 8)),
            (nn.Sequential, tiny_net, (3, 3)),
        )
    ],  # fmt: skip
    Row("xent.nn.CrossEntropyLoss.forward", lambda logits, target: nn.CrossEntropyLoss()(
        logits, target), {"logits": LOSS["logits"], "target": LOSS["target"]},
        target=(nn.CrossEntropyLoss, "forward"), extra=LOSS_EXTRA[:1]),  # fmt: skip
    Row("xent.nn.CrossEntropyLoss.backward", lambda grad: trained_loss().backward(grad),
        {"grad": ("values", np.ones(4))}, target=(nn.CrossEntropyLoss, "backward"),
        extra=[("class-axis", "grad", np.ones(3), ValueError),
               ("2-D", "grad", np.ones((4, 3)), ValueError)]),  # fmt: skip
    # ---- xent.nn: training helpers
    Row("xent.nn.iterate_minibatches", nn.iterate_minibatches,
        {"n": ("index", 10), "batch_size": ("count", 4), "rng": ("rng_or_none", RNG)}),
    Row("xent.nn.train_epoch", nn.train_epoch,
        {"model": ("model", Fresh(tiny_net)), "loss_fn": ("loss_fn", Fresh(nn.CrossEntropyLoss)),
         "optimizer": ("optimizer", Fresh(lambda: optim.SGD(pairs(), lr=0.0))),
         "x": ("examples", X8), "y": ("example_labels", np.array([0, 1, 2])),
         "batch_size": ("count", 2), "rng": ("rng", RNG),
         "transform": ("function_or_none", None), "lr_schedule": ("function_or_none", None)}),
    Row("xent.nn.predict_logits", nn.predict_logits,
        {"model": ("model", Fresh(tiny_net)), "x": ("examples", X8),
         "batch_size": ("count", 2), "transform": ("function_or_none", None)}),
    # ---- xent.data
    Row("xent.data.read_idx", data.read_idx,
        {"path": ("path", Fresh(tiny_images_file)), "expected_sha256": ("sha256", None),
         "max_bytes": ("index", 1 << 20)}),  # fmt: skip
    *[
        Row(f"xent.data.{f.__name__}", f,
            {"split": ("split", "train"), "data_dir": ("dir_or_none", Fresh(tiny_dir)),
             "download": ("flag", False), "checksums": ("checksums", None)})
        for f in (data.find_files, data.load_fashion_mnist)
    ],  # fmt: skip
    Row("xent.data.search_dirs", data.search_dirs, {"data_dir": ("dir_or_none", None)}),
    Row("xent.data.cache_dir", data.cache_dir, {}),
    Row("xent.data.hflip", data.hflip,
        {"images": ("images", IMAGES), "rng": ("rng", RNG), "p": ("unit_closed", 0.5)}),
    Row("xent.data.to_features", data.to_features,
        {"images": ("any_images", IMAGES), "mean": ("real", 0.3), "std": ("positive", 0.3)}),
]

BAD["any_images"] = {k: v for k, v in BAD["images"].items() if k != "27x28"}
BAD["init"] = {"lecun": same("lecun"), "None": same(None), "int": same(1)}
BAD["layers"] = {"int": same([3]), "function": same([lambda x: x]), "empty": same([])}
BAD["rng_or_none"] = {k: v for k, v in BAD["rng"].items() if k != "None"}
BAD["loss_fn"] = {"None": same(None), "function": same(xent.cross_entropy)}
BAD["optimizer"] = {"None": same(None), "int": same(3)}
BAD["examples"] = {"list": lambda good: np.asarray(good).tolist(), "None": same(None),
                   "scalar": same(np.float32(1.0))}  # fmt: skip
BAD["example_labels"] = {"list": same([0, 1, 2]), "None": same(None),
                         "wrong-length": same(np.array([0, 1]))}  # fmt: skip

# Public callables the matrix leaves out, each with the reason.
EXEMPT_MODULES = {
    "xent.web": "the kernel-free explorers' page widgets: their own checks (test_web_math.py)",
    "xent.explorers": "ipywidgets front ends of the chapters (test_explorers.py)",
}
EXEMPT_CALLABLES = {
    "xent.data.main": "the command line: argparse reports bad arguments itself (exit code 2)",
    "xent.metrics.ReliabilityCurve": "a NamedTuple of results that reliability_curve returns "
    "(its arguments are checked there)",
    "xent.precision.ExpThresholds": "a NamedTuple of results that exp_thresholds returns",
}


# ----------------------------------------------------------------------------- the cases


def cases() -> Iterator[Any]:
    for row in TABLE:
        for arg, (kind, _) in row.args.items():
            for label, make_bad in BAD[kind].items():
                yield pytest.param(row, arg, label, make_bad, (ValueError, TypeError),
                                   id=f"{row.name}-{arg}-{label}")  # fmt: skip
        for label, arg, bad, error in row.extra:
            yield pytest.param(row, arg, label, same(bad), error, id=f"{row.name}-{arg}-{label}")


@contextlib.contextmanager
def bounded(timeout: int = TIMEOUT_S) -> Iterator[None]:
    """Fail on a call that runs longer than ``timeout`` seconds or allocates more than
    PEAK_BYTES (NumPy reports its array allocations to tracemalloc)."""

    def alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"no answer within {timeout} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(timeout)
    tracemalloc.start()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert peak < PEAK_BYTES, f"allocated {peak / 2**20:.0f} MiB"


@pytest.fixture(scope="module", autouse=True)
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A directory holding a 2-image train split (the loaders' good arguments)."""
    global TINY_DIR
    TINY_DIR = tmp_path_factory.mktemp("tiny-fashion-mnist")
    labels = np.array([0, 9], dtype=np.uint8)
    for name, array in zip(data.FILES["train"], (IMAGES, labels), strict=True):
        raw = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
        (TINY_DIR / f"{name}.gz").write_bytes(gzip.compress(raw + array.tobytes()))
    yield
    TINY_DIR = None


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_good_arguments_work(row: Row) -> None:
    """The baseline: with every argument good, the call succeeds (so a bad case fails
    because of its one bad argument)."""
    with bounded():
        result = row.call(**row.good())
    if inspect.isgenerator(result):
        list(result)


@pytest.mark.parametrize(("row", "arg", "label", "make_bad", "error"), list(cases()))
def test_bad_argument_is_named(row: Row, arg: str, label: str, make_bad, error) -> None:
    kwargs = row.good()
    kwargs[arg] = make_bad(kwargs[arg])
    with bounded(), raises_naming(error, arg):
        result = row.call(**kwargs)
        if inspect.isgenerator(result) or isinstance(result, Iterator):
            list(result)


def test_the_bounds_catch_allocations_and_hangs() -> None:
    """The guards themselves: a 64 MiB array and a 2-second wait are both caught."""
    with pytest.raises(AssertionError, match="allocated"), bounded():
        np.ones(64 << 20, dtype=np.uint8)
    with pytest.raises(TimeoutError), bounded(timeout=1):
        time.sleep(2)


def public_callables() -> dict[str, Any]:
    """Every public function, class and nn layer method of xent, by dotted name."""
    found: dict[str, Any] = {}
    modules = [xent] + [
        importlib.import_module(f"xent.{m.name}")
        for m in pkgutil.iter_modules(xent.__path__)
        if not m.name.startswith("_") and f"xent.{m.name}" not in EXEMPT_MODULES
    ]
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue
            found.setdefault(f"{module.__name__}.{name}", obj)
            if inspect.isclass(obj) and issubclass(obj, nn.Module | nn.CrossEntropyLoss):
                if obj is not nn.Module:
                    for method in ("forward", "backward"):
                        found[f"{module.__name__}.{name}.{method}"] = (obj, method)
    return found


def test_every_public_callable_is_in_the_table() -> None:
    """A public callable added to xent must get a row (or a reason in EXEMPT_CALLABLES)."""
    covered = [row.target for row in TABLE]
    missing = sorted(
        name
        for name, obj in public_callables().items()
        if name not in EXEMPT_CALLABLES and not any(obj == t for t in covered)
    )
    assert not missing, f"add a Row to TABLE in {__file__} for: {', '.join(missing)}"
    kinds = {kind for row in TABLE for kind, _ in row.args.values()}
    assert kinds <= set(BAD), f"kinds without bad values: {kinds - set(BAD)}"
