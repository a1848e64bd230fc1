"""The real Fashion-MNIST files: present here (Debian's dataset-fashion-mnist) and in CI.

Skipped, with the reason, when the data cannot be found without the network.
"""

from __future__ import annotations

import numpy as np
import pytest
from xent import data, metrics, nn, optim


def load_or_skip(split: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        return data.load_fashion_mnist(split, download=False)
    except FileNotFoundError:
        pytest.skip(
            "Fashion-MNIST not found locally (apt-get install dataset-fashion-mnist, "
            "set XENT_DATA_DIR, or run `python -m xent.data`)"
        )


@pytest.fixture(scope="module")
def train() -> tuple[np.ndarray, np.ndarray]:
    return load_or_skip("train")


@pytest.fixture(scope="module")
def test() -> tuple[np.ndarray, np.ndarray]:
    return load_or_skip("test")


def test_shapes_dtypes_and_balance(train, test) -> None:
    for (images, labels), n in ((train, 60_000), (test, 10_000)):
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.uint8
        # Fashion-MNIST is exactly balanced: n / 10 images per class
        np.testing.assert_array_equal(np.bincount(labels, minlength=10), n // 10)
    assert len(data.CLASS_NAMES) == 10


def test_known_first_labels_and_pixel_range(train, test) -> None:
    # The published files start with an ankle boot (train) and an ankle boot (test).
    assert data.CLASS_NAMES[train[1][0]] == "Ankle boot"
    assert data.CLASS_NAMES[test[1][0]] == "Ankle boot"
    assert train[0].min() == 0 and train[0].max() == 255
    assert 70 < train[0].mean() < 74  # the mean pixel is about 72.9


def test_a_quick_softmax_regression_learns(train, test) -> None:
    """Two epochs of a linear softmax classifier on 10 000 images reach well over chance."""
    rng = np.random.default_rng(0)
    x = train[0][:10_000].reshape(-1, 784).astype(np.float32) / 255
    y = train[1][:10_000]
    model = nn.Sequential(nn.Linear(784, 10, rng=rng, init="xavier"))
    opt = optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(2):
        nn.train_epoch(model, nn.CrossEntropyLoss(), opt, x, y, batch_size=100, rng=rng)
    x_test = test[0].reshape(-1, 784).astype(np.float32) / 255
    acc = metrics.accuracy(test[1], nn.predict_logits(model, x_test).argmax(axis=1))
    assert acc > 0.78
