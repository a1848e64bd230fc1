/*
 * quiz.js: the book's self-check quizzes, kernel-free and offline (no library, no network).
 *
 * A quiz is written in a chapter's markdown as a MyST admonition with the class `xent-quiz`
 * (the authoring recipe, with complete examples, is in lib/xent/web_assets/quiz.md):
 *
 *   ::::{admonition} Quick check: equal logits
 *   :class: xent-quiz
 *
 *   The question, in one or more paragraphs.
 *
 *   - (a) first option
 *   - (b) second option
 *
 *   :::{dropdown} Answer
 *   **(b)**. The one-line explanation. Any further paragraphs.
 *   :::
 *   ::::
 *
 * Without this script (JupyterLab, a printed page) it reads as a question, its options and a
 * collapsed answer. With it, the page gains controls and immediate feedback. The KIND of a quiz
 * follows from the bold KEY that opens the answer:
 *
 *   **(b)**             multiple choice: the options are the list items "(a) ...", "(b) ..."
 *   **0.693 ± 0.001**   numeric with a tolerance ("+/-" also works; the reader may type 1/3)
 *   anything else      predict-then-reveal: the reader writes a prediction, then reveals
 *
 * Feedback goes to a polite live region: right or wrong, the answer, and the explanation (the
 * first paragraph of the answer after its key); the answer dropdown then opens.
 * Accessible by keyboard: a named group per quiz, native radio buttons in a fieldset, a form
 * whose Enter key checks, visible focus, and right/wrong said in words (not colour alone).
 *
 * In Node (tests/test_quiz_source.py) the pure parts are exported: parseKey, parseNumber, check.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.xentQuiz = api;
    if (root.document) {
      if (root.document.readyState === "loading") {
        root.document.addEventListener("DOMContentLoaded", function () { api.mountAll(root.document); });
      } else {
        api.mountAll(root.document);
      }
    }
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var NUMBER = "[-+\u2212]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+\u2212]?\\d+)?";
  var CHOICE_KEY = /^\s*(?:answer\s*:?\s*)?\(([a-h])\)\s*\.?\s*$/i;
  var NUMERIC_KEY = new RegExp(
    "^\\s*(?:answer\\s*:?\\s*)?(" + NUMBER + ")\\s*(?:\u00b1|\\+/-|\\+-)\\s*(" + NUMBER + ")\\s*\\.?\\s*$"
  );
  var OPTION_LABEL = /^\s*\(([a-h])\)\s*/;

  function toNumber(text) {
    return Number(text.replace(/\u2212/g, "-"));
  }

  /*
   * The kind of a quiz from the text of its bold key:
   *   {kind: "choice", letter: "b"} | {kind: "numeric", value, tolerance} | {kind: "predict"}.
   */
  function parseKey(text) {
    var m = CHOICE_KEY.exec(text || "");
    if (m) return { kind: "choice", letter: m[1].toLowerCase() };
    m = NUMERIC_KEY.exec(text || "");
    if (m) {
      var tol = toNumber(m[2]);
      if (Number.isFinite(toNumber(m[1])) && Number.isFinite(tol) && tol >= 0) {
        return { kind: "numeric", value: toNumber(m[1]), tolerance: tol };
      }
    }
    return { kind: "predict" };
  }

  /* A reader's number: "0.69", "-1e-3", "0,69", "1/3", "−2"; NaN when it is not one. */
  function parseNumber(text) {
    var s = String(text || "").trim().replace(/\u2212/g, "-").replace(/\s+/g, "");
    if (/^[-+]?\d+,\d+$/.test(s)) s = s.replace(",", ".");
    var frac = new RegExp("^(" + NUMBER + ")/(" + NUMBER + ")$").exec(s);
    if (frac) return toNumber(frac[1]) / toNumber(frac[2]);
    return new RegExp("^" + NUMBER + "$").test(s) ? toNumber(s) : NaN;
  }

  /* Is the reader's number within the tolerance? (a hair of slack for decimal round-off) */
  function check(value, key) {
    if (!Number.isFinite(value)) return false;
    var slack = 1e-12 * Math.max(1, Math.abs(key.value));
    return Math.abs(value - key.value) <= key.tolerance + slack;
  }

  /* ---------------- DOM ---------------- */

  var counter = 0;

  function el(doc, tag, attrs, children) {
    var node = doc.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? doc.createTextNode(c) : c);
    });
    return node;
  }

  /* The answer block: sphinx-design's <details> dropdown (or a toggled admonition). */
  function findAnswer(box) {
    var details = box.querySelector("details");
    if (details) {
      var body = details.querySelector(".sd-summary-content") || details;
      // the feedback repeats the first paragraph; open the dropdown only when it says more
      var more = body.querySelectorAll(":scope > :not(p:first-of-type)").length > 0;
      return { node: details, body: body, open: function () { if (more) details.open = true; } };
    }
    return null;
  }

  /* The option list: the first list whose every item starts "(a)", "(b)", ... in order. */
  function findOptions(box, answer) {
    var lists = box.querySelectorAll("ul, ol");
    for (var i = 0; i < lists.length; i++) {
      var list = lists[i];
      if (answer && answer.node.contains(list)) continue;
      var items = Array.prototype.filter.call(list.children, function (c) { return c.tagName === "LI"; });
      var ok = items.length >= 2 && items.every(function (li, k) {
        var m = OPTION_LABEL.exec(li.textContent);
        return m && m[1].toLowerCase() === String.fromCharCode(97 + k);
      });
      if (ok) return { list: list, items: items };
    }
    return null;
  }

  /* Remove the leading "(a) " text from an option item's first text node. */
  function stripLabel(node) {
    var walker = node.ownerDocument.createTreeWalker(node, 4 /* NodeFilter.SHOW_TEXT */);
    var t = walker.nextNode();
    while (t && t.nodeValue.trim() === "") t = walker.nextNode();
    if (t) t.nodeValue = t.nodeValue.replace(OPTION_LABEL, "");
  }

  /* The <strong> that opens a paragraph (its key), or null. */
  function leadingStrong(p) {
    if (!p) return null;
    for (var n = p.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 3 && n.nodeValue.trim() === "") continue;
      return n.nodeType === 1 && n.tagName === "STRONG" ? n : null;
    }
    return null;
  }

  /* A copy of the explanation: the first paragraph of the answer, without its bold key. */
  function explanationOf(answer, keyNode) {
    var first = answer.body.querySelector("p");
    if (!first) return null;
    var copy = first.cloneNode(true);
    copy.removeAttribute("id");
    copy.querySelectorAll("[id]").forEach(function (n) { n.removeAttribute("id"); });
    if (keyNode) {
      leadingStrong(copy).remove();
      stripLeading(copy);
    }
    var span = first.ownerDocument.createElement("span");
    span.className = "xent-quiz-explanation";
    while (copy.firstChild) span.appendChild(copy.firstChild);
    return span;
  }

  /* Drop the ". " or ": " that followed a removed key. */
  function stripLeading(node) {
    var t = node.firstChild;
    while (t && t.nodeType === 3 && t.nodeValue.trim() === "") { node.removeChild(t); t = node.firstChild; }
    if (t && t.nodeType === 3) t.nodeValue = t.nodeValue.replace(/^\s*[.:\u2014\u2013-]?\s*/, "");
  }

  function typeset(node) {
    var mj = typeof window !== "undefined" && window.MathJax;
    if (mj && mj.typesetPromise && /\\\(|\\\[/.test(node.textContent)) mj.typesetPromise([node]);
  }

  function say(feedback, ok, lead, explanation) {
    var doc = feedback.ownerDocument;
    feedback.textContent = "";
    feedback.className = "xent-quiz-feedback " + (ok === null ? "is-info" : ok ? "is-right" : "is-wrong");
    var mark = ok === null ? "" : ok ? "\u2713 " : "\u2717 ";
    feedback.appendChild(el(doc, "strong", {}, [mark + lead]));
    if (explanation) {
      feedback.appendChild(doc.createTextNode(" "));
      var copy = explanation.cloneNode(true);
      feedback.appendChild(copy);
      typeset(copy);
    }
  }

  function mount(box) {
    if (box.getAttribute("data-quiz-mounted")) return null;
    var doc = box.ownerDocument;
    var answer = findAnswer(box);
    if (!answer) {
      box.setAttribute("data-quiz-error", "no answer dropdown");
      return null;
    }
    var keyNode = leadingStrong(answer.body.querySelector("p"));
    var key = parseKey(keyNode ? keyNode.textContent : "");
    var options = key.kind === "choice" ? findOptions(box, answer) : null;
    if (key.kind === "choice" && !options) {
      box.setAttribute("data-quiz-error", "no (a), (b), ... option list for key " + key.letter);
      return null;
    }
    var id = "xent-quiz-" + (++counter);
    box.setAttribute("data-quiz-mounted", key.kind);
    box.setAttribute("role", "group");
    var title = box.querySelector(".admonition-title");
    if (title) {
      if (!title.id) title.id = id + "-title";
      box.setAttribute("aria-labelledby", title.id);
    } else {
      box.setAttribute("aria-label", "Self-check quiz");
    }
    var explanation = explanationOf(answer, key.kind === "predict" ? null : keyNode);
    var form = el(doc, "form", { "class": "xent-quiz-form", novalidate: "" });
    var feedback = el(doc, "p", { "class": "xent-quiz-feedback", role: "status", "aria-live": "polite" });
    var button = el(doc, "button", { type: "submit", "class": "xent-quiz-check" });

    if (key.kind === "choice") {
      var fieldset = el(doc, "fieldset", { "class": "xent-quiz-options" },
        [el(doc, "legend", { "class": "xent-quiz-legend" }, ["Choose one answer"])]);
      var right = null;
      options.items.forEach(function (li, k) {
        var letter = String.fromCharCode(97 + k);
        var input = el(doc, "input", { type: "radio", name: id, id: id + "-" + letter, value: letter });
        var label = el(doc, "label", { "for": id + "-" + letter });
        label.appendChild(el(doc, "span", { "class": "xent-quiz-letter" }, ["(" + letter + ")"]));
        var content = el(doc, "span", { "class": "xent-quiz-option-text" });
        while (li.firstChild) content.appendChild(li.firstChild);
        // list items hold <p> in Sphinx's output; keep their inline content only
        content.querySelectorAll("p").forEach(function (p) {
          while (p.firstChild) p.parentNode.insertBefore(p.firstChild, p);
          p.remove();
        });
        stripLabel(content);
        label.appendChild(content);
        var row = el(doc, "div", { "class": "xent-quiz-option", "data-letter": letter }, [input, label]);
        fieldset.appendChild(row);
        if (letter === key.letter) right = row;
      });
      if (!right) {
        box.setAttribute("data-quiz-error", "key (" + key.letter + ") is not an option");
        return null;
      }
      options.list.replaceWith(fieldset);
      button.textContent = "Check";
      form.appendChild(button);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var chosen = fieldset.querySelector("input:checked");
        fieldset.querySelectorAll(".xent-quiz-option").forEach(function (r) {
          r.classList.remove("is-right", "is-wrong");
        });
        if (!chosen) {
          say(feedback, null, "Choose an option first.", null);
          return;
        }
        var ok = chosen.value === key.letter;
        chosen.closest(".xent-quiz-option").classList.add(ok ? "is-right" : "is-wrong");
        right.classList.add("is-right");
        say(feedback, ok, ok ? "Right: (" + key.letter + ")." :
          "Not quite: the answer is (" + key.letter + "), not (" + chosen.value + ").", explanation);
        box.setAttribute("data-quiz-result", ok ? "right" : "wrong");
        answer.open();
      });
      fieldset.after(form);
      form.insertBefore(fieldset, form.firstChild);
    } else if (key.kind === "numeric") {
      var inputId = id + "-value";
      var input = el(doc, "input", {
        type: "text", inputmode: "decimal", id: inputId, "class": "xent-quiz-number",
        autocomplete: "off", spellcheck: "false"
      });
      button.textContent = "Check";
      form.appendChild(el(doc, "label", { "for": inputId }, ["Your answer"]));
      form.appendChild(input);
      form.appendChild(button);
      var shown = keyNode.textContent.replace(/^\s*answer\s*:?\s*/i, "").replace(/\.\s*$/, "").trim();
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var x = parseNumber(input.value);
        if (Number.isNaN(x)) {
          say(feedback, null, "Type a number, such as 0.5, -2e-3 or 1/3.", null);
          input.setAttribute("aria-invalid", "true");
          return;
        }
        input.removeAttribute("aria-invalid");
        var ok = check(x, key);
        say(feedback, ok, ok ? "Right: the answer is " + shown + "." :
          "Not quite: the answer is " + shown + ".", explanation);
        box.setAttribute("data-quiz-result", ok ? "right" : "wrong");
        answer.open();
      });
      answer.node.before(form);
    } else {
      var noteId = id + "-prediction";
      button.textContent = "Reveal";
      form.appendChild(el(doc, "label", { "for": noteId }, ["Your prediction (for yourself)"]));
      form.appendChild(el(doc, "input", {
        type: "text", id: noteId, "class": "xent-quiz-prediction", autocomplete: "off"
      }));
      form.appendChild(button);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var note = form.querySelector("input").value.trim();
        say(feedback, null, note ? "You predicted: \u201c" + note + "\u201d. Compare:" : "The answer:",
          explanation);
        box.setAttribute("data-quiz-result", "revealed");
        answer.open();
      });
      answer.node.before(form);
    }
    form.after(feedback);
    return key.kind;
  }

  function mountAll(doc) {
    var boxes = (doc || document).querySelectorAll(".xent-quiz");
    var kinds = [];
    Array.prototype.forEach.call(boxes, function (box) { kinds.push(mount(box)); });
    return kinds;
  }

  return { parseKey: parseKey, parseNumber: parseNumber, check: check, mount: mount, mountAll: mountAll };
});
