"""Issue 10, items 8 and 11: security headers on every response, proxies by setting, 清除记录.

Before, only the web blueprint's pages had headers: none on /wechat/answer/*, the site-wide
404, /api, /static or /wechat; there was no HSTS option and no ProxyFix, so behind the
README's nginx the visitor cookie was sent without `Secure`.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from knowledge.models import Conversation


@pytest.fixture(scope="module")
def any_faq_id(app) -> str:
    from webhooks.db import get_engine

    with app.app_context():
        return get_engine().snapshot.faqs[0].id


def paths(faq_id: str) -> list[tuple[str, str]]:
    return [("GET", "/"), ("GET", "/policies"), ("GET", "/no/such/page"), ("GET", f"/wechat/answer/{faq_id}"),
            ("GET", "/wechat/answer/nope"), ("GET", "/api/v1/calculators"), ("POST", "/api/v1/ask"),
            ("GET", "/api/v1/nope"), ("GET", "/static/web/site.css"), ("GET", "/wechat"), ("GET", "/healthz"),
            ("DELETE", "/policies")]


def test_every_response_carries_the_security_headers(client, any_faq_id):
    for method, path in paths(any_faq_id):
        r = client.open(path, method=method, json={"text": "你好"} if method == "POST" else None)
        r.close()  # a static file's response holds the file open
        h = r.headers
        assert h["X-Content-Type-Options"] == "nosniff", path
        assert h["X-Frame-Options"] == "SAMEORIGIN", path
        assert h["Referrer-Policy"] == "same-origin", path
        csp = h["Content-Security-Policy"]
        if r.mimetype == "text/html":
            assert "script-src 'self'" in csp and "frame-ancestors 'self'" in csp and "unsafe-inline" not in csp, path
        else:
            assert csp.startswith("default-src 'none'"), path
        assert "Strict-Transport-Security" not in h  # off by default, and never over plain HTTP


def test_the_full_answer_page_needs_no_inline_style(client, any_faq_id):
    html = client.get(f"/wechat/answer/{any_faq_id}").get_data(as_text=True)
    assert "<style" not in html and 'style="' not in html and "answer.css" in html


def make(new_db_url, **config):
    from webhooks import create_app

    return create_app({"TESTING": True, "DATABASE_URL": new_db_url("h"), "SECRET_KEY": "test",
                       **config})


def test_hsts_is_sent_over_https_when_configured(new_db_url):
    app = make(new_db_url, HSTS_SECONDS=31536000)
    client = app.test_client()
    assert client.get("/policies", base_url="https://jiuye.test/").headers["Strict-Transport-Security"] \
        == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/policies").headers


def test_behind_one_proxy_https_is_recognised_and_the_cookie_is_secure(new_db_url):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "jiuye.test"}
    trusting = make(new_db_url, PROXY_FIX=1, HSTS_SECONDS=600).test_client()
    r = trusting.get("/", headers=forwarded)
    assert "Secure" in r.headers["Set-Cookie"] and r.headers["Strict-Transport-Security"] == "max-age=600"
    # without PROXY_FIX the same headers are anyone's to send: not trusted
    plain = make(new_db_url).test_client().get("/", headers=forwarded)
    assert "Secure" not in plain.headers["Set-Cookie"]


def test_behind_a_proxy_rate_limits_see_the_clients_address(new_db_url):
    app = make(new_db_url, PROXY_FIX=1, RATELIMIT_ENABLED=True, RATELIMIT_ADDRESS="2/minute")
    client = app.test_client()
    one = {"X-Forwarded-For": "203.0.113.1"}
    assert [client.get("/policies", headers=one).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/policies", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 200


def test_clear_history_forgets_the_conversation_and_issues_a_new_visitor(app):
    from webhooks.web.common import conversation_tag

    person = app.test_client()
    first = person.get("/")
    uid = re.match(r"jiuye_uid=(w[^.;]+)\.", first.headers["Set-Cookie"]).group(1)
    person.post("/api/v1/ask", json={"text": "见习补贴测算"})
    db = app.extensions["jiuye.db"]
    with db.session() as s:
        assert s.get(Conversation, f"web:{uid}") is not None
    r = person.post("/chat/forget", json={})
    assert r.status_code == 200
    new = re.match(r"jiuye_uid=(w[^.;]+)\.", r.headers["Set-Cookie"]).group(1)
    assert new != uid and r.get_json()["conversation"] == conversation_tag(new)
    with db.session() as s:
        assert s.get(Conversation, f"web:{uid}") is None
        assert s.scalars(select(Conversation.user).where(Conversation.user == f"web:{new}")).first() is None
    resumed = person.post("/api/v1/ask", json={"text": "继续"}).get_json()
    assert resumed["kind"] != "flow"  # nothing left to continue
    # a cross-site form cannot send JSON: refused
    assert app.test_client().post("/chat/forget", data={"a": "1"}).status_code == 415


def test_the_chat_page_offers_clear_history_and_a_short_history(client):
    html = client.get("/").get_data(as_text=True)
    assert 'id="clear-btn"' in html and "清除记录" in html
    assert 'data-history-hours="12' in html
