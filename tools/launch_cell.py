#!/usr/bin/env python3
"""The hidden first cell of every chapter, which installs ``xent`` where it is missing.

On Binder the repository's requirements (``-e .``) already provide ``xent``; on Colab only the
notebook is there, so the chapter's first code cell installs the library from the book's
repository. That cell is tagged ``remove-cell`` (the website shows neither code nor output) and
does nothing in the book's own ``.venv``, where ``import xent`` works.

The repository URL is one setting, the environment variable ``XENT_REPO_URL``: the website's
launch and repository buttons come from it (``tools/sphinx_offline.py``), and this tool writes the
same URL into the cell of every chapter so that a notebook opened on Colab installs from it.

    python tools/launch_cell.py           # report: does each chapter have the cell, with which URL
    python tools/launch_cell.py --write   # write $XENT_REPO_URL (may be empty) into every cell
    python tools/launch_cell.py --check   # exit 1 unless every chapter has the cell with that URL

``--write`` only rewrites the URL line of an existing cell; adding the cell is the chapter
author's job (the exact text is ``CELL_TEMPLATE`` below, also in the README).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TAG = "remove-cell"
URL_LINE = re.compile(r'^XENT_REPO_URL = "([^"]*)"', re.M)
CELL_TEMPLATE = '''\
# Runs only where the book's library is missing (Binder, Colab): installs `xent` from the
# book's repository. In the book's .venv `import xent` already works and this does nothing.
import importlib.util
import subprocess
import sys

XENT_REPO_URL = "{url}"  # written by tools/launch_cell.py from $XENT_REPO_URL (see README)
if importlib.util.find_spec("xent") is None:
    if not XENT_REPO_URL:
        raise ModuleNotFoundError("xent is not installed: run the book from its .venv (README)")
    spec = f"xent[notebook] @ git+{{XENT_REPO_URL}}"  # the library and its notebook widgets
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", spec], check=True)'''


def repo_url() -> str:
    """The book's repository URL from $XENT_REPO_URL ('' when unset), without a trailing slash."""
    url = os.environ.get("XENT_REPO_URL", "").strip().rstrip("/")
    if url and not re.fullmatch(r"https://[\w.-]+/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"XENT_REPO_URL must look like https://github.com/OWNER/REPO, got {url!r}")
    return url


def cell_source(url: str) -> str:
    return CELL_TEMPLATE.format(url=url)


def chapters(root: Path = REPO) -> list[Path]:
    return sorted((root / "chapters").glob("*.ipynb"))


def find_cell(nb: dict) -> tuple[int, dict] | None:
    """(index, cell) of the install cell: the first code cell, if it follows the template."""
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        match = URL_LINE.search(source)
        if match and source == cell_source(match.group(1)):
            return i, cell
        return None
    return None


def problems(path: Path, url: str) -> list[str]:
    """What is wrong with the install cell of one chapter ([] if nothing)."""
    nb = json.loads(path.read_text("utf-8"))
    found = find_cell(nb)
    if found is None:
        return [f"{path.name}: the first code cell is not the install cell (tools/launch_cell.py)"]
    index, cell = found
    out = []
    if any(c["cell_type"] == "code" for c in nb["cells"][:index]):
        out.append(f"{path.name}: the install cell is not the first code cell")
    if TAG not in cell.get("metadata", {}).get("tags", []):
        out.append(f"{path.name}: the install cell lacks the tag {TAG!r}")
    got = URL_LINE.search("".join(cell["source"])).group(1)  # type: ignore[union-attr]
    if got != url:
        out.append(f"{path.name}: installs from {got!r}, XENT_REPO_URL is {url!r}")
    return out


def write_url(path: Path, url: str) -> bool:
    """Rewrite the URL of the chapter's install cell; True if the file changed."""
    text = path.read_text("utf-8")
    nb = json.loads(text)
    found = find_cell(nb)
    if found is None:
        raise SystemExit(f"launch_cell: {path.name} has no install cell to update")
    _, cell = found
    new = cell_source(url)
    lines = new.splitlines(keepends=True)
    if cell["source"] == lines:
        return False
    cell["source"] = lines
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write $XENT_REPO_URL into the cells")
    mode.add_argument("--check", action="store_true", help="exit 1 on any problem")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    url = repo_url()
    paths = args.notebooks or chapters()
    if args.write:
        for path in paths:
            print(f"{path.name}: {'updated' if write_url(path, url) else 'unchanged'}")
        return 0
    found = [p for path in paths for p in problems(path, url)]
    for line in found:
        print(f"launch_cell: {line}", file=sys.stderr)
    if not found:
        print(f"launch_cell: {len(paths)} chapters install from {url or '(no URL set)'}")
    return 1 if (found and args.check) else 0


if __name__ == "__main__":
    raise SystemExit(main())
