"""A channel-neutral `Reply` as WeChat text: within 2048 UTF-8 bytes, links as <a href>.

Layout: the reply, then the numbered options, then one short "办理单位" line (for
offices the reply does not name itself), then the links (replies carry their links apart from
their text, so no bare path ever shows). When that is too long the reply is cut at a sentence boundary and a
"查看完整回答" link takes the place of the rest; options survive the cut because
the next message may be one of their numbers.
"""
from __future__ import annotations

import html
import re
from typing import Callable
from urllib.parse import quote

from bot.i18n import msg
from bot.reply import Reply

from .xmlsafe import clean

MAX_BYTES = 2048  # WeChat's limit for the Content of a passive text reply
SENTENCE_END = re.compile(r"[。！？；!?;\n\u1803\u1809]")  # ᠃ and ᠉ end Mongolian sentences
CLAUSE_END = re.compile(r"[，、,：:）)\u1802\u1808]")


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def absolute(url: str, base_url: str) -> str:
    """`url` made absolute with PUBLIC_BASE_URL when it is a site path and a base is set."""
    if base_url and url.startswith("/") and not url.startswith("//"):
        return base_url.rstrip("/") + url
    return url


def link(url: str, title: str) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(title, quote=False)}</a>'


def full_answer_path(reply: Reply) -> str:
    """Where the whole of a long answer can be read."""
    if reply.faq_id:
        return "/wechat/answer/" + quote(reply.faq_id, safe="")
    if reply.clause:
        return "/policies/" + quote(reply.clause, safe="")
    for item in reply.links:
        if item.get("url"):
            return item["url"]
    return "/"


def contacts_line(reply: Reply, locale: str, body: str = "") -> str:
    """One brief line naming who handles it ("办理单位：县人社局（咨询 12333）"), unless the body already does."""
    if not reply.contacts or reply.kind == "contacts":  # a contacts reply already lists them
        return ""
    entries = []
    for card in reply.contacts[:3]:
        office = card.get("office") or ""
        if office and office in body:  # e.g. a calculator result's own "办理：县人社局…" line
            continue
        if card.get("phone"):
            entries.append(msg("wechat_contact_phone", locale, office=office, phone=card["phone"]))
        elif card.get("hotline"):
            entries.append(msg("wechat_contact_hotline", locale, office=office, hotline=card["hotline"]))
        elif office:
            entries.append(office)
    return msg("wechat_contacts", locale, offices=msg("list_sep", locale).join(entries)) if entries else ""


def cut(text: str, max_bytes: int) -> tuple[str, bool]:
    """The longest start of `text` within `max_bytes`, ending at a sentence (or clause) boundary.

    Returns the piece and whether it ends on a boundary (False: a hard cut)."""
    if nbytes(text) <= max_bytes:
        return text, True
    if max_bytes <= 0:
        return "", False
    head = text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
    for pattern in (SENTENCE_END, CLAUSE_END):
        ends = [m.end() for m in pattern.finditer(head)]
        if ends and ends[-1] >= len(head) * 0.4:
            return head[:ends[-1]].rstrip(), pattern is SENTENCE_END
    return head.rstrip(), False


def _join(blocks: list[str]) -> str:
    return "\n\n".join(b for b in blocks if b)


def to_text(reply: Reply, *, base_url: str = "", max_bytes: int = MAX_BYTES,
            locale: str | None = None, url_for_full: Callable[[Reply], str] = full_answer_path) -> str:
    """The WeChat text for `reply`: never more than `max_bytes` UTF-8 bytes."""
    locale = locale or reply.locale or "zh"
    body = clean(reply.reply or "").strip()
    options = [clean(f"{o.get('key', '')}. {o.get('label', '')}") for o in reply.options]
    contacts = clean(contacts_line(reply, locale, body))
    links = [link(absolute(item.get("url") or "/", base_url), clean(item.get("title") or item.get("url") or ""))
             for item in reply.links if item.get("url")]

    def footer(*lines: str) -> str:
        return "\n".join(line for line in lines if line)

    menu = "\n".join(options)
    whole = _join([body, menu, footer(contacts, *links)])
    if nbytes(whole) <= max_bytes:
        return whole

    more_url = absolute(url_for_full(reply), base_url)
    more = link(more_url, msg("wechat_read_more", locale))
    others = [item for item in links if f'href="{html.escape(more_url, quote=True)}"' not in item]
    mark = msg("wechat_cut_mark", locale)
    # Keep as much of the tail as leaves room for a useful start of the answer; shed
    # the least needed parts first: other links, the contacts line, then options.
    min_body = min(nbytes(body), max_bytes // 3)
    for tail in ([menu, footer(contacts, more, *others)], [menu, footer(contacts, more)], [menu, more]):
        budget = max_bytes - nbytes(_join(["x"] + tail)) + 1 - nbytes(mark)
        if budget >= min_body:
            piece, clean_cut = cut(body, budget)
            return _join([piece if clean_cut else piece + mark] + tail)
    # Options themselves too long (never with the bundled data): keep what fits.
    budget = max_bytes - nbytes(_join(["x", more])) + 1
    piece, _ = cut(_join([body, menu]), budget)
    text = _join([piece, more])
    return text if nbytes(text) <= max_bytes else cut(text, max_bytes)[0]
