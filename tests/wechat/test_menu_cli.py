"""Items 7 and 8: the custom menu (print, push to a fake WeChat API), the simulator command, the bench."""
from __future__ import annotations

import json

import pytest
import yaml

from webhooks.wechat import menu
from webhooks.wechat.client import NullWeChatApi, api_for
from webhooks.wechat.config import WeChatSettings
from webhooks.wechat.errors import MenuError
from webhooks.wechat.simulator import WeChatSimulator

from .conftest import TODAY, WECHAT, make_app, warm


def test_menu_data_is_valid_and_has_the_three_sections():
    data = menu.load()
    assert [b["name"] for b in data["button"]] == ["政策问答", "补贴测算", "办事指南"]
    keys = {s.get("key") for b in data["button"] for s in b["sub_button"]}
    assert {"POLICY", "CALC", "CONTACTS"} <= keys
    urls = {s.get("url") for b in data["button"] for s in b["sub_button"]}
    assert {"/", "/calc", "/offices"} <= urls


def test_every_click_key_gets_a_reply(wechat):
    for button in menu.load()["button"]:
        for sub in button["sub_button"]:
            if sub["type"] == "click":
                reply = wechat.send_event("CLICK", sub["key"], create_time=None)
                assert reply.ok and reply.text, sub


@pytest.mark.parametrize("bad, complaint", [
    ({"button": []}, "1 to 3"),
    ({"button": [{"name": "x", "type": "click", "key": "MENU"}] * 4}, "1 to 3"),
    ({"button": [{"name": "一二三四五六", "type": "click", "key": "MENU"}]}, "16 bytes"),
    ({"button": [{"name": "a", "sub_button": [{"name": "s", "type": "click", "key": "MENU"}] * 6}]}, "sub-buttons"),
    ({"button": [{"name": "a", "type": "click", "key": "NOT_A_COMMAND"}]}, "engine knows"),
    ({"button": [{"name": "a", "type": "view", "url": "javascript:alert(1)"}]}, "http"),
    ({"button": [{"name": "a", "type": "miniprogram"}]}, "click or view"),
])
def test_menu_rules_are_checked(bad, complaint):
    with pytest.raises(MenuError, match=complaint):
        menu.validate(bad)


