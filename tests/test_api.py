"""JSON API and health check."""
import pytest


def test_ask_returns_the_reply_contract(client):
    r = client.post("/api/v1/ask", json={"text": "个人创业贷款最多能贷多少？"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["kind"] == "answer" and body["clause"] == "10"
    assert "15万元" in body["reply"] and body["text"] == "个人创业贷款最多能贷多少？"
    assert body["locale"] == "zh" and isinstance(body["options"], list)


def test_conversation_continues_for_the_same_user_with_an_api_key(client, api_headers):
    client.post("/api/v1/ask", json={"text": "菜单", "user": "api-2"}, headers=api_headers)
    body = client.post("/api/v1/ask", json={"text": "2", "user": "api-2"}, headers=api_headers).get_json()
    assert body["kind"] == "menu" and body["options"]


@pytest.mark.parametrize("payload,field", [
    ({"text": 123, "user": "u"}, "text"),
    ({"text": "hi", "user": {"a": 1}}, "user"),
    ({"text": "hi", "user": "x" * 200}, "user"),
    ({"text": "hi", "user": "u", "locale": "fr"}, "locale"),
    ({"text": "hi", "message_id": "has space"}, "message_id"),
    ({"text": "hi", "message_id": "x" * 65}, "message_id"),
    ({"text": "hi", "message_id": 12}, "message_id"),
    ({"text": "问" * 2001}, "text"),
])
def test_bad_fields_are_named(client, api_headers, payload, field):
    r = client.post("/api/v1/ask", json=payload, headers=api_headers)
    assert r.status_code == 400 and r.get_json()["field"] == field


@pytest.mark.parametrize("data,ctype", [("not json", "application/json"), ("[1,2]", "application/json"),
                                        ("text=hi", "application/x-www-form-urlencoded"), ("", "application/json")])
def test_non_object_bodies_are_400(client, data, ctype):
    r = client.post("/api/v1/ask", data=data, content_type=ctype)
    assert r.status_code == 400 and "error" in r.get_json()


def test_huge_body_is_413_json(client):
    r = client.post("/api/v1/ask", data="x" * (2 * 1024 * 1024), content_type="application/json")
    assert r.status_code == 413 and r.get_json()["error"]


def test_wrong_method_and_unknown_route(client):
    r = client.get("/api/v1/ask")
    assert r.status_code == 405 and {m.strip() for m in r.headers["Allow"].split(",")} == {"OPTIONS", "POST"}
    r = client.get("/api/v1/nope")
    assert r.status_code == 404 and r.get_json()["error"]


def test_healthz(app, client):
    from knowledge.db import SCHEMA_HEAD

    r = client.get("/healthz")
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "ok" and body["failed"] == []
    backend = app.config["DATABASE_URL"].split(":", 1)[0].split("+", 1)[0]  # the suite's database
    assert body["database"] == {"ok": True, "backend": backend}
    assert body["schema"] == {"revision": SCHEMA_HEAD, "head": SCHEMA_HEAD, "current": True}


def test_requests_without_user_or_cookie_do_not_share_a_conversation(client):
    client.post("/api/v1/ask", json={"text": "菜单"})
    body = client.post("/api/v1/ask", json={"text": "2"}).get_json()
    # a fresh user was offered nothing, so "2" is explained rather than opening the second theme
    assert body["kind"] == "menu" and "没有对应" in body["reply"]


def test_unknown_page_is_a_friendly_html_404(client):
    r = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert r.status_code == 404
    html = r.get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "没有找到" in html and 'href="/"' in html
