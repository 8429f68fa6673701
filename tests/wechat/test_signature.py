"""Item 1: URL verification, signatures (constant time), settings — a token of digits stays a string."""
from __future__ import annotations

import hmac
import time
from urllib.parse import urlencode

import pytest

from knowledge.settings import load_settings
from webhooks.wechat import security
from webhooks.wechat.config import WeChatSettings
from webhooks.wechat.simulator import message_xml

from .conftest import AES_KEY, APP_ID, TOKEN


def test_readme_signature_vector():
    assert security.sign("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    assert security.signature_matches("f464b24fc39322e44b38aa78f5edd27bd1441696", "AAAAA", "1714036504",
                                      "1514711492")


def test_get_verification_with_the_readme_vector(wechat_app):
    wechat_app.config["WECHAT"] = {**wechat_app.config["WECHAT"], "TOKEN": "AAAAA"}
    try:
        response = wechat_app.test_client().get("/wechat?" + urlencode(
            {"signature": "f464b24fc39322e44b38aa78f5edd27bd1441696", "timestamp": "1714036504",
             "nonce": "1514711492", "echostr": "5837397520665436492"}))
    finally:
        wechat_app.config["WECHAT"] = {**wechat_app.config["WECHAT"], "TOKEN": TOKEN}
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "5837397520665436492"
    assert response.mimetype == "text/plain"


def test_get_verification_echoes_only_with_a_good_signature(wechat):
    assert wechat.verify_url("hello-42") == (200, "hello-42")
    status, body = wechat.verify_url("hello-42", token="wrong-token")
    assert status == 403 and "hello-42" not in body
    client = wechat.client
    assert client.get("/wechat").status_code == 403
    assert client.get("/wechat?signature=&timestamp=1&nonce=2&echostr=x").status_code == 403


def test_no_token_configured_refuses_everything(fresh_app):
    assert WeChatSettings.from_config(fresh_app.config).token == ""
    client = fresh_app.test_client()
    ts, nonce = "1714036504", "1514711492"
    # sha1 of an empty token is computable by anyone: it must not open the door
    signature = security.sign("", ts, nonce)
    query = urlencode({"signature": signature, "timestamp": ts, "nonce": nonce, "echostr": "x"})
    assert client.get("/wechat?" + query).status_code == 403
    body = message_xml({"ToUserName": "gh", "FromUserName": "o1", "CreateTime": 1, "MsgType": "text",
                        "Content": "hi", "MsgId": 1})
    assert client.post("/wechat?" + query, data=body).status_code == 403


@pytest.mark.parametrize("forge", ["wrong", "missing", "other-token", "uppercase", "long", "unicode"])
def test_forged_plain_signatures_are_403(wechat, forge):
    body = message_xml({"ToUserName": "gh", "FromUserName": wechat.user, "CreateTime": int(time.time()),
                        "MsgType": "text", "Content": "见习补贴", "MsgId": 42}).encode()
    ts, nonce = str(int(time.time())), "12345"
    good = security.sign(TOKEN, ts, nonce)
    signature = {"wrong": "0" * 40, "missing": None, "other-token": security.sign("654321", ts, nonce),
                 "uppercase": good.upper(), "long": good * 100, "unicode": "签名" * 20}[forge]
    query = {"timestamp": ts, "nonce": nonce}
    if signature is not None:
        query["signature"] = signature
    reply = wechat.post(body, query)
    assert reply.status == 403
    assert "Traceback" not in reply.body


def test_forged_msg_signature_in_safe_mode_is_403(wechat_aes):
    # A valid plain `signature` is not enough in safe mode: msg_signature must sign the Encrypt value.
    ts, nonce = str(int(time.time())), "777"
    envelope = message_xml({"ToUserName": "gh", "Encrypt": "AAAA" * 20}).encode()
    query = {"timestamp": ts, "nonce": nonce, "signature": security.sign(TOKEN, ts, nonce),
             "encrypt_type": "aes", "msg_signature": security.sign(TOKEN, ts, nonce)}
    assert wechat_aes.post(envelope, query).status == 403
    query["msg_signature"] = security.sign(TOKEN, ts, nonce, "BBBB" * 20)  # signs another body
    assert wechat_aes.post(envelope, query).status == 403


def test_signatures_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    assert security.signature_matches(security.sign("t", "1", "2"), "t", "1", "2")
    assert not security.signature_matches("f" * 40, "t", "1", "2")
    assert len(calls) == 2


def test_a_token_of_digits_stays_a_string(tmp_path):
    settings = load_settings(environ={"JIUYE_WECHAT__TOKEN": "0123456"})
    assert settings["WECHAT"]["TOKEN"] == "0123456"
    assert WeChatSettings.from_config(settings).token == "0123456"
    # A TOML file may hold TOKEN = 123456 (an integer): it is still used as the string "123456".
    toml = tmp_path / "config.toml"
    toml.write_text("[WECHAT]\nTOKEN = 123456\n", encoding="utf-8")
    from_toml = load_settings(environ={"JIUYE_CONFIG": str(toml)})
    assert WeChatSettings.from_config(from_toml).token == "123456"


def test_the_digit_token_signs_like_wechat(wechat):
    # The fixture account's token is "123456" (digits): signing and checking use it as text.
    assert wechat.settings.token == "123456"
    assert wechat.verify_url("ok") == (200, "ok")


def test_aes_settings_are_validated():
    assert WeChatSettings(app_id=APP_ID, aes_key=AES_KEY).aes_ready
    assert not WeChatSettings(app_id=APP_ID, aes_key=AES_KEY[:-1]).aes_ready
    assert not WeChatSettings(app_id="", aes_key=AES_KEY).aes_ready
    assert not WeChatSettings(app_id=APP_ID, aes_key="!" * 43).aes_ready
