"""The WeChat API (for pushing the menu), and its Null twin used when no AppSecret is configured.

wechatpy's WeChatClient does the work; the subclass only makes the API base URL
configurable (WECHAT.API_BASE_URL) — including the access-token URL, which
wechatpy hard-codes — so tests talk to a fake server on 127.0.0.1.
"""
from __future__ import annotations

from typing import Any, Protocol

from wechatpy import WeChatClient

from .config import WeChatSettings


class WeChatApi(Protocol):
    is_null: bool

    def push_menu(self, menu: dict[str, Any]) -> dict[str, Any]: ...


class BaseUrlClient(WeChatClient):
    """WeChatClient against any base URL (…/cgi-bin/)."""

    def __init__(self, appid: str, secret: str, base_url: str, timeout: float = 10.0):
        super().__init__(appid, secret, timeout=timeout)
        self.API_BASE_URL = base_url if base_url.endswith("/") else base_url + "/"

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class HttpWeChatApi:
    is_null = False

    def __init__(self, settings: WeChatSettings, timeout: float = 10.0):
        self.settings = settings
        self.timeout = timeout

    def push_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        """Fetch an access token, then menu/create. Raises wechatpy's WeChatClientException on refusal."""
        client = BaseUrlClient(self.settings.app_id, self.settings.app_secret, self.settings.api_base_url,
                               timeout=self.timeout)
        try:
            client.fetch_access_token()
            return client.menu.create(menu)
        finally:
            client._http.close()


class NullWeChatApi:
    """Sends nothing; remembers what it was asked to send."""

    is_null = True

    def __init__(self) -> None:
        self.pushed: list[dict[str, Any]] = []

    def push_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        self.pushed.append(menu)
        return {"errcode": 0, "errmsg": "not sent: null client (no AppSecret configured)"}


def api_for(settings: WeChatSettings) -> WeChatApi:
    """The real API when AppID and AppSecret are configured, otherwise the Null twin."""
    if settings.app_id and settings.app_secret:
        return HttpWeChatApi(settings)
    return NullWeChatApi()
