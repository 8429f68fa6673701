"""The /wechat endpoint: verify, read (plain, compatible or safe mode), dedupe, answer within the deadline.

    GET  /wechat                 URL verification: echo `echostr` when the signature holds
    POST /wechat                 a message or event; the reply is XML, or `success`
    GET  /wechat/answer/<faq_id> the whole of an answer that was cut to fit WeChat's 2048 bytes

A POST is authentic only when its signature holds, its timestamp is within five minutes and
its (timestamp, nonce) has signed no other message (webhooks.wechat.replay). WECHAT.MODE
decides what is read: safe mode requires encrypt_type=aes and reads only the decrypted XML.

Errors are mapped here, once: bad signature, stale timestamp, replayed nonce or a plain
delivery in safe mode 403; body over the limit 413; a body that is not a WeChat XML document
400. A failure while answering (engine error, database down) is an apology to the sender that
is NOT stored as the message's reply, so WeChat's retry of it is processed afresh. Never a
500 or a traceback to WeChat.
"""
from __future__ import annotations

import hashlib
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

from .. import logs, metrics, ratelimit
from ..db import get_db, get_engine
from ..errors import drain_refused_body, is_database_down
from ..identity import wechat_user
from . import render, replay, security, xmlsafe
from .config import WeChatSettings
from .errors import BadSignature, BodyTooLarge, MalformedMessage, WeChatChannelError
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
    nonces: replay.NonceGuard | None = None
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

    def get_nonces(self) -> replay.NonceGuard:
        if self.nonces is None:
            with self.lock:
                if self.nonces is None:
                    self.nonces = replay.NonceGuard(get_db())
        return self.nonces

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
    timestamp: str = ""


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
        if isinstance(exc, BodyTooLarge):
            drain_refused_body()  # keep the connection usable for the next delivery
        return plain(exc.code, exc.status)
    except Exception:  # noqa: BLE001 — the edge: log it, never show WeChat a 500
        log.exception("wechat delivery could not be read")
        return plain(SUCCESS)
    try:
        answer = respond(inbound, config, started)
    except WeChatChannelError as exc:  # a replayed nonce
        log.warning("wechat delivery refused (%s): %s", exc.status, exc.message)
        return plain(exc.code, exc.status)
    except Exception as exc:  # noqa: BLE001 — e.g. the database is down before the message could be claimed
        log.warning("wechat delivery could not be answered (%s)", exc.__class__.__name__,
                    exc_info=not is_database_down(exc))
        answer = apology(inbound, "wechat_busy" if is_database_down(exc) else "wechat_error")
    if answer == SUCCESS:
        return plain(SUCCESS)
    if inbound.encrypted:
        try:
            answer = security.encrypt(config.token, config.aes_key, config.app_id, answer, nonce=inbound.nonce)
        except Exception:  # noqa: BLE001 — a plain reply to a safe-mode message would be shown as an error
            log.exception("wechat reply could not be encrypted")
            return plain(SUCCESS)
    return Response(answer, mimetype="application/xml")


def apology(inbound: Inbound, key: str = "wechat_error") -> str:
    """A short text back to the sender (never stored as the message's reply), or `success`."""
    message = Message(inbound.data)
    if not message.source or not message.type:
        return SUCCESS
    return text_reply(message.source, message.target, msg(key))


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
    """Check size, signature and timestamp, decrypt, and parse, as WECHAT.MODE says.

    safe: only encrypted deliveries (encrypt_type=aes, msg_signature over the Encrypt value),
    read from the decrypted XML — dropping encrypt_type is refused, never a downgrade.
    compatible: an encrypted delivery is read from the decrypted XML only (the plain fields
    beside Encrypt are not signed by anything); a plain one is accepted as in plain mode.
    plain: the plain fields, under the `signature` of token, timestamp and nonce."""
    body = read_body(config.max_body)
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    mode = config.mode
    encrypted_request = args.get("encrypt_type", "raw").lower() == "aes"
    if mode == "safe" and not encrypted_request:
        raise BadSignature("safe mode: only encrypted deliveries (encrypt_type=aes) are accepted")
    if mode == "plain" or not encrypted_request:
        security.require_signature(config.token, args.get("signature"), timestamp, nonce)
        replay.require_fresh(timestamp, config.max_skew)
        data = xmlsafe.parse(body)
        return Inbound(body.decode("utf-8"), data, encrypted=False, nonce=nonce, timestamp=timestamp)

    # Safe and compatible mode: msg_signature signs the Encrypt value as well.
    envelope = xmlsafe.parse(body)
    encrypted = xmlsafe.field(envelope, "Encrypt")
    if not encrypted:
        raise MalformedMessage("encrypt_type=aes without an Encrypt element")
    security.require_signature(config.token, args.get("msg_signature"), timestamp, nonce, encrypted)
    replay.require_fresh(timestamp, config.max_skew)
    if not config.aes_ready:
        if mode == "compatible":
            # No key to decrypt with: compatible mode still carries the plain fields.
            log.error("encrypted delivery, but WECHAT.ENCODING_AES_KEY / APP_ID are not set or invalid; "
                      "reading the plain fields (compatible mode)")
            plain_fields = {k: v for k, v in envelope.items() if k != "Encrypt"}
            return Inbound(body.decode("utf-8"), plain_fields, encrypted=False, nonce=nonce, timestamp=timestamp)
        log.error("safe-mode delivery, but WECHAT.ENCODING_AES_KEY / APP_ID are not set or invalid")
        return Inbound(body.decode("utf-8"), {}, encrypted=False, nonce=nonce, timestamp=timestamp)
    xml = security.decrypt(config.token, config.aes_key, config.app_id, encrypted)
    return Inbound(xml, xmlsafe.parse(xml), encrypted=True, nonce=nonce, timestamp=timestamp)


