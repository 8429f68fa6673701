"""Input hygiene at the edge: what a request may hand to the engine and the calculators.

Everything a person or a program sends passes through here before it reaches the engine, so
nothing that can fail deeper down gets in:

- text: NUL bytes (PostgreSQL refuses them in text columns), other C0 controls and lone
  surrogates (no UTF-8 exists for them, so writing or echoing one fails) are removed;
- JSON bodies: parsed by `load_json`, which refuses nesting deeper than `MAX_JSON_DEPTH` and
  anything the parser cannot read, as a bad request rather than a crash;
- ids chosen by a client (message ids) must match a short, plain pattern.

The module has no Flask import: views call it and map `EdgeError` to a 400.
"""
from __future__ import annotations

import json
import re
from typing import Any

# Deeper than any object this API defines ({"text": …} is depth 1); a 100,000-deep body is
# refused here instead of exhausting the parser's recursion.
MAX_JSON_DEPTH = 16
# C0 controls except tab, newline and carriage return; lone surrogates; the two non-characters.
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SURROGATES = re.compile("[\ud800-\udfff]")
MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class EdgeError(ValueError):
    """A request the edge refuses: `message` for people (Chinese), `field` at fault or None."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, str | None]:
        return {"error": self.message, "field": self.field}


def clean_text(text: str) -> str:
    """`text` without NUL, other control characters and lone surrogates (tab and newlines stay)."""
    return _UNSAFE_TEXT.sub("", text)


def has_unsafe_characters(text: str) -> bool:
    """True when `clean_text` would change `text` (for ids, which are refused rather than cleaned)."""
    return _UNSAFE_TEXT.search(text) is not None


def replace_surrogates(text: str) -> str:
    """Lone surrogates as U+FFFD, so a message that quotes one can still be encoded."""
    return _SURROGATES.sub("\ufffd", text)


def load_json(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of a request body; EdgeError if it is not JSON or nested too deep."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise EdgeError("请求体不是 UTF-8 编码的 JSON") from None
    if not raw.strip():
        raise EdgeError("请求体为空，应为 JSON 对象，例如 {\"text\": \"问题\"}")
    try:
        value = json.loads(raw)
    except RecursionError:  # the C parser stops at Python's recursion limit: [[[[… 100,000 deep
        raise EdgeError(f"JSON 嵌套太深（最多{max_depth}层）") from None
    except ValueError:  # JSONDecodeError is a ValueError; so is a number of more than 4300 digits
        raise EdgeError("请求体不是合法的 JSON") from None
    if depth_of(value) > max_depth:
        raise EdgeError(f"JSON 嵌套太深（最多{max_depth}层）")
    return value


def depth_of(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def clean_json(value: Any, depth: int = 0) -> Any:
    """A parsed JSON value with every string (keys too) passed through `replace_surrogates` and NULs
    removed, so an error message that quotes a field or a value can always be written out."""
    if depth > MAX_JSON_DEPTH:
        raise EdgeError(f"JSON 嵌套太深（最多{MAX_JSON_DEPTH}层）")
    if isinstance(value, str):
        return replace_surrogates(value).replace("\x00", "")
    if isinstance(value, list):
        return [clean_json(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {clean_json(k, depth + 1): clean_json(v, depth + 1) for k, v in value.items()}
    return value


def message_id(value: Any) -> str | None:
    """A client's message id: None when absent, else 1–64 of [A-Za-z0-9_-]; EdgeError otherwise."""
    if value is None:
        return None
    if not isinstance(value, str) or not MESSAGE_ID_RE.fullmatch(value):
        raise EdgeError("message_id 应为1到64位的字母、数字、下划线或连字符", "message_id")
    return value
