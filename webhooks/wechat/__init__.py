"""The WeChat Official Account channel (公众号): endpoint, retries, replies, menu, simulator.

One message: verify the signature (constant time) → read the body (size limit,
hardened XML, AES in safe mode) → route by MsgType/Event → claim its key in
`wechat_messages` (exactly once across workers) → the engine, within the reply
deadline → render ≤ 2048 bytes, escape CDATA → encrypt in safe mode.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask

from bot.reply import Reply

from .cli import wechat_cli
from .config import MODES, WeChatSettings
from .views import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(wechat_cli)
    config = WeChatSettings.from_config(app.config)
    log = logging.getLogger(__name__)
    if config.aes_key and not config.aes_ready:
        log.error("WECHAT.ENCODING_AES_KEY must be 43 characters and APP_ID set; safe-mode messages cannot be read")
    if config.mode_setting and config.mode_setting not in MODES:
        log.error("WECHAT.MODE must be one of %s; using %s", "|".join(MODES), config.mode)
    if config.mode == "safe" and not config.aes_ready:
        log.error("WECHAT.MODE is safe but no valid ENCODING_AES_KEY/APP_ID is set: no message can be read")
    if config.token and not app.testing and not app.extensions.get("jiuye.warm_start"):
        # A configured account serves WeChat: build the engine now, not inside the first
        # message's 5 seconds. (With WARM_START create_app has built it already, before any
        # request, and no thread may run in a process that gunicorn is about to fork.)
        threading.Thread(target=warm_up, args=(app,), name="wechat-warm-up", daemon=True).start()


def warm_up(app: Flask) -> None:
    """Open the database and build the engine (matcher index) ahead of the first message."""
    from .views import engine

    try:
        engine(app)
    except Exception:  # noqa: BLE001 — the first message will try again and report it
        logging.getLogger(__name__).exception("wechat warm-up failed")


def warm_up_components(app: Flask, reply: Reply | None) -> None:
    """What a first delivery builds besides the engine: the XML parser, the reply renderer, the
    AES key schedule and the dedupe/nonce stores. Nothing is sent or stored."""
    from .render import to_text
    from .replies import text_reply
    from .simulator import message_xml
    from .views import state
    from . import security, xmlsafe

    config = WeChatSettings.from_config(app.config)
    xml = message_xml({"ToUserName": "gh_warm_up", "FromUserName": "o_warm_up", "CreateTime": 0,
                       "MsgType": "text", "Content": "warm-up", "MsgId": 1})
    data = xmlsafe.parse(xml)
    answer = text_reply(data["FromUserName"], data["ToUserName"],
                        to_text(reply, base_url=config.public_base_url or "http://localhost/") if reply else "warm-up")
    if config.aes_ready:
        envelope = security.encrypt(config.token, config.aes_key, config.app_id, answer)
        security.decrypt(config.token, config.aes_key, config.app_id, xmlsafe.field(xmlsafe.parse(envelope), "Encrypt"))
    if config.token:
        channel = state(app)
        with app.app_context():
            channel.get_store(config)
            channel.get_nonces()
