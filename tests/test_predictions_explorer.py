"""Chapter 6's predictions explorer: the widget's results (xent in the kernel) and the website's
(explorers/predictions.js under Node, with xent_math.js) agree, and its traits are checked.

For several filter states the two must give the same confusion matrix, the same images in the
same order and the same probabilities (to 1e-12); bad states raise errors naming the argument.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
import xent.web
from helpers import raises_naming
from test_web_math import _node  # one way to run the browser-side JS under Node
from xent.explorers.predictions import load_sample

DRIVER = r"""
const fs = require("fs");
const load = (path) => import("data:text/javascript;base64," +
  fs.readFileSync(path).toString("base64"));
(async () => {
  const math = await load(process.argv[1]);
  const kind = await load(process.argv[2]);
  const { data, states } = JSON.parse(fs.readFileSync(0, "utf8"));
  const out = states.map((s) => kind.summarize(data, s, math));
  process.stdout.write(JSON.stringify(out));
})();
"""

STATES = [
    {"true_class": -1, "predicted_class": -1, "show": "all", "sort": "confident"},
    {"true_class": 6, "predicted_class": -1, "show": "mistakes", "sort": "unsure"},
    {"true_class": -1, "predicted_class": 0, "show": "all", "sort": "sample"},
    {"true_class": 4, "predicted_class": 2, "show": "all", "sort": "confident"},
    {"true_class": 1, "predicted_class": 1, "show": "right", "sort": "unsure"},
    {"true_class": 9, "predicted_class": 0, "show": "all", "sort": "confident"},  # likely none
]


def run_js(states: list[dict]) -> list[dict]:
    """predictions.js's summarize (with xent_math.js) under Node, one result per state."""
    assets = resources.files("xent").joinpath("web_assets")
    files = [str(assets / "xent_math.js"), str(assets / "explorers" / "predictions.js")]
    return _node(DRIVER, files, {"data": load_sample(), "states": states})


def test_widget_and_site_agree():
    results = run_js(STATES)
    w = xent.web.predictions_explorer()
    for state, js in zip(STATES, results, strict=True):
        for key, value in state.items():
            setattr(w, key, value)
        py = w.results
        assert set(js) == set(py), state
        for key in ("count", "matches", "shown", "shown_label", "shown_pred", "shown_test_index"):
            assert js[key] == py[key], (state, key)
        assert js["confusion"] == py["confusion"], state
        np.testing.assert_allclose(js["accuracy"], py["accuracy"], rtol=0, atol=1e-15)
        if py["shown"]:
            np.testing.assert_allclose(js["shown_probs"], py["shown_probs"], rtol=0, atol=1e-12)
        assert len(py["shown"]) == min(24, py["matches"])


def test_filters_mean_what_they_say():
    w = xent.web.predictions_explorer(true_class=6, show="mistakes", sort="confident")
    r = w.results
    assert r["matches"] >= 1 and all(y == 6 for y in r["shown_label"])
    assert all(p != 6 for p in r["shown_pred"])
    conf = [row[p] for row, p in zip(r["shown_probs"], r["shown_pred"], strict=True)]
    assert conf == sorted(conf, reverse=True)
    # the confusion matrix cell (6, k) counts what the filter (6, k) shows
    k = r["shown_pred"][0]
    w.predicted_class, w.show = k, "all"
    assert w.results["matches"] == r["confusion"][6][k]
    assert sum(map(sum, r["confusion"])) == r["count"] == 300


def test_site_configuration_is_small_and_holds_no_data():
    html = xent.web.predictions_explorer()._repr_html_()
    assert len(html) < 2000 and "logits" not in html and "base64" not in html
    assert 'data-explorer="predictions"' in html


@pytest.mark.parametrize(
    ("arg", "value", "exc"),
    [
        ("true_class", 10, ValueError),
        ("true_class", 2.0, TypeError),
        ("predicted_class", -2, ValueError),
        ("show", "wrong", ValueError),
        ("sort", "random", ValueError),
    ],
)
def test_bad_state_names_the_argument(arg, value, exc):
    w = xent.web.predictions_explorer()
    with raises_naming(exc, arg):
        setattr(w, arg, value)
