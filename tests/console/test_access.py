"""Accounts, roles, CSRF, lockout, cookies and the staff CLI."""
from __future__ import annotations

import datetime as dt

import pytest

from .conftest import PASSWORD, Console, login, token

PARAMS = {"faq_id": "internship-rate", "office_id": "hrss", "name": "internship.rate", "proc_id": 1,
          "edit_id": 1, "callback_id": 1, "user_id": 1, "entity": "faq", "entity_id": "internship-rate"}


def console_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and rule.endpoint != "console.login":
            path = rule.build(PARAMS, append_unknown=False)[1]
            yield rule, path


def test_every_console_route_refuses_anonymous_access(capp):
    client = capp.test_client()
    routes = list(console_routes(capp))
    assert len(routes) >= 30
    csrf = token(client)  # a valid token of an anonymous session: still no access
    for rule, path in routes:
        if "GET" in rule.methods:
            r = client.get(path)
            assert r.status_code == 302 and "/console/login" in r.headers["Location"], path
        if "POST" in rule.methods:
            assert client.post(path, data={}).status_code == 400, path  # no CSRF token
            assert client.post(path, data={"csrf_token": csrf}).status_code == 401, path


def test_login_page_has_the_documented_fields(capp):
    html = capp.test_client().get("/console/login").get_data(as_text=True)
    for name in ('name="username"', 'name="password"', 'name="csrf_token"'):
        assert name in html


def test_login_then_logout(capp):
    client = capp.test_client()
    r = login(client, "editor")
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/")
    assert "测试editor" in client.get("/console/").get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": token(client, "/console/")})
    assert client.get("/console/").status_code == 302


def test_login_only_redirects_inside_the_console(capp):
    client = capp.test_client()
    r = client.post("/console/login?next=https://evil.example/", data={
        "username": "test-admin", "password": PASSWORD, "csrf_token": token(client)})
    assert r.headers["Location"].endswith("/console/")


def test_session_cookie_is_httponly_samesite_and_secure_over_https(capp):
    client = capp.test_client()
    csrf = token(client, "/console/login")
    r = client.post("/console/login", base_url="https://localhost", headers={"Referer": "https://localhost/console/login"},
                    data={"username": "test-admin", "password": PASSWORD, "csrf_token": csrf})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


@pytest.mark.parametrize("role,path,allowed", [
    ("viewer", "/console/faq/internship-rate", 200), ("viewer", "/console/accounts", 403),
    ("viewer", "/console/export", 403), ("viewer", "/console/ledger.csv", 403), ("viewer", "/console/faq/new", 403),
    ("editor", "/console/accounts", 403), ("editor", "/console/export", 403), ("editor", "/console/ledger.csv", 403),
    ("editor", "/console/faq/new", 200), ("admin", "/console/accounts", 200), ("admin", "/console/export", 200),
    ("admin", "/console/ledger.csv", 200),
])
def test_each_role_sees_what_it_may(capp, role, path, allowed):
    assert Console(capp, role).get(path).status_code == allowed


def test_a_viewer_cannot_change_anything(capp):
    viewer = Console(capp, "viewer")
    before = capp.test_client().post("/api/v1/ask", json={"text": "见习补贴每人每月多少"}).get_json()["reply"]
    posts = [("/console/faq/internship-rate", {"question": "x", "answer": "x", "clause": "12", "version": 1}),
             ("/console/offices/hrss", {"phone": "0000-0000000", "verified_by": "x", "version": 1}),
             ("/console/parameters/internship.rate", {"value": "1100", "effective": "2026-01-01", "reason": "x"}),
             ("/console/settings", {"operator": "x"}), ("/console/accounts", {"username": "x"}),
             ("/console/inbox/handled", {"ids": "1"}), ("/console/ledger/1", {"status": "done"})]
    for path, data in posts:
        assert viewer.post(path, data).status_code == 403, path
    assert capp.test_client().post("/api/v1/ask", json={"text": "见习补贴每人每月多少"}).get_json()["reply"] == before


def test_an_editor_cannot_manage_accounts_or_settings(capp):
    editor = Console(capp, "editor")
    assert editor.post("/console/accounts", {"username": "x", "password": "y" * 9, "role": "admin"}).status_code == 403
    assert editor.post("/console/accounts/1", {"action": "role", "role": "viewer"}).status_code == 403
    assert editor.post("/console/settings", {"operator": "x"}).status_code == 403


