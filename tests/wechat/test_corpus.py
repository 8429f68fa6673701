"""Item 3: every file of the peers' corpus (shared/fixtures/wechat), plain and safe mode → 200, a reply or `success`."""
from __future__ import annotations

import itertools
import re

import pytest

from webhooks.wechat import xmlsafe

from .conftest import CORPUS

FILES = sorted(CORPUS.glob("*.xml")) if CORPUS.is_dir() else []
_ids = itertools.count(1)
# Kinds that must get a text reply; everything else is an event or notice answered `success`.
REPLIES = {"text", "voice", "image", "video", "shortvideo", "location", "link", "file", "unknown", "notsure",
           "event-subscribe", "event-click"}

pytestmark = pytest.mark.skipif(not FILES, reason=f"peer corpus not found at {CORPUS} (clone shared/ beside the repo)")


def test_the_corpus_is_complete():
    assert len(FILES) == 81


def personalise(xml: str, user: str) -> str:
    """Our account as ToUserName, a fresh sender and MsgId: files share MsgIds, a retry would hide them."""
    xml = re.sub(r"<ToUserName>.*?</ToUserName>", "<ToUserName><![CDATA[gh_jiuye]]></ToUserName>", xml, count=1,
                 flags=re.S)
    xml = re.sub(r"<FromUserName>.*?</FromUserName>", f"<FromUserName><![CDATA[{user}]]></FromUserName>", xml,
                 count=1, flags=re.S)
    return re.sub(r"<MsgId>\d+</MsgId>", f"<MsgId>{next(_ids)}</MsgId>", xml)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_file(wechat_any, path):
    xml = personalise(path.read_text(encoding="utf-8"), wechat_any.user)
    reply = wechat_any.send_xml(xml)
    assert reply.status == 200, reply.body
    kind = path.stem.rsplit("-", 1)[0]
    if kind in REPLIES:
        assert not reply.is_success, f"{path.name} should get a reply"
        assert reply.data["MsgType"] == "text"
        assert reply.to_user == wechat_any.user and reply.from_user == "gh_jiuye"
        assert reply.text.strip()
        assert len(reply.text.encode()) <= 2048
        xmlsafe.parse(reply.body)  # well-formed
    else:
        assert reply.is_success, f"{path.name} is a notice: expected success, got {reply.body[:200]}"


@pytest.mark.parametrize("path", FILES[:40:7], ids=[p.stem for p in FILES[:40:7]])
def test_corpus_file_as_wechat_sends_it(wechat_any, path):
    """Verbatim (ToUserName toUser, shared MsgIds): still 200 and a reply or success."""
    reply = wechat_any.send_xml(path.read_text(encoding="utf-8"))
    assert reply.status == 200
    assert reply.is_success or reply.data.get("MsgType") == "text"
