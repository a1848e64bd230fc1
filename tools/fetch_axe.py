#!/usr/bin/env python3
"""Fetch axe-core (the accessibility checker the browser tests inject) from the npm registry.

``npm pack axe-core@VERSION`` at an exact version, checked against its pinned sha512
integrity; ``axe.min.js`` and the licence are unpacked into ``_build/axe/`` (git-ignored, never
served by the site: tests/browser/test_a11y.py injects the file into each page it checks).
A second run is a no-op while the same version is in place. Needs Node's ``npm`` on PATH.

Usage: python tools/fetch_axe.py [--root REPO] [--force]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_INTEGRITY = (  # `npm view axe-core@4.14.1 dist.integrity`
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
AXE_DIR = Path("_build") / "axe"
KEEP = {"package/axe.min.js": "axe.min.js", "package/LICENSE": "LICENSE"}


def fail(message: str) -> None:
    print(f"fetch_axe: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def integrity_of(path: Path) -> str:
    """npm's Subresource-Integrity string of a file: 'sha512-' + base64(sha512)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch_axe(root: Path, force: bool = False) -> Path:
    """Make sure ``_build/axe/axe.min.js`` of the pinned version exists; return its path."""
    target = root / AXE_DIR
    script = target / "axe.min.js"
    stamp = target / "version"
    if not force and script.is_file() and stamp.is_file() and stamp.read_text() == AXE_INTEGRITY:
        return script
    npm = shutil.which("npm")
    if npm is None:
        fail("`npm` was not found on PATH (Debian: apt-get install nodejs npm)")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            fail(f"`npm pack axe-core@{AXE_VERSION}` failed:\n{proc.stderr.strip()}")
        (tarball,) = Path(tmp).glob("*.tgz")
        got = integrity_of(tarball)
        if got != AXE_INTEGRITY:
            fail(f"axe-core@{AXE_VERSION} integrity mismatch: got {got}")
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar.getmembers():
                if member.name in KEEP and member.isfile():
                    source = tar.extractfile(member)
                    assert source is not None
                    (target / KEEP[member.name]).write_bytes(source.read())
    if not script.is_file():
        fail("axe.min.js missing after unpacking axe-core")
    stamp.write_text(AXE_INTEGRITY)
    print(f"fetch_axe: axe-core {AXE_VERSION} in {target.relative_to(root)}")
    return script


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--force", action="store_true", help="fetch again even if present")
    args = parser.parse_args(argv)
    fetch_axe(args.root.resolve(), args.force)


if __name__ == "__main__":
    main()
