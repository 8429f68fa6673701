"""Signatures and safe-mode encryption, on top of wechatpy.

wechatpy computes the signatures (`WeChatSigner`) and does the AES work
(`WeChatCrypto`), but compares signatures with `!=`; here every comparison is
constant-time (`hmac.compare_digest`) and happens before wechatpy sees the data.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import string
import struct
import time
from functools import lru_cache

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.utils import WeChatSigner

from .errors import BadSignature, DecryptionFailed

MAX_PARAM_CHARS = 128  # timestamp, nonce and signatures are short; anything longer is not WeChat


def sign(*parts: str) -> str:
    """WeChat's SHA-1 signature of the parts (sorted, concatenated): token, timestamp, nonce[, encrypt]."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def signature_matches(given: str | None, *parts: str) -> bool:
    """True when `given` is the signature of `parts`, compared in constant time."""
    if not given or len(given) > MAX_PARAM_CHARS or any(len(p) > MAX_PARAM_CHARS for p in parts[1:3]):
        return False
    return hmac.compare_digest(sign(*parts).encode("ascii"), given.encode("utf-8", "replace"))


def require_signature(token: str, given: str | None, timestamp: str, nonce: str, *extra: str) -> None:
    """Raise BadSignature unless `given` signs token+timestamp+nonce(+extra) — and a token is set."""
    if not token:
        raise BadSignature("WECHAT.TOKEN is not configured")
    if not signature_matches(given, token, timestamp, nonce, *extra):
        raise BadSignature("signature does not match")


def valid_aes_key(key: str) -> bool:
    """An EncodingAESKey is 43 base64 characters that decode to 32 bytes."""
    if len(key) != 43:
        return False
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


@lru_cache(maxsize=8)
def crypto(token: str, aes_key: str, app_id: str) -> WeChatCrypto:
    """wechatpy's safe-mode helper for these credentials (cached: the key decoding is per account)."""
    return WeChatCrypto(token, aes_key, app_id)


def decrypt(token: str, aes_key: str, app_id: str, encrypted: str) -> str:
    """The plain XML inside a safe-mode `Encrypt` value (signature already checked by the caller)."""
    try:
        box = crypto(token, aes_key, app_id)
        # The caller verified msg_signature in constant time; hand wechatpy the matching one.
        timestamp, nonce = "0", "0"
        return box.decrypt_message({"Encrypt": encrypted}, sign(token, timestamp, nonce, encrypted), timestamp, nonce)
    except InvalidAppIdException as exc:
        raise DecryptionFailed("message is for another AppID") from exc
    except (ValueError, TypeError, IndexError, KeyError, struct.error, binascii.Error, UnicodeDecodeError,
            AssertionError) as exc:
        raise DecryptionFailed(f"cannot decrypt: {exc.__class__.__name__}") from exc


def encrypt(token: str, aes_key: str, app_id: str, xml: str, nonce: str | None = None,
            timestamp: str | None = None) -> str:
    """The safe-mode reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce) for `xml`."""
    if not nonce or len(nonce) > 32 or not all(c in _NONCE_CHARS for c in nonce):
        nonce = new_nonce()
    return crypto(token, aes_key, app_id).encrypt_message(xml, nonce, timestamp or str(int(time.time())))


_NONCE_CHARS = frozenset(string.ascii_letters + string.digits)


def new_nonce() -> str:
    return "".join(secrets.choice(string.digits) for _ in range(10))
