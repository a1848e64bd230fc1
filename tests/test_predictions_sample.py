"""Chapter 6's shipped predictions sample (lib/xent/web_assets/data/) is what its script says.

The files are written by tools/make_predictions_sample.py from the official test images and the
logits file chapters/data/fashion_mnist_logits.npz. Checked here: the SHA-256 sidecar, that every
sprite tile is the official test image it claims to be, that labels and logits are those of the
logits file (each reads back as the same float32), that the sample is stratified with mistakes in every class, and
that running the script again gives the same content.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from xent import data

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "lib" / "xent" / "web_assets" / "data"
STEM = "fashion_mnist_predictions"
LOGITS = REPO / "chapters" / "data" / "fashion_mnist_logits.npz"


def _tool():
    spec = importlib.util.spec_from_file_location(
        "mps", REPO / "tools" / "make_predictions_sample.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample() -> dict:
    return json.loads((DATA / f"{STEM}.json").read_text(encoding="utf-8"))


def test_sidecar_hashes_and_size(sample):
    for line in (DATA / f"{STEM}.sha256").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    png = (DATA / f"{STEM}.png").read_bytes()
    assert sample["sprite"]["sha256"] == hashlib.sha256(png).hexdigest()
    total = len(png) + (DATA / f"{STEM}.json").stat().st_size
    assert total <= 400 * 1024, f"{total} bytes: the brief allows about 400 KB"


def test_tiles_are_the_official_test_images(sample):
    tool = _tool()
    sheet = tool.read_png_gray((DATA / f"{STEM}.png").read_bytes())
    images, labels = data.load_fashion_mnist("test")
    index = np.array(sample["index"])
    assert len(index) >= 200 and len(set(index.tolist())) == len(index)
    np.testing.assert_array_equal(labels[index], sample["labels"])
    cols = sample["columns"]
    for k, i in enumerate(index):
        r, c = divmod(k, cols)
        tile = sheet[r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28]
        np.testing.assert_array_equal(tile, images[i], err_msg=f"tile {k} (test image {i})")


def test_stratified_with_mistakes_in_every_class(sample):
    labels = np.array(sample["labels"])
    predicted = np.array(sample["logits"]).argmax(axis=1)
    counts = np.bincount(labels, minlength=10)
    assert (counts == counts[0]).all(), counts  # the same number of images per true class
    mistakes = np.bincount(labels[predicted != labels], minlength=10)
    assert (mistakes >= 1).all(), mistakes
    assert sample["sample_accuracy"] == pytest.approx((predicted == labels).mean(), abs=1e-6)


def test_logits_and_content_match_the_logits_file(sample):
    if not LOGITS.is_file():
        pytest.fail(f"{LOGITS} is missing (written by tools/make_fashion_mnist_logits.py)")
    with np.load(LOGITS) as npz:
        logits = npz["test_logits"]
        labels = npz["test_labels"]
    index = np.array(sample["index"])
    stored = np.array(sample["logits"], dtype=np.float64)
    # 9 significant digits: every stored number reads back as exactly the float32 logit
    np.testing.assert_array_equal(stored.astype(np.float32), logits[index])
    np.testing.assert_array_equal(labels[index], sample["labels"])
    assert sample["logits_file"]["sha256"] == hashlib.sha256(LOGITS.read_bytes()).hexdigest()
    assert _tool().main(["--check"]) == 0
