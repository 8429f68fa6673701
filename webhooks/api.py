"""JSON API: POST /api/v1/ask and GET /healthz.

Who is asking is decided here, never by the body alone (webhooks.identity): a caller-chosen
`user` counts only with an API key; otherwise the person is the web visitor's signed cookie or
a one-off. The body is checked at the edge (webhooks.edge) before the engine sees it.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from bot.reply import Incoming

from . import metrics, ratelimit
from .db import get_db, get_engine
from .edge import EdgeError, clean_text, load_json, message_id
from .identity import ApiKeyRefused, api_caller

bp = Blueprint("api", __name__)
MAX_TEXT_CHARS = 2000  # a question, not a document: longer texts are refused with a message saying so
MAX_BODY_BYTES = 64 * 1024  # a 2000-character question escaped as \uXXXX is 12 KiB


def bad_request(message: str, field: str | None):
    return jsonify({"error": message, "field": field}), 400


def refused_key():
    response = jsonify({"error": "API 密钥无效", "field": "Authorization"})
    response.headers["WWW-Authenticate"] = 'Bearer realm="jiuye"'
    return response, 401


@bp.post("/api/v1/ask")
def ask():
    """Ask the assistant: {"text": "...", "locale": "zh", "message_id": "..."} → the reply contract.

    With `Authorization: Bearer KEY`, "user" names the caller's own user (a string)."""
    request.max_content_length = MAX_BODY_BYTES
    try:
        data = load_json(request.get_data(cache=False))
    except EdgeError as exc:
        return bad_request(exc.message, None)
    if not isinstance(data, dict):
        return bad_request("请求体应为 JSON 对象，例如 {\"text\": \"问题\"}", None)
    text, locale = data.get("text", ""), data.get("locale")
    if not isinstance(text, str):
        return bad_request("text 应为字符串", "text")
    text = clean_text(text)
    if len(text) > MAX_TEXT_CHARS:
        return bad_request(f"问题太长了，请控制在{MAX_TEXT_CHARS}字以内", "text")
    if locale is not None and locale not in ("zh", "mn"):
        return bad_request("locale 只能是 zh 或 mn", "locale")
    try:
        msg_id = message_id(data.get("message_id"))
        caller = api_caller(data)
    except EdgeError as exc:
        return bad_request(exc.message, exc.field)
    except ApiKeyRefused:
        return refused_key()
    ratelimit.check_caller(caller)
    reply = get_engine().handle(Incoming(user=caller.user, text=text, locale=locale, channel=caller.channel,
                                         message_id=msg_id))
    metrics.count_reply(reply, caller.channel)
    body = reply.to_dict()
    body["text"] = text
    return jsonify(body)


@bp.get("/healthz")
def healthz():
    from sqlalchemy import text

    with get_db().session() as s:
        s.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
