"""Items 3 and 5: what each message type gets, replies back to the sender, escaping, compatible mode."""
from __future__ import annotations

import threading
import time

import pytest

from bot.i18n import msg
from webhooks.wechat import security, xmlsafe
from webhooks.wechat.simulator import WeChatSimulator, message_xml

MENU_INTRO = msg("menu_intro")


def test_text_gets_a_cited_answer_back_to_the_sender(wechat_any):
    reply = wechat_any.send_text("见习补贴一个月多少")
    assert reply.ok and reply.data["MsgType"] == "text"
    assert reply.to_user == wechat_any.user           # back to the sender
    assert reply.from_user == wechat_any.account      # from our account
    assert "依据" in reply.text and "第12条" in reply.text
    assert int(reply.data["CreateTime"]) > 0


def test_options_are_numbered_lines_and_a_number_picks_one(wechat_any):
    menu = wechat_any.send_text("菜单")
    lines = menu.text.splitlines()
    assert "1. 创业贷款与创业补贴" in lines and any(line.startswith("12. ") for line in lines)
    theme = wechat_any.send_text("2")
    assert "就业见习补贴" in theme.text and "1. " in theme.text


def test_links_are_absolute_anchor_tags_on_the_host_wechat_posted_to(wechat):
    # Without PUBLIC_BASE_URL a site path would open nothing inside WeChat: the links use
    # the host of the server URL WeChat calls.
    reply = wechat.send_text("见习补贴一个月多少")
    assert '<a href="http://localhost/policies/12">' in reply.text
    body = message_xml({"ToUserName": "gh_jiuye", "FromUserName": wechat.user, "CreateTime": int(time.time()),
                        "MsgType": "text", "Content": "见习补贴一个月多少", "MsgId": 771001})
    ts, nonce = str(int(time.time())), "31"
    query = {"timestamp": ts, "nonce": nonce, "signature": security.sign(wechat.settings.token, ts, nonce)}
    reply = wechat.post(body.encode(), query, Host="wx.sunan.example.gov.cn")
    assert '<a href="http://wx.sunan.example.gov.cn/policies/12">' in reply.text
    assert 'href="/' not in reply.text


def test_links_are_absolute_with_public_base_url(configured_fresh_app):
    configured_fresh_app.config["PUBLIC_BASE_URL"] = "https://jiuye.example.gov.cn/"
    reply = WeChatSimulator(configured_fresh_app).send_text("见习补贴一个月多少")
    assert '<a href="https://jiuye.example.gov.cn/policies/12">' in reply.text


def test_voice_with_recognition_is_answered_like_text(wechat_any):
    spoken = wechat_any.send_voice("见习补贴一个月多少")
    typed = WeChatSimulator(wechat_any.app, aes=wechat_any.aes).send_text("见习补贴一个月多少")
    assert spoken.text == typed.text


@pytest.mark.parametrize("recognition", [None, "", "   "])
def test_voice_without_recognition_asks_again(wechat_any, recognition):
    reply = wechat_any.send_voice(recognition)
    assert reply.text == msg("wechat_voice_unrecognised")


@pytest.mark.parametrize("msg_type, extra", [
    ("image", {"PicUrl": "http://example.com/a.jpg", "MediaId": "m"}),
    ("video", {"MediaId": "m", "ThumbMediaId": "t"}),
    ("shortvideo", {"MediaId": "m", "ThumbMediaId": "t"}),
    ("location", {"Location_X": "38.8", "Location_Y": "99.6", "Scale": "15", "Label": "肃南县"}),
    ("link", {"Title": "t", "Description": "d", "Url": "http://example.com"}),
    ("file", {"Title": "a.pdf", "FileKey": "k", "FileMd5": "x", "FileTotalLen": "10"}),
    ("brand_new_type", {}),
])
def test_unsupported_messages_get_a_friendly_line_and_the_menu(wechat_any, msg_type, extra):
    reply = wechat_any.send_message(msg_type, extra)
    assert reply.text.startswith(msg("wechat_unsupported"))
    assert MENU_INTRO in reply.text and "1. " in reply.text
    assert wechat_any.send_text("2").text.startswith("【就业见习补贴】")  # the menu's numbers work next


