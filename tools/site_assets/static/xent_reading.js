// Print the book as it reads best on paper (served once by tools/sphinx_reading.py):
// - every collapsed block (solutions, quiz answers, hidden code cells) open while printing;
// - a display formula wider than the printed column scaled down to fit instead of cut off.
// Everything is put back afterwards. xent_reading.css opens <details> with CSS too, where the
// browser allows.
(() => {
  const undo = [];
  window.addEventListener("beforeprint", () => {
    for (const details of document.querySelectorAll("details:not([open])")) {
      details.open = true;
      undo.push(() => { details.open = false; });
    }
    // the formula's width (its own scroll box on screen) against the column it sits in
    for (const box of document.querySelectorAll(".katex-display > .katex > .katex-html")) {
      const display = box.closest(".katex-display");
      const column = getComputedStyle(display.parentElement);
      const room = display.parentElement.clientWidth
        - parseFloat(column.paddingLeft) - parseFloat(column.paddingRight);
      const fit = (0.98 * room) / box.scrollWidth;
      if (fit > 0 && fit < 1) {
        const before = display.style.zoom;
        display.style.zoom = String(Math.max(fit, 0.5));
        undo.push(() => { display.style.zoom = before; });
      }
    }
  });
  window.addEventListener("afterprint", () => {
    while (undo.length) undo.pop()();
  });
})();

// A figure drawn from a notebook cell is scaled down to the column; on a phone a multi-panel
// figure gets small. Each such image becomes a link to the image file itself, so a tap opens it
// at full size (the browser can then zoom and scroll it).
(() => {
  const images = document.querySelectorAll(
    "article .cell_output img, article figure img, article .figure img",
  );
  for (const img of images) {
    if (img.closest("a, .xent-explorer, .xent-quiz")) continue;
    const link = document.createElement("a");
    link.href = img.getAttribute("src");
    link.className = "xent-full-image";
    link.title = "Open the full-size image";
    img.replaceWith(link);
    link.append(img);
  }
})();
