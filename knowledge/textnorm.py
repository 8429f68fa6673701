"""Text normalisation shared by the matcher and its index.

Folds what varies between residents but not in meaning: full-width forms,
traditional characters, letter case, punctuation and emoji, colloquial synonyms,
and homophone typos (创业代款 → 创业贷款) found through fuzzy pinyin keys.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

import importlib.util
import os

import zhconv

from .mongolian import mongolian_key

CJK = re.compile(r"[\u4e00-\u9fff]+")
# Keep CJK, Latin letters, digits, Mongolian script, %; everything else separates words.
DROP = re.compile(r"[^\u4e00-\u9fff\u1800-\u18afa-z0-9%.\s]+")
SPACES = re.compile(r"\s+")
MONGOLIAN = re.compile(r"[\u1800-\u18af]")

# Characters of ordinary speech that a homophone repair must never overwrite.
FUNCTION_CHARS = set("我你他她它们的地得了着过是不没在有个这那哪想要会能可就都也还又很吗呢吧啊呀嘛")

# Fuzzy pinyin: initials and finals residents (and voice input) confuse.
_FUZZY = [("zh", "z"), ("ch", "c"), ("sh", "s"), ("ang", "an"), ("eng", "en"), ("ing", "in"), ("l", "n")]


# Hexi dialect characters with a plain equivalent (尕娃 = 小孩, 尕卖部 = 小卖部).
DIALECT = str.maketrans({"尕": "小"})


def fold(text: str) -> str:
    """NFKC, simplified characters, dialect characters, lower case, punctuation and emoji to spaces.

    A match key, never stored. Mongolian script gets its own key first (knowledge.mongolian:
    no variation selectors, vowel separators or joiners, U+202F as a space, Mongolian digits as
    ASCII), so two spellings of one word meet."""
    text = text or ""
    if MONGOLIAN.search(text):
        text = mongolian_key(text)
    text = unicodedata.normalize("NFKC", text)
    text = zhconv.convert(text, "zh-cn").translate(DIALECT)
    text = text.lower()
    text = DROP.sub(" ", text)
    return SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _pinyin_table() -> dict[int, str]:
    """pypinyin's character table, loaded on its own.

    Importing the pypinyin package also loads its phrase dictionary (a third of a
    second at every start); single characters are all the homophone repair needs.
    """
    spec = importlib.util.find_spec("pypinyin")
    path = os.path.join(os.path.dirname(spec.origin), "pinyin_dict.py")  # type: ignore[union-attr,arg-type]
    mod_spec = importlib.util.spec_from_file_location("_jiuye_pinyin_dict", path)
    module = importlib.util.module_from_spec(mod_spec)  # type: ignore[arg-type]
    mod_spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.pinyin_dict


def _strip_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def fuzzy_syllable(ch: str) -> str:
    """Toneless first reading of a character with fuzzy initials/finals (贷, 代 → dai)."""
    reading = _pinyin_table().get(ord(ch))
    if not reading:
        return ch
    s = _strip_tone(reading.split(",")[0])
    for a, b in _FUZZY:
        if s.startswith(a) and a in ("zh", "ch", "sh", "l"):
            s = b + s[len(a):]
        elif s.endswith(a) and a in ("ang", "eng", "ing"):
            s = s[: -len(a)] + b
    return s


def pinyin_key(word: str) -> str:
    return " ".join(fuzzy_syllable(c) for c in word)


def has_mongolian(text: str) -> bool:
    return bool(MONGOLIAN.search(text or ""))


class Normalizer:
    """Applies synonyms and homophone repair against a domain vocabulary."""

    def __init__(self, synonyms: dict[str, str], vocabulary: Iterable[str], is_common_word):
        # "re:开个?[^，。 ]{0,4}店": a pattern key, for phrasings with words inside ("开个牛肉干店")
        self.patterns = [(k[3:], fold(v)) for k, v in sorted(synonyms.items()) if k.startswith("re:") and fold(v)]
        self.synonyms = {fold(k): fold(v) for k, v in synonyms.items()
                         if not k.startswith("re:") and fold(k) and fold(v)}
        keys = sorted(self.synonyms, key=len, reverse=True)
        self._syn_re = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        self.is_common_word = is_common_word
        # Domain words by fuzzy pinyin key, for homophone repair. Only 2–4 character words.
        self.by_key: dict[str, str] = {}
        for word in vocabulary:
            word = fold(word)
            if 2 <= len(word) <= 4 and CJK.fullmatch(word):
                self.by_key.setdefault(pinyin_key(word), word)
        self.vocab = set(self.by_key.values())
        self.vocab_chars = frozenset("".join(self.vocab))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("is_common_word", None)
        state["_syn_re"] = self._syn_re.pattern if self._syn_re else None
        return state

    def __setstate__(self, state: dict) -> None:
        pattern = state.pop("_syn_re")
        self.__dict__.update(state)
        self._syn_re = re.compile(pattern) if pattern else None

    def repair_homophones(self, text: str) -> str:
        """Replace a non-word whose fuzzy pinyin equals a domain word's (sharing a character)."""

        def fix(run: str) -> str:
            out = list(run)
            syllables: list[str] | None = None  # computed only if some window could need repair
            i = 0
            while i < len(run):
                replaced = False
                for n in (4, 3, 2):
                    if i + n > len(run):
                        continue
                    piece = run[i:i + n]
                    if piece in self.vocab:
                        i += n
                        replaced = True
                        break
                    # a repair keeps at least one character of the word, so a window sharing
                    # no character with any policy term cannot be one
                    if not any(c in self.vocab_chars for c in piece):
                        continue
                    if syllables is None:
                        syllables = [fuzzy_syllable(c) for c in run]
                    word = self.by_key.get(" ".join(syllables[i:i + n]))
                    if (word and word != piece and set(word) & set(piece) and not self.is_common_word(piece)
                            and not any(a != b and a in FUNCTION_CHARS for a, b in zip(piece, word))):
                        out[i:i + n] = list(word)
                        i += n
                        replaced = True
                        break
                if not replaced:
                    i += 1
            return "".join(out)

        return CJK.sub(lambda m: fix(m.group(0)), text)

    def apply_synonyms(self, text: str) -> str:
        for pattern, target in self.patterns:
            try:
                text = re.sub(pattern, target, text)
            except re.error:
                continue  # a staff-entered pattern that is no regex matches nothing
        if not self._syn_re:
            return text
        return self._syn_re.sub(lambda m: self.synonyms[m.group(0)], text)

    def __call__(self, text: str) -> str:
        text = fold(text)
        text = self.repair_homophones(text)
        return self.apply_synonyms(text)
