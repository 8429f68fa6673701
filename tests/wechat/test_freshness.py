"""Issue 10, items 1 and 2: authentic, fresh deliveries, and no transient error stored as a reply.

Before: any timestamp passed (2001, 2100, "hello"), so one logged signature/timestamp/nonce
let anyone post any message as any follower for ever; in safe mode dropping encrypt_type
was answered in plaintext; an engine error was stored as the message's final reply, so
WeChat's retries got the error too and the message was lost.
"""
from __future__ import annotations

import time
import uuid

import pytest
from wechatpy.crypto import PrpCrypto

from bot.i18n import msg
from webhooks.wechat import replay, security
from webhooks.wechat.simulator import WeChatSimulator, message_xml

from .conftest import make_app, warm
from .test_retries import processed


def text_body(user: str, content: str, msg_id: int) -> bytes:
    return message_xml({"ToUserName": "gh_jiuye", "FromUserName": user, "CreateTime": int(time.time()),
                        "MsgType": "text", "Content": content, "MsgId": msg_id}).encode()


def plain_query(token: str, timestamp: str, nonce: str | None = None) -> dict[str, str]:
    nonce = nonce or security.new_nonce()
    return {"timestamp": timestamp, "nonce": nonce, "signature": security.sign(token, timestamp, nonce)}


def encrypted_delivery(sim: WeChatSimulator, inner: bytes, timestamp: str | None = None,
                       nonce: str | None = None) -> tuple[str, dict[str, str]]:
    """(Encrypt value, the query of a safe-mode delivery of `inner`)."""
    config = sim.settings
    encrypted = PrpCrypto(security.crypto(config.token, config.aes_key, config.app_id).key).encrypt(
        inner, config.app_id).decode()
    ts, nonce = timestamp or str(int(time.time())), nonce or security.new_nonce()
    return encrypted, {"timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
                       "signature": security.sign(config.token, ts, nonce),
                       "msg_signature": security.sign(config.token, ts, nonce, encrypted)}


@pytest.fixture()
def safe_app(new_db_url):
    """An account as configured in production: an AES key and no MODE, so safe mode."""
    app = warm(make_app(new_db_url("safe"), MODE=""))
    yield app
    app.extensions["jiuye.db"].dispose()


# -- timestamps ----------------------------------------------------------------------------------
@pytest.mark.parametrize("timestamp", ["978307200", "4102444800", "hello", "", "-1", "1" * 30,
                                       "１７００００００００"])
def test_a_signed_delivery_with_a_timestamp_far_from_now_is_refused(wechat, timestamp):
    reply = wechat.post(text_body(wechat.user, "见习补贴", 6600001), plain_query(wechat.settings.token, timestamp))
    assert reply.status == 403 and reply.body in ("stale_timestamp", "bad_signature")
    assert processed(wechat.app, wechat.user) == 0


@pytest.mark.parametrize("offset,accepted", [(-301, False), (-290, True), (290, True), (301, False)])
def test_the_window_is_five_minutes_either_way(wechat, offset, accepted):
    ts = str(int(time.time()) + offset)
    reply = wechat.post(text_body(wechat.user, "见习补贴一个月多少", 6610001 + offset),
                        plain_query(wechat.settings.token, ts))
    assert (reply.status == 200 and "第12条" in reply.text) if accepted else reply.status == 403


def test_safe_mode_timestamps_are_checked_too(wechat_aes):
    inner = text_body(wechat_aes.user, "见习补贴", 6620001)
    encrypted, query = encrypted_delivery(wechat_aes, inner, timestamp="978307200")
    reply = wechat_aes.post(message_xml({"ToUserName": "gh", "Encrypt": encrypted}).encode(), query)
    assert reply.status == 403


# -- nonces --------------------------------------------------------------------------------------
def test_a_captured_url_cannot_carry_another_message(wechat):
    """The plain signature covers token, timestamp and nonce only: the replay reuses them with its
    own body (another sender, another MsgId) within the five minutes."""
    query = plain_query(wechat.settings.token, str(int(time.time())))
    genuine = wechat.post(text_body(wechat.user, "见习补贴一个月多少", 6630001), query)
    assert genuine.ok and "第12条" in genuine.text
    victim = "o_victim_" + uuid.uuid4().hex[:8]
    for body in (text_body(victim, "菜单", 6630002), text_body(wechat.user, "菜单", 6630003)):
        forged = wechat.post(body, query)
        assert forged.status == 403 and forged.body == "replayed_nonce"
    assert processed(wechat.app, victim) == 0


def test_wechats_retry_of_the_same_message_with_the_same_nonce_gets_the_stored_reply(wechat):
    query = plain_query(wechat.settings.token, str(int(time.time())))
    body = text_body(wechat.user, "见习补贴一个月多少", 6640001)
    first = wechat.post(body, query)
    again = wechat.post(body, query)
    assert again.ok and again.body == first.body
    assert processed(wechat.app, wechat.user) == 1


def test_nonce_guard_binds_a_pair_to_one_message(fresh_db):
    guard = replay.NonceGuard(fresh_db)
    guard.admit("1700000000", "123", "msg|a|b|1")
    guard.admit("1700000000", "123", "msg|a|b|1")  # the same message: a retry
    guard.admit("1700000001", "123", "msg|a|b|2")  # another timestamp: another pair
    with pytest.raises(replay.ReplayedNonce):
        guard.admit("1700000000", "123", "msg|a|b|2")
    import datetime as dt

    assert guard.purge(dt.timedelta(seconds=-1)) == 2


