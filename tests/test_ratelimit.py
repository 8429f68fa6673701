"""Issue 10, item 5: rate limits per client — web visitor and address, API key, WeChat follower.

Before there was no limit at all. A breach is a friendly 429 (JSON under /api/, a page
elsewhere, with Retry-After); on WeChat a text reply, since an HTTP error would only make
WeChat retry; WeChat's own addresses, which carry every follower, are never limited.
"""
from __future__ import annotations

import pytest

from bot.i18n import msg
from webhooks.ratelimit import Limiter

KEY = "limit-partner-key-0123456789"


@pytest.fixture()
def limited_app(new_db_url):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": new_db_url("rl"), "TODAY": "2026-11-27",
                      "SECRET_KEY": "test", "API_KEYS": f"lim:{KEY}", "RATELIMIT_ENABLED": True,
                      "RATELIMIT_VISITOR": "3/minute", "RATELIMIT_ADDRESS": "8/minute",
                      "RATELIMIT_API_KEY": "5/minute", "RATELIMIT_WECHAT_USER": "2/minute"})
    yield app
    app.extensions["jiuye.db"].dispose()


def test_a_web_visitor_is_limited_with_a_friendly_429(limited_app):
    person = limited_app.test_client()
    person.get("/")
    codes = [person.post("/api/v1/ask", json={"text": "你好"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = person.post("/api/v1/ask", json={"text": "你好"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.get_json()["error"] == "请求太频繁，请稍后再试"
    # another visitor behind the same address (a township office's NAT) still gets answers
    neighbour = limited_app.test_client()
    neighbour.get("/")
    assert neighbour.post("/api/v1/ask", json={"text": "你好"}).status_code == 200


def test_an_address_is_limited_on_pages_too(limited_app):
    client = limited_app.test_client()
    codes = [client.get("/policies").status_code for _ in range(9)]
    assert codes[:8] == [200] * 8 and codes[8] == 429
    page = client.get("/policies", headers={"Accept": "text/html"})
    assert page.status_code == 429 and "请求太频繁" in page.get_data(as_text=True)
    assert page.mimetype == "text/html" and "Retry-After" in page.headers
    # a client behind another address is not affected
    assert limited_app.test_client().get("/policies", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    # static files and the health check are never limited
    assert client.get("/healthz").status_code == 200


def test_an_api_key_has_its_own_limit_instead_of_the_address(limited_app):
    client = limited_app.test_client()
    headers = {"Authorization": f"Bearer {KEY}"}
    codes = [client.post("/api/v1/ask", json={"text": "你好", "user": f"u{i}"}, headers=headers).status_code
             for i in range(6)]
    assert codes == [200] * 5 + [429]
    # a made-up key does not escape the address limit either
    bogus = {"Authorization": "Bearer made-up-key-000000000"}
    codes = [client.get("/policies", headers=bogus).status_code for _ in range(9)]
    assert 429 in codes


def test_a_wechat_follower_is_limited_by_a_text_reply(limited_app):
    from webhooks.wechat.simulator import WeChatSimulator

    limited_app.config["WECHAT"] = {**limited_app.config["WECHAT"], "TOKEN": "123456",
                                    "REPLY_DEADLINE_SECONDS": 30}
    eager = WeChatSimulator(limited_app)
    replies = [eager.send_text("见习补贴一个月多少") for _ in range(3)]
    assert [r.status for r in replies] == [200, 200, 200]
    assert "第12条" in replies[1].text and replies[2].text == msg("wechat_rate_limited")
    # WeChat's servers deliver for everyone from few addresses: twenty other followers, one
    # address, far past RATELIMIT_ADDRESS, are all answered
    for i in range(20):
        assert "第12条" in WeChatSimulator(limited_app, user=f"o_other_{i}").send_text("见习补贴一个月多少").text


def test_a_limited_wechat_message_is_answered_when_sent_again_later(limited_app):
    """The refusal is not stored as the message's reply: a later delivery of it is processed."""
    from webhooks.wechat.simulator import WeChatSimulator

    limited_app.config["WECHAT"] = {**limited_app.config["WECHAT"], "TOKEN": "123456",
                                    "REPLY_DEADLINE_SECONDS": 30}
    sim = WeChatSimulator(limited_app)
    sim.send_text("你好", msg_id=7700001)
    sim.send_text("你好", msg_id=7700002)
    refused = sim.send_text("见习补贴一个月多少", msg_id=7700003)
    assert refused.text == msg("wechat_rate_limited")
    limiter = limited_app.extensions["jiuye.ratelimit"]
    limiter.strategy().storage.reset()  # the minute has passed
    assert "第12条" in sim.send_text("见习补贴一个月多少", msg_id=7700003).text


def test_a_failing_counter_store_lets_requests_through(limited_app, monkeypatch):
    limiter = limited_app.extensions["jiuye.ratelimit"]

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(limiter.strategy(), "hit", broken)
    client = limited_app.test_client()
    assert all(client.get("/policies").status_code == 200 for _ in range(12))


def test_limits_can_be_turned_off():
    off = Limiter({"RATELIMIT_ENABLED": False, "RATELIMIT_ADDRESS": "1/minute"})
    assert off.hit("address", "a") is None and off.hit("address", "a") is None
    empty = Limiter({"RATELIMIT_ADDRESS": ""})
    assert empty.hit("address", "a") is None
    on = Limiter({"RATELIMIT_ENABLED": "true", "RATELIMIT_ADDRESS": "1/minute"})
    assert on.hit("address", "a") is None and on.hit("address", "a") >= 1
