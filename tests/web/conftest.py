"""Browser fixtures: the app served on 127.0.0.1 by werkzeug in a thread (fresh database),
headless Debian Chromium driven by Playwright at 375×667, and a guard that records every
request, console error and page error and blocks anything that would leave 127.0.0.1."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PHONE = {"width": 375, "height": 667}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.path.exists(CHROMIUM) and shutil.which(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent (make test installs Debian's chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server(app, databases):
    """The whole app on http://127.0.0.1:<free port>/ with its own fresh database ("today" as `app`'s)."""
    from werkzeug.serving import make_server

    from webhooks import create_app

    live = create_app({"TESTING": True, "DATABASE_URL": databases.new("live"), "TODAY": app.config["TODAY"],
                       "SECRET_KEY": "test"})
    with live.app_context():  # build the engine (matcher index) before the first page asks
        from webhooks.db import get_engine

        get_engine()
    server = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class Guard:
    """What a page did: every request, blocked outside requests, console and page errors."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.errors: list[str] = []

    def check(self) -> None:
        assert not self.outside, f"requests left 127.0.0.1: {self.outside}"
        assert not self.errors, f"console or page errors: {self.errors}"


@pytest.fixture()
def page(browser, live_server):
    """A fresh phone-sized page (375×667, zh-CN); fails the test on console errors or outside requests."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", base_url=live_server)
    guard = Guard()

    def route(route):  # noqa: ANN001
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host == "127.0.0.1":
            route.continue_()
        else:
            guard.outside.append(url)
            route.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("request", lambda r: guard.requests.append(r.url))
    pg.on("console", lambda m: guard.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: guard.errors.append(f"pageerror: {e}"))
    pg.guard = guard
    yield pg
    context.close()
    guard.check()


_written: list[Path] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ANN001
    """Tell where the screenshots of this run are."""
    if _written:
        terminalreporter.write_line(f"browser screenshots ({len(_written)}): {SCREENSHOTS}/")


def shot(page, name: str, full_page: bool = False) -> Path:
    """Save a screenshot (the phone's screen, or the whole page) under tests/artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if full_page:  # a full-page shot of a scrolled page draws the sticky bar mid-page
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    _written.append(path)
    return path


@pytest.fixture()
def screenshot():
    return shot
