"""xent.data under attack: gzip bombs, truncated, corrupt and padded files (issue 10).

Every fault must end in a ``ValueError`` that names the file, quickly, without the memory a
bomb asks for, and without leaving anything behind (no temporary file, no cached copy).
The bombs run in a subprocess under an address-space limit (``RLIMIT_AS``), so a reader that
decompresses first and checks later dies there with a ``MemoryError`` instead of taking the
test machine's memory.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import raises_naming
from xent import data

MIB = 1 << 20
MEMORY_LIMIT = 1 << 30  # 1 GiB of address space: the interpreter and NumPy need ~160 MiB
FAST = 2.0  # seconds; generous for a loaded 2-core machine (typical: a few milliseconds)


def idx_header(*shape: int) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def zeros_member() -> bytes:
    """One gzip member holding 1 MiB of zero bytes (about 1 KiB compressed)."""
    return gzip.compress(bytes(MIB), compresslevel=9)


def bomb(path: Path, header: bytes, mebibytes: int) -> Path:
    """``header`` followed by ``mebibytes`` MiB of zeros, as a multi-member gzip file.

    gzip readers must read on through concatenated members, so 2048 copies of one small
    member are a valid 2 MB file that expands to 2 GiB.
    """
    member = zeros_member()
    with path.open("wb") as out:
        out.write(gzip.compress(header))
        for _ in range(mebibytes):
            out.write(member)
    return path


def read_in_subprocess(path: Path, **kwargs: object) -> dict:
    """Call ``read_idx(path)`` in a fresh interpreter limited to MEMORY_LIMIT of memory."""
    script = textwrap.dedent(
        f"""
        import json, resource, sys, time
        resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))
        from xent import data
        start = time.perf_counter()
        try:
            data.read_idx(sys.argv[1], **json.loads(sys.argv[2]))
            outcome = {{"error": None, "message": ""}}
        except BaseException as exc:
            outcome = {{"error": type(exc).__name__, "message": str(exc)}}
        outcome["seconds"] = time.perf_counter() - start
        print(json.dumps(outcome))
        """
    )
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), json.dumps(kwargs)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- gzip bombs


@pytest.mark.parametrize(
    ("header", "kwargs"),
    [
        # the header is honest about a 2 GiB payload: more than max_bytes (1 GiB by default)
        (idx_header(2048, 1024, 1024), {}),
        # ... and with a limit raised out of the way, more than 2 MB of deflate can hold
        (idx_header(2048, 1024, 1024 * 8), {"max_bytes": 1 << 40}),
        # the header promises 10 small images; the stream goes on for 2 GiB
        (idx_header(10, 28, 28), {}),
        # the header is absurd: dimensions whose product overflows 64 bits
        (idx_header(2**32 - 1, 2**32 - 1, 2**32 - 1), {"max_bytes": 1 << 62}),
    ],
    ids=["honest-2GiB", "beyond-deflate", "lying-header", "overflowing-dims"],
)
def test_gzip_bomb_fails_fast_under_a_memory_limit(tmp_path: Path, header, kwargs) -> None:
    """Issue 10, defect 3: a 2 MB file that expands to 2 GiB used to cost 25 s and 4 GiB of
    memory before the error, or a MemoryError naming no file under a memory limit."""
    path = bomb(tmp_path / "train-images-idx3-ubyte.gz", header, 2048)
    assert path.stat().st_size < 3 * MIB
    before = sorted(tmp_path.iterdir())
    outcome = read_in_subprocess(path, **kwargs)
    assert outcome["error"] == "ValueError", outcome
    assert str(path) in outcome["message"], outcome
    assert outcome["seconds"] < FAST, outcome
    assert sorted(tmp_path.iterdir()) == before  # nothing left behind


def test_gzip_bomb_download_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    """A bomb served as a download: the error names the cache file and its URL; the
    temporary file is removed and nothing is cached."""
    server = tmp_path / "server"
    server.mkdir()
    bomb(server / "t10k-labels-idx1-ubyte.gz", idx_header(10_000), 256)
    images = np.zeros((10_000, 28, 28), dtype=np.uint8)
    (server / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(idx_header(*images.shape) + images.tobytes())
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("XENT_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(data, "BASE_URL", server.as_uri() + "/")
    start = time.perf_counter()
    final = data.cache_dir() / "t10k-labels-idx1-ubyte.gz"
    with raises_naming(ValueError, str(final)) as info:
        data.load_fashion_mnist("test", checksums=None)
    assert time.perf_counter() - start < FAST + 2  # includes copying 0.3 MB of download
    assert f"{data.BASE_URL}t10k-labels-idx1-ubyte.gz" in str(info.value)
    assert sorted(p.name for p in data.cache_dir().iterdir()) == ["t10k-images-idx3-ubyte.gz"]


def test_an_honest_large_file_that_does_not_fit_is_a_memory_error_naming_it(
    tmp_path: Path,
) -> None:
    """Not a fault of the file: a valid 1.5 GiB IDX file under a 1 GiB memory limit. The
    MemoryError names the file (it used to name nothing)."""
    path = bomb(tmp_path / "big-idx1-ubyte.gz", idx_header(1536 * MIB), 1536)
    outcome = read_in_subprocess(path, max_bytes=1 << 31)
    assert outcome["error"] == "MemoryError", outcome
    assert str(path) in outcome["message"], outcome
    assert outcome["seconds"] < FAST, outcome


# ----------------------------------------------------------------------------- damaged files


def good_file(n: int = 50) -> bytes:
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    return idx_header(*images.shape) + images.tobytes()


RAW = good_file()
PACKED = gzip.compress(RAW, compresslevel=6)


def flip(blob: bytes, index: int) -> bytes:
    out = bytearray(blob)
    out[index] ^= 0xFF
    return bytes(out)


FAULTS = {
    # gzip-level faults
    "gzip-header-only": PACKED[:10],
    "gzip-cut-in-header-of-idx": PACKED[:16],
    "gzip-cut-in-the-middle": PACKED[: len(PACKED) // 2],
    "gzip-cut-before-crc": PACKED[:-8],
    "gzip-cut-in-length": PACKED[:-2],
    "gzip-corrupt-deflate": flip(PACKED, len(PACKED) // 3),
    "gzip-bad-crc": flip(PACKED, len(PACKED) - 6),
    "gzip-bad-length": flip(PACKED, len(PACKED) - 2),
    "gzip-trailing-garbage": PACKED + b"garbage!",
    "gzip-second-member": PACKED + gzip.compress(b"\x00" * 100),
    "gzip-empty": gzip.compress(b""),
    "gzip-raw-deflate-no-header": zlib.compress(RAW)[2:],
    # IDX-level faults, compressed and not
    "idx-truncated": gzip.compress(RAW[:-1]),
    "idx-trailing-byte": gzip.compress(RAW + b"\x00"),
    "idx-zero-dims": gzip.compress(b"\x00\x00\x08\x00" + RAW[4:]),
    "idx-absurd-ndim": gzip.compress(b"\x00\x00\x08\xff" + RAW[4:]),
    "idx-int32-type": gzip.compress(b"\x00\x00\x0c" + RAW[3:]),
    "plain-truncated": RAW[:-1],
    "plain-trailing-byte": RAW + b"\x00",
    "plain-header-only": RAW[:16],
    "plain-empty": b"",
    "plain-overflowing-dims": idx_header(2**32 - 1, 2**32 - 1, 2**32 - 1, 2**32 - 1) + b"x",
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_damaged_file_is_a_value_error_naming_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}-idx3-ubyte"
    if FAULTS[name][:2] == b"\x1f\x8b":
        path = path.with_name(path.name + ".gz")
    path.write_bytes(FAULTS[name])
    start = time.perf_counter()
    with raises_naming(ValueError, str(path)):
        data.read_idx(path)
    assert time.perf_counter() - start < FAST
    assert sorted(tmp_path.iterdir()) == [path]  # nothing left behind


def test_the_undamaged_file_reads(tmp_path: Path) -> None:
    """The control: the same bytes, intact, compressed or not, read back exactly."""
    for blob, name in ((PACKED, "ok-idx3-ubyte.gz"), (RAW, "ok-idx3-ubyte")):
        path = tmp_path / name
        path.write_bytes(blob)
        out = data.read_idx(path)
        assert out.shape == (50, 28, 28)
        assert out.tobytes() == RAW[16:]