# -- modes ---------------------------------------------------------------------------------------
def test_with_an_aes_key_the_default_is_safe_mode_and_a_plain_delivery_is_refused(safe_app):
    """Dropping encrypt_type used to downgrade a safe-mode account to plaintext."""
    sim = WeChatSimulator(safe_app)
    assert sim.settings.mode == "safe"
    reply = sim.post(text_body(sim.user, "见习补贴", 6650001), plain_query(sim.settings.token, str(int(time.time()))))
    assert reply.status == 403
    assert processed(safe_app, sim.user) == 0
    encrypted = WeChatSimulator(safe_app, aes=True).send_text("见习补贴一个月多少")
    assert encrypted.ok and "<Encrypt>" in encrypted.raw and "第12条" in encrypted.text


@pytest.mark.parametrize("mode", ["safe", "compatible"])
def test_plain_fields_beside_encrypt_are_never_read_when_a_key_is_set(new_db_url, mode):
    """Compatible-mode bodies carry plain fields beside Encrypt; nothing signs them, so a forger
    could put another sender or another text there. Only the decrypted XML counts."""
    app = warm(make_app(new_db_url("m"), MODE=mode))
    try:
        sim = WeChatSimulator(app, aes=True)
        genuine = text_body(sim.user, "见习补贴一个月多少", 6660001)
        encrypted, query = encrypted_delivery(sim, genuine)
        forged_fields = text_body("o_someone_else", "菜单", 6660001).decode()
        body = forged_fields.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()
        reply = sim.post(body, query)
        assert reply.ok and reply.to_user == sim.user and "第12条" in reply.text
        assert processed(app, "o_someone_else") == 0
    finally:
        app.extensions["jiuye.db"].dispose()


def test_plain_mode_reads_the_plain_fields(new_db_url):
    app = warm(make_app(new_db_url("p"), MODE="plain", ENCODING_AES_KEY=""))
    try:
        sim = WeChatSimulator(app)
        assert sim.settings.mode == "plain" and "第12条" in sim.send_text("见习补贴一个月多少").text
    finally:
        app.extensions["jiuye.db"].dispose()


def test_the_simulator_follows_safe_mode(safe_app):
    result = safe_app.test_cli_runner().invoke(args=["wechat", "simulate", "见习补贴一个月多少"])
    assert result.exit_code == 0, result.output
    assert "第12条" in result.stdout and "safe mode" in result.stderr


def test_url_verification_still_works(safe_app):
    assert WeChatSimulator(safe_app).verify_url("echo-9") == (200, "echo-9")


# -- transient errors are not stored as replies ------------------------------------------------
def test_an_engine_error_is_not_the_messages_final_reply(configured_fresh_app, monkeypatch):
    from bot.engine import Engine

    original, failures = Engine.handle, []

    def fails_once(self, incoming):
        if not failures:
            failures.append(incoming)
            raise RuntimeError("a transient failure")
        return original(self, incoming)

    monkeypatch.setattr(Engine, "handle", fails_once)
    sim = WeChatSimulator(configured_fresh_app)
    first = sim.send_text("见习补贴一个月多少", msg_id=6670001)
    assert first.ok and first.text == msg("wechat_error")
    retry = sim.send_text("见习补贴一个月多少", msg_id=6670001)  # WeChat retries the same MsgId
    assert "第12条" in retry.text
    assert processed(configured_fresh_app, sim.user) == 1


def test_a_database_outage_is_a_short_reply_and_the_retry_is_answered(configured_fresh_app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from webhooks.wechat.store import MessageStore

    original, down = MessageStore.begin, [True]

    def begin(self, key, wait_until):
        if down[0]:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return original(self, key, wait_until)

    monkeypatch.setattr(MessageStore, "begin", begin)
    sim = WeChatSimulator(configured_fresh_app)
    first = sim.send_text("见习补贴一个月多少", msg_id=6680001)
    assert first.status == 200 and first.text == msg("wechat_busy")
    down[0] = False
    retry = sim.send_text("见习补贴一个月多少", msg_id=6680001)
    assert "第12条" in retry.text


def test_a_database_outage_inside_the_engine_says_busy(configured_fresh_app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from bot.engine import Engine

    def down(self, incoming):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(Engine, "handle", down)
    reply = WeChatSimulator(configured_fresh_app).send_text("见习补贴一个月多少", msg_id=6690001)
    assert reply.status == 200 and reply.text == msg("wechat_busy")


def test_the_engine_gets_at_most_2000_cleaned_characters_of_a_message(configured_fresh_app, monkeypatch):
    from bot.engine import Engine

    seen, original = [], Engine.handle

    def spy(self, incoming):
        seen.append(incoming)
        return original(self, incoming)

    monkeypatch.setattr(Engine, "handle", spy)
    sim = WeChatSimulator(configured_fresh_app)
    assert sim.send_text("见" * 5000 + "\x01").ok
    assert sim.send_voice("补" * 3000).ok
    assert [len(i.text) for i in seen] == [2000, 2000] and "\x01" not in seen[0].text
    assert all(i.message_id and i.message_id.startswith("wx") for i in seen)
