"""Issue 10, item 3: a user id is not an identity.

Before: POST /api/v1/ask trusted any `user` (sending 继续 as someone's id showed their open
question), the web cookie value worked as `user`, ids were cut to 128 characters after
validation, and 424242 aliased "424242". Now a caller-chosen `user` counts only with an API
key, in that key's namespace; web, API and WeChat identities never alias.
"""
from __future__ import annotations

import hmac
import re

import pytest
from sqlalchemy import select

from bot.i18n import msg
from knowledge.apikeys import Keyring, SettingsKeys, digest, new_secret
from knowledge.models import Conversation, QuestionLog


def signed_cookie_of(response) -> str:
    return re.match(r"jiuye_uid=([^;]+);", response.headers["Set-Cookie"]).group(1)


def start_dialogue(client, **kw):
    """Open the internship calculator and answer its first question; the reply asks the second."""
    client.post("/api/v1/ask", json={"text": "菜单"}, **kw)
    first = client.post("/api/v1/ask", json={"text": "见习补贴测算"}, **kw).get_json()
    assert first["kind"] == "flow", first
    return first


def question_of(reply: dict) -> str:
    """The pending question: the last line of a dialogue reply."""
    return reply["reply"].strip().splitlines()[-1]


def test_a_web_visitor_is_keyed_by_the_signed_cookie(app):
    person = app.test_client()
    person.get("/")
    first = start_dialogue(person)
    resumed = person.post("/api/v1/ask", json={"text": "继续"}).get_json()
    assert resumed["kind"] == "flow" and question_of(first) in resumed["reply"]


def test_without_a_key_the_body_user_cannot_reach_another_persons_conversation(app):
    person = app.test_client()
    signed = signed_cookie_of(person.get("/"))
    first = start_dialogue(person)
    uid = signed.split(".")[0]
    attacker = app.test_client()
    for guess in (uid, signed, f"web:{uid}", f"api:{uid}", f"api:{signed}"):
        stolen = attacker.post("/api/v1/ask", json={"text": "继续", "user": guess}).get_json()
        assert question_of(first) not in stolen["reply"] and msg("nothing_open") in stolen["reply"], guess


def test_requests_with_neither_key_nor_cookie_are_one_off(client, app):
    client.post("/api/v1/ask", json={"text": "见习补贴测算", "user": "same-id"})
    again = client.post("/api/v1/ask", json={"text": "继续", "user": "same-id"}).get_json()
    assert msg("nothing_open") in again["reply"]


def test_a_forged_cookie_on_the_api_gets_a_new_signed_one(app):
    c = app.test_client()
    c.set_cookie("jiuye_uid", "w" + "A" * 24)  # unsigned: refused
    r = c.post("/api/v1/ask", json={"text": "菜单"})
    assert r.status_code == 200
    assert re.match(r"jiuye_uid=w[A-Za-z0-9_-]{24}\.", r.headers["Set-Cookie"])
    # the new cookie carries the conversation on
    theme = c.post("/api/v1/ask", json={"text": "2"}).get_json()
    assert theme["kind"] == "menu" and "就业见习补贴" in theme["reply"]


# -- API keys ----------------------------------------------------------------------------------
def test_with_a_key_the_callers_user_is_honoured(client, api_headers):
    client.post("/api/v1/ask", json={"text": "见习补贴测算", "user": "kiosk-7"}, headers=api_headers)
    resumed = client.post("/api/v1/ask", json={"text": "继续", "user": "kiosk-7"}, headers=api_headers).get_json()
    assert resumed["kind"] == "flow"
    # the same id without the key is somebody else (a one-off)
    other = client.post("/api/v1/ask", json={"text": "继续", "user": "kiosk-7"}).get_json()
    assert msg("nothing_open") in other["reply"]


@pytest.mark.parametrize("header", ["Bearer wrong-key-0123456789", "Bearer ", "Basic dXNlcjpwYXNz",
                                    "test-partner-key-0123456789", "Bearer " + "x" * 5000])
def test_a_bad_key_is_401_never_silently_ignored(client, header):
    r = client.post("/api/v1/ask", json={"text": "你好", "user": "u"}, headers={"Authorization": header})
    assert r.status_code == 401 and r.get_json()["field"] == "Authorization"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_numbers_are_refused_so_424242_and_the_string_do_not_alias(client, api_headers):
    r = client.post("/api/v1/ask", json={"text": "菜单", "user": 424242}, headers=api_headers)
    assert r.status_code == 400 and r.get_json()["field"] == "user"
    for value in (True, 4.5, [1], {"a": 1}):
        assert client.post("/api/v1/ask", json={"text": "菜单", "user": value},
                           headers=api_headers).status_code == 400
    assert client.post("/api/v1/ask", json={"text": "菜单", "user": "424242"},
                       headers=api_headers).status_code == 200