def test_menu_print_gives_the_json_wechat_expects(runner):
    result = runner.invoke(args=["wechat", "menu", "--print", "--base-url", "https://jiuye.example.gov.cn"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    first = data["button"][0]
    assert first["name"] == "政策问答"
    assert {"type": "click", "name": "政策目录", "key": "POLICY"} in first["sub_button"]
    assert {"type": "view", "name": "网页版咨询", "url": "https://jiuye.example.gov.cn/"} in first["sub_button"]
    assert "\\u" not in result.stdout  # Chinese as is


def test_menu_print_warns_about_relative_urls(runner):
    result = runner.invoke(args=["wechat", "menu", "--print"])
    assert result.exit_code == 0
    assert "not absolute" in result.stderr


def _push_app(new_db_url, base_url: str, secret: str):
    app = make_app(new_db_url("menu"), APP_SECRET=secret, API_BASE_URL=base_url)
    app.config["PUBLIC_BASE_URL"] = "https://jiuye.example.gov.cn"
    return app


def test_menu_push_fetches_a_token_then_creates_the_menu(new_db_url, fake_wechat_api):
    app = _push_app(new_db_url, fake_wechat_api.base_url, "s3cret")
    result = app.test_cli_runner().invoke(args=["wechat", "menu", "--push"])
    assert result.exit_code == 0, result.output
    assert "menu pushed" in result.output
    paths = [(method, path) for method, path, _, _ in fake_wechat_api.requests]
    assert paths == [("GET", "/cgi-bin/token"), ("POST", "/cgi-bin/menu/create")]
    _, _, token_query, _ = fake_wechat_api.requests[0]
    assert token_query["appid"] == [WECHAT["APP_ID"]] and token_query["grant_type"] == ["client_credential"]
    assert fake_wechat_api.menus == [menu.to_wechat(menu.load(), "https://jiuye.example.gov.cn")]


def test_menu_push_with_a_wrong_secret_reports_wechats_error(new_db_url, fake_wechat_api):
    app = _push_app(new_db_url, fake_wechat_api.base_url, "wrong")
    result = app.test_cli_runner().invoke(args=["wechat", "menu", "--push"])
    assert result.exit_code == 1
    assert "40001" in result.output and not fake_wechat_api.menus


def test_menu_push_to_an_unreachable_api_is_a_clear_error(new_db_url, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    app = _push_app(new_db_url, "http://127.0.0.1:9/cgi-bin/", "s3cret")
    result = app.test_cli_runner().invoke(args=["wechat", "menu", "--push"])
    assert result.exit_code == 1 and "cannot reach" in result.output


def test_menu_push_without_secret_uses_the_null_client(new_db_url):
    app = _push_app(new_db_url, "http://127.0.0.1:9/cgi-bin/", "")
    assert isinstance(api_for(WeChatSettings.from_config(app.config)), NullWeChatApi)
    result = app.test_cli_runner().invoke(args=["wechat", "menu", "--push"])
    assert result.exit_code == 1 and "APP_SECRET" in result.output


def test_null_client_records_instead_of_sending():
    api = NullWeChatApi()
    assert api.push_menu({"button": []})["errcode"] == 0
    assert api.pushed == [{"button": []}]


def test_menu_yaml_is_plain_data():
    raw = yaml.safe_load(menu.MENU_FILE.read_text(encoding="utf-8"))
    assert raw == menu.load()


# -- simulator -------------------------------------------------------------------------------
def test_simulate_command_prints_the_decoded_reply(new_db_url):
    from webhooks import create_app

    # No account configured (only the tests' generous deadline): the simulator makes up a Token.
    app = create_app({"TESTING": True, "DATABASE_URL": new_db_url("sim"), "TODAY": TODAY,
                      "WECHAT": {"REPLY_DEADLINE_SECONDS": 30}})
    result = app.test_cli_runner().invoke(args=["wechat", "simulate", "见习补贴一个月多少"])
    assert result.exit_code == 0, result.output
    assert "第12条" in result.stdout and "<xml>" not in result.stdout
    assert '<a href="http' in result.stdout  # links a person can open
    assert "throwaway" in result.stderr


def test_simulate_command_in_safe_mode_with_a_user(new_db_url):
    app = make_app(new_db_url("sim"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["wechat", "simulate", "菜单", "--aes", "--user", "o_staff_1"])
    assert result.exit_code == 0, result.output
    assert "1. 创业贷款与创业补贴" in result.stdout and "throwaway" not in result.stderr
    xml = runner.invoke(args=["wechat", "simulate", "菜单", "--aes", "--user", "o_staff_1", "--xml"])
    assert "<ToUserName><![CDATA[o_staff_1]]></ToUserName>" in xml.stdout


def test_simulator_makes_up_credentials_only_when_missing(fresh_app):
    fresh_app.config["WECHAT"] = {"REPLY_DEADLINE_SECONDS": 30}  # no account: only the test's deadline
    warm(fresh_app)  # the engine is built before the message, as the simulate command does
    sim = WeChatSimulator(fresh_app, aes=True)
    assert set(sim.ensure_credentials()) == {"TOKEN", "ENCODING_AES_KEY", "APP_ID"}
    assert sim.settings.aes_ready
    assert sim.ensure_credentials() == []
    assert "1. " in sim.send_text("菜单").text


# -- latency bench -----------------------------------------------------------------------------
def test_bench_reports_p50_and_p99():
    from webhooks.wechat import bench

    # The shape of the measurement only; how fast it is, is what the bench command reports.
    results = bench.run(n=20, warmup=2)
    for mode in ("plain", "aes", "retry"):
        assert results[mode]["n"] == 20 and 0 < results[mode]["p50_ms"] <= results[mode]["p99_ms"]
    text = bench.report(results)
    assert "p50" in text and "p99" in text and "AES" in text
