"""JSON API: POST /api/v1/ask and GET /healthz."""
from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request

from bot.reply import Incoming

from .db import get_db, get_engine

bp = Blueprint("api", __name__)
MAX_TEXT_CHARS = 5000


def bad_request(message: str, field: str | None):
    return jsonify({"error": message, "field": field}), 400


@bp.post("/api/v1/ask")
def ask():
    """Ask the assistant: {"text": "...", "user": "...", "locale": "zh"} → the reply contract."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return bad_request("请求体应为 JSON 对象，例如 {\"text\": \"问题\", \"user\": \"u1\"}", None)
    text = data.get("text", "")
    # No user and no cookie: a one-off question. Keying by IP address would make everyone
    # behind a county office's NAT share one conversation.
    user = data.get("user") or request.cookies.get("jiuye_uid") or f"anon-{uuid.uuid4().hex}"
    locale = data.get("locale")
    if not isinstance(text, str):
        return bad_request("text 应为字符串", "text")
    if not isinstance(user, (str, int)) or len(str(user)) > 128:
        return bad_request("user 应为不超过128个字符的字符串", "user")
    if locale is not None and locale not in ("zh", "mn"):
        return bad_request("locale 只能是 zh 或 mn", "locale")
    reply = get_engine().handle(Incoming(user=f"api:{user}", text=text[:MAX_TEXT_CHARS], locale=locale, channel="api"))
    body = reply.to_dict()
    body["text"] = text[:MAX_TEXT_CHARS]
    return jsonify(body)


@bp.get("/healthz")
def healthz():
    from sqlalchemy import text

    with get_db().session() as s:
        s.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
