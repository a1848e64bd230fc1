"""The explorers as widgets, driven from Python: set the state traits, read ``results``.

For each kind the test sets the traits as a reader of a notebook would (``w.logits = [...]``)
and compares ``w.results`` with ``xent`` computed directly. It also checks what a chapter's
stored output holds: a small deterministic ``text/html`` element with the configuration (no
script, no style) beside the widget. The JavaScript side is checked in tests/test_web_math.py
(Node: each kind's browser-side ``compute`` equals these results) and tests/browser/ (Chromium).
"""

from __future__ import annotations

import html
import itertools
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import xent
import xent.web
from helpers import raises_naming

sys.path.insert(0, str(Path(__file__).parent / "example_kind"))
from square import SquareExplorer, square_explorer  # noqa: E402

EXACT = {"rtol": 1e-12, "atol": 1e-15}
KINDS = [
    "calibration", "ce_gradient", "entropy", "jacobian", "multilabel", "playground",
    "precision", "predictions", "softmax", "weighted_ce",
]


def decoded(value):
    """Results as numbers: the strings "Infinity", "-Infinity", "NaN" back to floats."""
    if isinstance(value, str):
        return float(value)
    if isinstance(value, list):
        return [decoded(v) for v in value]
    return value


def make(kind: str, **kwargs):
    return getattr(xent.web, f"{kind}_explorer")(**kwargs)


def test_every_kind_is_found_without_registration():
    assert xent.web.kinds() == KINDS
    assert {f"{k}_explorer" for k in KINDS} <= set(dir(xent.web))
    with pytest.raises(AttributeError):
        xent.web.nonexistent_explorer  # noqa: B018


def test_entropy_explorer_matches_xent():
    w = make("entropy")
    p = np.array(w.p)
    grid = [(0.25, 0.25, 0.25, 0.25), (0.5, 0.25, 0.13, 0.12), (0.9, 0.0, 0.05, 0.05), (0, 0, 0, 0)]
    for weights, unit in itertools.product(grid, ["nats", "bits"]):
        w.unit = unit
        w.q = list(weights)
        q = np.array(weights, float) / sum(weights) if sum(weights) else np.full(4, 0.25)
        base = 2.0 if unit == "bits" else None
        r = w.results
        np.testing.assert_allclose(r["q"], q, **EXACT)
        for key, fn, args in [
            ("H_p", xent.info.entropy, (p,)),
            ("H_pq", xent.info.cross_entropy, (p, q)),
            ("H_qp", xent.info.cross_entropy, (q, p)),
            ("KL_pq", xent.info.kl_divergence, (p, q)),
        ]:
            want = fn(*args, base=base)
            np.testing.assert_allclose(decoded(r[key]), want, err_msg=key, **EXACT)
    # q1 = 0 < p1: infinite cross-entropy and KL, sent to the view as "Infinity"
    w.q = [0.5, 0.0, 0.25, 0.25]
    assert w.results["H_pq"] == "Infinity" and w.results["KL_pq"] == "Infinity"


def test_softmax_explorer_matches_xent():
    w = make("softmax")
    for z, t in itertools.product(
        [(2.0, 1.0, 0.1, -1.0), (10.0, -10.0, 0.0, 0.0), (-3.3, -3.3, 5.0)], [0.05, 1.0, 5.0]
    ):
        w.logits, w.temperature = list(z), t
        expected = xent.softmax(np.array(z), temperature=t)
        np.testing.assert_allclose(w.results["p"], expected, **EXACT)
        assert w.results["sum_p"] == pytest.approx(1.0, abs=1e-12)


def test_jacobian_explorer_matches_xent():
    w = make("jacobian")
    for z in [(1.0, 0.0, -1.0, 0.5), (10.0, -10.0, 3.0, 2.9), (0.0, 0.0, 0.0)]:
        w.logits = list(z)
        p = xent.softmax(np.array(z))
        np.testing.assert_allclose(w.results["p"], p, **EXACT)
        np.testing.assert_allclose(w.results["J"], xent.softmax_jacobian(p), **EXACT)


def test_ce_gradient_explorer_matches_xent():
    w = make("ce_gradient")
    for z, y in itertools.product([(2.0, 1.0, 0.1, -1.0), (-10.0, 10.0, 0.0, 5.5)], range(4)):
        w.logits, w.target = list(z), y
        zz = np.array(z)
        r = w.results
        np.testing.assert_allclose(r["loss"], xent.cross_entropy(zz, y), **EXACT)
        np.testing.assert_allclose(r["grad"], xent.cross_entropy_grad(zz, y), **EXACT)
        np.testing.assert_allclose(r["p"], xent.softmax(zz), **EXACT)
        np.testing.assert_allclose(r["p_y"], xent.softmax(zz)[y], **EXACT)


def test_weighted_ce_explorer_matches_xent():
    w = make("weighted_ce")
    z, y = np.array(w.logits), np.array(w.targets)
    for weights in [(1.0, 1.0, 1.0), (0.2, 3.0, 5.0), (0.0, 1.0, 2.5), (5.0, 0.0, 0.0)]:
        w.weight = list(weights)
        weight = np.array(weights)
        loss, grad = xent.cross_entropy_and_grad(z, y, weight=weight)
        _, grad_plain = xent.cross_entropy_and_grad(z, y)
        r = w.results
        np.testing.assert_allclose(r["loss"], loss, **EXACT)
        np.testing.assert_allclose(r["normalizer"], weight[y].sum(), **EXACT)
        np.testing.assert_allclose(r["loss_unweighted"], xent.cross_entropy(z, y), **EXACT)
        np.testing.assert_allclose(r["grad_norm"], np.linalg.norm(grad, axis=1), **EXACT)
        np.testing.assert_allclose(
            r["grad_norm_unweighted"], np.linalg.norm(grad_plain, axis=1), **EXACT
        )
    # every target weight 0: nothing to average, nan as in xent and PyTorch
    w.weight = [0.0, 0.0, 0.0]
    assert w.results["loss"] == "NaN"


@pytest.mark.parametrize("kind", KINDS)
def test_stored_output_is_small_deterministic_html_beside_the_widget(kind):
    bundle, _ = make(kind)._repr_mimebundle_()
    assert set(bundle) == {
        "text/plain", "text/html", "application/vnd.jupyter.widget-view+json"
    }  # fmt: skip
    page = bundle["text/html"]
    assert page == make(kind)._repr_mimebundle_()[0]["text/html"]
    assert bundle["text/plain"] == make(kind)._repr_mimebundle_()[0]["text/plain"]
    assert len(page) < 2000 and "<script" not in page and "<style" not in page
    assert "http://" not in page and "https://" not in page
    match = re.fullmatch(
        r'<div class="xent-explorer[^"]*" id="xent-([\w-]+)" data-explorer="(\w+)" '
        r'data-config="([^"]*)"><p class="xent-fallback">[^<]+</p></div>',
        page,
    )
    assert match, page
    assert match.group(2) == kind
    assert json.loads(html.unescape(match.group(3))) == make(kind).config()
    assert "0x" not in bundle["text/plain"]  # no memory address


def test_state_set_from_python_is_in_the_stored_config():
    w = xent.web.ce_gradient_explorer(logits=[1.0, -2.0, 0.5], target=2, name="ce-2")
    config = w.config()
    assert config["logits"] == [1.0, -2.0, 0.5] and config["target"] == 2
    assert 'id="xent-ce-2"' in w._repr_html_()
    w.logits = [3, 1, 0]
    assert w.config()["logits"] == [3.0, 1.0, 0.0]
    assert w.results["loss"] == pytest.approx(xent.cross_entropy(np.array([3.0, 1.0, 0.0]), 2))


@pytest.mark.parametrize(
    ("call", "exc", "argument"),
    [
        (lambda: xent.web.softmax_explorer(name="1bad"), ValueError, "name"),
        (lambda: xent.web.softmax_explorer(name='x" onload="'), ValueError, "name"),
        (lambda: xent.web.softmax_explorer(logits=[0.0]), ValueError, "logits"),
        (lambda: xent.web.softmax_explorer(logits=[0.0, 11.0]), ValueError, "logits"),
        (lambda: xent.web.softmax_explorer(logits=[0.0, 0.123]), ValueError, "logits"),
        (lambda: xent.web.softmax_explorer(logits="ab"), TypeError, "logits"),
        (lambda: xent.web.softmax_explorer(temperature=0.0), ValueError, "temperature"),
        (lambda: xent.web.softmax_explorer(temperature="hot"), TypeError, "temperature"),
        (lambda: xent.web.entropy_explorer(p=[0.5, 0.6], q=[0.5, 0.5]), ValueError, "p"),
        (lambda: xent.web.entropy_explorer(unit="dits"), ValueError, "unit"),
        (lambda: xent.web.ce_gradient_explorer(target=4), ValueError, "target"),
        (lambda: xent.web.ce_gradient_explorer(target=1.0), TypeError, "target"),
        (lambda: xent.web.weighted_ce_explorer(weight=[1.0, 1.0]), ValueError, "weight"),
        (lambda: xent.web.weighted_ce_explorer(weight=[1.0, -1.0, 1.0]), ValueError, "weight"),
        (lambda: xent.web.jacobian_explorer(logits=[0.0, float("nan")]), ValueError, "logits"),
    ],
)
def test_bad_settings_raise_naming_the_argument(call, exc, argument):
    with raises_naming(exc, argument):
        call()


def test_bad_trait_values_raise_naming_the_argument_and_keep_the_state():
    w = xent.web.softmax_explorer()
    before = (list(w.logits), dict(w.results))
    with raises_naming(ValueError, "logits"):
        w.logits = [0.0, 99.0]
    with raises_naming(ValueError, "target"):
        xent.web.ce_gradient_explorer().target = 7
    assert (w.logits, w.results) == before


def test_worked_example_kind():
    """tests/example_kind/: a kind outside the package, as the recipe writes one."""
    w = square_explorer(x=1.5)
    assert isinstance(w, SquareExplorer) and isinstance(w, xent.web.Explorer)
    assert w.results == {"square": 2.25}
    w.x = -3.0
    assert w.results == {"square": 9.0}
    assert 'data-explorer="square"' in w._repr_html_()
    assert "export default" in w._kind_js
    with raises_naming(TypeError, "x"):
        w.x = "three"
