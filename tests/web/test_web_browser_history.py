"""Issue 10, item 11, in headless Chromium: the chat's history on shared PCs and retried messages.

Before: the history stayed a year in localStorage with no way to clear it, one bad entry
stopped the rest from rendering, and a retry after a lost response was a new message.
"""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from .test_web_browser import bubbles, wait_replies

pytestmark = pytest.mark.browser
KEY = "jiuye_chat_v2"


def store_history(page, saved_hours_ago: float, items: list) -> None:
    conv = page.locator("#log").get_attribute("data-conversation")
    value = json.dumps({"conv": conv, "items": items})
    page.evaluate(f"(() => {{ const h = {value}; h.saved = Date.now() - {saved_hours_ago} * 3600e3;"
                  f" localStorage.setItem('{KEY}', JSON.stringify(h)); }})()")


def test_history_older_than_its_lifetime_is_dropped(page):
    page.goto("/")
    wait_replies(page, 1)
    store_history(page, 13, [{"me": "十三小时前的问题"}, {"bot": {"reply": "旧回答", "kind": "answer"}}])
    page.reload()
    wait_replies(page, 1)
    assert page.locator(".msg.me").count() == 0 and "旧回答" not in page.locator("#log").inner_text()
    assert page.evaluate(f"localStorage.getItem('{KEY}')") is None or \
        "十三小时前" not in page.evaluate(f"localStorage.getItem('{KEY}')")


def test_a_bad_history_entry_does_not_stop_the_rest(page):
    page.goto("/")
    wait_replies(page, 1)
    store_history(page, 1, [{"me": "第一个问题"}, {"bot": {"reply": "第一个回答", "kind": "answer"}},
                            {"bot": {"reply": "坏的", "options": "not-a-list", "kind": "menu"}}, None, 42,
                            {"bot": {"reply": "坏的结果", "kind": "flow", "result": {"reasons": 5}}},
                            {"me": "第二个问题"}, {"bot": {"reply": "第二个回答", "kind": "answer"}}])
    page.reload()
    page.wait_for_selector(".msg.me")
    log = page.locator("#log").inner_text()
    assert "第一个回答" in log and "第二个问题" in log and "第二个回答" in log
    assert "坏的" not in log


def test_clear_history_starts_afresh_here_and_on_the_server(page, screenshot):
    page.goto("/")
    wait_replies(page, 1)
    page.fill("#q", "见习补贴每人每月多少钱")
    page.press("#q", "Enter")
    wait_replies(page, 2)
    cookie_before = next(c["value"] for c in page.context.cookies() if c["name"] == "jiuye_uid")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#clear-btn")
    wait_replies(page, 1)
    expect(page.locator(".msg.me")).to_have_count(0)
    assert "见习补贴每人每月多少钱" not in page.locator("#log").inner_text()
    cookie_after = next(c["value"] for c in page.context.cookies() if c["name"] == "jiuye_uid")
    assert cookie_after != cookie_before
    screenshot(page, "chat-cleared")
    page.reload()
    wait_replies(page, 1)
    assert page.locator(".msg.me").count() == 0


def test_clear_history_can_be_cancelled(page):
    page.goto("/")
    wait_replies(page, 1)
    page.fill("#q", "见习补贴每人每月多少钱")
    page.press("#q", "Enter")
    wait_replies(page, 2)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#clear-btn")
    assert page.locator(".msg.me").count() == 1


def test_a_retry_after_a_lost_response_sends_the_same_message_id(page):
    """The server answered, the phone never got it: 重新发送 carries the same id, so the server can
    answer from storage instead of applying the message twice. A new question gets a new id."""
    sent: list[dict] = []
    lost = {"n": 0}

    def lose_the_first_answer(route):  # noqa: ANN001
        body = json.loads(route.request.post_data or "{}")
        sent.append(body)
        if body.get("text") == "见习补贴每人每月多少钱" and lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # the server processes it ...
            route.abort()  # ... and the response is lost on the way back
        else:
            route.continue_()

    page.goto("/")
    wait_replies(page, 1)
    page.route("**/api/v1/ask", lose_the_first_answer)
    page.fill("#q", "见习补贴每人每月多少钱")
    page.press("#q", "Enter")
    page.locator(".msg.error .retry").click()
    wait_replies(page, 2)
    assert "依据" in bubbles(page).last.inner_text()
    page.fill("#q", "创业担保贷款最多能贷多少")
    page.press("#q", "Enter")
    wait_replies(page, 3)
    asked = [b for b in sent if b.get("text") != "菜单"]
    assert [b["text"] for b in asked] == ["见习补贴每人每月多少钱"] * 2 + ["创业担保贷款最多能贷多少"]
    assert asked[0]["message_id"] == asked[1]["message_id"] != asked[2]["message_id"]
    assert all(len(b["message_id"]) <= 64 for b in asked)
    # the one error the page may log is the response this test threw away
    page.guard.errors = [e for e in page.guard.errors if "net::ERR_FAILED" not in e]