@pytest.mark.parametrize("key", [None, "qrscene_123123", "last_trade_no"])
def test_subscribe_with_or_without_a_scene_gets_the_welcome_and_menu(wechat_any, key):
    reply = wechat_any.send_event("subscribe", key, Ticket="TICKET" if key else None)
    assert reply.text.startswith(msg("welcome"))
    assert "1. " in reply.text


@pytest.mark.parametrize("key, expect", [
    ("POLICY", "menu_intro"), ("MENU", "menu_intro"), ("CONTACTS", "县人社局"), ("CALC", "补贴测算"),
    ("CALC_INTERNSHIP", "见习"), ("UNKNOWN_KEY", "menu_intro"),
])
def test_click_keys_reach_the_engine(wechat_any, key, expect):
    reply = wechat_any.send_event("CLICK", key)
    assert reply.ok and reply.text
    if expect == "menu_intro":
        assert MENU_INTRO in reply.text
    else:
        assert expect in reply.text and MENU_INTRO not in reply.text


@pytest.mark.parametrize("event, key", [
    ("VIEW", "https://jiuye.example.gov.cn/calc"), ("unsubscribe", None), ("TEMPLATESENDJOBFINISH", None),
    ("MASSSENDJOBFINISH", None), ("SCAN", "123"), ("LOCATION", None), ("view_miniprogram", "pages/x"),
    ("something_new", "x"),
])
def test_other_events_get_success(wechat_any, event, key):
    reply = wechat_any.send_event(event, key)
    assert reply.status == 200 and reply.is_success


@pytest.mark.parametrize("text", ["😀👍 见习补贴🙏", "ᠰᠠᠶᠢᠨ ᠪᠠᠶᠢᠨ᠎ᠠ ᠤᠤ", "Сайн байна уу", "\u200b\u200d", "🇨🇳" * 500,
                                  "\U0001F600" * 3000])
def test_emoji_and_mongolian_text(wechat_any, text):
    reply = wechat_any.send_text(text)
    assert reply.ok and reply.text and len(reply.text.encode()) <= 2048


@pytest.mark.parametrize("text", ["]]>", "a]]>b<xml>", "]]]]><![CDATA[>", "</Content></xml><xml><Content>x",
                                  "<![CDATA[ evil ]]>", "&amp; &lt; <a href='x'>"])
def test_cdata_terminators_in_user_text_cannot_break_the_reply(wechat_any, text):
    reply = wechat_any.send_text(text)
    assert reply.ok
    xmlsafe.parse(reply.body)
    assert reply.to_user == wechat_any.user


def test_cdata_terminators_in_engine_text_are_escaped(wechat, monkeypatch):
    from bot.engine import Engine
    from bot.reply import Reply

    monkeypatch.setattr(Engine, "handle", lambda self, incoming: Reply("a ]]> b ]]]]> c <x/>", "smalltalk"))
    reply = wechat.send_text("hi")
    assert reply.text == "a ]]> b ]]]]> c <x/>"


def test_a_sender_id_with_cdata_terminator_is_escaped(wechat):
    reply = wechat.send_text("你好", user="o_]]><evil/>")
    assert reply.to_user == "o_]]><evil/>"


def _signed_query(token: str, encrypted: str | None = None, **extra: str) -> dict[str, str]:
    """WeChat's query: now, a fresh nonce, `signature`, and msg_signature over `encrypted` if given."""
    ts, nonce = str(int(time.time())), security.new_nonce()
    query = {"timestamp": ts, "nonce": nonce, "signature": security.sign(token, ts, nonce), **extra}
    if encrypted is not None:
        query.update(encrypt_type="aes", msg_signature=security.sign(token, ts, nonce, encrypted))
    return query


def test_compatible_mode_with_encrypt_type_aes_is_answered_encrypted(wechat):
    """兼容模式: the body has the plain fields and Encrypt; encrypt_type=aes → decrypt and encrypt the reply."""
    from wechatpy.crypto import PrpCrypto

    config = wechat.settings
    assert config.mode == "compatible"
    inner = message_xml({"ToUserName": "gh_jiuye", "FromUserName": wechat.user, "CreateTime": int(time.time()),
                         "MsgType": "text", "Content": "见习补贴一个月多少", "MsgId": 777001})
    encrypted = PrpCrypto(security.crypto(config.token, config.aes_key, config.app_id).key).encrypt(
        inner, config.app_id).decode()
    body = inner.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    reply = wechat.post(body.encode(), _signed_query(config.token, encrypted))
    assert "<Encrypt>" in reply.raw and "第12条" in reply.text
    # A plain delivery (no encrypt_type) is accepted in compatible mode: its plain fields, answered plain.
    plain = wechat.post(body.replace("777001", "777002").encode(), _signed_query(config.token))
    # (the same question twice is the same answer, said to be the same: compare the answer itself)
    assert "<Encrypt>" not in plain.raw and reply.text.split("\n")[0] in plain.text


