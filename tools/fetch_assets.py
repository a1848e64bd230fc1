#!/usr/bin/env python3
"""Fetch the website's third-party assets at build time, so the built site loads nothing remote.

Today that is MathJax 3, taken from the npm registry with ``npm pack mathjax@VERSION`` at an
exact version and checked against its pinned sha512 integrity. The parts the site uses (the
``tex-mml-chtml`` component, the TeX extensions it may autoload, the CHTML woff fonts, the menu
and accessibility components with their speech rule maps) are unpacked into
``_build/vendor/_static/mathjax/``. ``_config.yml`` lists ``_build/vendor`` in
``html_extra_path`` (Sphinx copies it over ``_build/html``) and points ``mathjax_path`` at
``mathjax/tex-mml-chtml.js`` (Sphinx reads that relative to ``_static/``).

``_build/`` is git-ignored: nothing fetched here is committed. Running the script again is a
no-op once the same version is in place (``_build/vendor.stamp`` records it).
Needs Node's ``npm`` on PATH.

Usage: python tools/fetch_assets.py [--root REPO] [--force]
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

MATHJAX_VERSION = "3.2.2"
MATHJAX_INTEGRITY = (  # `npm view mathjax@3.2.2 dist.integrity`
    "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/"
    "O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
)
# Parts of the package's es5/ folder the site needs (a prefix match on the path inside es5/).
MATHJAX_KEEP = (
    "tex-mml-chtml.js",
    "input/",
    "output/chtml/",
    "output/chtml.js",
    "ui/",
    "a11y/",
    "sre/",
    "adaptors/",
)
VENDOR = Path("_build") / "vendor"
MATHJAX_DIR = VENDOR / "_static" / "mathjax"
STAMP_FILE = Path("_build") / "vendor.stamp"
STAMP = f"mathjax {MATHJAX_VERSION} {MATHJAX_INTEGRITY}\n"


def fail(message: str) -> None:
    print(f"fetch_assets: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def integrity_of(path: Path) -> str:
    """npm's Subresource-Integrity string of a file: 'sha512-' + base64(sha512)."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def npm_pack(spec: str, dest: Path) -> Path:
    """Download one package tarball from the npm registry with `npm pack`; return its path."""
    npm = shutil.which("npm")
    if npm is None:
        fail(
            "`npm` was not found on PATH. The site vendors MathJax from the npm registry at build "
            "time; install Node.js and npm (Debian: `apt-get install nodejs npm`) and run again."
        )
    proc = subprocess.run(
        [npm, "pack", spec, "--pack-destination", str(dest), "--silent"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        fail(f"`npm pack {spec}` failed:\n{proc.stderr.strip()}")
    tarballs = sorted(dest.glob("*.tgz"))
    if len(tarballs) != 1:
        fail(f"`npm pack {spec}` produced {len(tarballs)} tarballs in {dest}, expected 1")
    return tarballs[0]


def unpack_mathjax(tarball: Path, target: Path) -> int:
    """Extract the kept parts of package/es5/ (plus the LICENSE) into target; return a count."""
    count = 0
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name
            if name == "package/LICENSE":
                rel = "LICENSE"
            elif name.startswith("package/es5/"):
                rel = name[len("package/es5/") :]
                if not rel.startswith(MATHJAX_KEEP):
                    continue
            else:
                continue
            if ".." in Path(rel).parts:
                fail(f"unsafe path in tarball: {name}")
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            out.write_bytes(source.read())
            count += 1
    return count


def fetch_mathjax(root: Path, force: bool) -> None:
    target = root / MATHJAX_DIR
    stamp = root / STAMP_FILE  # outside the vendored tree, so it is not copied into the site
    present = (target / "tex-mml-chtml.js").is_file()
    if not force and present and stamp.is_file() and stamp.read_text() == STAMP:
        print(f"fetch_assets: MathJax {MATHJAX_VERSION} already in {target.relative_to(root)}")
        return
    stamp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tarball = npm_pack(f"mathjax@{MATHJAX_VERSION}", Path(tmp))
        got = integrity_of(tarball)
        if got != MATHJAX_INTEGRITY:
            fail(f"mathjax@{MATHJAX_VERSION} integrity mismatch: got {got}")
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        count = unpack_mathjax(tarball, target)
    if not (target / "tex-mml-chtml.js").is_file():
        fail("tex-mml-chtml.js missing after unpacking MathJax")
    stamp.write_text(STAMP)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(
        f"fetch_assets: MathJax {MATHJAX_VERSION}: {count} files, {size / 1e6:.1f} MB "
        f"in {target.relative_to(root)}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--force", action="store_true", help="fetch again even if present")
    args = parser.parse_args(argv)
    fetch_mathjax(args.root.resolve(), args.force)


if __name__ == "__main__":
    main()
