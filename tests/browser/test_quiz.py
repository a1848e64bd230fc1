"""The self-check quizzes on the built site answer a click and a keyboard (issue 14).

The playground page carries one quiz of each kind (multiple choice, numeric with a tolerance,
predict-then-reveal). That every quiz on every page mounts is checked page by page in
test_a11y.py. Recipe and format: lib/xent/web_assets/quiz.md.
"""

from __future__ import annotations

import pytest

DEMO = "playground.html"

QUIZZES_JS = """() => [...document.querySelectorAll(".xent-quiz")].map((b) => ({
  kind: b.dataset.quizMounted || null,
  error: b.dataset.quizError || null,
  role: b.getAttribute("role"),
  name: (document.getElementById(b.getAttribute("aria-labelledby") || "") || {}).textContent || "",
  live: b.querySelector(".xent-quiz-feedback")?.getAttribute("aria-live"),
}))"""


def _quiz(page, n: int):
    return page.locator(".xent-quiz").nth(n)


def _feedback(page, n: int) -> str:
    return _quiz(page, n).locator(".xent-quiz-feedback").inner_text()


def test_demo_quizzes_mount_as_named_groups(open_page):
    page, log = open_page(DEMO)
    quizzes = page.evaluate(QUIZZES_JS)
    assert [q["kind"] for q in quizzes] == ["choice", "numeric", "predict"], quizzes
    for q in quizzes:
        assert q["error"] is None and q["role"] == "group" and q["name"].strip(), q
        assert q["live"] == "polite", q
    assert not log.problems(), log.problems()


def test_multiple_choice_answers_a_click(open_page):
    page, _ = open_page(DEMO)
    quiz = _quiz(page, 0)
    details = quiz.locator("details")
    quiz.locator("button.xent-quiz-check").click()
    assert "Choose an option" in _feedback(page, 0)
    quiz.locator(".xent-quiz-option[data-letter=c] label").click()
    quiz.locator("button.xent-quiz-check").click()
    assert _feedback(page, 0).startswith("\u2717 Not quite: the answer is (b), not (c).")
    assert quiz.get_attribute("data-quiz-result") == "wrong"
    assert quiz.locator(".xent-quiz-option.is-wrong").get_attribute("data-letter") == "c"
    assert details.evaluate("d => d.open")  # the answer has a second paragraph: shown
    quiz.locator(".xent-quiz-option[data-letter=b] label").click()
    quiz.locator("button.xent-quiz-check").click()
    text = _feedback(page, 0)
    assert text.startswith("\u2713 Right: (b).") and "uniform" in text
    assert quiz.get_attribute("data-quiz-result") == "right"


def test_multiple_choice_by_keyboard_alone(open_page):
    page, _ = open_page(DEMO)
    quiz = _quiz(page, 0)
    quiz.locator("input[type=radio]").first.focus()
    page.keyboard.press("ArrowDown")  # (a) -> (b), as a native radio group does
    page.keyboard.press("Enter")  # implicit submission of the quiz's form
    assert quiz.get_attribute("data-quiz-result") == "right"
    assert _feedback(page, 0).startswith("\u2713 Right")


@pytest.mark.parametrize(
    ("typed", "result"),
    [
        ("0.9333", "right"),
        ("14/15", "right"),
        ("0,933", "right"),
        ("0.95", "wrong"),
        ("1/3", "wrong"),
    ],
)
def test_numeric_answer_with_tolerance(open_page, typed, result):
    page, _ = open_page(DEMO)
    quiz = _quiz(page, 1)
    box = quiz.locator("input.xent-quiz-number")
    box.fill(typed)
    box.press("Enter")
    assert quiz.get_attribute("data-quiz-result") == result
    text = _feedback(page, 1)
    assert "0.933 \u00b1 0.001" in text and "smoothed target" in text


def test_numeric_rejects_text_without_revealing(open_page):
    page, _ = open_page(DEMO)
    quiz = _quiz(page, 1)
    box = quiz.locator("input.xent-quiz-number")
    box.fill("about a third")
    quiz.locator("button.xent-quiz-check").click()
    assert "Type a number" in _feedback(page, 1)
    assert box.get_attribute("aria-invalid") == "true"
    assert quiz.get_attribute("data-quiz-result") is None
    assert "0.933" not in _feedback(page, 1)


def test_predict_then_reveal(open_page):
    page, _ = open_page(DEMO)
    quiz = _quiz(page, 2)
    details = quiz.locator("details")
    assert not details.evaluate("d => d.open")
    quiz.locator("input.xent-quiz-prediction").fill("they shrink")
    quiz.locator("button.xent-quiz-check").click()
    text = _feedback(page, 2)
    assert "they shrink" in text and "do not move" in text
    assert quiz.get_attribute("data-quiz-result") == "revealed"
    assert details.evaluate("d => d.open")
