"""Who is asking: one namespace per channel, so identities never alias.

    web:<visitor id>          a browser, by its signed `jiuye_uid` cookie
    api:<key name>:<user>     a partner system's own user id, honoured only with its API key
    wx:<hash of the openid>   a WeChat follower; the openid itself is never stored
    anon:<random>             a one-off question (no cookie and no key, or a key without user)

The visitor cookie is signed with SECRET_KEY (itsdangerous), so its value cannot be chosen or
guessed: an unsigned or forged cookie is refused and the browser gets a new one. The engine
sees only these strings; it never learns an openid or a cookie.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, Signer

from knowledge.apikeys import ApiKey, Keyring

from .edge import EdgeError, has_unsafe_characters

log = logging.getLogger(__name__)

UID_COOKIE = "jiuye_uid"
UID_RE = re.compile(r"w[A-Za-z0-9_-]{24}")
# A month: long enough to come back to an unfinished question, short enough for a shared
# township PC not to keep one person's conversation for a year.
UID_MAX_AGE = 30 * 24 * 3600
MAX_COOKIE_CHARS = 200
MAX_USER_CHARS = 128  # the longest `user` an API caller may send; longer ones are refused, never cut
CONVERSATION_KEY_CHARS = 128  # conversations.user


class ApiKeyRefused(Exception):
    """An Authorization header that is not a known `Bearer` key (answered 401, never ignored)."""


def _secret() -> bytes:
    key = current_app.secret_key
    return (key if isinstance(key, bytes) else str(key or "").encode("utf-8")) or b"jiuye-no-secret-key"


# -- the web visitor ------------------------------------------------------------------------
def _signer() -> Signer:
    return Signer(_secret(), salt="jiuye.visitor", digest_method=hashlib.sha256)


def visitor_id() -> str | None:
    """The visitor id in this browser's signed cookie, or None when absent, unsigned or forged."""
    if "visitor_id" not in g:
        raw = request.cookies.get(UID_COOKIE, "")
        uid = None
        if raw and len(raw) <= MAX_COOKIE_CHARS:
            try:
                value = _signer().unsign(raw.encode("utf-8", "replace")).decode("ascii")
            except (BadSignature, UnicodeDecodeError):
                value = ""
            uid = value if UID_RE.fullmatch(value) else None
        g.visitor_id = uid
    return g.visitor_id


def has_visitor_cookie() -> bool:
    """True when the request carried a jiuye_uid cookie at all (valid or not)."""
    return UID_COOKIE in request.cookies


def ensure_visitor() -> str:
    """This browser's id; a new one (sent as a signed cookie with this response) when it has none."""
    uid = visitor_id()
    if uid is None:
        if "new_uid" not in g:
            g.new_uid = "w" + secrets.token_urlsafe(18)
        uid = g.new_uid
    return uid


def issue_new_visitor() -> str:
    """A new visitor id for this browser, replacing the one it has (清除记录)."""
    g.new_uid = "w" + secrets.token_urlsafe(18)
    g.visitor_id = None
    return g.new_uid


def send_visitor_cookie(response: Response) -> Response:
    """Set the cookie when this request made a new visitor id (HttpOnly, SameSite=Lax, Secure on HTTPS)."""
    uid = g.get("new_uid")
    if uid:
        response.set_cookie(UID_COOKIE, _signer().sign(uid).decode("ascii"), max_age=UID_MAX_AGE,
                            httponly=True, samesite="Lax", secure=request.is_secure)
    return response


# -- API callers ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """The conversation key for the engine and what to count requests against."""

    user: str
    kind: str              # web | api | anon
    key: ApiKey | None = None

    @property
    def channel(self) -> str:
        """The channel for the question log: the chat page, or a program."""
        return "web" if self.kind == "web" else "api"


def keyring() -> Keyring:
    return Keyring.from_settings(current_app.config)


def bearer_key() -> ApiKey | None:
    """The API key of this request: None without an Authorization header; ApiKeyRefused for a bad one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    try:
        key = keyring().check(token.strip()) if scheme.lower() == "bearer" else None
    except ValueError:  # API_KEYS itself is malformed: no key can be checked
        log.error("API_KEYS setting is malformed; every API key is refused")
        key = None
    if key is None:
        raise ApiKeyRefused()
    return key


def api_user(key: ApiKey, user: Any) -> str:
    """The conversation key for a keyed caller's `user`: checked whole (never cut), namespaced by key."""
    if user is None or user == "":
        return one_off()
    # A number is refused rather than turned into text: 424242 and "424242" must not become one person.
    if not isinstance(user, str):
        raise EdgeError("user 应为字符串（数字请加引号），不超过128个字符", "user")
    if len(user) > MAX_USER_CHARS:
        raise EdgeError("user 太长：最多128个字符", "user")
    if has_unsafe_characters(user) or not user.strip():
        raise EdgeError("user 不能包含控制字符或无效字符", "user")
    scoped = f"api:{key.name}:{user}"
    if len(scoped) <= CONVERSATION_KEY_CHARS:
        return scoped
    # Too long for the column with its namespace: a digest stands in (its own prefix, so it can
    # never equal a literal id), rather than a cut that would let two long ids share a conversation.
    return f"apih:{key.name}:" + hashlib.sha256(user.encode("utf-8")).hexdigest()


def one_off() -> str:
    """A conversation nobody can address again (purged after RETENTION.ONE_OFF_HOURS)."""
    return "anon:" + uuid.uuid4().hex


def api_caller(data: dict[str, Any]) -> Caller:
    """Who sent this POST /api/v1/ask: a keyed partner's user, the signed web visitor, or a one-off."""
    key = bearer_key()
    if key is not None:
        user = api_user(key, data.get("user"))
        return Caller(user, "anon" if user.startswith("anon:") else "api", key)
    # Without a key the body's `user` is ignored: anyone could type anyone's id there.
    uid = visitor_id()
    if uid is not None:
        return Caller(f"web:{uid}", "web")
    if has_visitor_cookie():
        # A cookie we did not sign (forged, or signed with an old SECRET_KEY): a new visitor,
        # whose signed cookie goes back with this answer so the next question continues.
        return Caller(f"web:{ensure_visitor()}", "web")
    return Caller(one_off(), "anon")


# -- WeChat ---------------------------------------------------------------------------------
def wechat_user(openid: str) -> str:
    """A follower's conversation key: a keyed hash (HMAC-SHA256 with SECRET_KEY) of the openid.

    The question log and the conversation table hold only this; replies still go to the real
    openid of the delivery. Changing SECRET_KEY starts every follower afresh."""
    mac = hmac.new(_secret(), b"jiuye.wechat-openid:" + openid.encode("utf-8", "replace"), hashlib.sha256)
    return "wx:" + mac.hexdigest()[:40]
