"""The self-check quizzes, as written in the book's sources, are well formed (issue 14).

A quiz is a MyST admonition with ``:class: xent-quiz`` in a markdown cell (recipe:
lib/xent/web_assets/quiz.md). This test reads every chapter and page source, finds each
quiz, and checks what the site script (lib/xent/web_assets/quiz.js) needs: an "Answer" dropdown
whose first paragraph opens with a bold key; for multiple choice an option list "(a) ...",
"(b) ..." that contains the key; for a numeric key a positive tolerance. The key is classified by
quiz.js's own ``parseKey`` under Node (one implementation, no Python twin). Every chapter must
carry at least three quizzes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pytest
from test_web_math import _node  # one way to run the browser-side JS under Node

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "chapters").glob("[0-9][0-9]-*.ipynb"))
PAGES = sorted(p for p in REPO.glob("*.md") if p.name not in {"README.md"})
MIN_PER_CHAPTER = 3

OPEN = re.compile(r"^(?P<fence>:{3,})\{admonition\}\s*(?P<title>.*)$")
CLASS = re.compile(r"^:class:\s*(?P<classes>.*)$")
DROPDOWN = re.compile(r"^(?P<fence>:{3,})\{dropdown\}\s*(?P<title>.*)$")
OPTION = re.compile(r"^[-*]\s+\((?P<letter>[a-h])\)\s+\S")
KEY = re.compile(r"^\*\*(?P<key>[^*]+)\*\*")

DRIVER = r"""
const quiz = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cases.map(([fn, arg]) => {
  const r = fn === "check" ? quiz.check(arg[0], arg[1]) : quiz[fn](arg);
  return typeof r === "number" && !Number.isFinite(r) ? String(r) : r;
});
process.stdout.write(JSON.stringify(out));
"""


def run_quiz_js(calls: list[tuple[str, object]]) -> list:
    """Evaluate [(function name, argument), ...] with quiz.js under Node."""
    path = resources.files("xent").joinpath("web_assets", "quiz.js")
    return _node(DRIVER, [str(path)], calls)


@dataclass
class Quiz:
    where: str
    title: str
    options: list[str] = field(default_factory=list)
    answer_title: str | None = None
    key: str | None = None
    problems: list[str] = field(default_factory=list)


def markdown_of(path: Path) -> list[str]:
    """The markdown sources of a page: one text per markdown cell of a notebook."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    return [path.read_text(encoding="utf-8")]


def find_quizzes(text: str, where: str) -> list[Quiz]:
    """Every admonition of class xent-quiz in a markdown text, with its parts."""
    lines = text.splitlines()
    quizzes: list[Quiz] = []
    i = 0
    while i < len(lines):
        m = OPEN.match(lines[i].strip())
        cls = CLASS.match(lines[i + 1].strip()) if m and i + 1 < len(lines) else None
        if not (m and cls and "xent-quiz" in cls["classes"].split()):
            i += 1
            continue
        fence = m["fence"]
        quiz = Quiz(where=f"{where}, line {i + 1}", title=m["title"].strip())
        if len(fence) < 4:
            quiz.problems.append("the quiz fence needs four colons (the answer inside uses three)")
        if not quiz.title:
            quiz.problems.append("the quiz has no title")
        j = i + 2
        body: list[str] = []
        while j < len(lines) and lines[j].strip() != fence:
            body.append(lines[j])
            j += 1
        if j == len(lines):
            quiz.problems.append(f"no closing {fence}")
        parse_body(quiz, body)
        quizzes.append(quiz)
        i = j + 1
    return quizzes


