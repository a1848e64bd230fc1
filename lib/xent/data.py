"""Fashion-MNIST: find, verify and load the official IDX files.

See chapter 6 (Fashion-MNIST end to end).

The four files are looked for, in this order, in

1. the ``data_dir`` argument,
2. the directory named by the environment variable ``XENT_DATA_DIR``,
3. the user cache, ``$XDG_CACHE_HOME/xent/fashion-mnist`` (default ``~/.cache/xent/fashion-mnist``),
4. Debian's ``dataset-fashion-mnist`` package, ``/usr/share/datasets/fashion-mnist``.

If none of them has the files, they are downloaded over HTTPS from Zalando's release into the
user cache. Wherever they come from, the SHA-256 of the *decompressed* IDX bytes is checked
against :data:`SHA256` (Debian recompresses the ``.gz`` wrappers, so only the decompressed bytes
are stable). Run ``python -m xent.data`` to make sure the data is present and see where it is.

Import it as ``from xent import data``: ``import xent`` alone does not load this module, so that
``python -m xent.data`` runs it cleanly as a script.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = [
    "BASE_URL",
    "CLASS_NAMES",
    "DEBIAN_DIR",
    "FILES",
    "SHA256",
    "cache_dir",
    "find_files",
    "hflip",
    "load_fashion_mnist",
    "read_idx",
    "search_dirs",
    "to_features",
]

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""The ten class names, indexed by label."""

FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""Split -> (images file, labels file), names without the ``.gz`` suffix."""

SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
"""SHA-256 of the decompressed IDX files (identical for Zalando's and Debian's copies)."""

BASE_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
"""Zalando's official release; each file is ``BASE_URL + name + ".gz"``."""

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's ``dataset-fashion-mnist`` package installs the files."""

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = len(CLASS_NAMES)

_IDX_UBYTE = 0x08  # IDX type code for unsigned bytes; the only one Fashion-MNIST uses
_GZIP_MAGIC = b"\x1f\x8b"
_DOWNLOAD_TIMEOUT_S = 60.0


# --------------------------------------------------------------------------- reading


