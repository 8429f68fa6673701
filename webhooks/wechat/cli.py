"""`flask --app webhooks wechat …`: menu, simulate, bench."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from .config import WeChatSettings

wechat_cli = AppGroup("wechat", help="WeChat Official Account: custom menu, simulator, latency bench.")


@wechat_cli.command("menu")
@click.option("--print", "print_", is_flag=True, help="Print the menu JSON WeChat expects.")
@click.option("--push", is_flag=True, help="Send the menu to WeChat (needs APP_ID and APP_SECRET).")
@click.option("--base-url", default=None, help="Site address for view buttons (default: PUBLIC_BASE_URL).")
def menu_command(print_: bool, push: bool, base_url: str | None) -> None:
    """Print or push the custom menu defined in webhooks/menu.yaml."""
    from wechatpy.exceptions import WeChatClientException

    from . import menu
    from .client import api_for
    from .errors import MenuError

    try:
        data = menu.to_wechat(menu.load(), base_url if base_url is not None
                              else str(current_app.config.get("PUBLIC_BASE_URL") or ""))
    except MenuError as exc:
        raise click.ClickException(f"menu.yaml: {exc.message}") from exc
    relative = menu.relative_urls(data)
    if print_ or not push:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        if relative:
            click.echo(f"warning: view URLs {relative} are not absolute; set PUBLIC_BASE_URL or --base-url "
                       "before pushing", err=True)
    if not push:
        return
    if relative:
        raise click.ClickException("not pushed: view URLs must be absolute (set PUBLIC_BASE_URL or --base-url)")
    api = api_for(WeChatSettings.from_config(current_app.config))
    if api.is_null:
        raise click.ClickException("not pushed: set JIUYE_WECHAT__APP_ID and JIUYE_WECHAT__APP_SECRET")
    try:
        result = api.push_menu(data)
    except WeChatClientException as exc:
        raise click.ClickException(f"WeChat refused the menu: errcode={exc.errcode} errmsg={exc.errmsg}") from exc
    except OSError as exc:  # requests' connection errors are OSErrors
        raise click.ClickException(f"cannot reach the WeChat API: {exc}") from exc
    click.echo(f"menu pushed: {result.get('errmsg', 'ok')}")


@wechat_cli.command("simulate")
@click.argument("text")
@click.option("--aes", is_flag=True, help="Safe mode: encrypt the message and decrypt the reply.")
@click.option("--user", default="o_simulator", show_default=True, help="The sender's OpenID.")
@click.option("--xml", "show_xml", is_flag=True, help="Print the reply XML instead of its text.")
def simulate_command(text: str, aes: bool, user: str, show_xml: bool) -> None:
    """Send TEXT as WeChat would (signed, optionally encrypted) and print the reply."""
    from .simulator import WeChatSimulator
    from .views import engine

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    engine(app)  # built before the message, as on a running server (not inside its 4 s)
    sim = WeChatSimulator(app, aes=aes, user=user)
    made = sim.ensure_credentials()
    if made:
        click.echo(f"(no {', '.join(made)} configured: using a throwaway one for this run)", err=True)
    if not aes and sim.settings.mode == "safe":
        # The server refuses plain deliveries in safe mode, as WeChat would never send one.
        sim.aes = True
        click.echo("(safe mode: the message is encrypted, as WeChat would)", err=True)
    reply = sim.send_text(text)
    click.echo(reply.body if show_xml and reply.ok else reply.shown())
    if not reply.ok:
        sys.exit(1)


@wechat_cli.command("bench")
@click.option("-n", default=300, show_default=True, help="Round trips per mode.")
def bench_command(n: int) -> None:
    """Reply latency p50/p99 for signed plain and AES round trips (on a throwaway database)."""
    from . import bench

    click.echo(bench.report(bench.run(n)))