def test_long_ids_are_refused_never_cut(client, api_headers):
    r = client.post("/api/v1/ask", json={"text": "菜单", "user": "x" * 129}, headers=api_headers)
    assert r.status_code == 400 and r.get_json()["field"] == "user"


def test_two_long_ids_sharing_a_prefix_are_two_people(app, client, api_headers):
    """128-character ids fit the limit, but with the api:<key>: prefix they do not fit the column:
    before, the engine cut them to 128 characters, and ids that differ only at the end merged."""
    a, b = "p" * 127 + "a", "p" * 127 + "b"
    client.post("/api/v1/ask", json={"text": "见习补贴测算", "user": a}, headers=api_headers)
    other = client.post("/api/v1/ask", json={"text": "继续", "user": b}, headers=api_headers).get_json()
    assert msg("nothing_open") in other["reply"]
    same = client.post("/api/v1/ask", json={"text": "继续", "user": a}, headers=api_headers).get_json()
    assert same["kind"] == "flow"
    with app.extensions["jiuye.db"].session() as s:
        keys = s.scalars(select(Conversation.user).where(Conversation.user.like("apih:partner:%"))).all()
    assert len(keys) >= 2 and all(len(k) <= 128 for k in keys)


def test_namespaces_never_alias(app, client, api_headers):
    """A keyed caller naming its user "web:<a visitor>" or "wx:…" stays inside its own namespace."""
    person = app.test_client()
    signed = signed_cookie_of(person.get("/"))
    start_dialogue(person)
    uid = signed.split(".")[0]
    for name in (f"web:{uid}", uid, "wx:0123", "anon:1"):
        r = client.post("/api/v1/ask", json={"text": "继续", "user": name}, headers=api_headers).get_json()
        assert msg("nothing_open") in r["reply"], name
    with app.extensions["jiuye.db"].session() as s:
        assert s.get(Conversation, f"api:partner:web:{uid}") is not None


def test_keys_are_compared_in_constant_time_against_every_key(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr("knowledge.apikeys.hmac.compare_digest", lambda a, b: calls.append(1) or real(a, b))
    ring = Keyring([SettingsKeys("a:aaaaaaaaaaaaaaaa1, b:bbbbbbbbbbbbbbbb2, cccccccccccccccc3")])
    assert ring.check("aaaaaaaaaaaaaaaa1").name == "a"
    assert len(calls) == 5  # matched at once, yet every entry (NAME:SECRET and SECRET of a named key) was compared
    assert ring.check("cccccccccccccccc3").name.startswith("k")
    assert ring.check("nope") is None and ring.check("") is None and ring.check(None) is None


def test_key_settings_are_read_as_documented():
    """Each comma-separated entry is a key as written (tools send the first entry as their bearer);
    NAME:SECRET also accepts the secret alone under NAME; a short key works but is listed as weak."""
    ring = Keyring([SettingsKeys("eval:0123456789abcdef, short, bad name!:x")])
    assert ring.check("eval:0123456789abcdef").name == "eval" and ring.check("0123456789abcdef").name == "eval"
    assert ring.check("short") is not None and ring.check("bad name!:x") is not None
    assert ring.check("bad name!") is None and ring.check("x") is None and ring.check("eval") is None
    assert ring.weak == [ring.check("short").name, ring.check("bad name!:x").name]
    with pytest.raises(ValueError):
        SettingsKeys("k" * 300)
    assert not Keyring([SettingsKeys("")]) and Keyring([SettingsKeys(["n:" + new_secret()])])
    assert len(digest("x")) == 32


def test_a_malformed_key_setting_refuses_every_key_and_says_so(new_db_url, caplog):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": new_db_url("k"), "API_KEYS": "k" * 300})
    assert "API_KEYS" in caplog.text
    r = app.test_client().post("/api/v1/ask", json={"text": "你好", "user": "u"},
                               headers={"Authorization": "Bearer " + "k" * 300})
    assert r.status_code == 401


def test_a_short_key_works_and_the_start_warns(new_db_url, caplog):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": new_db_url("k"), "API_KEYS": "testkey"})
    assert "can be guessed" in caplog.text
    client = app.test_client()
    first = client.post("/api/v1/ask", json={"text": "见习补贴多少", "user": "u"}, headers={"Authorization": "Bearer testkey"})
    again = client.post("/api/v1/ask", json={"text": "那留用率呢", "user": "u"}, headers={"Authorization": "Bearer testkey"})
    assert first.status_code == again.status_code == 200
    assert again.get_json()["clause"] == "12"  # the same person: the follow-up kept the topic
