"""The /wechat endpoint: verify, read (plain, compatible or safe mode), dedupe, answer within the deadline.

    GET  /wechat                 URL verification: echo `echostr` when the signature holds
    POST /wechat                 a message or event; the reply is XML, or `success`
    GET  /wechat/answer/<faq_id> the whole of an answer that was cut to fit WeChat's 2048 bytes

Errors are mapped here, once: bad signature 403, body over the limit 413, a body
that is not a WeChat XML document 400. Anything unexpected is logged and answered
`success` (or an apology to the sender) — never a 500 or a traceback to WeChat.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, render_template_string, request

from bot.engine import Engine
from bot.i18n import msg
from bot.reply import Reply

from ..db import get_db, get_engine
from . import render, security, xmlsafe
from .config import WeChatSettings
from .errors import BodyTooLarge, MalformedMessage, WeChatChannelError
from .handlers import Handler, Message, dedupe_key, route
from .replies import text_reply
from .store import MessageStore

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)
SUCCESS = "success"  # WeChat's "received, nothing to say": no retry, nothing shown
EXTENSION = "jiuye.wechat"


@dataclass
class ChannelState:
    """Per-app objects: the dedupe store and the small pool that enforces the reply deadline."""

    store: MessageStore | None = None
    executor: ThreadPoolExecutor | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    engine_lock: threading.Lock = field(default_factory=threading.Lock)

    def get_store(self, settings: WeChatSettings) -> MessageStore:
        if self.store is None:
            with self.lock:
                if self.store is None:
                    self.store = MessageStore(get_db(), stale_after=settings.stale_after)
        self.store.stale_after = settings.stale_after
        return self.store

    def get_executor(self) -> ThreadPoolExecutor:
        if self.executor is None:
            with self.lock:
                if self.executor is None:
                    self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="wechat")
        return self.executor


def state(app: Flask | None = None) -> ChannelState:
    app = app or current_app
    return app.extensions.setdefault(EXTENSION, ChannelState())


def engine(app: Flask) -> Engine:
    """The app's engine; the warm-up thread and the first messages build it once, not each."""
    with state(app).engine_lock, app.app_context():
        return get_engine()


def settings() -> WeChatSettings:
    return WeChatSettings.from_config(current_app.config)


def plain(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="text/plain")


@dataclass(frozen=True)
class Inbound:
    """A verified delivery: the plain XML (decrypted in safe mode) and whether to encrypt the answer."""

    xml: str
    data: dict[str, Any]
    encrypted: bool
    nonce: str


# -- GET: URL verification -----------------------------------------------------------------
@bp.get("/wechat")
def verify() -> Response:
    args = request.args
    try:
        security.require_signature(settings().token, args.get("signature"), args.get("timestamp", ""),
                                   args.get("nonce", ""))
    except WeChatChannelError as exc:
        log.warning("wechat verification refused: %s", exc.message)
        return plain(exc.code, exc.status)
    return plain(args.get("echostr", ""))


# -- POST: messages and events ---------------------------------------------------------------
@bp.post("/wechat")
def receive() -> Response:
    started = time.monotonic()
    config = settings()
    try:
        inbound = read_delivery(config)
    except WeChatChannelError as exc:
        log.warning("wechat delivery refused (%s): %s", exc.status, exc.message)
        return plain(exc.code, exc.status)
    except Exception:  # noqa: BLE001 — the edge: log it, never show WeChat a 500
        log.exception("wechat delivery could not be read")
        return plain(SUCCESS)
    try:
        answer = respond(inbound, config, started)
    except Exception:  # noqa: BLE001
        log.exception("wechat delivery could not be answered")
        answer = SUCCESS
    if answer == SUCCESS:
        return plain(SUCCESS)
    if inbound.encrypted:
        try:
            answer = security.encrypt(config.token, config.aes_key, config.app_id, answer, nonce=inbound.nonce)
        except Exception:  # noqa: BLE001 — a plain reply to a safe-mode message would be shown as an error
            log.exception("wechat reply could not be encrypted")
            return plain(SUCCESS)
    return Response(answer, mimetype="application/xml")


