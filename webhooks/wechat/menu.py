"""The custom menu: webhooks/menu.yaml checked against WeChat's rules and turned into its JSON."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import MenuError
from .render import absolute, nbytes

MENU_FILE = Path(__file__).resolve().parent.parent / "menu.yaml"
MAX_BUTTONS, MAX_SUB_BUTTONS = 3, 5
MAX_NAME_BYTES, MAX_SUB_NAME_BYTES, MAX_KEY_BYTES, MAX_URL_BYTES = 16, 60, 128, 1024
CLICK_KEY = re.compile(r"^(POLICY|MENU|CALC|CONTACTS|CALC_[A-Z0-9_]+)$")


def load(path: Path = MENU_FILE) -> dict[str, Any]:
    """The menu data, validated (raises MenuError naming the offending button)."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    validate(data)
    return data


def validate(data: Any) -> None:
    buttons = data.get("button") if isinstance(data, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise MenuError(f"the menu needs 1 to {MAX_BUTTONS} buttons")
    for button in buttons:
        _check_button(button, MAX_NAME_BYTES)
        subs = button.get("sub_button")
        if subs is None:
            _check_action(button)
            continue
        if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB_BUTTONS:
            raise MenuError(f"{button['name']}: 1 to {MAX_SUB_BUTTONS} sub-buttons")
        for sub in subs:
            _check_button(sub, MAX_SUB_NAME_BYTES)
            if "sub_button" in sub:
                raise MenuError(f"{sub['name']}: menus have only two levels")
            _check_action(sub)


def _check_button(button: Any, max_name: int) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("name"), str) or not button["name"]:
        raise MenuError(f"every button needs a name: {button!r}")
    if nbytes(button["name"]) > max_name:
        raise MenuError(f"{button['name']}: name longer than {max_name} bytes")


def _check_action(button: dict[str, Any]) -> None:
    kind = button.get("type")
    if kind == "click":
        key = str(button.get("key") or "")
        if not CLICK_KEY.match(key) or nbytes(key) > MAX_KEY_BYTES:
            raise MenuError(f"{button['name']}: click key {key!r} is not one the engine knows")
    elif kind == "view":
        url = str(button.get("url") or "")
        if not url.startswith(("/", "http://", "https://")) or nbytes(url) > MAX_URL_BYTES:
            raise MenuError(f"{button['name']}: view url {url!r} must be a site path or http(s) URL")
    else:
        raise MenuError(f"{button['name']}: type must be click or view, not {kind!r}")


def to_wechat(data: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The JSON body of menu/create: view paths made absolute with `base_url`."""
    def convert(button: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": button["name"]}
        if "sub_button" in button:
            out["sub_button"] = [convert(sub) for sub in button["sub_button"]]
        elif button["type"] == "click":
            out.update(type="click", key=str(button["key"]))
        else:
            out.update(type="view", url=absolute(str(button["url"]), base_url))
        return out

    return {"button": [convert(b) for b in data["button"]]}


def relative_urls(menu: dict[str, Any]) -> list[str]:
    """View URLs WeChat would refuse because they are not absolute."""
    urls = []
    for button in menu["button"]:
        for item in button.get("sub_button", [button]):
            if item.get("type") == "view" and not item["url"].startswith(("http://", "https://")):
                urls.append(item["url"])
    return urls
