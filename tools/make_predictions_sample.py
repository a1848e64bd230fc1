#!/usr/bin/env python3
"""Write the small sample of Fashion-MNIST test predictions that chapter 6's explorer shows.

The website has no kernel, so chapter 6's predictions explorer reads a small static file: a few
hundred of the official test images, their labels and the trained model's logits. This script
makes that file from two inputs:

- ``chapters/data/fashion_mnist_logits.npz`` (written by ``tools/make_fashion_mnist_logits.py``):
  the logits on the 10 000 official test images of chapter 6's validation-run model (the MLP of
  chapter 6, trained on the 50 000 training images outside the validation split), with the
  official test labels. Its SHA-256 sidecar is checked first;
- the official test images, read with :func:`xent.data.load_fashion_mnist` (checksummed IDX).

The sample, deterministic (no random choice at all):

1. per true class, the test images are split into those the model gets right and its mistakes;
2. from each class, ``PER_CLASS`` images are taken, the mistakes in the same proportion as the
   class's test error (at least ``MIN_MISTAKES``, so every class shows some), the rest right;
3. within each group the images are taken evenly spaced through the group, in test-set order
   (``np.linspace`` over the group), so neither the most nor the least confident dominate.

So the sample's confusion matrix resembles the full test set's, and its accuracy is printed
next to the full test accuracy (the explorer says both).

Output, in ``lib/xent/web_assets/data/`` (served once by the site, never inside a notebook):

- ``fashion_mnist_predictions.png``: the images as one grayscale sprite, ``COLUMNS`` per row,
  28 x 28 pixels each, in sample order (a plain PNG written with the standard library);
- ``fashion_mnist_predictions.json``: class names, for each sample image its official test
  index, label and ten logits (float32 values, written exactly), the full test accuracy and
  the SHA-256 of the sprite and of the logits file used;
- ``fashion_mnist_predictions.sha256``: the SHA-256 of both files (``sha256sum -c`` format),
  checked by tests/test_predictions_sample.py.

Usage::

    .venv/bin/python tools/make_predictions_sample.py           # write the three files
    .venv/bin/python tools/make_predictions_sample.py --check   # recompute, compare, write nothing
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from xent import data

REPO = Path(__file__).resolve().parent.parent
LOGITS = REPO / "chapters" / "data" / "fashion_mnist_logits.npz"
OUT = REPO / "lib" / "xent" / "web_assets" / "data"
STEM = "fashion_mnist_predictions"
PER_CLASS = 30
MIN_MISTAKES = 3
COLUMNS = 20


def sha256_of(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def load_logits(path: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Test logits (10000, 10) float32 and labels, after checking the SHA-256 sidecar."""
    if not path.is_file():
        raise SystemExit(
            f"error: {path} not found; it is written by tools/make_fashion_mnist_logits.py"
        )
    blob = path.read_bytes()
    digest = sha256_of(blob)
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file():
        expected = sidecar.read_text().split()[0]
        if digest != expected:
            raise SystemExit(f"error: {path} has SHA-256 {digest}, its sidecar says {expected}")
    with np.load(path, allow_pickle=False) as npz:
        logits = np.asarray(npz["test_logits"], dtype=np.float32)
        labels = np.asarray(npz["test_labels"], dtype=np.int64)
    if logits.shape != (10000, data.NUM_CLASSES) or labels.shape != (10000,):
        raise SystemExit(f"error: unexpected shapes {logits.shape}, {labels.shape} in {path}")
    return logits, labels, digest


