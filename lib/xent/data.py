"""Fashion-MNIST: find, verify and load the official IDX files.

See chapter 6 (Fashion-MNIST end to end).

The four files are looked for, in this order, in

1. the ``data_dir`` argument: when given, it is the only place looked in, and a ``data_dir``
   that does not hold the files (missing, not a directory, empty, a directory where a file
   should be) is an error naming it, never a silent fall-through to the other places,
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
import math
import os
import shutil
import struct
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ._checks import check_integer, check_positive_float, check_real

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

MAX_IDX_BYTES = 1 << 30
"""Default :func:`read_idx` limit on the data bytes a header may promise (1 GiB)."""

MAX_IDX_NDIM = 8
"""Most dimensions an IDX header may declare (Fashion-MNIST uses 1 and 3)."""

_DEFLATE_MAX_RATIO = 1032  # the most one byte of deflate data can expand to
_CHUNK = 1 << 20


# --------------------------------------------------------------------------- reading


def read_idx(
    path: str | os.PathLike,
    expected_sha256: str | None = None,
    *,
    max_bytes: int = MAX_IDX_BYTES,
) -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzip-compressed or not) into a ``uint8`` array.

    The IDX layout is: two zero bytes, a type byte (``0x08`` = ubyte), a byte ``d`` giving the
    number of dimensions, ``d`` big-endian ``uint32`` sizes, then the data in C order.
    If ``expected_sha256`` is given, the SHA-256 of the decompressed bytes must equal it.

    The header is read first, and no more is ever decompressed than it promises (plus one
    byte, to detect trailing data): a small ``.gz`` that would expand to gigabytes (a "gzip
    bomb") fails after reading its header, without the memory. A header promising more than
    ``max_bytes`` of data (default 1 GiB; Fashion-MNIST's largest file is 47 MB), more than
    ``MAX_IDX_NDIM`` (8) dimensions, or more than a gzip stream of the file's size could
    possibly hold (deflate expands at most about 1032:1) is rejected before anything is
    allocated.

    Raises ``ValueError`` naming the file for a corrupt or truncated gzip stream, a checksum
    mismatch, a wrong magic number, an impossible header, or a byte count that does not
    match the header.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path: expected a file path (str or os.PathLike); got {path!r}")
    if expected_sha256 is not None and not (
        isinstance(expected_sha256, str) and len(expected_sha256) == 64
    ):
        raise ValueError(
            f"expected_sha256: expected 64 hexadecimal digits; got {expected_sha256!r}"
        )
    max_bytes = check_integer(max_bytes, "max_bytes", 0)
    return _read_idx(Path(path), expected_sha256, max_bytes, label=str(path))


def _read_idx(path: Path, expected_sha256: str | None, max_bytes: int, *, label: str) -> np.ndarray:
    """:func:`read_idx`, with ``label`` naming the file in every error message."""
    size = path.stat().st_size
    with path.open("rb") as raw:
        if raw.read(2) != _GZIP_MAGIC:
            raw.seek(0)
            return _parse_idx(raw, size, False, expected_sha256, max_bytes, label)
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _parse_idx(stream, size, True, expected_sha256, max_bytes, label)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ValueError(f"{label}: corrupted or truncated gzip data ({exc})") from exc


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    """Up to ``n`` bytes (fewer only at the end of the stream)."""
    parts, got = [], 0
    while got < n:
        part = stream.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _parse_idx(
    stream: BinaryIO,
    file_size: int,
    compressed: bool,
    expected_sha256: str | None,
    max_bytes: int,
    label: str,
) -> np.ndarray:
    digest = hashlib.sha256()
    magic = _read_exactly(stream, 4)
    digest.update(magic)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] != _IDX_UBYTE:
        raise ValueError(
            f"{label}: not an IDX file of unsigned bytes (magic number {magic.hex() or 'empty'}, "
            f"expected 000008 followed by the number of dimensions)"
        )
    ndim = magic[3]
    if not 1 <= ndim <= MAX_IDX_NDIM:
        raise ValueError(
            f"{label}: IDX header declares {ndim} dimensions; expected 1 to {MAX_IDX_NDIM}"
        )
    dims = _read_exactly(stream, 4 * ndim)
    digest.update(dims)
    if len(dims) < 4 * ndim:
        raise ValueError(f"{label}: IDX header with {ndim} dimensions is missing or truncated")
    shape = struct.unpack(f">{ndim}I", dims)
    count = math.prod(shape)  # a Python int: no overflow, whatever the header says
    header_len = 4 + 4 * ndim
    most = _DEFLATE_MAX_RATIO * file_size if compressed else file_size - header_len
    if count > max_bytes or count > most:
        if count > max_bytes:
            where = f"the limit is max_bytes={max_bytes}"
        elif compressed:
            where = f"a {file_size}-byte gzip file can hold at most about {most} bytes"
        else:
            where = f"the file has {file_size} bytes"
        raise ValueError(
            f"{label}: IDX header promises shape {shape} ({count} bytes of data) but {where} "
            f"(truncated, corrupted or not an IDX file)"
        )
    try:
        out = np.empty(count, dtype=np.uint8)
    except MemoryError:
        raise MemoryError(
            f"{label}: not enough memory for the {count} bytes of shape {shape} its header "
            f"promises"
        ) from None
    view, got = memoryview(out), 0
    while got < count:
        n = stream.readinto(view[got : min(count, got + _CHUNK)])
        if not n:
            break
        got += n
    digest.update(view[:got])
    extra = stream.read(1)  # at the end of a gzip stream this also checks its CRC and length
    if got != count or extra:
        have = f"{header_len + got} bytes" if not extra else "more bytes"
        raise ValueError(
            f"{label}: header promises shape {shape} ({header_len + count} bytes) but the "
            f"{'decompressed ' if compressed else ''}file has {have} (truncated or trailing data)"
        )
    if expected_sha256 is not None:
        if digest.hexdigest() != expected_sha256.lower():
            raise ValueError(
                f"{label}: SHA-256 of the decompressed data is {digest.hexdigest()}, expected "
                f"{expected_sha256}; the file is corrupted or not the one expected - delete it "
                "and fetch it again"
            )
    return out.reshape(shape)


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
        if not isinstance(data_dir, str | os.PathLike):
            raise TypeError(
                f"data_dir: expected a directory path (str or os.PathLike); got {data_dir!r}"
            )
        dirs.append(Path(data_dir))
    if os.environ.get("XENT_DATA_DIR"):
        dirs.append(Path(os.environ["XENT_DATA_DIR"]))
    dirs += [cache_dir(), DEBIAN_DIR]
    return dirs


def _find_in(directory: Path, name: str, *, strict: bool = False) -> Path | None:
    """``directory/name.gz`` or, failing that, the uncompressed ``directory/name``.

    With ``strict`` (a directory the user named), a candidate that exists but is not a
    regular file (a directory, say) is a ``ValueError`` naming ``data_dir``.
    """
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
        if strict and candidate.exists():
            raise ValueError(f"data_dir: {candidate} exists but is not a regular file")
    return None


def _named_dir(data_dir: str | os.PathLike, names: tuple[str, str]) -> tuple[Path, Path]:
    """The files in the directory the user named, or an error naming ``data_dir``."""
    if not isinstance(data_dir, str | os.PathLike):
        raise TypeError(
            f"data_dir: expected a directory path (str or os.PathLike); got {data_dir!r}"
        )
    directory = Path(data_dir)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"data_dir: {directory} is not a directory")
    paths = [_find_in(directory, name, strict=True) for name in names]
    if not all(paths):
        missing = ", ".join(f"{n}.gz" for n, p in zip(names, paths, strict=True) if p is None)
        problem = "does not exist" if not directory.exists() else f"has no {missing}"
        raise FileNotFoundError(
            f"data_dir: {directory} {problem}; a data_dir that is given is the only place "
            f"looked in.\n" + _how_to_get(names)
        )
    return paths[0], paths[1]


def find_files(
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    checksums: Mapping[str, str] | None = SHA256,
) -> tuple[Path, Path]:
    """Paths of the (images, labels) files of ``split``, downloading them if needed.

    With ``data_dir``, both files must be in it: a ``data_dir`` that is missing or lacks a
    file is a ``FileNotFoundError``, one that is not a directory (or holds a directory where
    a file should be) a ``ValueError``, both naming ``data_dir``; nothing else is searched and
    nothing is downloaded. Otherwise both files of a split are taken from the first directory
    of :func:`search_dirs` that holds both. If none does and ``download`` is true, they are
    fetched into :func:`cache_dir`; each download goes to a temporary file in the cache, is
    verified against ``checksums``, made readable by all (mode 0644, like any cache file) and
    only then renamed into place. Raises ``FileNotFoundError`` with instructions when the files
    are missing and cannot be downloaded.
    """
    names = _split_names(split)
    if not isinstance(download, bool):
        raise TypeError(f"download: expected True or False; got {download!r}")
    if checksums is not None and not isinstance(checksums, Mapping):
        raise TypeError(f"checksums: expected a mapping of file name to SHA-256; got {checksums!r}")
    if data_dir is not None:
        return _named_dir(data_dir, names)
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
    if not isinstance(split, str):
        raise TypeError(f"split: expected 'train' or 'test'; got {split!r}")
    if split not in FILES:
        raise ValueError(f"split: expected 'train' or 'test'; got {split!r}")
    return FILES[split]


def _download(name: str, target: Path, expected_sha256: str | None) -> Path:
    """Fetch ``BASE_URL + name + '.gz'`` into ``target`` atomically; verify before renaming."""
    final = target / f"{name}.gz"
    url = BASE_URL + f"{name}.gz"
    fd, tmp_name = tempfile.mkstemp(dir=target, prefix=f".{name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(
            url, timeout=_DOWNLOAD_TIMEOUT_S
        ) as response:
            shutil.copyfileobj(response, out)
        # raises ValueError if the bytes are not what we want; the message names the file
        # being made and where it came from, not the temporary file (deleted below)
        _read_idx(tmp, expected_sha256, MAX_IDX_BYTES, label=f"{final} (downloaded from {url})")
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a cache file is readable like any other
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
    return (
        f"Fashion-MNIST files {wanted} were not found and {reason}.\n"
        f"Searched:\n{searched}\n" + _how_to_get(names)
    )


def _how_to_get(names: tuple[str, ...]) -> str:
    urls = "\n".join(f"  {BASE_URL}{n}.gz" for n in names)
    return (
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
    images = _images(images, "images")
    p = check_real(p, "p", 0.0, 1.0)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator; got {type(rng).__name__}")
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
    images = _images(images, "images", square=False)
    mean = check_real(mean, "mean")
    std = check_positive_float(std, "std")
    x = images.reshape(images.shape[0], -1).astype(np.float32)
    x *= np.float32(1.0 / (255.0 * std))
    x -= np.float32(mean / std)
    return x


def _images(images: object, name: str, *, square: bool = True) -> np.ndarray:
    """A batch of real-valued images; with ``square``, 28 x 28: ``(n, 28, 28)`` or ``(n, 784)``."""
    if not isinstance(images, np.ndarray):
        raise TypeError(f"{name}: expected a NumPy array; got {type(images).__name__}")
    if not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
        raise TypeError(f"{name}: expected a real-valued array; got dtype {images.dtype}")
    if images.ndim < 1:
        raise ValueError(f"{name}: expected a batch of images; got a scalar")
    if square and images.shape[1:] not in ((784,), IMAGE_SHAPE):
        raise ValueError(f"{name}: expected shape (n, 28, 28) or (n, 784); got {images.shape}")
    return images


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``python -m xent.data [fetch] [--data-dir DIR] [--no-download]``."""
    parser = argparse.ArgumentParser(
        prog="python -m xent.data",
        description="Make sure Fashion-MNIST is available (verified) and print where it is.",
    )
    parser.add_argument("command", nargs="?", default="fetch", choices=["fetch"])
    parser.add_argument("--data-dir", default=None, help="look only here")
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
