"""Chapter 6's predictions explorer: the trained model's probabilities on a sample of the test set.

The sample (a few hundred official Fashion-MNIST test images, their labels and the logits of
chapter 6's validation-run model) is the package's ``web_assets/data/fashion_mnist_predictions.*``,
written by ``tools/make_predictions_sample.py``. The reader filters by true and predicted class
(or presses a cell of the confusion matrix), shows only mistakes, and sorts by confidence; every
image comes with its ten class probabilities ``softmax(z)`` (chapter 2).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import traitlets

from ..metrics import confusion_matrix
from ..softmax import softmax
from ..web import ASSETS, Explorer, check_int

SOURCE = "fashion_mnist_predictions.json"
SHOW = 24  # images shown at once (the view says how many more match)
SHOWS = ("all", "mistakes", "right")
SORTS = ("confident", "unsure", "sample")


def load_sample(source: str = SOURCE) -> dict[str, Any]:
    """The shipped sample: class names, labels, logits, test-set indices, accuracies."""
    return json.loads((ASSETS / "data" / source).read_text(encoding="utf-8"))


class PredictionsExplorer(Explorer):
    """Filter and sort the sample's predictions; results ``{count, accuracy, test_accuracy,
    confusion, matches, shown, shown_label, shown_pred, shown_probs, shown_test_index}``."""

    _css = (ASSETS / "xent_explorers.css").read_text(encoding="utf-8") + (
        ASSETS / "predictions.css"
    ).read_text(encoding="utf-8")
    kind = "predictions"
    title = "Predictions explorer: Fashion-MNIST test images and the model's probabilities"
    state = ("true_class", "predicted_class", "show", "sort", "source", "classes", "columns")

    true_class = traitlets.Any(-1).tag(sync=True)
    predicted_class = traitlets.Any(-1).tag(sync=True)
    show = traitlets.Any("all").tag(sync=True)
    sort = traitlets.Any("confident").tag(sync=True)
    # the shipped sample's facts (the website's view needs them); they cannot be changed
    source = traitlets.Any(SOURCE).tag(sync=True)
    classes = traitlets.Any([]).tag(sync=True)
    columns = traitlets.Any(0).tag(sync=True)
    # the data itself: for the live widget only, never in the website's configuration
    sprite = traitlets.Unicode().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        self._data = load_sample()
        png = (ASSETS / "data" / self._data["sprite"]["file"]).read_bytes()
        self._probs = softmax(np.asarray(self._data["logits"], dtype=np.float64))
        kwargs.setdefault("classes", list(self._data["classes"]))
        kwargs.setdefault("columns", int(self._data["columns"]))
        super().__init__(**kwargs)
        self.sprite = "data:image/png;base64," + base64.b64encode(png).decode("ascii")

    @traitlets.validate("true_class", "predicted_class")
    def _check_class(self, proposal: dict[str, Any]) -> int:
        return check_int(proposal["value"], proposal["trait"].name, -1, 10)

    @traitlets.validate("source", "classes", "columns")
    def _check_fixed(self, proposal: dict[str, Any]) -> Any:
        name, value = proposal["trait"].name, proposal["value"]
        fixed = {
            "source": SOURCE,
            "classes": self._data["classes"],
            "columns": self._data["columns"],
        }
        if value != fixed[name]:
            raise ValueError(
                f"{name} is fixed by the shipped sample ({fixed[name]!r}), got {value!r}"
            )
        return value

    @traitlets.validate("show")
    def _check_show(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in SHOWS:
            raise ValueError(f"show must be one of {SHOWS}, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("sort")
    def _check_sort(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, got {proposal['value']!r}")
        return proposal["value"]

    def compute(self) -> dict[str, Any]:
        labels = np.asarray(self._data["labels"])
        probs = self._probs
        pred = probs.argmax(axis=1)
        conf = probs[np.arange(len(pred)), pred]
        keep = np.ones(len(labels), dtype=bool)
        if self.true_class >= 0:
            keep &= labels == self.true_class
        if self.predicted_class >= 0:
            keep &= pred == self.predicted_class
        if self.show == "mistakes":
            keep &= pred != labels
        elif self.show == "right":
            keep &= pred == labels
        order = np.flatnonzero(keep)
        if self.sort == "confident":
            order = order[np.lexsort((order, -conf[order]))]
        elif self.sort == "unsure":
            order = order[np.lexsort((order, conf[order]))]
        shown = order[:SHOW]
        return {
            "count": len(labels),
            "accuracy": float((pred == labels).mean()),
            "test_accuracy": float(self._data["test_accuracy"]),
            "confusion": confusion_matrix(labels, pred, len(self._data["classes"])),
            "matches": len(order),
            "shown": shown,
            "shown_label": labels[shown],
            "shown_pred": pred[shown],
            "shown_probs": probs[shown],
            "shown_test_index": np.asarray(self._data["index"])[shown],
        }

    def __repr__(self) -> str:
        r = self.results
        return (
            f"PredictionsExplorer(true_class={self.true_class}, predicted_class="
            f"{self.predicted_class}, show={self.show}, sort={self.sort}) -> {r['matches']} of "
            f"{r['count']} sample images match; sample accuracy {r['accuracy']:.4f}, test "
            f"accuracy {r['test_accuracy']:.4f}"
        )


def predictions_explorer(
    true_class: int = -1,
    predicted_class: int = -1,
    show: str = "all",
    sort: str = "confident",
    *,
    name: str = "predictions",
) -> PredictionsExplorer:
    """Chapter 6: browse the trained model's test predictions (a shipped sample of the official
    test set) by true and predicted class, mistakes only, sorted by confidence; the confusion
    matrix's cells filter. ``-1`` means any class. A live widget in Jupyter (numbers from
    ``xent.softmax`` in the kernel), kernel-free on the website."""
    return PredictionsExplorer(
        true_class=true_class, predicted_class=predicted_class, show=show, sort=sort, name=name
    )
