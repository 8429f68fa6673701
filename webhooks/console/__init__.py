"""The staff console under /console/: accounts and roles, FAQ editor, unanswered inbox, offices,
procedures, figures, the callback ledger, export/import, service identity and a dashboard.

Every route needs a login (auth.require_login runs before each request of the blueprint);
every POST carries a Flask-WTF CSRF token; edits go through knowledge.StaffService, so they
are logged and reach every worker at its next message.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from . import (accounts, auth, dashboard, export, faq, figures, inbox, ledger, offices,  # noqa: F401
               procedures)
from .cli import staff_cli
from .common import bp

csrf = CSRFProtect()


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (or the setting says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        from flask import has_request_context, request

        return bool(app.config.get("SESSION_COOKIE_SECURE")) or (has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked by the console's own before_request
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    if app.config.get("PERMANENT_SESSION_LIFETIME") == dt.timedelta(days=31):  # Flask's default: too long for staff
        app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=8)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = SessionInterface()
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(staff_cli)
