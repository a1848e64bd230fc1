/*
 * a11y.js: small accessibility aids for every page of the book (served once by the site).
 *
 * - "Jump to the explorer": a chapter that holds an explorer (`.xent-explorer`, `.playground`)
 *   gets a skip link right under its title, so keyboard and screen-reader users reach the
 *   interactive part without tabbing through the whole chapter. The link targets the first
 *   explorer (given the id `explorer` when it has none) and moves focus there.
 * - Wide display formulas: a formula wider than the column scrolls sideways; a keyboard user
 *   can only scroll it if it can take focus, so exactly the formulas that overflow (checked
 *   when each is laid out, and again when its width changes) become Tab stops, named "wide
 *   formula". Every other formula stays out of the Tab order, as the theme does for wide code
 *   blocks.
 */
(function () {
  "use strict";

  function addJumpLink(doc) {
    var article = doc.querySelector("main article") || doc.querySelector("main");
    if (!article || article.querySelector("a.xent-jump-link")) return;
    var first = article.querySelector(".xent-explorer, .playground");
    if (!first) return;
    if (!first.id) first.id = doc.getElementById("explorer") ? "xent-first-explorer" : "explorer";
    if (!first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
    var count = article.querySelectorAll(".xent-explorer, .playground").length;
    var link = doc.createElement("a");
    link.className = "xent-jump-link";
    link.href = "#" + first.id;
    link.textContent = count > 1 ? "Jump to the first explorer" : "Jump to the explorer";
    link.addEventListener("click", function () {
      // focus follows the jump, so the next Tab continues inside the explorer
      setTimeout(function () { first.focus({ preventScroll: true }); }, 0);
    });
    var p = doc.createElement("p");
    p.className = "xent-jump";
    p.appendChild(link);
    var title = article.querySelector("h1");
    if (title && title.parentNode) {
      title.parentNode.insertBefore(p, title.nextSibling);
    } else {
      article.insertBefore(p, article.firstChild);
    }
  }

  function markWide(m) {
    var wide = m.scrollWidth > m.clientWidth + 1;
    if (wide && !m.hasAttribute("data-xent-wide")) {
      m.setAttribute("data-xent-wide", "");
      m.setAttribute("tabindex", "0");
      m.setAttribute("role", "group");
      m.setAttribute("aria-label", "wide formula: scroll sideways with the arrow keys");
    } else if (!wide && m.hasAttribute("data-xent-wide")) {
      ["data-xent-wide", "tabindex", "role", "aria-label"].forEach(function (a) {
        m.removeAttribute(a);
      });
    }
  }

  /* Whether a formula is laid out: the site lays out a block only near the screen
     (content-visibility in xent_reading.css); measuring one that is not would force it. */
  function laidOut(m) {
    return !m.checkVisibility || m.checkVisibility({ contentVisibilityAuto: true });
  }

  /* A formula is checked when it is laid out and whenever its box changes width (the first
     layout near the screen, a resized window: a ResizeObserver reports both, after layout, so
     nothing here forces one), and again once the fonts are in, which changes the formula's
     width but not its box's. */
  function watchWideFormulas(doc) {
    var formulas = Array.prototype.slice.call(doc.querySelectorAll(".bd-article div.math"));
    var recheck = function () {
      formulas.forEach(function (m) { if (laidOut(m)) markWide(m); });
    };
    if (window.ResizeObserver) {
      var observer = new ResizeObserver(function (entries) {
        entries.forEach(function (entry) { markWide(entry.target); });
      });
      formulas.forEach(function (m) { observer.observe(m); });
    } else {
      recheck();
      var timer = null;
      window.addEventListener("resize", function () {
        clearTimeout(timer);
        timer = setTimeout(recheck, 200);
      });
    }
    if (doc.fonts && doc.fonts.ready) doc.fonts.ready.then(recheck);
  }

  function run() {
    addJumpLink(document);
    watchWideFormulas(document);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
