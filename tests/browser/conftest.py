"""Fixtures for the browser tests of the built website (_build/html) in Debian's Chromium.

The site is served from a thread on 127.0.0.1 (a random free port) for the whole session;
Chromium is driven by Playwright for Python with the system browser (never `playwright
install`). Every page a test opens goes through `open_page`, which blocks and records any
request that is not to that server and collects console errors, page errors, failed requests
and HTTP errors, so a test can assert the page was self-contained and clean.

If _build/html does not exist the tests FAIL (build it first: `make site`).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, NOT_BUILT, SCREENSHOTS, SITE, PageLog


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail(NOT_BUILT, pytrace=False)
    return SITE


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    """http://127.0.0.1:PORT/ serving _build/html from a background thread."""
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


@pytest.fixture(scope="session")
def browser():
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium; "
            "or set XENT_CHROMIUM). Never run `playwright install` here.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """_build/screenshots/, emptied of the previous run's PNGs."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS


@pytest.fixture
def open_page(browser, base_url):
    """open_page(path_or_none) -> (page, log). None gives a blank page on the same guard."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    local = urlsplit(base_url).netloc

    def guard(route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == local:
            route.continue_()
        else:
            log.offsite.append(url)
            route.abort("blockedbyclient")

    log = PageLog()
    context.route("**/*", guard)

    def _open(path: str | None):
        page = context.new_page()
        page.on("request", lambda r: log.requests.append(r.url))
        page.on(
            "requestfailed",
            lambda r: None if r.url in log.offsite else log.failed.append(f"{r.url} {r.failure}"),
        )
        page.on(
            "response",
            lambda r: log.http_errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on(
            "console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e: log.page_errors.append(str(e)))
        if path is not None:
            page.goto(base_url + path, wait_until="load")
            page.wait_for_load_state("networkidle")
        return page, log

    yield _open
    context.close()
