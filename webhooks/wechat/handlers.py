"""What each WeChat message or event gets: registries keyed by MsgType and Event, with fallbacks.

Like wechatpy's `register_message`/`register_event`, but a handler returns the
channel-neutral `Reply` (or None for the bare `success`) and talks to the engine
only through `turn`. A handler of None in the route means "answer `success`
without touching the database" (VIEW, unsubscribe, template and mass-send notices…).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable

from bot.i18n import msg
from bot.reply import Incoming, Reply

from ..edge import clean_text
from .xmlsafe import field

Turn = Callable[[Incoming], Reply]
Handler = Callable[["Message", Turn], "Reply | None"]

MESSAGE_HANDLERS: dict[str, Handler] = {}
EVENT_HANDLERS: dict[str, Handler] = {}
MAX_KEY_CHARS = 200  # wechat_messages.key
# What reaches the engine of one message, as on the JSON API: a question, not a document (and a
# bound on the cost of every pattern the engine runs over it).
MAX_TEXT_CHARS = 2000


def question_text(raw: str) -> str:
    """A message's text as the engine may see it: cleaned (no NUL, no control characters) and capped."""
    return clean_text(raw)[:MAX_TEXT_CHARS]


@dataclass(frozen=True)
class Message:
    """A parsed message or event (the children of <xml>), with the fields the channel uses.

    `user` is the follower's conversation key for the engine — a keyed hash of the openid
    (webhooks.identity.wechat_user), so the database never holds the openid; replies still go
    to `source`, the real openid."""

    data: dict[str, Any]
    user: str = ""

    def get(self, name: str) -> str:
        return field(self.data, name)

    @property
    def type(self) -> str:
        return self.get("MsgType").lower()

    @property
    def event(self) -> str:
        return self.get("Event").lower()

    @property
    def source(self) -> str:
        """The sender's OpenID (FromUserName)."""
        return self.get("FromUserName")

    @property
    def target(self) -> str:
        """Our account's original id (ToUserName)."""
        return self.get("ToUserName")

    @property
    def is_event(self) -> bool:
        return self.type == "event" or self.type.startswith("device_")

    @property
    def client_message_id(self) -> str | None:
        """WeChat's MsgId as the engine's message id: a redelivery is answered from storage."""
        msg_id = self.get("MsgId")
        return f"wx{msg_id}" if msg_id.isascii() and msg_id.isdigit() and len(msg_id) <= 30 else None


def on_message(*types: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in types:
            MESSAGE_HANDLERS[name] = handler
        return handler
    return register


def on_event(*events: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in events:
            EVENT_HANDLERS[name] = handler
        return handler
    return register


def route(message: Message) -> Handler | None:
    """The handler for `message`; None means answer `success` and do nothing else."""
    if not message.type or not message.source:
        return None  # nothing to answer, or no one to answer to
    if message.is_event:
        return EVENT_HANDLERS.get(message.event)
    return MESSAGE_HANDLERS.get(message.type, unsupported)


def dedupe_key(message: Message, raw: str) -> str:
    """The retry key: MsgId for messages, FromUserName + CreateTime for events (WeChat's advice).

    The account and the sender are part of it, and an event's name and key, so two
    different clicks in one second stay two; a retry repeats all of them."""
    msg_id = message.get("MsgId")
    if msg_id:
        parts = ["msg", message.target, message.source, msg_id]
    elif message.get("CreateTime"):
        parts = ["evt", message.target, message.source, message.get("CreateTime"), message.type,
                 message.event, message.get("EventKey")]
    else:
        return "raw:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()
    key = "|".join(parts)
    if len(key) > MAX_KEY_CHARS:
        key = "sha:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key


# -- messages ----------------------------------------------------------------------------
@on_message("text")
def text(message: Message, turn: Turn) -> Reply:
    return turn(Incoming(message.user, text=question_text(message.get("Content")), channel="wechat",
                         message_id=message.client_message_id))


@on_message("voice")
def voice(message: Message, turn: Turn) -> Reply:
    """Speech WeChat recognised is a typed question; nothing recognised: ask again."""
    recognition = message.get("Recognition")
    if not recognition:
        return Reply(msg("wechat_voice_unrecognised"), "smalltalk")
    return turn(Incoming(message.user, text=question_text(recognition), channel="wechat",
                         message_id=message.client_message_id))


@on_message("image", "video", "shortvideo", "location", "link", "file", "miniprogrampage")
def unsupported(message: Message, turn: Turn) -> Reply:
    """Anything we cannot read: say what we can read, and show the menu."""
    reply = turn(Incoming(message.user, event="menu:MENU", channel="wechat"))
    reply.reply = msg("wechat_unsupported", reply.locale) + "\n\n" + reply.reply
    return reply


# -- events ------------------------------------------------------------------------------
@on_event("subscribe")
def subscribe(message: Message, turn: Turn) -> Reply:
    """A new follower (also by scanning a QR code with a scene, EventKey qrscene_…): welcome and menu."""
    return turn(Incoming(message.user, event="subscribe", channel="wechat"))


@on_event("click")
def click(message: Message, turn: Turn) -> Reply:
    """A CLICK menu button: its key is an engine command (menu:POLICY, menu:CALC_INTERNSHIP, …)."""
    key = message.get("EventKey") or "MENU"
    return turn(Incoming(message.user, event=f"menu:{key}", channel="wechat"))
