"""Fixtures for the browser tests of the built website (_build/html) in Debian's Chromium.

The site is served from a thread on 127.0.0.1 (a random free port) for the whole session;
Chromium is driven by Playwright for Python with the system browser (never `playwright
install`). Every page a test opens goes through `open_page` (a page of the site) or
`blank_page` (nothing may load at all), which block and record any request that is not to the
local server and collect console errors, page errors, failed requests and HTTP errors, so a
test can assert the page was self-contained and clean.

If _build/html does not exist the tests FAIL (build it first: `make site`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NOT_BUILT,
    SCREENSHOTS,
    SITE,
    PageLog,
    serve,
)


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail(NOT_BUILT, pytrace=False)
    return SITE


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    """http://127.0.0.1:PORT/ serving _build/html from a background thread."""
    with serve(site) as url:
        yield url


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
    """_build/screenshots/ (emptied of the previous run's PNGs by pytest_configure)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_configure(config: pytest.Config) -> None:
    """Empty _build/screenshots/ once per run, in the main process only: with two workers
    (pytest-xdist), a worker that emptied it in its own session fixture deleted the PNGs the
    other worker had just written."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller has done it
        return
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()


class _GuardedContext:
    """A browser context whose pages may only reach `local_netloc` (everything else is blocked
    and recorded), with one PageLog for all its pages."""

    def __init__(self, browser, local_netloc: str | None) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.local = local_netloc
        self.log = PageLog()
        self.context.route("**/*", self._guard)

    def _guard(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or (self.local and parts.netloc == self.local):
            route.continue_()
        else:
            self.log.offsite.append(url)
            route.abort("blockedbyclient")

    def new_page(self):
        log = self.log
        page = self.context.new_page()
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
        return page


@pytest.fixture
def open_page(browser, base_url):
    """open_page(path) -> (page, log): a page of the built site, loaded and network-idle."""
    guarded = _GuardedContext(browser, urlsplit(base_url).netloc)

    def _open(path: str):
        page = guarded.new_page()
        page.goto(base_url + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        return page, guarded.log

    yield _open
    guarded.context.close()


@pytest.fixture
def blank_page(browser):
    """(page, log) for a blank page that may load nothing at all (no site needed)."""
    guarded = _GuardedContext(browser, None)
    yield guarded.new_page(), guarded.log
    guarded.context.close()