def choose(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Official test indices of the sample: per class, right and wrong in the class's proportion."""
    predicted = logits.argmax(axis=1)
    chosen: list[np.ndarray] = []
    for c in range(data.NUM_CLASSES):
        members = np.flatnonzero(labels == c)
        wrong = members[predicted[members] != c]
        right = members[predicted[members] == c]
        n_wrong = max(MIN_MISTAKES, round(PER_CLASS * len(wrong) / len(members)))
        n_wrong = min(n_wrong, len(wrong))
        for group, n in ((right, PER_CLASS - n_wrong), (wrong, n_wrong)):
            picks = np.unique(np.linspace(0, len(group) - 1, n).round().astype(int))
            chosen.append(group[picks])
    return np.sort(np.concatenate(chosen))


def png_gray(pixels: np.ndarray) -> bytes:
    """A grayscale 8-bit PNG of a 2-D uint8 array (filter 0 on every row, zlib level 9)."""
    height, width = pixels.shape
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def read_png_gray(blob: bytes) -> np.ndarray:
    """Pixels of a PNG written by :func:`png_gray` (for the check and the tests)."""
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(blob):
        (length,) = struct.unpack(">I", blob[pos : pos + 4])
        kind, body = blob[pos + 4 : pos + 8], blob[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width + 1)
    assert not rows[:, 0].any(), "only filter type 0 is written"
    return rows[:, 1:].copy()


def sprite(images: np.ndarray) -> np.ndarray:
    """Tile (n, 28, 28) images into rows of COLUMNS (empty tiles black)."""
    n = len(images)
    rows = -(-n // COLUMNS)
    sheet = np.zeros((rows * 28, COLUMNS * 28), dtype=np.uint8)
    for k, image in enumerate(images):
        r, c = divmod(k, COLUMNS)
        sheet[r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28] = image
    return sheet


def build(logits_path: Path) -> tuple[bytes, bytes]:
    """The sprite PNG and the JSON, as bytes."""
    logits, labels, logits_sha = load_logits(logits_path)
    images, image_labels = data.load_fashion_mnist("test")
    if not np.array_equal(image_labels, labels):
        raise SystemExit("error: the logits file's test labels are not the official ones")
    index = choose(logits, labels)
    png = png_gray(sprite(images[index]))
    accuracy = float((logits.argmax(axis=1) == labels).mean())
    sample_accuracy = float((logits[index].argmax(axis=1) == labels[index]).mean())
    doc = {
        "about": (
            "A deterministic sample of the official Fashion-MNIST test set with the logits of "
            "chapter 6's validation-run MLP; written by tools/make_predictions_sample.py."
        ),
        "classes": list(data.CLASS_NAMES),
        "image_size": 28,
        "columns": COLUMNS,
        "sprite": {"file": f"{STEM}.png", "sha256": sha256_of(png)},
        "logits_file": {"file": "chapters/data/fashion_mnist_logits.npz", "sha256": logits_sha},
        "test_accuracy": round(accuracy, 6),
        "test_count": int(len(labels)),
        "sample_accuracy": round(sample_accuracy, 6),
        "index": index.tolist(),
        "labels": labels[index].tolist(),
        # float32 logits printed with 9 significant digits read back as the same float32
        "logits": [[float(f"{v:.9g}") for v in row] for row in logits[index]],
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"
    return png, text.encode("utf-8")


def sidecar_text(png: bytes, doc: bytes) -> str:
    return f"{sha256_of(doc)}  {STEM}.json\n{sha256_of(png)}  {STEM}.png\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logits", type=Path, default=LOGITS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--check", action="store_true", help="compare with the files, write nothing"
    )
    args = parser.parse_args(argv)
    png, doc = build(args.logits)
    paths = {
        "png": args.out / f"{STEM}.png",
        "json": args.out / f"{STEM}.json",
        "sha": args.out / f"{STEM}.sha256",
    }
    if args.check:
        ok = (
            paths["json"].read_bytes() == doc
            and np.array_equal(read_png_gray(paths["png"].read_bytes()), read_png_gray(png))
            and paths["sha"].read_text() == sidecar_text(paths["png"].read_bytes(), doc)
        )
        print(f"{STEM}: {'identical' if ok else 'DIFFERENT'} content")
        return 0 if ok else 1
    args.out.mkdir(parents=True, exist_ok=True)
    paths["png"].write_bytes(png)
    paths["json"].write_bytes(doc)
    paths["sha"].write_text(sidecar_text(png, doc))
    meta = json.loads(doc)
    print(
        f"wrote {len(meta['index'])} images: {paths['png'].name} ({len(png) / 1024:.0f} KiB), "
        f"{paths['json'].name} ({len(doc) / 1024:.0f} KiB); sample accuracy "
        f"{meta['sample_accuracy']:.3f}, full test accuracy {meta['test_accuracy']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