def parse_body(quiz: Quiz, body: list[str]) -> None:
    k = 0
    while k < len(body):
        line = body[k].strip()
        d = DROPDOWN.match(line)
        if d:
            if quiz.answer_title is not None:
                quiz.problems.append("more than one dropdown in the quiz")
            quiz.answer_title = d["title"].strip()
            k += 1
            while k < len(body) and body[k].strip() == "":
                k += 1
            key = KEY.match(body[k].strip()) if k < len(body) else None
            quiz.key = key["key"].strip() if key else None
            while k < len(body) and body[k].strip() != d["fence"]:
                k += 1
            if k == len(body):
                quiz.problems.append(f"the answer dropdown has no closing {d['fence']}")
        elif quiz.answer_title is None and OPTION.match(line):
            quiz.options.append(OPTION.match(line)["letter"])
        k += 1
    if quiz.answer_title is None:
        quiz.problems.append("no `:::{dropdown} Answer` inside the quiz")
    elif quiz.answer_title != "Answer":
        quiz.problems.append(f"the dropdown is titled {quiz.answer_title!r}, not 'Answer'")
    if quiz.answer_title is not None and quiz.key is None:
        quiz.problems.append("the answer does not open with a bold key such as **(b)**")
    if quiz.key and "$" in quiz.key:
        quiz.problems.append("the key must be plain text, not math")
    expected = [chr(ord("a") + n) for n in range(len(quiz.options))]
    if quiz.options and quiz.options != expected:
        quiz.problems.append(f"options are labelled {quiz.options}, expected {expected}")


def check_keys(quizzes: list[Quiz]) -> None:
    """Classify each key with quiz.js's parseKey and check it against the options."""
    keyed = [q for q in quizzes if q.key]
    kinds = run_quiz_js([("parseKey", q.key) for q in keyed])
    for quiz, kind in zip(keyed, kinds, strict=True):
        if kind["kind"] == "choice":
            if len(quiz.options) < 2:
                quiz.problems.append("a multiple-choice key but fewer than two (a), (b) options")
            elif kind["letter"] not in quiz.options:
                quiz.problems.append(f"key ({kind['letter']}) is not one of the options")
        elif kind["kind"] == "numeric":
            if not kind["tolerance"] > 0:
                quiz.problems.append("a numeric key needs a positive tolerance")
            if quiz.options:
                quiz.problems.append("options (a), (b) given but the key is a number")
        elif quiz.options:
            quiz.problems.append(
                f"options (a), (b) given but the key {quiz.key!r} is not a letter like (b)"
            )


def all_quizzes() -> dict[str, list[Quiz]]:
    found: dict[str, list[Quiz]] = {}
    for path in CHAPTERS + PAGES:
        rel = path.relative_to(REPO).as_posix()
        found[rel] = []
        for n, text in enumerate(markdown_of(path)):
            found[rel] += find_quizzes(text, f"{rel} markdown cell {n}")
    check_keys([q for qs in found.values() for q in qs])
    return found


@pytest.fixture(scope="module")
def quizzes() -> dict[str, list[Quiz]]:
    return all_quizzes()


def test_every_quiz_is_well_formed(quizzes):
    problems = [
        f"{q.where} ({q.title}): {p}" for qs in quizzes.values() for q in qs for p in q.problems
    ]
    counts = {k: len(v) for k, v in quizzes.items() if v}
    print(f"quizzes per source: {counts}")
    assert not problems, "\n".join(problems)
    assert sum(counts.values()) >= 3  # at least the playground page's three


def test_every_chapter_has_three_quizzes(quizzes):
    short = {
        path: len(qs)
        for path, qs in quizzes.items()
        if path.startswith("chapters/") and len(qs) < MIN_PER_CHAPTER
    }
    assert not short, (
        f"chapters with fewer than {MIN_PER_CHAPTER} self-check quizzes (issue 14; recipe in "
        f"lib/xent/web_assets/quiz.md): {short}"
    )