def read_idx(path: str | os.PathLike, expected_sha256: str | None = None) -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzip-compressed or not) into a ``uint8`` array.

    The IDX layout is: two zero bytes, a type byte (``0x08`` = ubyte), a byte ``d`` giving the
    number of dimensions, ``d`` big-endian ``uint32`` sizes, then the data in C order.
    If ``expected_sha256`` is given, the SHA-256 of the decompressed bytes must equal it.

    Raises ``ValueError`` naming the file for a corrupt or truncated gzip stream, a checksum
    mismatch, a wrong magic number, or a byte count that does not match the header.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupted or truncated gzip data ({exc})") from exc
    if expected_sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != expected_sha256.lower():
            raise ValueError(
                f"{path}: SHA-256 of the decompressed data is {digest}, expected "
                f"{expected_sha256}; the file is corrupted or not the one expected - delete it "
                "and fetch it again"
            )
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _IDX_UBYTE:
        raise ValueError(
            f"{path}: not an IDX file of unsigned bytes (magic number {raw[:4].hex() or 'empty'}, "
            f"expected 000008 followed by the number of dimensions)"
        )
    ndim = raw[3]
    header_len = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header_len:
        raise ValueError(f"{path}: IDX header with {ndim} dimensions is missing or truncated")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected_len = header_len + int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected_len:
        raise ValueError(
            f"{path}: header promises shape {shape} ({expected_len} bytes) but the file has "
            f"{len(raw)} bytes (truncated or trailing data)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape).copy()


def _read_pair(
    images_path: Path, labels_path: Path, checksums: Mapping[str, str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Read and cross-check one (images, labels) pair; see :func:`load_fashion_mnist`."""
    sums = checksums or {}
    images = read_idx(images_path, sums.get(_stem(images_path)))
    labels = read_idx(labels_path, sums.get(_stem(labels_path)))
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"{images_path}: expected images of shape (n, 28, 28), found {images.shape}"
        )
    if labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected labels of shape (n,), found {labels.shape}")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"{labels_path}: {labels.shape[0]} labels for {images.shape[0]} images in "
            f"{images_path}"
        )
    if labels.size and labels.max() >= NUM_CLASSES:
        raise ValueError(f"{labels_path}: label {labels.max()} is outside 0..{NUM_CLASSES - 1}")
    return images, labels


def _stem(path: Path) -> str:
    """File name without a ``.gz`` suffix: the key used in :data:`SHA256`."""
    return path.name.removesuffix(".gz")


# --------------------------------------------------------------------------- locating


def cache_dir() -> Path:
    """The user cache directory: ``$XDG_CACHE_HOME/xent/fashion-mnist`` or ``~/.cache/...``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xent" / "fashion-mnist"


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The directories searched, in order: ``data_dir``, ``$XENT_DATA_DIR``, cache, Debian."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    if os.environ.get("XENT_DATA_DIR"):
        dirs.append(Path(os.environ["XENT_DATA_DIR"]))
    dirs += [cache_dir(), DEBIAN_DIR]
    return dirs


def _find_in(directory: Path, name: str) -> Path | None:
    """``directory/name.gz`` or, failing that, the uncompressed ``directory/name``."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def find_files(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    checksums: Mapping[str, str] | None = SHA256,
) -> tuple[Path, Path]:
    """Paths of the (images, labels) files of ``split``, downloading them if needed.

    Both files of a split are taken from the first directory of :func:`search_dirs` that holds
    both. If none does and ``download`` is true, they are fetched into :func:`cache_dir`; each
    download goes to a temporary file in the cache, is verified against ``checksums``, and only
    then renamed into place. Raises ``FileNotFoundError`` with instructions when the files are
    missing and cannot be downloaded.
    """
    names = _split_names(split)
    for directory in search_dirs(data_dir):
        paths = [_find_in(directory, name) for name in names]
        if all(paths):
            return paths[0], paths[1]
    if not download:
        raise FileNotFoundError(_not_found_message(names, data_dir, reason="downloading is off"))
    target = cache_dir()
    try:
        target.mkdir(parents=True, exist_ok=True)
        paths = [_download(name, target, (checksums or {}).get(name)) for name in names]
    except (urllib.error.URLError, OSError) as exc:
        raise FileNotFoundError(
            _not_found_message(names, data_dir, reason=f"the download failed: {exc}")
        ) from exc
    return paths[0], paths[1]


def _split_names(split: str) -> tuple[str, str]:
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return FILES[split]


def _download(name: str, target: Path, expected_sha256: str | None) -> Path:
    """Fetch ``BASE_URL + name + '.gz'`` into ``target`` atomically; verify before renaming."""
    final = target / f"{name}.gz"
    fd, tmp_name = tempfile.mkstemp(dir=target, prefix=f".{name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(
            BASE_URL + f"{name}.gz", timeout=_DOWNLOAD_TIMEOUT_S
        ) as response:
            shutil.copyfileobj(response, out)
        read_idx(tmp, expected_sha256)  # raises ValueError if the bytes are not what we want
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def _not_found_message(
    names: tuple[str, ...], data_dir: str | os.PathLike | None, *, reason: str
) -> str:
    wanted = ", ".join(f"{n}.gz" for n in names)
    searched = "\n".join(f"  - {d}" for d in search_dirs(data_dir))
    urls = "\n".join(f"  {BASE_URL}{n}.gz" for n in names)
    return (
        f"Fashion-MNIST files {wanted} were not found and {reason}.\n"
        f"Searched:\n{searched}\n"
        "Get the data in one of these ways:\n"
        "  1. sudo apt-get install dataset-fashion-mnist   (Debian/Ubuntu; installs to "
        f"{DEBIAN_DIR})\n"
        f"  2. download\n{urls}\n     into {cache_dir()}\n"
        "  3. put the files in any directory and set XENT_DATA_DIR to it "
        "(or pass data_dir=...).\n"
        "Then run `python -m xent.data` to check."
    )


# --------------------------------------------------------------------------- public loader


def load_fashion_mnist(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    checksums: Mapping[str, str] | None = SHA256,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a Fashion-MNIST split as ``(images uint8 (n, 28, 28), labels uint8 (n,))``.

    ``split`` is ``"train"`` (60 000 images) or ``"test"`` (the official 10 000). The class
    names, in label order, are :data:`CLASS_NAMES`. ``checksums`` maps a file name (without
    ``.gz``) to the SHA-256 of its decompressed bytes (default :data:`SHA256`; ``None`` skips
    the check, for self-made files). See the module docstring for where files are looked for.
    """
    images_path, labels_path = find_files(
        split, data_dir, download=download, checksums=checksums
    )
    return _read_pair(images_path, labels_path, checksums)


def hflip(images: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right with probability ``p`` (data augmentation, chapter 6).

    ``images`` has shape ``(n, 28, 28)`` or flattened ``(n, 784)``; a new array is returned.
    Mirroring keeps every Fashion-MNIST class a valid member of its class.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    n = images.shape[0]
    square = images.reshape(n, *IMAGE_SHAPE)
    flip = rng.random(n) < p
    out = square.copy()
    out[flip] = square[flip, :, ::-1]
    return out.reshape(images.shape)


def to_features(images: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """Images ``(n, 28, 28)`` -> ``float32`` rows ``(n, 784)`` holding ``(pixel/255 - mean)/std``.

    Take ``mean`` and ``std`` from the training images only (on the 0..1 scale), so that nothing
    about the validation or test images leaks into the model.
    """
    if std <= 0:
        raise ValueError(f"std must be > 0, got {std}")
    x = images.reshape(images.shape[0], -1).astype(np.float32)
    x *= np.float32(1.0 / (255.0 * std))
    x -= np.float32(mean / std)
    return x


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``python -m xent.data [fetch] [--data-dir DIR] [--no-download]``."""
    parser = argparse.ArgumentParser(
        prog="python -m xent.data",
        description="Make sure Fashion-MNIST is available (verified) and print where it is.",
    )
    parser.add_argument("command", nargs="?", default="fetch", choices=["fetch"])
    parser.add_argument("--data-dir", default=None, help="look here first")
    parser.add_argument("--no-download", action="store_true", help="never use the network")
    args = parser.parse_args(argv)
    try:
        for split in FILES:
            paths = find_files(split, args.data_dir, download=not args.no_download)
            images, _ = _read_pair(*paths, SHA256)
            print(f"{split}: {images.shape[0]} images, verified, in {paths[0].parent}")
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