def test_without_a_configured_key(configured_fresh_app):
    """No AES key: compatible mode still reads the plain fields of a compatible body; an encrypted-only
    body has nothing readable (success); safe mode without a key reads nothing."""
    from wechatpy.crypto import PrpCrypto

    from .conftest import AES_KEY, APP_ID

    sim = WeChatSimulator(configured_fresh_app, aes=True)
    assert sim.send_text("菜单").ok
    configured_fresh_app.config["WECHAT"] = {**configured_fresh_app.config["WECHAT"], "ENCODING_AES_KEY": ""}
    inner = message_xml({"ToUserName": "gh", "FromUserName": sim.user, "CreateTime": int(time.time()),
                         "MsgType": "text", "Content": "菜单", "MsgId": 5})
    encrypted = PrpCrypto(security.crypto(sim.settings.token, AES_KEY, APP_ID).key).encrypt(inner, APP_ID).decode()
    only_encrypted = sim.post(message_xml({"ToUserName": "gh", "Encrypt": encrypted}).encode(),
                              _signed_query(sim.settings.token, encrypted))
    assert only_encrypted.status == 200 and only_encrypted.is_success
    compat_body = inner.replace("</xml>", f"<Encrypt>{encrypted}</Encrypt></xml>").encode()
    compat = sim.post(compat_body, _signed_query(sim.settings.token, encrypted))
    assert compat.ok and MENU_INTRO in compat.text and "<Encrypt>" not in compat.raw
    configured_fresh_app.config["WECHAT"] = {**configured_fresh_app.config["WECHAT"], "MODE": "safe"}
    safe = sim.post(compat_body.replace(b"<MsgId>5", b"<MsgId>6"), _signed_query(sim.settings.token, encrypted))
    assert safe.status == 200 and safe.is_success


def test_engine_failure_is_an_apology_not_a_500(wechat_any, monkeypatch):
    from bot.engine import Engine

    def boom(self, incoming):
        raise RuntimeError("engine down")

    monkeypatch.setattr(Engine, "handle", boom)
    reply = wechat_any.send_text("见习补贴")
    assert reply.status == 200 and reply.text == msg("wechat_error")


def test_the_reply_comes_within_the_deadline(configured_fresh_app, monkeypatch):
    """Item 6: an engine that has not answered by the deadline (0.3 s here) still gets the person a reply,
    and the answer it gives later is what WeChat's retry receives — "still working" is never stored.

    No stopwatch: the engine is blocked until the test lets it go, so only the deadline can
    produce the first reply (speed itself is measured by `flask wechat bench`)."""
    from bot.engine import Engine
    from knowledge.models import WechatMessage

    configured_fresh_app.config["WECHAT"] = {**configured_fresh_app.config["WECHAT"], "REPLY_DEADLINE_SECONDS": 0.3}
    sim = WeChatSimulator(configured_fresh_app)
    release = threading.Event()
    original = Engine.handle

    def blocked(self, incoming):
        release.wait(timeout=60)  # if the deadline failed, the reply below would be the real answer
        return original(self, incoming)

    monkeypatch.setattr(Engine, "handle", blocked)
    try:
        reply = sim.send_text("见习补贴一个月多少", msg_id=880001)
    finally:
        release.set()
    assert reply.status == 200 and reply.text == msg("wechat_slow")
    db = configured_fresh_app.extensions["jiuye.db"]
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:  # the job goes on after the deadline and stores its answer
        with db.session() as s:
            if s.get(WechatMessage, "msg|gh_jiuye_simulator|" + sim.user + "|880001").status == "done":
                break
        time.sleep(0.05)
    again = sim.send_text("见习补贴一个月多少", msg_id=880001)  # WeChat's retry
    assert "第12条" in again.text
