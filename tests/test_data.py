"""xent.data: IDX parsing, checksums, search order, atomic download and the CLI, on tiny
self-written IDX files (the real files are tested in test_fashion_mnist_integration.py)."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
from helpers import raises_naming
from xent import data

NAMES = data.FILES["train"] + data.FILES["test"]
REAL_BASE_URL = data.BASE_URL  # before the autouse fixture points it at a fake server


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format: 0, 0, 0x08, ndim, big-endian sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def tiny_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


@pytest.fixture
def tiny(tmp_path: Path) -> dict:
    """A directory with all four files (train: 5 images, test: 3) and their checksums."""
    arrays = dict(zip(NAMES, [*tiny_split(5, 0), *tiny_split(3, 1)], strict=True))
    src = tmp_path / "tiny"
    src.mkdir()
    sums = {}
    for name, array in arrays.items():
        raw = idx_bytes(array)
        (src / f"{name}.gz").write_bytes(gzip.compress(raw))
        sums[name] = hashlib.sha256(raw).hexdigest()
    return {"dir": src, "arrays": arrays, "sums": sums}


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test sees an empty cache, no XENT_DATA_DIR, no Debian copy and no real network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("XENT_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(data, "BASE_URL", (tmp_path / "no-server").as_uri() + "/")


# ----------------------------------------------------------------------------- read_idx


def test_read_idx_round_trip_gzip_and_plain(tmp_path: Path) -> None:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = idx_bytes(array)
    (tmp_path / "a.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "a").write_bytes(raw)
    sha = hashlib.sha256(raw).hexdigest()
    for path in (tmp_path / "a.gz", tmp_path / "a"):
        out = data.read_idx(path, expected_sha256=sha)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, array)
        assert out.flags.writeable


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00\x00\x0d\x01" + struct.pack(">I", 3) + b"abc",  # float type code
        b"\x12\x34\x08\x01" + struct.pack(">I", 3) + b"abc",  # bad magic
        b"",
        b"\x00\x00\x08\x03" + struct.pack(">I", 3),  # sizes cut short
        b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"abc",  # truncated
        b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"abc",  # trailing data
        # issue 10, defect 9: dimensions whose product overflows int64, and absurd ndim
        b"\x00\x00\x08\x04" + struct.pack(">4I", *[2**32 - 1] * 4) + b"abc",
        b"\x00\x00\x08\x03" + struct.pack(">3I", 2**31, 2**31, 4) + b"abc",
        b"\x00\x00\x08\xff" + struct.pack(">255I", *[1] * 255) + b"a",
        b"\x00\x00\x08\x00" + b"abc",  # zero dimensions
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(raw)
    for target in (path, tmp_path / "bad-idx1-ubyte.gz"):
        if target.suffix == ".gz":
            target.write_bytes(gzip.compress(raw))
        with raises_naming(ValueError, str(target)):
            data.read_idx(target)


def test_read_idx_rejects_truncated_and_corrupted_gzip(tmp_path: Path) -> None:
    packed = gzip.compress(idx_bytes(np.zeros((50, 28, 28), dtype=np.uint8)))
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(packed[: len(packed) // 2])
    with raises_naming(ValueError, str(truncated)):
        data.read_idx(truncated)

    corrupted = bytearray(packed)
    corrupted[20:30] = b"\xff" * 10  # inside the deflate stream
    bad = tmp_path / "corrupted.gz"
    bad.write_bytes(bytes(corrupted))
    with raises_naming(ValueError, str(bad)):
        data.read_idx(bad)


def test_read_idx_checksum_mismatch_names_file(tmp_path: Path) -> None:
    path = tmp_path / "x-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(np.arange(4, dtype=np.uint8)))
    with raises_naming(ValueError, str(path)) as info:
        data.read_idx(path, expected_sha256="0" * 64)
    assert "SHA-256" in str(info.value)


# ----------------------------------------------------------------------------- loading


def test_load_from_data_dir_with_injected_checksums(tiny: dict) -> None:
    for split, n in (("train", 5), ("test", 3)):
        images, labels = data.load_fashion_mnist(
            split, tiny["dir"], download=False, checksums=tiny["sums"]
        )
        img_name, lab_name = data.FILES[split]
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.uint8
        np.testing.assert_array_equal(images, tiny["arrays"][img_name])
        np.testing.assert_array_equal(labels, tiny["arrays"][lab_name])


def test_default_checksums_reject_files_that_are_not_fashion_mnist(tiny: dict) -> None:
    with raises_naming(ValueError, str(tiny["dir"] / "train-images-idx3-ubyte.gz")):
        data.load_fashion_mnist("train", tiny["dir"], download=False)


def test_class_names() -> None:
    assert data.CLASS_NAMES == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip


def test_bad_split() -> None:
    with raises_naming(ValueError, "split"):
        data.load_fashion_mnist("validation")
    with raises_naming(TypeError, "split"):
        data.load_fashion_mnist(["train"])


def write_pair(directory: Path, images: np.ndarray, labels: np.ndarray) -> None:
    directory.mkdir(exist_ok=True)
    img_name, lab_name = data.FILES["train"]
    (directory / f"{img_name}.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (directory / f"{lab_name}.gz").write_bytes(gzip.compress(idx_bytes(labels)))


def test_count_mismatch_wrong_dimensions_and_bad_labels(tmp_path: Path) -> None:
    images, labels = tiny_split(4, 2)
    img_name, lab_name = data.FILES["train"]
    cases = [
        (images, labels[:3], lab_name),
        (images[:, :27, :], labels, img_name),
        (images, labels.reshape(2, 2), lab_name),
        (images, np.array([0, 1, 2, 10], dtype=np.uint8), lab_name),
    ]
    for k, (imgs, labs, culprit) in enumerate(cases):
        directory = tmp_path / f"case{k}"
        write_pair(directory, imgs, labs)
        with raises_naming(ValueError, str(directory / f"{culprit}.gz")):
            data.load_fashion_mnist("train", directory, download=False, checksums=None)


def test_search_order(tiny: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """data_dir beats XENT_DATA_DIR beats the cache beats Debian's directory."""
    homes = {}
    for place in ("arg", "env", "debian"):
        homes[place] = tmp_path / place
        write_pair(homes[place], *tiny_split(2, 0))
    homes["cache"] = data.cache_dir()
    homes["cache"].parent.mkdir(parents=True)
    write_pair(homes["cache"], *tiny_split(2, 0))
    monkeypatch.setattr(data, "DEBIAN_DIR", homes["debian"])
    monkeypatch.setenv("XENT_DATA_DIR", str(homes["env"]))

    def found(data_dir: Path | None) -> Path:
        return data.find_files("train", data_dir, download=False)[0].parent

    assert found(homes["arg"]) == homes["arg"]
    assert found(None) == homes["env"]
    monkeypatch.delenv("XENT_DATA_DIR")
    assert found(None) == homes["cache"]
    for name in data.FILES["train"]:
        (homes["cache"] / f"{name}.gz").unlink()
    assert found(None) == homes["debian"]
    # A directory with only one of the two files is passed over.
    (homes["debian"] / f"{data.FILES['train'][1]}.gz").unlink()
    with pytest.raises(FileNotFoundError):
        found(None)


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_dir() == tmp_path / "xdg" / "xent" / "fashion-mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.cache_dir() == tmp_path / "home" / ".cache" / "xent" / "fashion-mnist"


