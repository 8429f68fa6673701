"""Traditional Mongolian script (mn-Mong): match keys, the glossary, and finding its words in a message.

Stored text stays as the person wrote it (NFC): the variation selectors and spaces of Mongolian
shape its letters and must survive a round trip. Only *match keys* drop them:

- the free variation selectors FVS1–4 (U+180B–U+180D, U+180F) and the vowel separator MVS
  (U+180E), so ᠰᠠᠷ᠎ᠠ and ᠰᠠᠷᠠ (both "month", with and without MVS) meet;
- ZWJ / ZWNJ, which keyboards insert to force a letter form;
- the narrow no-break space U+202F before a suffix, which becomes a plain space;
- Mongolian digits (U+1810–U+1819), which become ASCII digits;
- letters that look alike and that different keyboards type with different keys
  (o/u ᠣ/ᠤ, ö/ü ᠥ/ᠦ, γ/q ᠭ/ᠬ): the glossary's own sources disagree on them (ᠦᠭᠡᠢ / ᠦᠬᠡᠢ).

The glossary (knowledge/data/mongolian-glossary.tsv) is a copy of the project's shared list; each
term carries a confidence and none has been reviewed by a native speaker yet.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GLOSSARY_PATH = Path(__file__).resolve().parent / "data" / "mongolian-glossary.tsv"

MONGOLIAN_BLOCK = ("\u1800", "\u18af")
NNBSP = "\u202f"
MVS = "\u180e"
# Format characters that shape letters but do not change the word.
_DROPPED = "\u180b\u180c\u180d\u180f\u180e\u200c\u200d"
_DIGITS = {0x1810 + i: str(i) for i in range(10)}
_LOOKALIKES = {"\u1823": "\u1824", "\u1825": "\u1826", "\u182d": "\u182c"}
KEY_TABLE = str.maketrans({**{c: None for c in _DROPPED}, NNBSP: " ", **_DIGITS, **_LOOKALIKES})
# A word: Mongolian letters, with the format characters inside it.
LETTER = "[\u1820-\u18af\u180b-\u180f\u200c\u200d]"
WORD_RE = re.compile(rf"{LETTER}+(?:{NNBSP}{LETTER}+)*")

# Glossary terms that name policy: until a native speaker has reviewed a sentence, these are
# shown with their Chinese beside them (ᠲᠡᠳᠬᠦᠮᠵᠢ（补贴）). Everyday words (yes, month, back) are not.
POLICY_TERMS = ("就业", "失业/没有工作", "补贴", "贷款", "培训(动词)", "培训(名词)", "牧民", "申请", "符合条件",
                "不符合条件", "见习", "创业", "企业", "保险", "证书/证件")


def is_mongolian(char: str) -> bool:
    return MONGOLIAN_BLOCK[0] <= char <= MONGOLIAN_BLOCK[1]


def has_mongolian(text: str) -> bool:
    return any(is_mongolian(c) for c in text or "")


def mongolian_key(text: str) -> str:
    """The match key of Mongolian text: NFC, no FVS/MVS/ZWJ/ZWNJ, U+202F as a space, digits as ASCII,
    look-alike letters folded, spaces collapsed. Never stored; compare keys with keys."""
    text = unicodedata.normalize("NFC", text or "").translate(KEY_TABLE)
    return " ".join(text.split())


def fold_digits(text: str) -> str:
    """Mongolian digits (U+1810–U+1819) as ASCII digits, nothing else changed."""
    return (text or "").translate(_DIGITS)


@dataclass(frozen=True)
class Term:
    zh: str              # the glossary's Chinese ("培训(动词)", "失业/没有工作")
    mongolian: str       # as written in traditional script (NFC, with its MVS/NNBSP)
    latin: str
    confidence: str
    policy: bool

    @property
    def chinese(self) -> str:
        """The Chinese to show beside the term: the first of its forms, without the note (培训, 失业)."""
        return re.split(r"[/(（]", self.zh, maxsplit=1)[0]

    @property
    def key(self) -> str:
        return mongolian_key(self.mongolian)


@lru_cache(maxsize=1)
def glossary() -> tuple[Term, ...]:
    """The glossary's terms, in file order."""
    with GLOSSARY_PATH.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return tuple(Term(r["zh"], unicodedata.normalize("NFC", r["mong_unicode"]), r["latin_translit"], r["confidence"],
                      r["zh"] in POLICY_TERMS) for r in rows if r.get("mong_unicode"))


def term(zh: str) -> Term:
    """The glossary term whose Chinese is `zh` (its first form: 培训 → 培训(动词))."""
    for t in glossary():
        if zh in (t.zh, t.chinese):
            return t
    raise KeyError(zh)


def find_terms(text: str) -> list[Term]:
    """Glossary terms in a message, longest first, each word used once. A term matches whole words at
    their start, so an attached suffix (ᠠᠵᠢᠯᠤᠨ) still finds ᠠᠵᠢᠯ."""
    words = mongolian_key(text).split()
    used = [False] * len(words)
    found: list[Term] = []
    for t in sorted(glossary(), key=lambda t: (-len(t.key.split()), -len(t.key))):
        parts = t.key.split()
        for i in range(len(words) - len(parts) + 1):
            window = words[i:i + len(parts)]
            if any(used[i:i + len(parts)]):
                continue
            if window[:-1] == parts[:-1] and window[-1].startswith(parts[-1]):
                found.append(t)
                used[i:i + len(parts)] = [True] * len(parts)
                break
    return found


def gloss(text: str, terms: tuple[Term, ...] | None = None) -> str:
    """`text` with the Chinese beside the first use of each policy term (ᠲᠡᠳᠬᠦᠮᠵᠢ（补贴）), unless the
    text already shows that Chinese. The Chinese goes after the whole word, suffixes included."""
    terms = tuple(t for t in (terms if terms is not None else glossary()) if t.policy)
    done: set[str] = set()
    for t in sorted(terms, key=lambda t: -len(t.mongolian)):
        if t.chinese in text or t.chinese in done:
            continue
        at = text.find(t.mongolian)
        if at < 0:
            continue
        word = WORD_RE.match(text, at + len(t.mongolian) - 1)
        end = word.end() if word else at + len(t.mongolian)
        text = text[:end] + f"（{t.chinese}）" + text[end:]
        done.add(t.chinese)
    return text
