#!/usr/bin/env python3
"""Fetch the website's third-party assets at build time, so the built site loads nothing remote.

Today that is KaTeX, taken from the npm registry with ``npm pack katex@VERSION`` at an exact
version and checked against its pinned sha512 integrity. The site typesets all math at build
time (sphinxcontrib-katex with ``katex_prerender``, which runs ``katex.min.js`` in Node), so a
page loads no TeX engine, only KaTeX's style sheet and the fonts it uses:

- ``dist/katex.min.css`` and ``dist/fonts/`` go to ``_build/vendor/_static/katex/``;
  ``_config.yml`` lists ``_build/vendor`` in ``html_extra_path`` (Sphinx copies it over
  ``_build/html``) and points ``katex_css_path`` at ``katex/katex.min.css``;
- ``dist/katex.min.js`` goes to ``_build/katex/`` (used by the build, never served);
  ``tools/sphinx_offline.py`` points ``katex_js_path`` at it.

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

KATEX_VERSION = "0.19.1"
KATEX_INTEGRITY = (  # `npm view katex@0.19.1 dist.integrity`
    "sha512-jG8uKntjSEcm2EpQOh0XturpPuuC9r3Sq5HLHdsFdWZT27E672SF19QEi+of0/"
    "YeOy15lDgRhKvr5614uRrEfA=="
)
VENDOR = Path("_build") / "vendor"
KATEX_DIR = VENDOR / "_static" / "katex"  # served: katex.min.css, fonts/, LICENSE
KATEX_JS = Path("_build") / "katex" / "katex.min.js"  # build only: the prerenderer's KaTeX
STAMP_FILE = Path("_build") / "vendor.stamp"
STAMP = f"katex {KATEX_VERSION} {KATEX_INTEGRITY}\n"


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
            "`npm` was not found on PATH. The site vendors KaTeX from the npm registry at build "
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


def unpack_katex(tarball: Path, served: Path, js: Path) -> int:
    """Extract the style sheet, fonts and LICENSE into `served` and katex.min.js to `js`."""
    count = 0
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name
            if name == "package/LICENSE":
                out = served / "LICENSE"
            elif name in ("package/dist/katex.min.css",) or name.startswith("package/dist/fonts/"):
                out = served / name[len("package/dist/") :]
            elif name == "package/dist/katex.min.js":
                out = js
            else:
                continue
            if ".." in Path(name).parts:
                fail(f"unsafe path in tarball: {name}")
            out.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            out.write_bytes(source.read())
            count += 1
    return count


def fetch_katex(root: Path, force: bool) -> None:
    served, js = root / KATEX_DIR, root / KATEX_JS
    stamp = root / STAMP_FILE  # outside the vendored tree, so it is not copied into the site
    present = (served / "katex.min.css").is_file() and js.is_file()
    if not force and present and stamp.is_file() and stamp.read_text() == STAMP:
        print(f"fetch_assets: KaTeX {KATEX_VERSION} already in {served.relative_to(root)}")
        return
    stamp.unlink(missing_ok=True)
    # MathJax, which earlier versions of this script vendored, must not be copied into the site
    shutil.rmtree(root / VENDOR / "_static" / "mathjax", ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        tarball = npm_pack(f"katex@{KATEX_VERSION}", Path(tmp))
        got = integrity_of(tarball)
        if got != KATEX_INTEGRITY:
            fail(f"katex@{KATEX_VERSION} integrity mismatch: got {got}")
        for old in (served, js.parent):
            shutil.rmtree(old, ignore_errors=True)
        count = unpack_katex(tarball, served, js)
    if not (served / "katex.min.css").is_file() or not js.is_file():
        fail("katex.min.css or katex.min.js missing after unpacking KaTeX")
    stamp.write_text(STAMP)
    size = sum(p.stat().st_size for p in served.rglob("*") if p.is_file())
    print(
        f"fetch_assets: KaTeX {KATEX_VERSION}: {count} files, {size / 1e6:.1f} MB "
        f"in {served.relative_to(root)} (+ {js.relative_to(root)} for the build)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--force", action="store_true", help="fetch again even if present")
    args = parser.parse_args(argv)
    fetch_katex(args.root.resolve(), args.force)


if __name__ == "__main__":
    main()
