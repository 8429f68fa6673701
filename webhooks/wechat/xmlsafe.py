"""Hardened XML in and escaped XML out.

In: the body must be UTF-8 and a well-formed `<xml>` document; a DOCTYPE or an
ENTITY declaration is refused by the parser itself (so text such as "<!DOCTYPE"
typed by a user inside CDATA is still fine), and attributes are ignored.

Out: wechatpy writes `<![CDATA[{value}]]>` without escaping, so a value holding
`]]>` would close the section early and inject XML. `cdata()` splits every `]]>`
across two sections and drops characters XML 1.0 cannot carry at all.
"""
from __future__ import annotations

import re
from typing import Any
from xml.parsers import expat

import xmltodict

from .errors import ForbiddenMarkup, MalformedMessage

# Characters XML 1.0 forbids even inside CDATA (C0 controls except tab/newline/CR,
# lone surrogates, U+FFFE/U+FFFF).
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """`text` without characters XML 1.0 cannot carry."""
    return _INVALID_XML_CHARS.sub("", text)


def cdata(text: str) -> str:
    """The inside of a CDATA section that shows exactly `text` (after `clean`)."""
    return clean(text).replace("]]>", "]]]]><![CDATA[>")


def _refuse_doctype(*_args: Any) -> None:
    raise ForbiddenMarkup("DOCTYPE declarations are not accepted")


def _refuse_entity(*_args: Any) -> None:
    raise ForbiddenMarkup("ENTITY declarations are not accepted")


class _HardenedExpat:
    """An `expat` stand-in for xmltodict whose parsers refuse any document type declaration."""

    ExpatError = expat.ExpatError

    @staticmethod
    def ParserCreate(encoding: str | None = None, namespace_separator: str | None = None):  # noqa: N802 (expat API)
        parser = expat.ParserCreate(encoding, namespace_separator)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        parser.EntityDeclHandler = _refuse_entity
        parser.ExternalEntityRefHandler = _refuse_entity
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        return parser


def parse(body: bytes | str) -> dict[str, Any]:
    """The children of the `<xml>` root as a dict (text values are str; nested ones dicts/lists)."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessage("body is not UTF-8") from exc
    else:
        text = body
    text = text.lstrip("\ufeff").strip()
    if not text:
        raise MalformedMessage("empty body")
    try:
        doc = xmltodict.parse(text, encoding="utf-8", expat=_HardenedExpat, xml_attribs=False)
    except ForbiddenMarkup:
        raise
    except ValueError as exc:  # xmltodict's own "entities are disabled"
        raise ForbiddenMarkup(str(exc)) from exc
    except expat.ExpatError as exc:
        raise MalformedMessage(f"not well-formed XML: {exc}") from exc
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise MalformedMessage("no <xml> root element with children")
    return root


def field(data: dict[str, Any], name: str) -> str:
    """A text field of a parsed message; "" when it is missing or not plain text."""
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""
