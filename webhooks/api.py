"""JSON API: POST /api/v1/ask and GET /healthz.

Who is asking is decided here, never by the body alone (webhooks.identity): a caller-chosen
`user` counts only with an API key; otherwise the person is the web visitor's signed cookie or
a one-off. The body is checked at the edge (webhooks.edge) before the engine sees it.
"""
from __future__ import annotations

import datetime as dt
import logging
import os

from flask import Blueprint, current_app, jsonify, request

from bot.reply import Incoming
from knowledge.db import SCHEMA_HEAD, SchemaError

from . import metrics, ratelimit
from .db import get_db, get_engine
from .edge import EdgeError, clean_text, load_json, message_id
from .identity import ApiKeyRefused, api_caller

log = logging.getLogger(__name__)
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
    """What this worker is serving: database (backend only, never its address), schema, pack, index.

    Load balancers poll it: it reads two rows and builds nothing. A worker that has not loaded the
    matcher index yet says so ("index": null) instead of building it here. 503 with the failed
    check when the database cannot be reached, and when its schema is not this code's (the worker
    refuses such a database; a load balancer should take it out of rotation until `db upgrade`)."""
    from sqlalchemy import text

    from knowledge.service import pack_version

    database = current_app.extensions["jiuye.db"]
    body: dict = {"status": "ok", "failed": [], "pid": os.getpid(),
                  "database": {"ok": False, "backend": database.engine.dialect.name},
                  "schema": None, "pack": None, "index": index_state()}
    try:
        with get_db().session() as s:
            revision = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
            version = pack_version(s)
    except SchemaError:
        revision, _problem = database.schema_status()
        body["database"]["ok"] = True
        body["schema"] = {"revision": revision, "head": SCHEMA_HEAD, "current": False}
        body.update(status="error", failed=["schema"])
        return jsonify(body), 503
    except Exception as exc:  # noqa: BLE001 — down, refused, a failed migration: the check failed, say which
        log.warning("healthz: database check failed (%s)", exc.__class__.__name__)
        body["database"]["error"] = exc.__class__.__name__
        body.update(status="error", failed=["database"])
        return jsonify(body), 503
    body["database"]["ok"] = True
    body["schema"] = {"revision": revision, "head": SCHEMA_HEAD, "current": revision == SCHEMA_HEAD}
    body["pack"] = {"version": version}
    if body["index"] is not None:
        body["index"]["current"] = body["index"]["pack_version"] == version
    if revision != SCHEMA_HEAD:
        body.update(status="error", failed=["schema"])
        return jsonify(body), 503
    return jsonify(body)


def index_state() -> dict | None:
    """The matcher index this worker holds (None when nothing is loaded yet); never builds one."""
    knowledge = current_app.extensions.get("jiuye.knowledge")
    loaded = knowledge.loaded if knowledge is not None else None
    if loaded is None:
        return None
    return {"pack_version": loaded.snapshot.version, "age_seconds": round(loaded.age_seconds, 3),
            "built_at": dt.datetime.fromtimestamp(loaded.built_at, dt.timezone.utc).isoformat(timespec="seconds")}
