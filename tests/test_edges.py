"""Issue 10, item 4 (and the 503 of item 2): single requests that used to be 500s.

Each case here failed before the fix with a 500 (a lone surrogate could not be encoded, deep
JSON exhausted the parser's recursion, a 309-digit number could not be formatted). The edge
now cleans or refuses them; a database that is down is a 503 with a friendly message.
"""
from __future__ import annotations

import json

import pytest

from webhooks.edge import EdgeError, clean_text, depth_of, load_json


def post_raw(client, url: str, body: str, headers: dict | None = None):
    return client.post(url, data=body.encode("utf-8"), content_type="application/json", headers=headers)


# -- the JSON API ----------------------------------------------------------------------------
@pytest.mark.parametrize("body", ['{"text": "\\ud800"}', '{"text": "见习\\udfff补贴一个月多少"}',
                                  '{"text": "a\\u0000b"}', '{"text": "\\u0000"}'])
def test_lone_surrogates_and_nul_in_text_are_removed(client, body):
    r = post_raw(client, "/api/v1/ask", body)
    assert r.status_code == 200, r.get_data(as_text=True)
    echoed = r.get_json()["text"]
    assert "\ud800" not in echoed and "\udfff" not in echoed and "\x00" not in echoed


def test_a_surrogate_in_the_ignored_user_field_is_harmless(client):
    assert post_raw(client, "/api/v1/ask", '{"text": "你好", "user": "\\ud800"}').status_code == 200


@pytest.mark.parametrize("user", ["\\ud800", "a\\u0000b", "\\u0007"])
def test_a_keyed_user_with_unusable_characters_is_refused_not_cleaned(client, api_headers, user):
    # cleaning would let "a\x00b" and "ab" share a conversation
    r = post_raw(client, "/api/v1/ask", '{"text": "你好", "user": "%s"}' % user, api_headers)
    assert r.status_code == 400 and r.get_json()["field"] == "user"


@pytest.mark.parametrize("depth", [17, 100, 10_000])
def test_deep_json_is_a_400(client, depth):
    r = post_raw(client, "/api/v1/ask", "[" * depth + "]" * depth)
    assert r.status_code == 400 and "嵌套" in r.get_json()["error"]
    r = post_raw(client, "/api/v1/ask", '{"text": "hi", "x": ' + "[" * depth + "]" * depth + "}")
    assert r.status_code == 400


def test_a_body_of_100000_brackets_is_refused_by_size(client):
    r = post_raw(client, "/api/v1/ask", "[" * 100_000 + "]" * 100_000)
    assert r.status_code in (400, 413) and r.is_json


def test_a_long_question_is_refused_with_a_message(client):
    r = client.post("/api/v1/ask", json={"text": "问" * 2001})
    assert r.status_code == 400 and r.get_json()["field"] == "text" and "2000" in r.get_json()["error"]
    assert client.post("/api/v1/ask", json={"text": "问" * 2000}).status_code == 200


# -- the calculators API -----------------------------------------------------------------------
@pytest.mark.parametrize("digits", [309, 400, 1000, 4300])
def test_calculator_numbers_of_hundreds_of_digits_are_named_at_their_field(client, digits):
    body = '{"interns": ' + "9" * digits + ', "months": 6}'
    r = post_raw(client, "/api/v1/calculators/internship", body)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["field"] == "interns" and "e+" in r.get_json()["error"]


@pytest.mark.parametrize("body,field", [
    ('{"interns": 1, "months": "\\ud800"}', "months"),
    ('{"\\ud800": 1}', "\ufffd"),
    ('{"interns": 1, "months": 6, "intern_status": "\\udc80x"}', "intern_status"),
])
def test_a_calculator_error_that_quotes_a_surrogate_can_be_sent(client, body, field):
    r = post_raw(client, "/api/v1/calculators/internship", body)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["field"] == field
    r.get_data().decode("utf-8")  # valid UTF-8 throughout


# -- helpers -------------------------------------------------------------------------------------
def test_clean_text_keeps_text_and_newlines():
    assert clean_text("见习\n补贴\t多少\r") == "见习\n补贴\t多少\r"
    assert clean_text("a\x00b\x07c\ud800d\x7f") == "abcd"
    assert clean_text("😀") == "😀"  # a real pair is one character in Python, not a surrogate


def test_load_json_depth_and_errors():
    assert depth_of(load_json('{"a": [1, {"b": 2}]}')) == 3
    assert load_json(b'{"text": "\\u4f60"}') == {"text": "你"}
    for bad in (b"\xff", b"", "nope", "[" * 17 + "]" * 17, "[" * 5000):
        with pytest.raises(EdgeError):
            load_json(bad)


def test_the_json_provider_never_writes_a_lone_surrogate(app):
    with app.app_context():
        out = app.json.dumps({"error": "字段 \ud800 不认识"})
    assert json.loads(out)["error"] == "字段 \ufffd 不认识"
    out.encode("utf-8")


# -- a database that is down -------------------------------------------------------------------
CLOSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:5119/nothing_listens_here"


def test_a_database_that_is_down_is_a_503_with_retry_after(tmp_path):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": CLOSED_PORT_URL})
    client = app.test_client()
    r = client.post("/api/v1/ask", json={"text": "见习补贴一个月多少"})
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.headers["Retry-After"] == "5" and "稍后" in r.get_json()["error"]
    page = client.get("/policies", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "稍后" in page.get_data(as_text=True)
    health = client.get("/healthz")
    assert health.status_code == 503
    body = health.get_json()
    assert body["status"] == "error" and body["failed"] == ["database"]
    assert body["database"]["ok"] is False and body["database"]["backend"] == "postgresql"
    assert "5119" not in health.get_data(as_text=True)  # the database's address is never shown


@pytest.mark.postgres
def test_nul_and_surrogates_through_the_api_on_postgres(pg_url):
    """PostgreSQL refuses NUL in text columns: a NUL in text or user was a 500 there."""
    from webhooks import create_app

    key = "pg-edge-key-0123456789"
    app = create_app({"TESTING": True, "DATABASE_URL": pg_url, "TODAY": "2026-11-27", "SECRET_KEY": "test",
                      "API_KEYS": f"pg:{key}"})
    client = app.test_client()
    try:
        for body in ('{"text": "见习\\u0000补贴一个月多少"}', '{"text": "\\u0000"}', '{"text": "\\ud800见习补贴"}',
                     '{"text": "hi", "user": "a\\u0000b"}'):
            r = post_raw(client, "/api/v1/ask", body)
            assert r.status_code == 200, (body, r.get_data(as_text=True))
        r = post_raw(client, "/api/v1/ask", '{"text": "hi", "user": "a\\u0000b"}', {"Authorization": f"Bearer {key}"})
        assert r.status_code == 400 and r.get_json()["field"] == "user"
        r = post_raw(client, "/api/v1/calculators/internship", '{"interns": "\\u0000\\ud800", "months": 6}')
        assert r.status_code == 400
    finally:
        app.extensions["jiuye.db"].dispose()
