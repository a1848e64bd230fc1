#!/usr/bin/env python3
"""Keep the chapters' notebooks in the shape the website and nbval expect (run after executing).

For every notebook:

1. nbval's instructions are cell TAGS, never comments in the source (they would show on the
   website and be copied by the copy button): a first line ``# NBVAL_IGNORE_OUTPUT`` (or
   ``# NBVAL_RAISES_EXCEPTION``) is removed and the tag ``nbval-ignore-output`` (or
   ``raises-exception``) added instead.
2. A cell that shows ipywidgets through ``interact``/``interactive``/``interact_manual`` (dead
   controls on a static page, output nbval cannot compare) is tagged ``nbval-ignore-output`` and
   ``remove-output`` and its stored outputs are cleared.
3. ``metadata.widgets`` (the saved widget state, with model ids that change on every run) and the
   per-cell ``metadata.execution`` timings are removed.

An explorer cell (``xent.web.<kind>_explorer(...)``) needs none of this: its output holds the live
widget for Jupyter (its random model id is skipped by nbval) and a small deterministic
``text/html`` element for the website. ``--check`` also fails on any stored ``<script>`` or
``<style>`` body longer than 2,000 characters (the explorers' code is served once per site).

Idempotent. ``--check`` changes nothing and exits 1 if a notebook needs changes (``make lint``).

Usage: python tools/apply_explorer_tags.py [--check] [NOTEBOOK ...]   (default: chapters/*.ipynb)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import nbformat

COMMENT_TAGS = {"# NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
                "# NBVAL_RAISES_EXCEPTION": "raises-exception"}  # fmt: skip
INTERACT = re.compile(r"\binteract(?:ive|_manual)?\s*\(")
EMBEDDED = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1>", re.S | re.I)
MAX_EMBEDDED = 2000
REPO = Path(__file__).resolve().parent.parent


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tag(cell: dict[str, Any], tag: str, changes: list[str], index: int) -> None:
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)
        changes.append(f"cell {index}: tagged {tag}")


def apply_rule(nb: dict[str, Any]) -> list[str]:
    """Apply the rules to a notebook (a dict, changed in place); return what was changed."""
    changes = []
    if "widgets" in nb.get("metadata", {}):
        del nb["metadata"]["widgets"]
        changes.append("removed metadata.widgets")
    for index, cell in enumerate(nb.get("cells", [])):
        if "execution" in cell.get("metadata", {}):
            del cell["metadata"]["execution"]
            changes.append(f"cell {index}: removed execution timing metadata")
        if cell.get("cell_type") != "code":
            continue
        lines = _source(cell).split("\n")
        while lines and lines[0].strip() in COMMENT_TAGS:
            _tag(cell, COMMENT_TAGS[lines.pop(0).strip()], changes, index)
            cell["source"] = "\n".join(lines)
            changes.append(f"cell {index}: removed an NBVAL comment")
        code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
        if INTERACT.search(code):
            _tag(cell, "nbval-ignore-output", changes, index)
            _tag(cell, "remove-output", changes, index)
            if cell.get("outputs"):
                cell["outputs"] = []
                changes.append(f"cell {index}: cleared interact outputs")
    return changes


def embedded_too_long(nb: dict[str, Any]) -> list[str]:
    """Stored <script>/<style> bodies over MAX_EMBEDDED characters, as 'cell N: K chars'."""
    found = []
    for index, cell in enumerate(nb.get("cells", [])):
        for out in cell.get("outputs", []):
            for value in out.get("data", {}).values():
                text = "".join(value) if isinstance(value, list) else str(value)
                for match in EMBEDDED.finditer(text):
                    if len(match.group(2)) > MAX_EMBEDDED:
                        found.append(f"cell {index}: <{match.group(1)}> of {len(match.group(2))}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="report only; exit 1 if needed")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((REPO / "chapters").glob("*.ipynb"))
    pending = oversized = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        changes = apply_rule(nb)
        too_long = embedded_too_long(nb)
        if too_long:
            oversized += 1
            print(f"{path}: stored script/style bodies over {MAX_EMBEDDED} chars: {too_long}")
        if not changes:
            continue
        pending += 1
        timings = sum("execution timing" in c for c in changes)
        summary = [c for c in changes if "execution timing" not in c]
        if timings:
            summary.append(f"removed {timings} execution timings")
        if args.check:
            print(f"{path}: needs: {'; '.join(summary)}")
        else:
            nbformat.write(nb, path)
            print(f"{path}: {'; '.join(summary)}")
    if args.check and pending:
        print(f"{pending} notebook(s) need changes: run {Path(__file__).name}")
    return 1 if oversized or (args.check and pending) else 0


if __name__ == "__main__":
    sys.exit(main())
