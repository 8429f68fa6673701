"""Item 2: hardened parsing — size limit, DOCTYPE/ENTITY refused, broken input is 400 or `success`, never 500."""
from __future__ import annotations

import io
import random
import time

import pytest

from webhooks.wechat import xmlsafe
from webhooks.wechat.errors import ForbiddenMarkup
from webhooks.wechat.simulator import message_xml

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><ToUserName>gh</ToUserName><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>"""

PLAIN_DOCTYPE = """<!DOCTYPE xml><xml><ToUserName>gh</ToUserName><FromUserName>o_x</FromUserName>
<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>3</MsgId></xml>"""


def text_xml(user: str, content: str = "见习补贴", **extra) -> str:
    fields = {"ToUserName": "gh_test", "FromUserName": user, "CreateTime": int(time.time()), "MsgType": "text",
              "Content": content, "MsgId": random.randrange(10**15, 10**16)}
    fields.update(extra)
    return message_xml(fields)


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, XXE, PLAIN_DOCTYPE], ids=["billion-laughs", "xxe", "doctype"])
def test_doctype_and_entities_are_refused(wechat_any, doc):
    reply = wechat_any.send_xml(doc)
    assert reply.status == 400
    assert "lol" not in reply.body and "root:" not in reply.body


def test_parser_refuses_declarations_directly():
    for doc in (BILLION_LAUGHS, XXE, PLAIN_DOCTYPE):
        with pytest.raises(ForbiddenMarkup):
            xmlsafe.parse(doc)


def test_doctype_typed_by_a_person_inside_cdata_is_just_text(wechat):
    reply = wechat.send_text("<!DOCTYPE html> <!ENTITY x> 这是什么")
    assert reply.ok and reply.text


@pytest.mark.parametrize("body", [
    b"", b"   ", b"\xef\xbb\xbf", b"not xml at all", b"<xml>", b"<xml><MsgType>text</MsgType>",
    b"<other><MsgType>text</MsgType></other>", b"<xml></xml>", b"<xml>just text</xml>",
    b"\xff\xfe<\x00x\x00m\x00l\x00>\x00", b"<xml><a>\x01</a></xml>", "<xml><Content>中文".encode("gbk"),
], ids=lambda b: repr(b[:20]))
def test_malformed_bodies_are_400(wechat_any, body):
    reply = wechat_any.send_xml(body) if wechat_any.aes and body else wechat_any.post(body, _signed(wechat_any))
    assert reply.status == 400, reply.body
    assert "Traceback" not in reply.body


def test_a_false_encoding_declaration_is_read_as_utf8(wechat_any):
    # WeChat sends UTF-8; the declaration is not trusted. Well-formed, nobody to answer: success.
    body = b'<?xml version="1.0" encoding="UTF-16"?><xml><MsgType>text</MsgType></xml>'
    reply = wechat_any.send_xml(body) if wechat_any.aes else wechat_any.post(body, _signed(wechat_any))
    assert reply.status == 200 and reply.is_success


def _signed(sim) -> dict[str, str]:
    """A plain-mode signature as WeChat makes one: now, and a nonce never used before (a used
    one with another body is refused as a replay)."""
    from webhooks.wechat import security

    ts, nonce = str(int(time.time())), security.new_nonce()
    return {"timestamp": ts, "nonce": nonce, "signature": security.sign(sim.settings.token, ts, nonce)}


def test_plain_mode_malformed_is_400(wechat):
    assert wechat.post(b"<xml><unclosed></xml>", _signed(wechat)).status == 400
    assert wechat.post(b"", _signed(wechat)).status == 400


@pytest.mark.parametrize("fields", [
    {"ToUserName": "gh", "FromUserName": "o_no_type", "CreateTime": 1, "Content": "hi"},
    {"ToUserName": "gh", "FromUserName": "o_x", "CreateTime": 1, "MsgType": ""},
    {"ToUserName": "gh", "CreateTime": 1, "MsgType": "text", "Content": "nobody to answer"},
    {"ToUserName": "gh", "FromUserName": "o_x", "MsgType": "event"},
])
def test_well_formed_but_meaningless_is_success(wechat_any, fields):
    reply = wechat_any.send_xml(message_xml(fields))
    assert reply.status == 200 and reply.is_success


def test_nested_or_attribute_values_do_not_crash(wechat_any):
    xml = (f"<xml><ToUserName>gh</ToUserName><FromUserName>{wechat_any.user}</FromUserName>"
           "<CreateTime><a>1</a></CreateTime><MsgType kind='x'>text</MsgType>"
           "<Content><b>1</b><b>2</b></Content><MsgId>1</MsgId><MsgId>2</MsgId></xml>")
    reply = wechat_any.send_xml(xml)
    assert reply.status == 200  # attributes ignored: a text message with no usable content


def test_body_over_64_kib_is_413(wechat_any):
    filler = "测" * 22_000  # 66 000 bytes of text
    reply = wechat_any.send_xml(text_xml(wechat_any.user, filler))
    assert reply.status == 413


def test_body_just_under_the_limit_is_answered(wechat):
    content = "见习补贴" + "。" * 20_000  # ~60 KB
    xml = text_xml(wechat.user, content)
    assert len(xml.encode()) < 65536
    reply = wechat.send_xml(xml)
    assert reply.ok and reply.text


def test_a_lying_content_length_is_still_capped(wechat):
    body = text_xml(wechat.user, "x" * 70_000).encode()
    reply = wechat.post(body, _signed(wechat), **{"Content-Length": "100"})
    assert reply.status in (400, 413)  # the stream stops at 100 bytes: broken XML, not a crash


def test_unsigned_huge_body_is_refused_without_reading(wechat):
    reply = wechat.post(b"x" * (2 * 1024 * 1024), {"timestamp": "1", "nonce": "2", "signature": "x"})
    assert reply.status == 413


def test_fuzzed_bodies_never_500(wechat_any):
    rng = random.Random(4)
    base = text_xml(wechat_any.user).encode()
    pieces = [b"<", b">", b"]]>", b"<![CDATA[", b"&", b"&amp;", b"\x00", b"\xff", b"</xml>", b"<xml>", "蒙".encode()]
    for _ in range(60):
        body = bytearray(base)
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(len(body))
            if rng.random() < 0.5:
                body[at:at] = rng.choice(pieces)
            else:
                del body[at:at + rng.randrange(1, 8)]
        reply = wechat_any.send_xml(bytes(body)) if wechat_any.aes else wechat_any.post(bytes(body),
                                                                                        _signed(wechat_any))
        assert reply.status in (200, 400), reply.body
        assert "Traceback" not in reply.body


def test_safe_mode_envelope_problems(wechat_aes):
    from webhooks.wechat import security

    ts, nonce = str(int(time.time())), "5"
    # no Encrypt element
    reply = wechat_aes.post(b"<xml><ToUserName>gh</ToUserName></xml>",
                            {"timestamp": ts, "nonce": nonce, "encrypt_type": "aes", "msg_signature": "x"})
    assert reply.status == 400
    # signed, but not something our key can decrypt
    for junk in ("not-base64!!", "QUJD", "A" * 64):
        envelope = message_xml({"ToUserName": "gh", "Encrypt": junk}).encode()
        query = {"timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
                 "msg_signature": security.sign(wechat_aes.settings.token, ts, nonce, junk)}
        assert wechat_aes.post(envelope, query).status == 400


def test_safe_mode_message_for_another_app_id_is_400(wechat_app):
    from webhooks.wechat.simulator import WeChatSimulator

    sim = WeChatSimulator(wechat_app, aes=True)
    saved = wechat_app.config["WECHAT"]
    wechat_app.config["WECHAT"] = {**saved, "APP_ID": "wx_someone_else"}
    try:
        from webhooks.wechat import security
        from wechatpy.crypto import PrpCrypto

        config = sim.settings
        encrypted = PrpCrypto(security.crypto(config.token, config.aes_key, config.app_id).key).encrypt(
            text_xml(sim.user), "wx_someone_else").decode()
    finally:
        wechat_app.config["WECHAT"] = saved
    ts, nonce = str(int(time.time())), "6"
    query = {"timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
             "msg_signature": security.sign(sim.settings.token, ts, nonce, encrypted)}
    reply = sim.post(message_xml({"ToUserName": "gh", "Encrypt": encrypted}).encode(), query)
    assert reply.status == 400


class Trickle(io.BytesIO):
    """A WSGI input that hands out at most 100 bytes per read, as a server reading a slow socket may."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(100 if size is None or size < 0 else min(size, 100))

    def readinto(self, buffer) -> int:
        chunk = self.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


def post_trickled(sim, body: bytes, *, with_length: bool) -> tuple[int, str]:
    """POST `body` signed, straight to the WSGI app, read 100 bytes at a time (and, if asked, no Content-Length)."""
    from urllib.parse import urlencode

    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path="/wechat", method="POST", query_string=urlencode(_signed(sim)),
                             content_type="text/xml", data=b"").get_environ()
    environ["wsgi.input"] = Trickle(body)
    if with_length:
        environ["CONTENT_LENGTH"] = str(len(body))
    else:  # chunked: the server ends the stream, the app cannot know the size in advance
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    app_iter, status, _ = run_wsgi_app(sim.app, environ, buffered=True)
    return int(status.split()[0]), b"".join(app_iter).decode("utf-8")


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
def test_a_body_that_arrives_in_small_reads_is_read_whole(wechat, with_length):
    body = text_xml(wechat.user, "见习补贴一个月多少").encode()
    status, text = post_trickled(wechat, body, with_length=with_length)
    assert status == 200 and "第12条" in text


def test_a_chunked_body_over_the_limit_is_413(wechat):
    status, _ = post_trickled(wechat, text_xml(wechat.user, "测" * 22_000).encode(), with_length=False)
    assert status == 413
