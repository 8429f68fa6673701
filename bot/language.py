"""The language of the conversation: choosing it ("语言", "蒙文", a message in Mongolian script)
and answering writing the assistant does not read (Cyrillic Mongolian, Tibetan, legacy fonts).

`handle(turn, text)` runs before everything else in a turn; it returns a reply when the message
is about the language, else None. A new choice is set on `turn.new_locale` and kept per person.

Chinese stays the default: Mongolian (traditional script, mn-Mong) is offered, never forced.
A message in Mongolian script switches to Mongolian and is then read like any other message
(`mongolian_reply` for what the Chinese matcher cannot read). Cyrillic Mongolian (Khalkha), the
legacy Menksoft private-use encoding and Tibetan get a short note with the hotlines.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from knowledge.mongolian import find_terms, has_mongolian, mongolian_key

from . import personas, replies
from .i18n import msg
from .actions import (Action, ListCalculators, ListPersonas, SetLanguage, ShowContacts, ShowMenu, ShowTheme,
                      StartCalculator)
from .reply import Reply
from .understand import plain, script_of

if TYPE_CHECKING:
    from .router import Turn

# "蒙文", "用蒙语", "能用蒙语回答吗", "换成蒙古文", "Mongolian"; "中文", "说汉语"; "语言".
WANTS_MONGOLIAN_RE = re.compile(
    r"^(请|我想|我要|能不能|能否|可以|可不可以|能|会不会)?(用|说|讲|换成|换到|切换到?|改成|改用)?"
    r"(蒙语|蒙文|蒙古语|蒙古文|蒙古话|mongolian|mongol)(版|服务)?(回答|回复|交流|说|聊)?(吗|么|嘛|不)?[?？!！。]*$")
WANTS_CHINESE_RE = re.compile(
    r"^(请|我想|我要|能不能|可以)?(用|说|讲|换成|换回|切换到?|改成|改用|换回到)?(中文|汉语|汉文|普通话|chinese)"
    r"(版|服务)?(回答|回复|交流|说)?(吗|么|吧)?[?？!！。]*$")
LANGUAGE_WORDS = ("语言", "language", "语言选择", "选择语言", "切换语言", "换语言")
# Traditional-script words, as match keys (knowledge.mongolian.mongolian_key).
MN_LANGUAGE = {mongolian_key(w) for w in ("ᠬᠡᠯᠡ", "ᠬᠡᠯᠡ ᠰᠣᠩᠭᠣᠬᠤ")}
MN_MONGOLIAN = {mongolian_key(w) for w in ("ᠮᠣᠩᠭᠣᠯ", "ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ", "ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ")}
MN_CHINESE = {mongolian_key(w) for w in ("ᠬᠢᠲᠠᠳ", "ᠬᠢᠲᠠᠳ ᠬᠡᠯᠡ")}
MN_GREETINGS = tuple(mongolian_key(w) for w in ("ᠰᠠᠶᠢᠨ", "ᠮᠡᠨᠳᠦ", "ᠰᠠᠢᠨ"))
MN_THANKS = tuple(mongolian_key(w) for w in ("ᠪᠠᠶᠠᠷᠯᠠᠯ᠎ᠠ", "ᠪᠠᠶᠠᠷᠯᠠᠯᠠ"))
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
BROAD_TERMS = ("就业", "工作")  # "work": which group are you? (the "for me" lists), never one group's list

# Glossary terms (by their Chinese) → what they open, most specific first.
TERM_ACTIONS: tuple[tuple[str, Action], ...] = (
    ("贷款", StartCalculator("startup_loan")),
    ("见习", StartCalculator("internship")),
    ("证书/证件", StartCalculator("skill_upgrade")),
    ("培训(动词)", StartCalculator("training")),
    ("培训(名词)", StartCalculator("training")),
    ("牧民", ListPersonas()),
    ("创业", ListPersonas()),
    ("企业", ListPersonas()),
    ("失业/没有工作", ShowTheme("unemployment")),
    ("保险", ShowTheme("unemployment")),
    ("补贴", ListCalculators()),
    ("申请", ListCalculators()),
    ("符合条件", ListCalculators()),
    ("不符合条件", ListCalculators()),
    ("就业", ListPersonas()),
    ("工作", ListPersonas()),
    ("电话号码", ShowContacts()),
    ("办公室/机关", ShowContacts()),
    ("帮助", ShowMenu()),
    ("菜单", ShowMenu()),
)


def handle(turn: "Turn", text: str) -> Reply | None:
    if not text:
        return None
    script = script_of(text)
    chinese = CJK_RE.search(text) is not None
    if script.legacy_mongolian and not script.mongolian:
        # Old Menksoft fonts put Mongolian letters in the private-use area: no one can read them as text.
        note = turn.m("legacy_note")
        other = "mn" if turn.scene.locale == "zh" else "zh"
        return Reply(note + "\n" + msg("legacy_note", other), "fallback", locale=turn.scene.locale)
    if script.tibetan and not chinese and not script.mongolian:
        turn.reply_locale = "zh"
        return Reply(msg("tibetan_note", "zh"), "fallback", locale="zh")
    if script.cyrillic and not chinese and not script.mongolian:
        turn.reply_locale = "zh"
        return Reply(msg("cyrillic_note", "zh"), "fallback", locale="zh")
    if script.mongolian and turn.scene.locale != "mn" and chosen(text) != "zh":
        turn.switch_locale("mn")  # writing in Mongolian script is the choice; the message is then read as usual
    wanted = chosen(text)
    if wanted == "ask":
        return choose_reply(turn)
    if wanted is not None:
        return set_language(turn, wanted)
    return None


def chosen(text: str) -> str | None:
    """"zh" or "mn" when the message chooses a language, "ask" for "语言", else None."""
    if has_mongolian(text):
        key = mongolian_key(text)
        if key in MN_LANGUAGE:
            return "ask"
        if key in MN_MONGOLIAN:
            return "mn"
        if key in MN_CHINESE:
            return "zh"
        return None
    t = plain(text)
    if not t or len(t) > 16:
        return None
    if t in LANGUAGE_WORDS:
        return "ask"
    if WANTS_MONGOLIAN_RE.match(t):
        return "mn"
    if WANTS_CHINESE_RE.match(t):
        return "zh"
    return None


def choose_reply(turn: "Turn") -> Reply:
    """"语言": the two languages, numbered (each label in its own script)."""
    reply = Reply(turn.m("language_menu"), "menu", locale=turn.scene.locale)
    return replies.numbered(reply, [(turn.m("language_label_zh"), SetLanguage("zh")),
                                    (turn.m("language_label_mn"), SetLanguage("mn"))])


def set_language(turn: "Turn", locale: str) -> Reply:
    """Switch the conversation to `locale` (kept for this person) and show the menu in it."""
    turn.switch_locale(locale)
    return replies.menu(turn.scene, intro=turn.m("language_set_mn" if locale == "mn" else "language_set_zh"))


def mongolian_reply(turn: "Turn", text: str, perform) -> Reply:
    """A message in Mongolian script that the Chinese matcher cannot read: a greeting, thanks, a
    glossary word that leads to a topic or a dialogue, else the Mongolian menu."""
    key = mongolian_key(text)
    words = key.split()
    if words and any(words[0].startswith(g) for g in MN_GREETINGS):
        return replies.menu(turn.scene, intro=turn.m("smalltalk_greeting"))
    if words and any(words[0].startswith(g) for g in MN_THANKS):
        return replies.smalltalk(turn.scene, "thanks")
    found = {t.zh: t for t in find_terms(text)}
    group = next((personas.MONGOLIAN[t.chinese] for t in found.values() if t.chinese in personas.MONGOLIAN), None)
    for zh, action in TERM_ACTIONS:
        if zh in found:
            if isinstance(action, ListPersonas) and group is not None and zh not in BROAD_TERMS:
                return replies.persona(turn.scene, group, turn.forms)
            return perform(turn, action)
    return replies.menu(turn.scene, intro=turn.m("mongolian_partly"))
