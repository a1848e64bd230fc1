#!/usr/bin/env python3
"""Write the Fashion-MNIST logits that chapter 8 (Calibration) studies, without retraining there.

What it does, in the words of chapter 6 (Fashion-MNIST end to end):

1. the honest split of chapter 6: a seeded permutation (``default_rng(0)``) carves 10 000
   validation images off the 60 000 official training images; standardisation statistics come
   from the remaining 50 000 training images only;
2. chapter 6's recipe, unchanged: MLP 784 -> 512 -> 256 -> 10 with dropout 0.1, SGD with
   Nesterov momentum 0.9, weight decay 5e-4, batch size 128, cosine learning rate from 0.1 with
   half an epoch of warm-up, 20 epochs, everything seeded with ``default_rng(0)``. This is
   chapter 6's *validation run*, the model whose validation curve the chapter plots;
3. its logits on the 10 000 validation images and on the 10 000 official test images.

Why this model and not chapter 6's final one: the final model was retrained on all 60 000
training images, so no labelled image outside the test set is left that it has not seen.
Temperature scaling must be fitted on data the model did not train on (a model is always
overconfident on its own training data), and the test set must stay untouched by the fit.
The validation-run model has exactly that: a validation set it never trained on, for fitting
the temperature, and the official test set, for judging the result.

4. the same recipe once more with ``label_smoothing=0.1`` (the only change, same seed), and its
   test logits, so that chapter 8 can show label smoothing's effect on calibration. These are
   stored as float16 to keep the file small; the script measures and prints what that rounding
   changes (ECE and NLL, to well below the digits the chapter prints).

Output: ``chapters/data/fashion_mnist_logits.npz`` (about 900 KiB; float32 logits compress by
only 8 %) and its SHA-256 in ``chapters/data/fashion_mnist_logits.npz.sha256``, which
:func:`xent.calibration.load_logits` checks on every load. The zip entries carry a fixed
timestamp, so the same logits give the same bytes. The arrays:

=================  ==============  =====================================================
``val_logits``     (10000, 10) f4  validation-run model, validation images
``val_labels``     (10000,) u1     their labels (the images are ``permutation[:10000]`` of
                                   the training set, ``default_rng(0).permutation(60000)``)
``test_logits``    (10000, 10) f4  validation-run model, official test images (in order)
``test_labels``    (10000,) u1     official test labels
``test_logits_ls`` (10000, 10) f2  the label-smoothing model (eps = 0.1), test images
``meta``           (1,) str        JSON: recipe, accuracies, ECE, NLL, library versions
=================  ==============  =====================================================

Determinism: one BLAS thread (set below, before NumPy is imported, as chapter 6 does), all
randomness from seeded generators. The same machine and library versions give identical bytes;
another BLAS may change the last bits of the logits, hence the SHA-256 in the sidecar file,
which pins the exact data the chapter's printed numbers come from.

Usage (about a minute per model on an idle 2-core machine)::

    .venv/bin/python tools/make_fashion_mnist_logits.py            # write the files
    .venv/bin/python tools/make_fashion_mnist_logits.py --check    # retrain, compare, write nothing
    .venv/bin/python tools/make_fashion_mnist_logits.py --web      # chapter 8's explorer data

The last writes the test logits, rounded to float16, into chapter 8's explorer
(``lib/xent/web_assets/explorers/calibration.js``), which the website serves once.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy: deterministic, fast when busy

import argparse  # noqa: E402
import base64  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import xent  # noqa: E402
from xent import data, metrics, nn, optim  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "chapters" / "data" / "fashion_mnist_logits.npz"
WEB_JS = ROOT / "lib" / "xent" / "web_assets" / "explorers" / "calibration.js"

# Chapter 6's recipe (its cell "HIDDEN = ..."); change nothing here without changing chapter 6.
HIDDEN = (512, 256)
DROPOUT = 0.1
EPOCHS = 20
BATCH_SIZE = 128
LR, MOMENTUM, WEIGHT_DECAY = 0.1, 0.9, 5e-4
NUM_VAL = 10_000
LABEL_SMOOTHING = 0.1


def train(x: np.ndarray, y: np.ndarray, mean: float, std: float, label_smoothing: float):
    """Chapter 6's training run on ``(x, y)``; returns the model and the seconds it took."""
    rng = np.random.default_rng(0)  # weights, dropout masks and shuffling, as in chapter 6
    model = nn.mlp([784, *HIDDEN, 10], rng=rng, dropout=DROPOUT)
    steps_per_epoch = -(-len(x) // BATCH_SIZE)
    total_steps = EPOCHS * steps_per_epoch
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY,
                    nesterov=True)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    start = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        nn.train_epoch(model, loss_fn, opt, x, y, batch_size=BATCH_SIZE, rng=rng,
                       transform=lambda b: data.to_features(b, mean, std),
                       lr_schedule=lambda s: optim.cosine_lr(
                           s, total_steps, LR, warmup_steps=steps_per_epoch // 2))
        print(f"  epoch {epoch:2d} done ({time.perf_counter() - start:.0f} s)", flush=True)
    return model, time.perf_counter() - start


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A ``.npz`` whose bytes depend only on the arrays (fixed zip timestamps)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED  # a bare ZipInfo would be stored as is
            zf.writestr(info, _npy_bytes(arrays[name]))
    return buf.getvalue()


def write_web_data(npz: Path) -> None:
    """Chapter 8's explorer data: the test logits minus their row maximum, rounded to float16,
    and the labels, base64, as
    the ``const DATA = ...`` line at the end of explorers/calibration.js (site and widget both
    read it there). 10 000 x 10 float16 + 10 000 bytes: about 280 KB of text."""
    from xent.calibration import load_logits

    shipped = load_logits(npz)
    # Subtract each row's maximum first (softmax does not change): the argmax becomes exactly 0,
    # so rounding never changes a prediction, and the logits that matter most, those near the
    # maximum, keep the most digits.
    z32 = shipped["test_logits"]
    z = (z32 - z32.max(axis=1, keepdims=True)).astype("<f2")
    y = shipped["test_labels"].astype(np.uint8)
    blob = y.tobytes() + z.tobytes()
    line = json.dumps({"n": int(z.shape[0]), "c": int(z.shape[1]),
                       "b64": base64.b64encode(blob).decode("ascii")})
    text = WEB_JS.read_text(encoding="utf-8")
    head, marker, _ = text.partition("\nconst DATA = ")
    if not marker:
        raise SystemExit(f"{WEB_JS}: no 'const DATA = ' line to replace")
    WEB_JS.write_text(f"{head}\nconst DATA = {line};\n", encoding="utf-8")
    print(f"wrote the DATA line of {WEB_JS} ({len(line) / 1024:.0f} KiB)")


def summary(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy, mean NLL and 15-bin ECE, computed in float64."""
    z = logits.astype(np.float64)
    y = labels.astype(np.int64)
    probs = xent.softmax(z, axis=1)
    return {
        "accuracy": metrics.accuracy(y, z.argmax(axis=1)),
        "nll": float(xent.cross_entropy(z, y)),
        "ece": metrics.expected_calibration_error(probs, y),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="retrain and compare with the committed file; write nothing")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default {OUT})")
    parser.add_argument("--web", action="store_true",
                        help=f"only rewrite the DATA line of {WEB_JS.relative_to(ROOT)} from the "
                             "committed file (no training)")
    args = parser.parse_args(argv)
    if args.web:
        write_web_data(args.out)
        return 0

    images, labels = data.load_fashion_mnist("train")
    order = np.random.default_rng(0).permutation(len(images))  # chapter 6's split
    val_idx, train_idx = order[:NUM_VAL], order[NUM_VAL:]
    x_train, y_train = images[train_idx], labels[train_idx].astype(np.int64)
    x_val, y_val = images[val_idx], labels[val_idx]
    mean = float(x_train.mean() / 255)
    std = float(x_train.std() / 255)
    x_test, y_test = data.load_fashion_mnist("test")

    logits = {}
    seconds = {}
    for key, eps in (("plain", 0.0), ("ls", LABEL_SMOOTHING)):
        print(f"training chapter 6's recipe on {len(x_train)} images, label_smoothing={eps}",
              flush=True)
        model, seconds[key] = train(x_train, y_train, mean, std, eps)
        logits[key] = {
            split: nn.predict_logits(model, data.to_features(x, mean, std))
            for split, x in (("val", x_val), ("test", x_test))
        }

    stats = {
        "val": summary(logits["plain"]["val"], y_val),
        "test": summary(logits["plain"]["test"], y_test),
        "test_ls_float32": summary(logits["ls"]["test"], y_test),
        "test_ls": summary(logits["ls"]["test"].astype(np.float16), y_test),
        "val_ls_float32": summary(logits["ls"]["val"], y_val),
    }
    for name, s in stats.items():
        print(f"{name:>16}: accuracy {s['accuracy']:.4f}  NLL {s['nll']:.4f}  ECE {s['ece']:.4f}")
    rounding = {k: abs(stats["test_ls"][k] - stats["test_ls_float32"][k]) for k in ("nll", "ece")}
    print(f"float16 rounding of the label-smoothing logits changes NLL by {rounding['nll']:.1e} "
          f"and ECE by {rounding['ece']:.1e}")
    assert max(rounding.values()) < 1e-4, rounding

    meta = {
        "description": "Fashion-MNIST logits of chapter 6's validation-run model (trained on the "
                       "50 000 training images outside chapter 6's validation split) and of the "
                       "same recipe with label smoothing 0.1; written by "
                       "tools/make_fashion_mnist_logits.py",
        "recipe": {"hidden": HIDDEN, "dropout": DROPOUT, "epochs": EPOCHS,
                   "batch_size": BATCH_SIZE, "lr": LR, "momentum": MOMENTUM, "nesterov": True,
                   "weight_decay": WEIGHT_DECAY, "schedule": "cosine, warm-up half an epoch",
                   "seed": 0, "split_seed": 0, "num_val": NUM_VAL,
                   "standardisation": {"mean": mean, "std": std},
                   "label_smoothing_of_test_logits_ls": LABEL_SMOOTHING},
        "summary": stats,
        "versions": {"numpy": np.__version__, "python": platform.python_version()},
    }
    arrays = {
        "val_logits": logits["plain"]["val"].astype(np.float32),
        "val_labels": y_val.astype(np.uint8),
        "test_logits": logits["plain"]["test"].astype(np.float32),
        "test_labels": y_test.astype(np.uint8),
        "test_logits_ls": logits["ls"]["test"].astype(np.float16),
    }
    if args.check:
        from xent.calibration import load_logits

        committed = load_logits(args.out)
        worst = max(float(np.max(np.abs(committed[k].astype(np.float64) - v.astype(np.float64))))
                    for k, v in arrays.items())
        print(f"largest difference from the committed {args.out.name}: {worst:.3g}")
        return 0 if worst == 0 else 1

    print("training seconds (not stored, so that the bytes stay reproducible):", seconds)
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    blob = npz_bytes(arrays)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)
    digest = hashlib.sha256(blob).hexdigest()
    args.out.with_name(args.out.name + ".sha256").write_text(f"{digest}  {args.out.name}\n")
    print(f"wrote {args.out} ({len(blob) / 1024:.0f} KiB), sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
