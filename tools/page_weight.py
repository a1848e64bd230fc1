#!/usr/bin/env python3
"""Measure what each page of the built website costs a reader: requests, bytes, load time.

Serves a built site (default ``_build/html``) on 127.0.0.1 and opens each page in a fresh
Chromium context (empty cache), waits until the network is idle, and reports per page

- ``requests``: every request the page made (the HTML, scripts, styles, fonts, images, ...);
- ``bytes``: the sum of the response bodies as served, uncompressed (the local server does not
  compress); this is the page weight the book's budget (2.5 MB) is about;
- ``DCL``: DOMContentLoaded, in ms from the start of navigation (Navigation Timing), the best of
  ``--runs`` cold loads (timings on a busy machine are noisy; the best run is the least disturbed).

The same function measures pages for ``tests/browser/test_reading.py``.

Usage: python tools/page_weight.py [--site DIR] [--runs N] [--markdown] [PAGE ...]
(Chromium from $XENT_CHROMIUM or /usr/bin/chromium, driven by Playwright for Python.)
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = os.environ.get("XENT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DEFAULT_PAGES = ["index.html"] + [f"chapters/{n}.html" for n in (
    "01-entropy", "02-softmax", "03-softmax-jacobian", "04-cross-entropy-gradient",
    "05-weighted-cross-entropy", "06-fashion-mnist", "07-sigmoid-multilabel", "08-calibration",
    "09-numbers-and-scale",
)] + ["playground.html"]  # fmt: skip

DCL_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return nav.domContentLoadedEventEnd - nav.startTime;
}"""


@dataclass
class PageWeight:
    path: str
    requests: int
    bytes: int
    dcl_ms: float
    urls: list[tuple[str, int]]  # (url, body bytes) of every response, in order

    def heaviest(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.urls, key=lambda u: -u[1])[:n]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """http://127.0.0.1:PORT/ serving `site` from a background thread."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _one_load(browser, url: str) -> tuple[float, list[tuple[str, int]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        responses: list = []
        page.on("response", lambda r: responses.append(r))
        page.goto(url, wait_until="load")
        try:
            page.wait_for_load_state("networkidle", timeout=60_000)
        except Exception as err:  # noqa: BLE001 (report what loaded so far, say so)
            print(f"page_weight: {url}: network not idle after 60 s ({type(err).__name__})")
        dcl = float(page.evaluate(DCL_JS))
        sizes = []
        for response in responses:
            try:
                size = len(response.body())
            except Exception:  # noqa: BLE001 (redirects and aborted requests have no body)
                size = 0
            sizes.append((response.url, size))
        return dcl, sizes
    finally:
        context.close()


def measure(browser, base_url: str, path: str, runs: int = 3) -> PageWeight:
    """Cold-load `path` `runs` times; requests and bytes of the first load, the best DCL."""
    best, first = float("inf"), None
    for _ in range(max(1, runs)):
        dcl, sizes = _one_load(browser, base_url + path)
        best = min(best, dcl)
        first = first or sizes
    assert first is not None
    return PageWeight(path, len(first), sum(s for _, s in first), best, first)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("--site", type=Path, default=root / "_build" / "html")
    parser.add_argument("--runs", type=int, default=3, help="cold loads per page (best DCL)")
    parser.add_argument("--heaviest", type=int, default=0, help="list the N largest responses")
    parser.add_argument("pages", nargs="*", default=DEFAULT_PAGES)
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        raise SystemExit(f"page_weight: no built site in {args.site} (run `make site` first)")

    from playwright.sync_api import sync_playwright

    with serve(args.site) as base_url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            print("| page | requests | bytes | DOMContentLoaded |")
            print("| --- | ---: | ---: | ---: |")
            for path in args.pages:
                w = measure(browser, base_url, path, args.runs)
                print(f"| {path} | {w.requests} | {w.bytes / 1e6:.2f} MB | {w.dcl_ms:.0f} ms |")
                for url, size in w.heaviest(args.heaviest):
                    print(f"|   {url.removeprefix(base_url)} | | {size / 1e3:.0f} kB | |")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
