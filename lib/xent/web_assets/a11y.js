/*
 * a11y.js: small accessibility aids for every page of the book (served once by the site).
 *
 * - "Jump to the explorer": a chapter that holds an explorer (`.xent-explorer`, `.playground`)
 *   gets a skip link right under its title, so keyboard and screen-reader users reach the
 *   interactive part without tabbing through the whole chapter. The link targets the first
 *   explorer (given the id `explorer` when it has none) and moves focus there.
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

  function run() { addJumpLink(document); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
})();