def test_forms_without_a_valid_csrf_token_are_refused(capp):
    client = capp.test_client()
    assert client.post("/console/login", data={"username": "test-admin", "password": PASSWORD}).status_code == 400
    assert client.post("/console/login", data={"username": "test-admin", "password": PASSWORD,
                                               "csrf_token": "forged"}).status_code == 400
    admin = Console(capp, "admin")
    r = admin.client.post("/console/settings", data={"operator": "测试单位"})
    assert r.status_code == 400 and "表单已过期" in r.get_data(as_text=True)
    r = admin.client.post("/console/settings", data={"operator": "测试单位", "csrf_token": "x" * 40})
    assert r.status_code == 400
    # another session's token is not this session's
    other = Console(capp, "editor")
    r = admin.client.post("/console/settings", data={"operator": "测试单位", "csrf_token": token(other.client, "/console/")})
    assert r.status_code == 400


def test_five_wrong_passwords_lock_the_account_and_the_client_for_15_minutes(capp, monkeypatch):
    import knowledge.accounts as accounts

    client = capp.test_client()
    for _ in range(4):
        assert login(client, "editor", "wrong-password").status_code == 401
    r = login(client, "editor", "wrong-password")
    assert r.status_code == 429 and "15分钟" in r.get_data(as_text=True)
    # the right password does not help now, nor another account from the same client
    assert login(client, "editor").status_code == 429
    assert login(client, "admin").status_code == 429
    # the locked account from another client waits too; another account there is fine
    other = capp.test_client()
    env = {"REMOTE_ADDR": "10.0.0.2"}
    assert login(other, "editor", environ_base=env).status_code == 429
    assert login(other, "admin", environ_base=env).status_code == 302
    # 15 minutes later everything works again
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=16)
    monkeypatch.setattr(accounts, "_now", lambda: later)
    assert login(capp.test_client(), "editor").status_code == 302


def test_disabling_an_account_or_changing_its_password_signs_it_out(capp):
    editor = Console(capp, "editor")
    admin = Console(capp, "admin")
    assert editor.get("/console/").status_code == 200
    from knowledge.accounts import Accounts

    with capp.app_context():
        from webhooks.db import get_db

        with get_db().session() as s:
            uid = Accounts(s).by_name("test-editor").id
    assert admin.post(f"/console/accounts/{uid}", {"action": "password", "password": "another-pass-2"}).status_code == 302
    assert editor.get("/console/").status_code == 302
    admin.post(f"/console/accounts/{uid}", {"action": "disable"})
    r = login(capp.test_client(), "editor", "another-pass-2")
    assert r.status_code == 401 and "停用" in r.get_data(as_text=True)


def test_the_last_admin_cannot_be_demoted(capp):
    admin = Console(capp, "admin")
    r = admin.post("/console/accounts/1", {"action": "role", "role": "viewer"}, follow_redirects=True)
    assert "至少要保留一个" in r.get_data(as_text=True)


def test_staff_add_reads_the_password_from_stdin(capp):
    runner = capp.test_cli_runner()
    result = runner.invoke(args=["staff", "add", "test-new", "--role", "editor"], input="a-good-password\n")
    assert result.exit_code == 0, result.output
    assert "created" in result.output
    client = capp.test_client()
    r = client.post("/console/login", data={"username": "test-new", "password": "a-good-password",
                                            "csrf_token": token(client)})
    assert r.status_code == 302
    bad = runner.invoke(args=["staff", "add", "test-short", "--role", "viewer"], input="short\n")
    assert bad.exit_code != 0 and "至少8位" in bad.output
    wrong = runner.invoke(args=["staff", "add", "test-x", "--role", "boss"], input="a-good-password\n")
    assert wrong.exit_code != 0


def test_viewers_see_the_ledger_masked_and_only_admins_export_it(capp):
    from knowledge.callbacks import CallbackService

    with capp.app_context():
        from webhooks.db import get_db

        with get_db().session() as s:
            CallbackService(s).request("web:test", "测试甲乙", "13800001234", "12", "internship", None, consent=True)
    viewer = Console(capp, "viewer").get("/console/ledger").get_data(as_text=True)
    assert "138****1234" in viewer and "13800001234" not in viewer and "测***" in viewer and "测试甲乙" not in viewer
    editor = Console(capp, "editor").get("/console/ledger").get_data(as_text=True)
    assert "13800001234" in editor and "测试甲乙" in editor
    csv = Console(capp, "admin").get("/console/ledger.csv")
    assert csv.status_code == 200 and "13800001234" in csv.get_data(as_text=True)