def test_not_found_offline_says_how_to_get_the_data(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        data.load_fashion_mnist("test", tmp_path / "empty", download=False)
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "XENT_DATA_DIR" in message
    assert f"{data.BASE_URL}t10k-images-idx3-ubyte.gz" in message
    assert str(data.cache_dir()) in message


def test_download_failure_is_reported_and_leaves_nothing(tmp_path: Path) -> None:
    """BASE_URL points at a missing local directory: the 'server' has no files."""
    with pytest.raises(FileNotFoundError, match="download failed") as info:
        data.load_fashion_mnist("train", download=True)
    assert "apt-get install dataset-fashion-mnist" in str(info.value)
    assert list(data.cache_dir().iterdir()) == []


# ----------------------------------------------------------------------------- download


def serve(tiny: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the tiny files' directory as the download server (a file:// URL)."""
    monkeypatch.setattr(data, "BASE_URL", tiny["dir"].as_uri() + "/")


def test_download_into_cache(tiny: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(tiny, monkeypatch)
    images, labels = data.load_fashion_mnist("test", checksums=tiny["sums"])
    np.testing.assert_array_equal(labels, tiny["arrays"]["t10k-labels-idx1-ubyte"])
    cache = data.cache_dir()
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        f"{n}.gz" for n in data.FILES["test"]
    )
    # Second call finds the cached copies: the server may disappear.
    monkeypatch.setattr(data, "BASE_URL", "file:///nonexistent/")
    again, _ = data.load_fashion_mnist("test", checksums=tiny["sums"])
    np.testing.assert_array_equal(again, images)


def test_download_with_bad_checksum_leaves_no_file(
    tiny: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(tiny, monkeypatch)
    wrong = dict(tiny["sums"], **{"train-images-idx3-ubyte": "f" * 64})
    final = data.cache_dir() / "train-images-idx3-ubyte.gz"
    with raises_naming(ValueError, str(final)) as info:
        data.load_fashion_mnist("train", checksums=wrong)
    # issue 10, defect 10: the real file and its source, not the deleted .part file
    assert f"{data.BASE_URL}train-images-idx3-ubyte.gz" in str(info.value)
    assert ".part" not in str(info.value)
    assert list(data.cache_dir().iterdir()) == []


def test_download_truncated_by_server_leaves_no_file(
    tiny: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = tiny["dir"] / "train-images-idx3-ubyte.gz"
    served.write_bytes(served.read_bytes()[:-20])
    serve(tiny, monkeypatch)
    final = data.cache_dir() / "train-images-idx3-ubyte.gz"
    with raises_naming(ValueError, str(final)) as info:
        data.load_fashion_mnist("train", checksums=tiny["sums"])
    assert f"{data.BASE_URL}train-images-idx3-ubyte.gz" in str(info.value)
    assert list(data.cache_dir().iterdir()) == []


def test_download_interrupted_mid_stream_leaves_no_file(
    tiny: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, size: int = -1) -> bytes:
            raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: Broken())
    with pytest.raises(FileNotFoundError, match="connection reset"):
        data.load_fashion_mnist("train", checksums=tiny["sums"])
    assert list(data.cache_dir().iterdir()) == []


def test_download_uses_https_release_by_default() -> None:
    assert REAL_BASE_URL.startswith("https://")
    assert "zalandoresearch/fashion-mnist" in REAL_BASE_URL


# ----------------------------------------------------------------------------- CLI, augmentation


def test_cli_reports_location(tiny: dict, monkeypatch, capsys) -> None:
    monkeypatch.setattr(data, "SHA256", tiny["sums"])
    monkeypatch.setenv("XENT_DATA_DIR", str(tiny["dir"]))
    assert data.main(["fetch", "--no-download"]) == 0
    out = capsys.readouterr().out
    assert f"train: 5 images, verified, in {tiny['dir']}" in out
    assert f"test: 3 images, verified, in {tiny['dir']}" in out


def test_cli_fails_cleanly_when_missing(capsys) -> None:
    assert data.main(["--no-download"]) == 1
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


def test_hflip() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(200, 28, 28), dtype=np.uint8)
    out = data.hflip(images, np.random.default_rng(1), p=0.5)
    flipped = np.all(out == images[:, :, ::-1], axis=(1, 2))
    kept = np.all(out == images, axis=(1, 2))
    assert np.all(flipped ^ kept)
    assert 70 < flipped.sum() < 130
    np.testing.assert_array_equal(data.hflip(images, rng, p=0.0), images)
    flat = data.hflip(images.reshape(200, -1), rng, p=1.0)
    np.testing.assert_array_equal(flat, images[:, :, ::-1].reshape(200, -1))
    with raises_naming(ValueError, "p"):
        data.hflip(images, rng, p=1.5)
    with raises_naming(ValueError, "images"):
        data.hflip(images[:, :27], rng)


def test_to_features() -> None:
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    np.testing.assert_allclose(data.to_features(images), [[0.0, 1.0, 0.2, 0.4]], rtol=1e-6)
    out = data.to_features(images, mean=0.5, std=0.25)
    assert out.dtype == np.float32 and out.shape == (1, 4)
    np.testing.assert_allclose(out, [[-2.0, 2.0, -1.2, -0.4]], rtol=1e-6)
    with raises_naming(ValueError, "std"):
        data.to_features(images, std=0.0)
    with raises_naming(ValueError, "std"):
        data.to_features(images, std=float("nan"))


# ----------------------------------------------------------------------------- issue 10


def test_unusable_data_dir_is_an_error_not_a_fall_through(
    tiny: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10, defect 8: a data_dir the user named is used or rejected, naming data_dir.

    Valid copies sit in XENT_DATA_DIR, the cache and Debian's directory, and the download
    server works: the old search silently fell through to them.
    """
    monkeypatch.setenv("XENT_DATA_DIR", str(tiny["dir"]))
    monkeypatch.setattr(data, "DEBIAN_DIR", tiny["dir"])
    serve(tiny, monkeypatch)
    regular_file = tmp_path / "a-file"
    regular_file.write_bytes(b"not a directory")
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    half = tmp_path / "half"
    write_pair(half, *tiny_split(2, 0))
    (half / "train-labels-idx1-ubyte.gz").unlink()
    dir_for_file = tmp_path / "dir-for-file"
    write_pair(dir_for_file, *tiny_split(2, 0))
    (dir_for_file / "train-labels-idx1-ubyte.gz").unlink()
    (dir_for_file / "train-labels-idx1-ubyte.gz").mkdir()
    cases = [
        (regular_file, ValueError),
        (empty, FileNotFoundError),
        (tmp_path / "missing", FileNotFoundError),
        (half, FileNotFoundError),
        (dir_for_file, ValueError),
    ]
    for directory, error in cases:
        for download in (True, False):
            with raises_naming(error, "data_dir") as info:
                data.load_fashion_mnist("train", directory, download=download, checksums=None)
            assert str(directory) in str(info.value)
    assert not data.cache_dir().exists()  # nothing was downloaded either
    with raises_naming(TypeError, "data_dir"):
        data.find_files("train", 3)
    # and the CLI reports it as an error
    assert data.main(["--data-dir", str(empty), "--no-download"]) == 1


def test_downloaded_files_are_readable_like_any_cache(
    tiny: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10, defect 10: mkstemp's 0600 is not kept on the final files."""
    serve(tiny, monkeypatch)
    data.load_fashion_mnist("test", checksums=tiny["sums"])
    for name in data.FILES["test"]:
        mode = (data.cache_dir() / f"{name}.gz").stat().st_mode & 0o777
        assert mode == 0o644, oct(mode)


def test_read_idx_argument_types(tmp_path: Path) -> None:
    path = tmp_path / "a"
    path.write_bytes(idx_bytes(np.arange(3, dtype=np.uint8)))
    with raises_naming(TypeError, "path"):
        data.read_idx(3)
    with raises_naming(ValueError, "expected_sha256"):
        data.read_idx(path, expected_sha256="abc")
    with raises_naming(TypeError, "max_bytes"):
        data.read_idx(path, max_bytes=1.5)
    with raises_naming(ValueError, str(path)):
        data.read_idx(path, max_bytes=2)  # the header promises 3 bytes
    np.testing.assert_array_equal(data.read_idx(path, max_bytes=3), [0, 1, 2])
