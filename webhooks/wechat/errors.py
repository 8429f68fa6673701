"""The WeChat channel's exception tree: one base with a code; the HTTP status is chosen at the edge.

Modelled on wechatpy.exceptions: callers catch `WeChatChannelError` and answer
`exc.status` with a short plain-text body, never a traceback.
"""
from __future__ import annotations


class WeChatChannelError(Exception):
    """Base error of the WeChat channel."""

    code = "wechat_error"
    status = 400

    def __init__(self, message: str = ""):
        super().__init__(message or self.code)
        self.message = message or self.code


class BadSignature(WeChatChannelError):
    """The request was not signed with our Token (or no Token is configured)."""

    code = "bad_signature"
    status = 403


class BodyTooLarge(WeChatChannelError):
    code = "body_too_large"
    status = 413


class MalformedMessage(WeChatChannelError):
    """Empty body, not UTF-8, not well-formed XML, or not a <xml> document."""

    code = "malformed_message"
    status = 400


class ForbiddenMarkup(MalformedMessage):
    """A DOCTYPE or ENTITY declaration: refused before anything is expanded."""

    code = "forbidden_markup"


class DecryptionFailed(WeChatChannelError):
    """Safe-mode body that does not decrypt with our EncodingAESKey and AppID."""

    code = "decryption_failed"
    status = 400


class MenuError(WeChatChannelError):
    """The custom menu data breaks one of WeChat's rules."""

    code = "menu_invalid"
