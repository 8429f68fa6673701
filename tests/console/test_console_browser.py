"""The console in headless Chromium at a phone width (375 px) and a desktop width (1280 px):
log in, walk the screens, save screenshots under tests/artifacts/screenshots/console-*.png;
and an answer with markup shows as text in the web chat."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import PASSWORD, add_accounts, make_app

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
WIDTHS = {"phone": {"width": 375, "height": 740}, "desktop": {"width": 1280, "height": 900}}
SCREENS = [("dashboard", "/console/"), ("faq", "/console/faq?q=jxbt"), ("faq-edit", "/console/faq/internship-rate"),
           ("inbox", "/console/inbox"), ("offices", "/console/offices"), ("office-edit", "/console/offices/hrss"),
           ("parameters", "/console/parameters?q=见习"), ("parameter", "/console/parameters/internship.rate"),
           ("procedures", "/console/procedures"), ("procedure-new", "/console/procedures/new?clause=12"),
           ("ledger", "/console/ledger"), ("settings", "/console/settings"), ("export", "/console/export"),
           ("accounts", "/console/accounts")]

if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason=f"{CHROMIUM} is absent")]


@pytest.fixture(scope="module")
def live(databases):
    """The app on 127.0.0.1 with a little history: questions, a callback, an edit."""
    from werkzeug.serving import make_server

    app = make_app(databases.new("console-live"))
    add_accounts(app)
    client = app.test_client()
    for i, q in enumerate(["见习补贴每人每月多少", "测试问题牦牛毛线怎么卖", "测试问题牦牛毛线咋卖", "创业贷款最多贷多少",
                           "测试问题草场补奖什么时候发", "技能提升补贴怎么领"]):
        client.post("/api/v1/ask", json={"text": q, "user": f"live-{i}"})
    with app.app_context():
        from knowledge.callbacks import CallbackService
        from knowledge.service import StaffService
        from webhooks.db import get_db

        with get_db().session() as s:
            CallbackService(s).request("web:live", "测试甲", "13800000000", "12", "internship",
                                       {"summary": "测试：可领就业见习补贴"}, consent=True)
            StaffService(s).update_office("hrss", {"phone": "0000-0000000", "hours": "测试时间",
                                                   "verified_by": "测试核实人", "verified_at": "2026-12-01"}, "测试")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["jiuye.db"].dispose()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def _context(chromium, base: str, size: str):
    ctx = chromium.new_context(viewport=WIDTHS[size], locale="zh-CN", base_url=base,
                               is_mobile=size == "phone", has_touch=size == "phone", device_scale_factor=1)
    errors: list[str] = []

    def route(r):  # noqa: ANN001
        if urlsplit(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith("data:"):
            r.continue_()
        else:
            errors.append(f"outside request {r.request.url}")
            r.abort()

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return ctx, page, errors


@pytest.mark.parametrize("size", list(WIDTHS))
def test_console_screens_at_phone_and_desktop_width(live, chromium, size):
    _, base = live
    ctx, page, errors = _context(chromium, base, size)
    page.goto("/console/")
    assert "/console/login" in page.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"console-{size}-login.png"))
    page.fill("#username", "test-admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    for name, path in SCREENS:
        page.goto(path)
        assert page.locator("h1").first.is_visible(), name
        # nothing wider than the screen: a phone never scrolls sideways
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTHS[size]["width"] + 1, f"{name} is {width}px wide"
        page.screenshot(path=str(SHOTS / f"console-{size}-{name}.png"), full_page=True)
    ctx.close()
    assert not errors, errors


def test_an_answer_with_markup_is_text_in_the_web_chat(live, chromium):
    app, base = live
    with app.app_context():
        from knowledge.service import StaffService
        from webhooks.db import get_db

        with get_db().session() as s:
            StaffService(s).update_faq("internship-rate", {
                "answer": "<script>window.__x=1</script><img src=x onerror=window.__y=1> ]]> 测试（依据：实施方案第12条）"},
                "测试")
    ctx, page, errors = _context(chromium, base, "phone")
    page.goto("/")
    page.locator(".msg.bot").first.wait_for()
    page.fill("#q", "见习补贴每人每月多少")
    page.click(".send-btn")
    bubble = page.locator(".msg.bot:not(.typing)").nth(1)
    bubble.wait_for()
    text = bubble.inner_text()
    assert "<script>window.__x=1</script>" in text and "]]>" in text
    assert bubble.locator("script, img").count() == 0
    assert page.evaluate("typeof window.__x === 'undefined' && typeof window.__y === 'undefined'")
    page.screenshot(path=str(SHOTS / "console-chat-markup-as-text.png"))
    ctx.close()
    assert not errors, errors
