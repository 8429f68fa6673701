"""Post to /wechat exactly as WeChat does — signed, optionally encrypted — and decode the reply.

Used by `flask wechat simulate`, the latency bench and the tests (the `wechat`
fixture): `WeChatSimulator(app).send_text("见习补贴")` returns a `SimulatedReply`.
"""
from __future__ import annotations

import base64
import itertools
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from wechatpy.crypto import PrpCrypto

from . import security, xmlsafe
from .config import WeChatSettings
from .xmlsafe import cdata

ACCOUNT = "gh_jiuye_simulator"  # the ToUserName WeChat would send: our account's original id
_msg_ids = itertools.count(time.time_ns() // 1000)


def message_xml(fields: dict[str, Any]) -> str:
    """A WeChat-style <xml> body; text values in escaped CDATA, numbers bare."""
    parts = []
    for name, value in fields.items():
        if value is None:
            continue
        inner = str(value) if isinstance(value, int) else f"<![CDATA[{cdata(str(value))}]]>"
        parts.append(f"<{name}>{inner}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass
class SimulatedReply:
    status: int
    body: str                     # the HTTP body (for safe mode: the decrypted reply)
    raw: str = ""                 # the HTTP body as sent (the envelope, in safe mode)
    data: dict[str, Any] = field(default_factory=dict)  # parsed reply fields

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def is_success(self) -> bool:
        """WeChat's bare `success`: received, nothing to show."""
        return self.body.strip() in ("success", "")

    @property
    def text(self) -> str:
        return str(self.data.get("Content") or "")

    @property
    def to_user(self) -> str:
        return str(self.data.get("ToUserName") or "")

    @property
    def from_user(self) -> str:
        return str(self.data.get("FromUserName") or "")

    def shown(self) -> str:
        """What the person would see (or a note saying why nothing)."""
        if not self.ok:
            return f"(HTTP {self.status}: {self.body.strip()})"
        return self.text if self.data else "(success: nothing shown)"


class WeChatSimulator:
    """WeChat's side of the conversation, through the app's test client."""

    def __init__(self, app: Flask, *, aes: bool | None = None, user: str | None = None, account: str = ACCOUNT):
        self.app = app
        self.client = app.test_client()
        # Unless told, encrypt exactly when the account only accepts safe mode (as WeChat does).
        self.aes = aes if aes is not None else WeChatSettings.from_config(app.config).mode == "safe"
        self.user = user or "o_sim_" + uuid.uuid4().hex[:16]
        self.account = account

    @property
    def settings(self) -> WeChatSettings:
        return WeChatSettings.from_config(self.app.config)

    def ensure_credentials(self) -> list[str]:
        """Fill in a throwaway Token (and AES key + AppID for --aes) when the app has none.

        Only this process's app config changes; returns what was made up."""
        wechat = dict(self.app.config.get("WECHAT") or {})
        made = []
        if not str(wechat.get("TOKEN") or ""):
            wechat["TOKEN"] = secrets.token_hex(8)
            made.append("TOKEN")
        if self.aes and not WeChatSettings.from_config({"WECHAT": wechat}).aes_ready:
            wechat["ENCODING_AES_KEY"] = base64.b64encode(os.urandom(32)).decode()[:43]
            wechat["APP_ID"] = str(wechat.get("APP_ID") or "wx_simulator")
            made += ["ENCODING_AES_KEY", "APP_ID"]
        self.app.config["WECHAT"] = wechat
        return made

    # -- what a person does ----------------------------------------------------------------
    def send_text(self, text: str, *, user: str | None = None, msg_id: int | None = None) -> SimulatedReply:
        return self.send_message("text", {"Content": text}, user=user, msg_id=msg_id)

    def send_voice(self, recognition: str | None, *, user: str | None = None,
                   msg_id: int | None = None) -> SimulatedReply:
        return self.send_message("voice", {"MediaId": "media_id", "Format": "amr", "Recognition": recognition},
                                 user=user, msg_id=msg_id)

    def send_message(self, msg_type: str, extra: dict[str, Any], *, user: str | None = None,
                     msg_id: int | None = None, create_time: int | None = None) -> SimulatedReply:
        fields: dict[str, Any] = {"ToUserName": self.account, "FromUserName": user or self.user,
                                  "CreateTime": create_time or int(time.time()), "MsgType": msg_type}
        fields.update(extra)
        fields["MsgId"] = msg_id if msg_id is not None else next(_msg_ids)
        return self.send_xml(message_xml(fields))

    def send_event(self, event: str, key: str | None = None, *, user: str | None = None,
                   create_time: int | None = None, **extra: Any) -> SimulatedReply:
        fields: dict[str, Any] = {"ToUserName": self.account, "FromUserName": user or self.user,
                                  "CreateTime": create_time or int(time.time()), "MsgType": "event",
                                  "Event": event, "EventKey": key}
        fields.update(extra)
        return self.send_xml(message_xml(fields))

    # -- what WeChat does ------------------------------------------------------------------
    def send_xml(self, xml: str | bytes, *, aes: bool | None = None) -> SimulatedReply:
        """Sign (and in safe mode encrypt) `xml` and post it."""
        config = self.settings
        aes = self.aes if aes is None else aes
        body = xml if isinstance(xml, bytes) else xml.encode("utf-8")
        timestamp, nonce = str(int(time.time())), security.new_nonce()
        query = {"timestamp": timestamp, "nonce": nonce, "openid": self.user,
                 "signature": security.sign(config.token, timestamp, nonce)}
        if not aes:
            return self.post(body, query)
        encrypted = PrpCrypto(security.crypto(config.token, config.aes_key, config.app_id).key) \
            .encrypt(body, config.app_id).decode("ascii")
        query.update(encrypt_type="aes", msg_signature=security.sign(config.token, timestamp, nonce, encrypted))
        envelope = message_xml({"ToUserName": self.account, "Encrypt": encrypted})
        return self.post(envelope.encode("utf-8"), query)

    def post(self, body: bytes, query: dict[str, str], **headers: str) -> SimulatedReply:
        """Post `body` as is with `query` (for forged or broken deliveries) and decode the answer."""
        response = self.client.post("/wechat?" + urlencode(query), data=body,
                                    content_type="text/xml", headers=headers or None)
        raw = response.get_data(as_text=True)
        reply = SimulatedReply(response.status_code, raw, raw)
        if response.status_code != 200 or reply.is_success:
            return reply
        data = xmlsafe.parse(raw)  # a reply that is not well-formed XML fails here, loudly
        if "Encrypt" in data:
            reply.body = self.open_envelope(data)
            data = xmlsafe.parse(reply.body)
        reply.data = data
        return reply

    def open_envelope(self, envelope: dict[str, Any]) -> str:
        """Check the reply's MsgSignature as WeChat would, and decrypt it."""
        config = self.settings
        encrypted = xmlsafe.field(envelope, "Encrypt")
        if not security.signature_matches(xmlsafe.field(envelope, "MsgSignature"), config.token,
                                          xmlsafe.field(envelope, "TimeStamp"), xmlsafe.field(envelope, "Nonce"),
                                          encrypted):
            raise AssertionError("reply MsgSignature does not verify")
        return security.decrypt(config.token, config.aes_key, config.app_id, encrypted)

    def verify_url(self, echostr: str = "echo-123", *, token: str | None = None) -> tuple[int, str]:
        """WeChat's GET verification of the server URL."""
        timestamp, nonce = str(int(time.time())), security.new_nonce()
        signature = security.sign(token if token is not None else self.settings.token, timestamp, nonce)
        response = self.client.get("/wechat?" + urlencode({"signature": signature, "timestamp": timestamp,
                                                            "nonce": nonce, "echostr": echostr}))
        return response.status_code, response.get_data(as_text=True)
