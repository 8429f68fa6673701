"""Mobile web: the chat page, calculator forms and the publicity pages of clause III.3.

One blueprint (`web`, in .common); each module adds its routes to it. Every asset is
served by this app (no CDN), publicity pages work without JavaScript.
"""
from __future__ import annotations

from flask import Flask

from . import calc, chat, language, pages, poster  # noqa: F401  (each adds its routes to bp)
from .common import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
