"""The channel's settings, read from app.config["WECHAT"] on each request (tests and the simulator may swap them)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .security import valid_aes_key

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
MODES = ("plain", "compatible", "safe")  # 明文模式 | 兼容模式 | 安全模式


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class WeChatSettings:
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    aes_key: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL
    max_body: int = 65536
    deadline: float = 4.0      # seconds from arrival to reply; WeChat gives up after 5
    stale_after: float = 5.0   # a 'processing' claim this old belongs to a dead worker
    public_base_url: str = ""
    mode_setting: str = ""     # WECHAT.MODE as configured; see `mode`
    max_skew: float = 300.0    # seconds a delivery's signed timestamp may be from our clock

    @property
    def mode(self) -> str:
        """plain | compatible | safe. Unset: safe when an EncodingAESKey is configured, else plain.

        safe: every delivery must be encrypted (encrypt_type=aes) and only the decrypted XML is
        read. compatible: encrypted deliveries are read from the decrypted XML only (when the
        key is set), plain ones are accepted too. plain: the body's plain fields."""
        if self.mode_setting in MODES:
            return self.mode_setting
        return "safe" if self.aes_key else "plain"

    @property
    def aes_ready(self) -> bool:
        """Safe mode can be served: a valid EncodingAESKey and the AppID it is bound to."""
        return bool(self.app_id) and valid_aes_key(self.aes_key)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "WeChatSettings":
        wechat = config.get("WECHAT") or {}
        text = lambda name: str(wechat.get(name) or "").strip()  # noqa: E731 — a token of digits stays a string
        return cls(
            token=text("TOKEN"),
            app_id=text("APP_ID"),
            app_secret=text("APP_SECRET"),
            aes_key=text("ENCODING_AES_KEY"),
            api_base_url=text("API_BASE_URL") or DEFAULT_API_BASE_URL,
            max_body=int(_number(wechat.get("MAX_BODY_BYTES"), 65536)),
            deadline=_number(wechat.get("REPLY_DEADLINE_SECONDS"), 4.0),
            stale_after=_number(wechat.get("STALE_AFTER_SECONDS"), 5.0),
            public_base_url=str(config.get("PUBLIC_BASE_URL") or "").strip(),
            mode_setting=text("MODE").lower(),
            max_skew=_number(wechat.get("MAX_CLOCK_SKEW_SECONDS"), 300.0),
        )
