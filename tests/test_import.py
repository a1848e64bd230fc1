"""`import xent` is numeric: no notebook UI libraries, submodules load on first use."""

from __future__ import annotations

import subprocess
import sys

UI_LIBRARIES = {"ipywidgets", "IPython", "anywidget", "matplotlib", "traitlets"}


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args, "-c", code], capture_output=True, text=True, timeout=120
    )


def test_import_xent_loads_no_ui_library():
    code = (
        "import sys, xent\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(UI_LIBRARIES)!r}))"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_submodules_are_attributes_loaded_on_first_use():
    code = (
        "import sys, xent\n"
        "assert 'xent.data' not in sys.modules\n"
        "assert {'data', 'fused', 'web'} <= set(dir(xent)), dir(xent)\n"
        "assert callable(xent.data.load_fashion_mnist)\n"
        "assert 'xent.data' in sys.modules\n"
        "assert callable(xent.fused.cross_entropy_and_grad)\n"
        "try:\n"
        "    xent.no_such_module\n"
        "except AttributeError as e:\n"
        "    assert 'no_such_module' in str(e)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
        "print('ok')"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_python_m_xent_data_does_not_warn():
    # a package that imports its own submodule makes `python -m` warn (RuntimeWarning);
    # -W error turns that warning into a failure
    done = subprocess.run(
        [sys.executable, "-W", "error", "-m", "xent.data", "--help"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout
