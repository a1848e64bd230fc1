"""The explorers: Python (ipywidgets) ones show xent's numbers; web ones render deterministic HTML.

For each ipywidgets explorer the test moves the sliders from Python (``control.value = ...``),
reads the numbers the explorer displays (``data-value`` attributes of its HTML output) and
compares them with ``xent`` computed directly. The in-browser twins (``xent.web``) are checked
here for what Python can see (deterministic, self-contained HTML, validated arguments); their
JavaScript numbers are checked in tests/test_web_math.py (Node) and tests/browser/ (Chromium).
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import xent
from xent.explorers import read_numbers
from xent.web import format_number

EXACT = {"rtol": 1e-12, "atol": 1e-15}


def visible_text_matches(html_text: str) -> None:
    """Every displayed number's text is format_number(data-value, 4)."""
    spans = re.findall(r'data-value="([^"]+)">([^<]*)</span>', html_text)
    assert spans
    for value, text in spans:
        assert text == format_number(float(value), 4), (value, text)


def test_entropy_explorer_matches_xent():
    ex = xent.explorers.entropy_explorer()
    assert set(ex.controls) == {"q0", "q1", "q2", "q3", "unit"}
    p = np.array(xent.web.ENTROPY_P)
    grid = [(0.25, 0.25, 0.25, 0.25), (0.5, 0.25, 0.13, 0.12), (0.9, 0.0, 0.05, 0.05), (0, 0, 0, 0)]
    for weights, unit in itertools.product(grid, ["nats", "bits"]):
        ex.controls["unit"].value = unit
        for i, w in enumerate(weights):
            ex.controls[f"q{i}"].value = w
        w = np.array(weights, dtype=float)
        q = w / w.sum() if w.sum() > 0 else np.full(4, 0.25)
        base = 2.0 if unit == "bits" else None
        shown = ex.numbers()
        np.testing.assert_allclose([shown[f"q{i}"] for i in range(4)], q, **EXACT)
        np.testing.assert_allclose([shown[f"p{i}"] for i in range(4)], p, **EXACT)
        expected = {
            "H_p": xent.info.entropy(p, base=base),
            "H_pq": xent.info.cross_entropy(p, q, base=base),
            "H_qp": xent.info.cross_entropy(q, p, base=base),
            "KL_pq": xent.info.kl_divergence(p, q, base=base),
        }
        for name, value in expected.items():
            np.testing.assert_allclose(shown[name], value, err_msg=name, **EXACT)
        visible_text_matches(ex.output.value)
    # q1 = 0 < p1: infinite cross-entropy and KL, shown as the infinity sign
    for i, w in enumerate((0.5, 0.0, 0.25, 0.25)):
        ex.controls[f"q{i}"].value = w
    shown = ex.numbers()
    assert shown["H_pq"] == np.inf and shown["KL_pq"] == np.inf
    assert "\u221e</span>" in ex.output.value


def test_softmax_explorer_matches_xent():
    ex = xent.explorers.softmax_explorer()
    assert set(ex.controls) == {"z0", "z1", "z2", "z3", "T"}
    for z, t in itertools.product(
        [(2.0, 1.0, 0.1, -1.0), (10.0, -10.0, 0.0, 0.0), (-3.3, -3.3, -3.3, 5.0)], [0.05, 1.0, 5.0]
    ):
        for i, v in enumerate(z):
            ex.controls[f"z{i}"].value = v
        ex.controls["T"].value = t
        shown = ex.numbers()
        expected = xent.softmax(np.array(z), temperature=t)
        np.testing.assert_allclose([shown[f"p{i}"] for i in range(4)], expected, **EXACT)
        assert shown["sum_p"] == pytest.approx(1.0, abs=1e-12)
        visible_text_matches(ex.output.value)


def test_jacobian_explorer_matches_xent():
    ex = xent.explorers.jacobian_explorer()
    for z in [(1.0, 0.0, -1.0, 0.5), (10.0, -10.0, 3.0, 2.9), (0.0, 0.0, 0.0, 0.0)]:
        for i, v in enumerate(z):
            ex.controls[f"z{i}"].value = v
        shown = ex.numbers()
        p = xent.softmax(np.array(z))
        jac = xent.softmax_jacobian(p)
        got = np.array([[shown[f"J{i}{j}"] for j in range(4)] for i in range(4)])
        np.testing.assert_allclose(got, jac, **EXACT)
        np.testing.assert_allclose([shown[f"p{i}"] for i in range(4)], p, **EXACT)
        assert ex.output.value.count("<td ") == 16
        visible_text_matches(ex.output.value)


def test_ce_gradient_explorer_matches_xent():
    ex = xent.explorers.ce_gradient_explorer()
    assert set(ex.controls) == {"z0", "z1", "z2", "z3", "y"}
    for z, y in itertools.product([(2.0, 1.0, 0.1, -1.0), (-10.0, 10.0, 0.0, 5.5)], range(4)):
        for i, v in enumerate(z):
            ex.controls[f"z{i}"].value = v
        ex.controls["y"].value = y
        shown = ex.numbers()
        zz = np.array(z)
        np.testing.assert_allclose(shown["loss"], xent.cross_entropy(zz, y), **EXACT)
        grad = xent.cross_entropy_grad(zz, y)
        np.testing.assert_allclose([shown[f"g{i}"] for i in range(4)], grad, **EXACT)
        np.testing.assert_allclose(shown["p_y"], xent.softmax(zz)[y], **EXACT)
        visible_text_matches(ex.output.value)


def test_weighted_ce_explorer_matches_xent():
    ex = xent.explorers.weighted_ce_explorer()
    assert set(ex.controls) == {"w0", "w1", "w2"}
    z = np.array(xent.web.WEIGHTED_LOGITS)
    y = np.array(xent.web.WEIGHTED_TARGETS)
    for w in [(1.0, 1.0, 1.0), (0.2, 3.0, 5.0), (0.0, 1.0, 2.5), (5.0, 0.0, 0.0)]:
        for k, v in enumerate(w):
            ex.controls[f"w{k}"].value = v
        shown = ex.numbers()
        weight = np.array(w)
        loss, grad = xent.cross_entropy_and_grad(z, y, weight=weight)
        np.testing.assert_allclose(shown["loss"], loss, **EXACT)
        np.testing.assert_allclose(shown["normalizer"], weight[y].sum(), **EXACT)
        np.testing.assert_allclose(shown["loss_unweighted"], xent.cross_entropy(z, y), **EXACT)
        norms = [shown[f"gnorm{n}"] for n in range(len(y))]
        np.testing.assert_allclose(norms, np.linalg.norm(grad, axis=1), **EXACT)
        visible_text_matches(ex.output.value)
    # every target weight 0: nothing to average, nan as in xent and PyTorch
    for k in range(3):
        ex.controls[f"w{k}"].value = 0.0
    assert np.isnan(ex.numbers()["loss"])
    assert ">nan</span>" in ex.output.value


def test_explorers_are_widgets_with_described_controls():
    import ipywidgets as widgets

    for make in (
        xent.explorers.entropy_explorer,
        xent.explorers.softmax_explorer,
        xent.explorers.jacobian_explorer,
        xent.explorers.ce_gradient_explorer,
        xent.explorers.weighted_ce_explorer,
    ):
        ex = make()
        assert isinstance(ex, widgets.VBox) and isinstance(ex.output, widgets.HTML)
        for control in ex.controls.values():
            assert control.description.strip(), make.__name__
        assert ex.numbers(), make.__name__


def test_read_numbers():
    html_text = (
        '<span data-name="a" data-value="0.5">0.5000</span>'
        '<span data-name="b" data-value="inf">\u221e</span>'
        '<span data-name="c" data-value="NaN">nan</span>'
    )
    got = read_numbers(html_text)
    assert got["a"] == 0.5 and got["b"] == np.inf and np.isnan(got["c"])


# ---- xent.web: the kernel-free explorers, as far as Python can see them ----

WEB = {
    "entropy": xent.web.entropy_explorer,
    "softmax": xent.web.softmax_explorer,
    "jacobian": xent.web.jacobian_explorer,
    "ce_gradient": xent.web.ce_gradient_explorer,
    "weighted_ce": xent.web.weighted_ce_explorer,
}


@pytest.mark.parametrize("kind", sorted(WEB))
def test_web_explorer_html_is_deterministic_and_self_contained(kind):
    first = WEB[kind]()._repr_html_()
    assert first == WEB[kind]()._repr_html_()
    assert f'data-explorer="{kind}"' in first
    assert "xentWeb.mountFrom(document.currentScript);" in first
    assert "http://" not in first and "https://" not in first  # no CDN, no remote anything
    assert "Math.random" not in first and "Date.now" not in first
    markup = first.split("<script>")[0]
    assert re.findall(r'id="([^"]+)"', markup) == [WEB[kind]().element_id]
    assert first.count("<script>") == 1 and first.count("</script>") == 1
    assert repr(WEB[kind]()).startswith("WebExplorer(")  # text/plain has no memory address


def test_web_explorer_ids_come_from_name():
    a = xent.web.softmax_explorer()
    b = xent.web.softmax_explorer(name="softmax-hot", temperature=0.5)
    assert a.element_id == "xent-softmax" and b.element_id == "xent-softmax-hot"
    assert 'id="xent-softmax-hot"' in b._repr_html_()
    assert xent.web.ce_gradient_explorer().element_id == "xent-ce-gradient"
    assert xent.web.weighted_ce_explorer().element_id == "xent-weighted-ce"


def test_web_explorer_carries_its_settings():
    html_text = xent.web.ce_gradient_explorer(logits=[1.0, -2.0, 0.5], target=2)._repr_html_()
    assert "&quot;target&quot;:2" in html_text
    assert "&quot;logits&quot;:[1.0,-2.0,0.5]" in html_text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: xent.web.softmax_explorer(name="1bad"), "name"),
        (lambda: xent.web.softmax_explorer(name='x" onload="'), "name"),
        (lambda: xent.web.softmax_explorer(logits=[0.0]), "logits"),
        (lambda: xent.web.softmax_explorer(logits=[0.0, 11.0]), "logits"),
        (lambda: xent.web.softmax_explorer(logits=[0.0, 0.123]), "logits"),
        (lambda: xent.web.softmax_explorer(temperature=0.0), "temperature"),
        (lambda: xent.web.entropy_explorer(p=[0.5, 0.6], q=[0.5, 0.5]), "p"),
        (lambda: xent.web.entropy_explorer(unit="dits"), "unit"),
        (lambda: xent.web.ce_gradient_explorer(target=4), "target"),
        (lambda: xent.web.weighted_ce_explorer(weight=[1.0, 1.0]), "weight"),
        (lambda: xent.web.weighted_ce_explorer(weight=[1.0, -1.0, 1.0]), "weight"),
        (lambda: xent.explorers.softmax_explorer(logits=[0.0, 0.0, 99.0]), "logits"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_ce_target_must_be_int():
    with pytest.raises(TypeError, match="target"):
        xent.web.ce_gradient_explorer(target=1.0)


@pytest.mark.parametrize(
    ("x", "digits", "text"),
    [
        (0.03125, 4, "0.0313"),  # exact tie: half away from zero, like JavaScript's toFixed
        (-0.03125, 4, "-0.0313"),
        (-1e-9, 4, "0.0000"),  # no negative zero on screen
        (2.0, 4, "2.0000"),
        (np.inf, 4, "\u221e"),
        (-np.inf, 4, "\u2212\u221e"),
        (np.nan, 4, "nan"),
    ],
)
def test_format_number(x, digits, text):
    assert format_number(x, digits) == text
