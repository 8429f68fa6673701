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
    if config.token and not app.testing:
        # A configured account serves WeChat: build the engine now, not inside the first
        # message's 5 seconds.
        threading.Thread(target=warm_up, args=(app,), name="wechat-warm-up", daemon=True).start()


def warm_up(app: Flask) -> None:
    """Open the database and build the engine (matcher index) ahead of the first message."""
    from .views import engine

    try:
        engine(app)
    except Exception:  # noqa: BLE001 — the first message will try again and report it
        logging.getLogger(__name__).exception("wechat warm-up failed")
