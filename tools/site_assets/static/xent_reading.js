// Print the book as it reads best on paper: every collapsed block (solutions, quiz answers,
// hidden code cells) open while printing, and closed again afterwards. Served once by
// tools/sphinx_reading.py; xent_reading.css does the same with CSS where the browser allows.
(() => {
  const opened = [];
  window.addEventListener("beforeprint", () => {
    for (const details of document.querySelectorAll("details:not([open])")) {
      details.open = true;
      opened.push(details);
    }
  });
  window.addEventListener("afterprint", () => {
    while (opened.length) opened.pop().open = false;
  });
})();
