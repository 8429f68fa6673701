"""The chat page `/`: a WeChat-style conversation over POST /api/v1/ask, and 清除记录."""
from __future__ import annotations

from flask import abort, current_app, jsonify, render_template, request

from bot.i18n import msg
from knowledge.retention import forget_conversation

from ..db import get_db
from ..identity import issue_new_visitor, visitor_id
from .common import bp, conversation_tag, ensure_visitor, identity_lines, page_locale

# Catalog keys the chat script needs, sent with the page (key in the script → catalog key).
SCRIPT_STRINGS = {
    "not_published": "not_published", "hotline_hint": "web_hotline_hint", "eligible": "web_eligible",
    "not_eligible": "web_not_eligible", "office_decides": "web_office_decides", "at_most": "web_at_most",
    "expired": "web_expired", "choose": "web_choose", "typing": "web_typing", "retry": "web_retry",
    "error": "web_error", "offline": "web_offline", "result_title": "web_result_title",
    "plan_standard": "web_plan_standard", "per_month": "web_per_month",
    "clear_confirm": "web_clear_confirm", "read_aloud": "web_read_aloud", "read_aloud_label": "web_read_aloud_label",
    "phone": "web_phone", "address": "web_address", "hours": "web_hours", "avatar": "web_avatar",
}


@bp.get("/")
def chat():
    """The assistant as a chat page; the jiuye_uid cookie (set on this response) keys the conversation."""
    locale = page_locale()
    strings = {name: msg(key, locale) for name, key in SCRIPT_STRINGS.items()}
    return render_template("web/chat.html", strings=strings, conversation=conversation_tag(ensure_visitor()),
                           history_hours=history_hours(), identity=identity_lines())


def history_hours() -> float:
    """How long the page keeps its history in the browser (WEB_HISTORY_HOURS; shared township PCs)."""
    try:
        return max(0.0, float(current_app.config.get("WEB_HISTORY_HOURS", 12)))
    except (TypeError, ValueError):
        return 12.0


@bp.post("/chat/forget")
def forget():
    """清除记录: delete this browser's conversation on the server and give it a new visitor id.

    Only a script can send JSON here (a cross-site form cannot), and the SameSite cookie is not
    sent cross-site anyway: no other site can wipe a visitor's conversation."""
    if not request.is_json:
        abort(415)
    uid = visitor_id()
    if uid is not None:
        with get_db().session() as s:
            forget_conversation(s, f"web:{uid}")
    return jsonify({"conversation": conversation_tag(issue_new_visitor())})
