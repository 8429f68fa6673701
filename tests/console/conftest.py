"""Console fixtures: an app on its own database with one account per role, and a signed-in client.

Passwords and names here are test data only.
"""
from __future__ import annotations

import re

import pytest

TODAY = "2026-11-27"
PASSWORD = "test-password-1"
ROLES = ("admin", "editor", "viewer")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(url: str, **extra):
    from webhooks import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url, "TODAY": TODAY, "SECRET_KEY": "test", **extra})


def add_accounts(app) -> None:
    from knowledge.accounts import Accounts

    with app.app_context():
        from webhooks.db import get_db

        with get_db().session() as s:
            accounts = Accounts(s)
            for role in ROLES:
                if accounts.by_name(f"test-{role}") is None:
                    accounts.add(f"test-{role}", PASSWORD, role, f"测试{role}")


@pytest.fixture()
def capp(new_db_url):
    """A fresh app (own database) with accounts test-admin / test-editor / test-viewer."""
    app = make_app(new_db_url("console"))
    add_accounts(app)
    yield app
    app.extensions["jiuye.db"].dispose()


def token(client, path: str = "/console/login") -> str:
    """The CSRF token of a console form (from any page that has one)."""
    html = client.get(path).get_data(as_text=True)
    m = CSRF_RE.search(html)
    assert m, f"no csrf_token on {path}"
    return m.group(1)


def login(client, role: str, password: str = PASSWORD, **kwargs):
    return client.post("/console/login", data={"username": f"test-{role}", "password": password,
                                               "csrf_token": token(client)}, **kwargs)


class Console:
    """A signed-in staff member: get pages, post forms with the page's CSRF token."""

    def __init__(self, app, role: str):
        self.app = app
        self.client = app.test_client()
        r = login(self.client, role)
        assert r.status_code == 302, r.get_data(as_text=True)

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, form_page: str = "/console/", **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", token(self.client, form_page))
        return self.client.post(path, data=data, **kw)


@pytest.fixture()
def as_role(capp):
    return lambda role: Console(capp, role)