def read_body(limit: int) -> bytes:
    """At most `limit` bytes of the body (BodyTooLarge past that), however the server chunks the stream."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(f"body of {request.content_length} bytes is over {limit}")
    # One read() may return less than asked (werkzeug's LimitedStream is a raw stream), so
    # read until the end or one byte past the limit.
    chunks, size = [], 0
    while size <= limit:
        chunk = request.stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise BodyTooLarge(f"body is over {limit} bytes")
    return b"".join(chunks)


def read_delivery(config: WeChatSettings) -> Inbound:
    """Check size and signature, decrypt in safe mode, and parse: the delivery as a dict."""
    body = read_body(config.max_body)
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if args.get("encrypt_type", "raw").lower() != "aes":
        security.require_signature(config.token, args.get("signature"), timestamp, nonce)
        data = xmlsafe.parse(body)
        return Inbound(body.decode("utf-8"), data, encrypted=False, nonce=nonce)

    # Safe and compatible mode: msg_signature signs the Encrypt value as well.
    envelope = xmlsafe.parse(body)
    encrypted = xmlsafe.field(envelope, "Encrypt")
    if not encrypted:
        raise MalformedMessage("encrypt_type=aes without an Encrypt element")
    security.require_signature(config.token, args.get("msg_signature"), timestamp, nonce, encrypted)
    if not config.aes_ready:
        # Compatible mode still carries the plain fields; safe mode has nothing else to read.
        log.error("safe-mode delivery, but WECHAT.ENCODING_AES_KEY / APP_ID are not set or invalid")
        return Inbound(body.decode("utf-8"), envelope, encrypted=False, nonce=nonce)
    xml = security.decrypt(config.token, config.aes_key, config.app_id, encrypted)
    return Inbound(xml, xmlsafe.parse(xml), encrypted=True, nonce=nonce)


def respond(inbound: Inbound, config: WeChatSettings, started: float) -> str:
    """The plain reply XML (or `success`), processed once per delivery key."""
    message = Message(inbound.data)
    handler = route(message)
    if handler is None:
        return SUCCESS
    deadline = started + config.deadline
    channel = state()
    store = channel.get_store(config)
    key = dedupe_key(message, inbound.xml)
    claim = store.begin(key, wait_until=deadline)
    if claim.reply is not None:
        return claim.reply
    if claim.busy:  # another worker is still on it; this delivery must not wait past the deadline
        return text_reply(message.source, message.target, msg("wechat_slow"))
    try:
        reply = run_before(deadline, handler, message)
        answer = to_xml(message, reply, config)
    except FutureTimeout:
        log.warning("wechat reply for %s missed the %.1fs deadline", key, config.deadline)
        answer = text_reply(message.source, message.target, msg("wechat_slow"))
    except Exception:  # noqa: BLE001
        log.exception("wechat handler failed for %s", key)
        answer = text_reply(message.source, message.target, msg("wechat_error"))
    return store.finish(key, claim.token, answer)


def run_before(deadline: float, handler: Handler, message: Message) -> Reply | None:
    """Run the handler (and the engine) on the pool; give up waiting at the deadline."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def job() -> Reply | None:
        return handler(message, engine(app).handle)

    future = state(app).get_executor().submit(job)
    return future.result(timeout=max(0.01, deadline - time.monotonic()))


def to_xml(message: Message, reply: Reply | None, config: WeChatSettings) -> str:
    if reply is None:
        return SUCCESS
    text = render.to_text(reply, base_url=public_base_url(config))
    return text_reply(message.source, message.target, text) if text else SUCCESS


def public_base_url(config: WeChatSettings) -> str:
    """Where links in a reply point: PUBLIC_BASE_URL, else the host WeChat posted to.

    A link in a WeChat text message must be absolute: a site path opens nothing."""
    return config.public_base_url or request.host_url


# -- the whole of a cut answer -------------------------------------------------------------
ANSWER_PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ question }}</title>
<style>body{font:17px/1.7 system-ui,sans-serif;max-width:40em;margin:0 auto;padding:1em}
h1{font-size:1.2em}p.answer{white-space:pre-wrap}.basis{color:#555}</style></head>
<body><h1>{{ question }}</h1>
<p class="answer">{{ answer }}</p>
<p class="basis">{{ basis }} · <a href="{{ clause_url }}">{{ clause_link }}</a></p>
<p>{{ back }}</p></body></html>"""


@bp.get("/wechat/answer/<faq_id>")
def full_answer(faq_id: str):
    """The full text of an FAQ answer, as the engine gives it today."""
    from bot.replies import Scene, faq_answer
    from knowledge.service import citation

    bot = engine(current_app._get_current_object())  # type: ignore[attr-defined]
    snapshot = bot.refresh()
    faq = snapshot.faq(faq_id)
    if faq is None:
        abort(404)
    # The engine's own FAQ rendering (figures in force today, expired-window notes), so the
    # page says exactly what the cut WeChat reply began to say; it reads no conversation.
    reply = faq_answer(Scene(snapshot, bot.clock()), faq, score=None)
    cite = citation(faq.clause)
    return render_template_string(
        ANSWER_PAGE, question=faq.question, answer=reply.reply,
        basis=msg("wechat_answer_basis", citation=cite),
        clause_url=render.absolute(f"/policies/{faq.clause}", settings().public_base_url),
        clause_link=msg("wechat_answer_clause_link", citation=cite), back=msg("wechat_answer_back"))
