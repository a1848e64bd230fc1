#!/usr/bin/env python3
"""Apply the website's rule for Python-driven (ipywidgets) explorer cells to the chapters.

The static site has no kernel, so ipywidgets there would be dead controls. Each chapter shows
the kernel-free twin (``xent.web.X_explorer()``) and keeps the Python one for readers who run
the notebook. The rule, for every code cell that shows ipywidgets (it calls
``xent.explorers.*`` or ``interact``/``interactive``/``interact_manual``, or has a widget
output):

1. its first line is ``# NBVAL_IGNORE_OUTPUT`` (widget output cannot be compared);
2. it carries the cell tag ``remove-output`` (the site shows the code, never the output);
3. its stored outputs are cleared (widget views without saved state show nothing useful).

And for every notebook: ``metadata.widgets`` (the saved widget state, with random model ids
that change on every run) is removed, and so is the per-cell ``metadata.execution`` timing
that ``nbconvert --execute`` writes (it changes on every run too).

Idempotent: run it after every re-execution of the chapters. ``--check`` changes nothing and
exits 1 if some notebook does not follow the rule yet (for CI).

Usage: python tools/apply_explorer_tags.py [--check] [NOTEBOOK ...]   (default: chapters/*.ipynb)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import nbformat

IGNORE = "# NBVAL_IGNORE_OUTPUT"
TAG = "remove-output"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_CALL = re.compile(r"\bexplorers\.\w+\s*\(|\binteract(?:ive|_manual)?\s*\(")
REPO = Path(__file__).resolve().parent.parent


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_widget_cell(cell: dict[str, Any]) -> bool:
    """Does this code cell display ipywidgets (by its code or by its stored output)?"""
    if cell.get("cell_type") != "code":
        return False
    code = "\n".join(
        line for line in _source(cell).splitlines() if not line.lstrip().startswith("#")
    )
    if WIDGET_CALL.search(code) and not re.fullmatch(r"\s*(import|from)\b.*", code.strip()):
        return True
    return any(WIDGET_MIME in out.get("data", {}) for out in cell.get("outputs", []))


def apply_rule(nb: dict[str, Any]) -> list[str]:
    """Apply the rule to a notebook (a dict, changed in place); return what was changed."""
    changes = []
    if "widgets" in nb.get("metadata", {}):
        del nb["metadata"]["widgets"]
        changes.append("removed metadata.widgets")
    for index, cell in enumerate(nb.get("cells", [])):
        if "execution" in cell.get("metadata", {}):
            del cell["metadata"]["execution"]
            changes.append(f"cell {index}: removed execution timing metadata")
        if not is_widget_cell(cell):
            continue
        text = _source(cell)
        if not text.startswith(IGNORE):
            cell["source"] = f"{IGNORE}\n{text}"
            changes.append(f"cell {index}: added {IGNORE}")
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if TAG not in tags:
            tags.append(TAG)
            changes.append(f"cell {index}: tagged {TAG}")
        if cell.get("outputs"):
            cell["outputs"] = []
            changes.append(f"cell {index}: cleared widget outputs")
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="report only; exit 1 if needed")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((REPO / "chapters").glob("*.ipynb"))
    pending = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        changes = apply_rule(nb)
        if not changes:
            continue
        pending += 1
        summary = "; ".join(c for c in changes if "execution timing" not in c)
        timings = sum("execution timing" in c for c in changes)
        if timings:
            summary += ("; " if summary else "") + f"removed {timings} execution timings"
        if args.check:
            print(f"{path}: needs: {summary}")
        else:
            nbformat.write(nb, path)
            print(f"{path}: {summary}")
    if args.check and pending:
        print(f"{pending} notebook(s) do not follow the explorer rule: run {Path(__file__).name}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
