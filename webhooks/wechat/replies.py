"""wechatpy's TextReply with every CDATA value escaped (wechatpy writes them verbatim)."""
from __future__ import annotations

import time

from wechatpy.fields import StringField
from wechatpy.replies import TextReply
from wechatpy.utils import to_text

from .xmlsafe import cdata


class CDataField(StringField):
    """A StringField whose value cannot end its CDATA section early."""

    def to_xml(self, value: object) -> str:
        return f"<{self.name}><![CDATA[{cdata(to_text(value))}]]></{self.name}>"


class SafeTextReply(TextReply):
    source = CDataField("FromUserName")
    target = CDataField("ToUserName")
    content = CDataField("Content")


def text_reply(to_user: str, from_account: str, content: str) -> str:
    """The passive text reply XML: back to the sender (ToUserName/FromUserName swapped by the caller)."""
    return SafeTextReply(target=to_user, source=from_account, content=content, time=int(time.time())).render()