BAD_SOURCES = {
    "no answer": "::::{admonition} Quick check: x\n:class: xent-quiz\n\nQ?\n::::\n",
    "wrong letter": (
        "::::{admonition} Quick check: x\n:class: xent-quiz\n\nQ?\n\n- (a) one\n- (b) two\n\n"
        ":::{dropdown} Answer\n**(c)**. Because.\n:::\n::::\n"
    ),
    "options out of order": (
        "::::{admonition} Quick check: x\n:class: xent-quiz\n\nQ?\n\n- (a) one\n- (c) two\n\n"
        ":::{dropdown} Answer\n**(a)**. Because.\n:::\n::::\n"
    ),
    "no key": (
        "::::{admonition} Quick check: x\n:class: xent-quiz\n\nQ?\n\n"
        ":::{dropdown} Answer\nBecause.\n:::\n::::\n"
    ),
    "math key": (
        "::::{admonition} Quick check: x\n:class: xent-quiz\n\nQ?\n\n"
        ":::{dropdown} Answer\n**$1/2$**. Because.\n:::\n::::\n"
    ),
    "three-colon quiz": (
        ":::{admonition} Quick check: x\n:class: xent-quiz\n\nQ?\n\n"
        ":::{dropdown} Answer\n**0.5 ± 0.01**. Because.\n:::\n:::\n"
    ),
    "options with a prediction key": (
        "::::{admonition} Quick check: x\n:class: xent-quiz\n\nQ?\n\n- (a) one\n- (b) two\n\n"
        ":::{dropdown} Answer\n**b**. Because.\n:::\n::::\n"
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_SOURCES))
def test_checker_rejects_a_malformed_quiz(name):
    (quiz,) = find_quizzes(BAD_SOURCES[name], name)
    check_keys([quiz])
    assert quiz.problems, f"{name}: accepted"


def test_checker_accepts_the_three_kinds():
    good = (
        "::::{admonition} Quick check: a\n:class: xent-quiz\n\nQ?\n\n- (a) one\n- (b) $2$\n\n"
        ":::{dropdown} Answer\n**(b)**. Because.\n:::\n::::\n\n"
        "::::{admonition} Quick check: b\n:class: xent-quiz\n\nQ?\n\n"
        ":::{dropdown} Answer\n**0.693 ± 0.001**. Because.\n:::\n::::\n\n"
        "::::{admonition} Predict, then reveal: c\n:class: dropdown xent-quiz\n\nQ?\n\n"
        ":::{dropdown} Answer\n**It stays.** Because.\n:::\n::::\n"
    )
    found = find_quizzes(good, "good")
    check_keys(found)
    assert [q.problems for q in found] == [[], [], []]
    assert [q.options for q in found] == [["a", "b"], [], []]


def test_key_kinds_and_reader_numbers():
    calls = [
        ("parseKey", "(b)"),
        ("parseKey", "Answer: (C)."),
        ("parseKey", "0.693 ± 0.001"),
        ("parseKey", "-1e-3 +/- 5e-4"),
        ("parseKey", "\u22122 \u00b1 0.5"),
        ("parseKey", "The regions do not move."),
        ("parseKey", "1 ± -1"),
        ("parseNumber", "1/3"),
        ("parseNumber", " 0,5 "),
        ("parseNumber", "\u22122e-3"),
        ("parseNumber", "abc"),
        ("parseNumber", "1/3/4"),
        ("parseNumber", ""),
        ("check", [0.6935, {"value": 0.693, "tolerance": 0.001}]),
        ("check", [0.694, {"value": 0.693, "tolerance": 0.001}]),
        ("check", [0.6941, {"value": 0.693, "tolerance": 0.001}]),
        ("check", ["NaN", {"value": 0.693, "tolerance": 0.001}]),
    ]
    out = run_quiz_js(calls)
    assert out[0] == {"kind": "choice", "letter": "b"}
    assert out[1] == {"kind": "choice", "letter": "c"}
    assert out[2] == {"kind": "numeric", "value": 0.693, "tolerance": 0.001}
    assert out[3] == {"kind": "numeric", "value": -1e-3, "tolerance": 5e-4}
    assert out[4] == {"kind": "numeric", "value": -2, "tolerance": 0.5}
    assert out[5] == {"kind": "predict"}
    assert out[6] == {"kind": "predict"}  # a negative tolerance is no numeric key
    assert out[7] == pytest.approx(1 / 3, rel=1e-15)
    assert out[8] == 0.5 and out[9] == -2e-3
    assert out[10:13] == ["NaN", "NaN", "NaN"]
    assert out[13:17] == [True, True, False, False]
