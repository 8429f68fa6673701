"""The chat page `/`: a WeChat-style conversation over POST /api/v1/ask."""
from __future__ import annotations

from flask import render_template

from bot.i18n import msg

from .common import bp, conversation_tag, ensure_visitor, identity_lines

# Catalog keys the chat script needs, sent with the page (key in the script → catalog key).
SCRIPT_STRINGS = {
    "not_published": "not_published", "hotline_hint": "web_hotline_hint", "eligible": "web_eligible",
    "not_eligible": "web_not_eligible", "office_decides": "web_office_decides", "at_most": "web_at_most",
    "expired": "web_expired", "choose": "web_choose", "typing": "web_typing", "retry": "web_retry",
    "error": "web_error", "offline": "web_offline", "result_title": "web_result_title",
}


@bp.get("/")
def chat():
    """The assistant as a chat page; the jiuye_uid cookie (set on this response) keys the conversation."""
    strings = {name: msg(key) for name, key in SCRIPT_STRINGS.items()}
    return render_template("web/chat.html", strings=strings, conversation=conversation_tag(ensure_visitor()),
                           identity=identity_lines())