def respond(inbound: Inbound, config: WeChatSettings, started: float) -> str:
    """The plain reply XML (or `success`), processed once per delivery key.

    Only a real answer is stored as the message's reply. An engine error is an apology and the
    claim is given back, so WeChat's retry (or the person's resend) is processed afresh. A
    deadline miss answers "still working" now while the job goes on and stores its answer for
    the retry."""
    # The engine sees a keyed hash of the openid, never the openid (webhooks.identity).
    message = Message(inbound.data, user=wechat_user(xmlsafe.field(inbound.data, "FromUserName")))
    key = dedupe_key(message, inbound.xml)
    channel = state()
    channel.get_nonces().admit(inbound.timestamp, inbound.nonce, key)  # ReplayedNonce: another message
    handler = route(message)
    if handler is None:
        return SUCCESS
    deadline = started + config.deadline
    store = channel.get_store(config)
    claim = store.begin(key, wait_until=deadline)
    if claim.reply is not None:  # WeChat's retry (or a duplicate delivery): the stored answer again
        metrics.wechat_retry("stored")
        return claim.reply
    if claim.busy:  # another worker is still on it; this delivery must not wait past the deadline
        metrics.wechat_retry("busy")
        return text_reply(message.source, message.target, msg("wechat_slow"))
    if ratelimit.limiter().hit("wechat_user", message.user):
        store.release(key, claim.token)  # not answered: a later delivery of it may be
        return text_reply(message.source, message.target, msg("wechat_rate_limited"))
    base_url = public_base_url(config)
    try:
        return run_before(deadline, handler, message, store, key, claim.token, base_url)
    except FutureTimeout:
        metrics.wechat_deadline_miss()
        log.warning("wechat reply for %s missed the %.1fs deadline; the answer is stored for the retry",
                    key_tag(key), config.deadline)
        return text_reply(message.source, message.target, msg("wechat_slow"))
    except Exception as exc:  # noqa: BLE001
        log.warning("wechat handler failed for %s (%s); the claim is released for a retry", key_tag(key),
                    exc.__class__.__name__, exc_info=not is_database_down(exc))
        release_quietly(store, key, claim.token)
        return text_reply(message.source, message.target,
                          msg("wechat_busy" if is_database_down(exc) else "wechat_error"))


def key_tag(key: str) -> str:
    """A delivery key as logged: a short hash, since the key holds the sender's openid (never logged)."""
    return "k:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:12]


def release_quietly(store: MessageStore, key: str, token: str) -> None:
    """Give the claim back; with the database down this fails too, and the claim then goes stale."""
    try:
        store.release(key, token)
    except Exception:  # noqa: BLE001
        log.warning("could not release the claim on %s; it is taken over once stale", key_tag(key))


def run_before(deadline: float, handler: Handler, message: Message, store: MessageStore, key: str,
               token: str, base_url: str) -> str:
    """Answer on the pool and store the answer there; wait for it until the deadline.

    The job stores its own answer, so one that finishes after the deadline still serves the
    retry; a job that fails gives the claim back instead of storing an error."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    @logs.carry_request_id  # the job's log lines name the delivery's request
    def job() -> str:
        try:
            reply = handler(message, engine(app).handle)
            metrics.count_reply(reply, "wechat", app)  # counted even when it comes after the deadline
            answer = to_xml(message, reply, base_url)
        except BaseException:
            release_quietly(store, key, token)
            raise
        return store.finish(key, token, answer)

    future = state(app).get_executor().submit(job)
    return future.result(timeout=max(0.01, deadline - time.monotonic()))


def to_xml(message: Message, reply: Reply | None, base_url: str) -> str:
    if reply is None:
        return SUCCESS
    text = render.to_text(reply, base_url=base_url)
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
<link rel="stylesheet" href="{{ asset('web/answer.css') }}"></head>
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
