"""flask --app webhooks staff add NAME --role admin|editor|viewer (password from stdin or a prompt)."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from knowledge.accounts import ROLES, Accounts
from knowledge.service import KnowledgeError


@click.group("staff")
def staff_cli() -> None:
    """Console accounts."""


def _password() -> str:
    if sys.stdin.isatty():
        return click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次")
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@staff_cli.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="admin | editor | viewer")
@click.option("--display-name", default="", help="签名用的姓名，如 王科员")
@with_appcontext
def add(name: str, role: str, display_name: str) -> None:
    """Create a console account; the password is read from stdin when it is not a terminal."""
    from ..db import get_db

    password = _password()
    try:
        with get_db().session() as s:
            Accounts(s).add(name, password, role, display_name)
    except KnowledgeError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"staff account {name} ({role}) created")


@staff_cli.command("passwd")
@click.argument("name")
@with_appcontext
def passwd(name: str) -> None:
    """Set a new password (stdin or prompt); signs the account out everywhere and lifts a lockout."""
    from ..db import get_db

    password = _password()
    try:
        with get_db().session() as s:
            accounts = Accounts(s)
            user = accounts.by_name(name)
            if user is None:
                raise click.ClickException(f"no account {name}")
            accounts.update(user.id, password=password)
            accounts.unlock(name)
    except KnowledgeError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"password of {name} changed")


@staff_cli.command("list")
@with_appcontext
def list_accounts() -> None:
    """List console accounts."""
    from ..db import get_db

    with get_db().session() as s:
        for u in Accounts(s).all():
            click.echo(f"{u.username}\t{u.role}\t{'active' if u.active else 'disabled'}")
