"""Mongolian over WeChat: a whole dialogue in safe mode (AES), and the language kept per follower."""
from __future__ import annotations

from webhooks.wechat import xmlsafe  # noqa: F401  (the channel is importable on its own)


def has_mong(text: str) -> bool:
    return any(0x1800 <= ord(c) <= 0x18AF for c in text)


def test_a_complete_mongolian_dialogue_over_wechat_in_safe_mode(wechat_aes):
    replies = [wechat_aes.send_text(t) for t in ("ᠳᠠᠳᠤᠯᠭ᠎ᠠ", "᠑", "᠕", "᠖", "᠓")]
    assert all(r.ok and r.raw and "<Encrypt>" in r.raw for r in replies)  # safe mode: encrypted envelopes
    assert all(has_mong(r.text) and len(r.text.encode()) <= 2048 for r in replies)
    assert "36000元" in replies[-1].text


def test_the_language_is_kept_on_wechat(wechat):
    wechat.send_text("蒙文")
    assert has_mong(wechat.send_text("菜单").text)
    assert has_mong(wechat.send_event("subscribe").text)


