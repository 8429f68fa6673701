"""Guided dialogues: forms declared as data (eligibility/forms/*.yaml) and the runner that fills them.

A form lists the slots of one calculator in the order they are asked (rasa-style): each slot has
a question, a type (int, number, choice, bool, date), numbered options, bounds, the message for an
answer it cannot use, and conditions on earlier answers (`when`) or on a window of the plan being
in force today (`when_window`). The runner keeps everything in a JSON-serialisable dict, so the
bot can store it in the user's conversation state between messages.

Free answers are understood where natural: "三个月", "3个", "120人", "一百二十", full-width digits,
"一年半", "2万", "1年以上", "是/不是/有/没有/对/没", option numbers, labels or everyday words for them;
emoji and WeChat face codes ([微笑]) are ignored. An answer it cannot use raises `AnswerError` with an
explanation — a rough amount ("十几个", "一百多") is told a number is needed — and the caller asks again.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from knowledge.parameters import ParameterError, ParameterView

from .registry import REGISTRY
from .texts import t

FORMS_DIR = Path(__file__).resolve().parent / "forms"
SLOT_TYPES = ("int", "number", "choice", "bool", "date")
FIELD_TYPES = {"int": "integer", "number": "number", "choice": "choice", "bool": "boolean"}
UNITS = ("people", "months", "years", "age", "yuan", "")


class AnswerError(ValueError):
    """An answer the current question cannot use; `message` says why and what to send."""

    def __init__(self, message: str, unsure: bool = False):
        super().__init__(message)
        self.message = message
        self.unsure = unsure  # the person said they do not know (an answer, not a new question)


# ------------------------------------------------------------------------------- free answers
CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10_000, "亿": 100_000_000}
EDGE_PUNCT = "。.,，、!！~～ 　;；:：\"'“”‘’()（）"
# Words around a number that do not change it ("大概120人左右", "一共有5个").
LEAD_FILLERS = ("大概有", "大约有", "一共有", "总共有", "一共", "总共", "大概", "大约", "差不多", "约", "共", "有",
                "就", "才", "只有", "只", "是", "今年", "我们", "我", "招了", "留了", "签了", "交了", "干了")
TAIL_FILLERS = ("以上", "左右", "上下", "了吧", "了", "吧", "啊", "呀", "呢", "哦", "嘛", "的样子", "的")
ZERO_WORDS = {"没有", "没", "无", "零", "一个也没有", "一个都没有", "都没有", "没留", "没招", "一个没留", "0个"}
TIME_UNITS = {"个月": "months", "月": "months", "年": "years", "周岁": "age", "岁": "age"}
OTHER_UNITS = ("人", "名", "位", "个", "元钱", "元", "块钱", "块", "次")
UNSURE = ("不清楚", "不知道", "不确定", "不晓得", "说不准", "不好说", "忘了", "记不清", "不懂", "不太清楚", "不太确定",
          "不记得", "记不得", "搞不清", "没数", "不了解", "不太知道")
# "十几个" "一百多人" "好多年" "三四个": a rough quantity, not a number the calculator can use.
VAGUE_RE = re.compile(r"[几多来余]|好些|若干|[一二两三四五六七八九]{2}[个人名位年月岁]|\d+[到至~-]\d+")
# WeChat sends its faces as [微笑] or /::) ; phones send emoji. Neither changes an answer.
EMOJI_CODE_RE = re.compile(r"\[[\u4e00-\u9fff]{1,4}\]|/:[^\s/]{1,8}")
QUESTION_MARKS = ("吗", "?", "？", "么", "是不是", "能不能", "可不可以", "什么", "怎么", "为啥", "为什么", "多少", "哪")

YES = {"是", "是的", "对", "对的", "对呀", "有", "有的", "嗯", "恩", "好", "好的", "行", "可以", "要", "需要", "yes", "y",
       "true", "ok", "对头", "是滴", "是呀", "是啊", "对啊", "当然", "肯定"}
NO = {"不是", "否", "没有", "没", "无", "不", "不对", "没得", "no", "n", "false", "不要", "不需要", "没呢", "还没有", "还没",
      "不行", "木有"}


def _clean(text: str) -> str:
    text = EMOJI_CODE_RE.sub("", unicodedata.normalize("NFKC", text or ""))
    text = "".join(c for c in text if unicodedata.category(c) not in ("So", "Sk", "Cf", "Mn", "Me", "Cs", "Co"))
    text = re.sub(r"\s+", "", text.strip().lower())
    return text.strip(EDGE_PUNCT)


def is_vague_quantity(text: str) -> bool:
    """A rough amount ("十几个", "一百多", "三四年", "好多") that cannot be one number."""
    s = _clean(text)
    return bool(s) and bool(VAGUE_RE.search(s)) and not any(mark in s for mark in ("吗", "?", "么", "多少", "什么"))


def _strip_fillers(text: str) -> str:
    changed = True
    while changed and text:
        changed = False
        for word in LEAD_FILLERS:
            if text.startswith(word) and len(text) > len(word):
                text, changed = text[len(word):], True
        for word in TAIL_FILLERS:
            if text.endswith(word) and len(text) > len(word):
                text, changed = text[: -len(word)], True
    return text


def cn_number(text: str) -> int | None:
    """Chinese numerals to an int: 一百二十 → 120, 十二 → 12, 两千五 → 2500, 一百零五 → 105."""
    if not text or any(c not in CN_DIGITS and c not in CN_UNITS for c in text):
        return None
    total, section, digit = 0, 0, None
    last_unit, zero_seen = 1, False
    for c in text:
        if c in CN_DIGITS:
            if digit is not None and not zero_seen:
                return None  # 三四 — two digits with no unit between
            if CN_DIGITS[c] == 0:
                zero_seen, digit = True, None
            else:
                digit = CN_DIGITS[c]
            continue
        unit = CN_UNITS[c]
        if unit >= 10_000:
            total += ((section + (digit or 0)) or 1) * unit
            section = 0
        else:
            section += (1 if digit is None else digit) * unit
        last_unit, digit, zero_seen = unit, None, False
    if digit is not None:
        if not zero_seen and last_unit >= 100:  # 一百二 → 120, 两千五 → 2500, 三万五 → 35000 (colloquial)
            if last_unit >= 10_000:
                total += digit * (last_unit // 10)
            else:
                section += digit * (last_unit // 10)
        else:
            section += digit
    return total + section


def parse_plain_number(text: str) -> float | int | None:
    """A number alone: 120, -3, 1.5, ３, 一百二十, 一点五, 2万, 1.5万, 3千."""
    m = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)([十百千万亿]*)", text)
    if m:
        value: float | int = float(m.group(1)) if "." in m.group(1) else int(m.group(1))
        for c in m.group(2):
            value *= CN_UNITS[c]
        return value
    if "点" in text:
        whole, _, frac = text.partition("点")
        w = cn_number(whole) if whole else 0
        if w is None or not frac or any(c not in CN_DIGITS for c in frac):
            return None
        return float(f"{w}." + "".join(str(CN_DIGITS[c]) for c in frac))
    return cn_number(text)


def parse_quantity(text: str, unit: str = "") -> float | int:
    """A count, a duration or a sum in free words; converts 年 ↔ 月 to the slot's unit."""
    s = _strip_fillers(_clean(text))
    if s in ZERO_WORDS:
        return 0
    half = False
    said_unit = ""
    if s in ("半年", "半个月", "半月"):
        s, half, said_unit = "0", True, "years" if s == "半年" else "months"
    for pattern, time_unit in ((r"(.+?)个半月", "months"), (r"(.+?)年半", "years"), (r"(.+?)岁半", "age")):
        m = re.fullmatch(pattern, s)
        if m:
            s, half, said_unit = m.group(1), True, time_unit
            break
    for _ in range(2):  # "3个人": 人 then 个
        for word, time_unit in TIME_UNITS.items():
            if s.endswith(word) and len(s) > len(word):
                s, said_unit = s[: -len(word)], time_unit
                break
        else:
            for word in OTHER_UNITS:
                if s.endswith(word) and len(s) > len(word):
                    s = s[: -len(word)]
                    break
    s = _strip_fillers(s)
    value = parse_plain_number(s)
    if value is None:
        raise AnswerError("")
    if half:
        value = value + 0.5
    if unit == "months" and said_unit == "years":
        value = value * 12
    elif unit == "years" and said_unit == "months":
        value = round(value / 12, 2)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


def parse_bool(text: str, yes_words: tuple[str, ...] = (), no_words: tuple[str, ...] = ()) -> bool:
    s = _clean(text)
    stripped = _strip_fillers(s) or s
    for candidate in (s, stripped):
        if candidate in ("1", "一", "第一个"):
            return True
        if candidate in ("2", "二", "第二个"):
            return False
        if candidate in NO or candidate in no_words:
            return False
        if candidate in YES or candidate in yes_words:
            return True
    if any(mark in s for mark in QUESTION_MARKS):
        raise AnswerError("")
    for word in sorted(set(no_words) | {"不是", "没有", "不", "没", "否"}, key=len, reverse=True):
        if word in s:
            return False
    for word in sorted(set(yes_words) | {"是", "有", "对"}, key=len, reverse=True):
        if word in s:
            return True
    raise AnswerError("")


def parse_date(text: str) -> str:
    s = _clean(text)
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?号?", s)
    if not m:
        raise AnswerError("")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        raise AnswerError("") from None


def parse_option_number(text: str) -> int | None:
    s = _clean(text)
    s = re.sub(r"^第", "", s)
    s = re.sub(r"(个|项|条|种|号|\.)$", "", s)
    if s.isdigit() and len(s) <= 2:
        return int(s)
    if s and all(c in CN_DIGITS or c in "十" for c in s):
        return cn_number(s)
    return None


# ------------------------------------------------------------------------------------- forms
@dataclass(frozen=True)
class Option:
    value: str
    label: str
    says: tuple[str, ...] = ()


@dataclass(frozen=True)
class Slot:
    name: str
    type: str
    question: str
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_from: str | None = None
    unit: str = ""
    when: Mapping[str, Any] = field(default_factory=dict)
    when_window: str | None = None
    invalid: str = ""
    too_small: str = ""
    too_large: str = ""
    yes_label: str = ""
    no_label: str = ""
    yes_words: tuple[str, ...] = ()
    no_words: tuple[str, ...] = ()
    prefill: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "Slot":
        options = tuple(Option(str(o["value"]), str(o.get("label") or o["value"]),
                               tuple(str(w) for w in o.get("says") or ())) for o in data.get("options") or ())
        return cls(
            name=data["name"], type=data["type"], question=data["question"], options=options,
            minimum=data.get("min"), maximum=data.get("max"), max_from=data.get("max_from"),
            unit=data.get("unit", ""), when=dict(data.get("when") or {}), when_window=data.get("when_window"),
            invalid=data.get("invalid", ""), too_small=data.get("too_small", ""), too_large=data.get("too_large", ""),
            yes_label=data.get("yes_label", ""), no_label=data.get("no_label", ""),
            yes_words=tuple(data.get("yes_words") or ()), no_words=tuple(data.get("no_words") or ()),
            prefill={str(k): tuple(v) for k, v in (data.get("prefill") or {}).items()},
        )

    def choices(self) -> list[Option]:
        """Numbered options: a choice's own, or 是/否 for a yes-no question."""
        if self.type == "choice":
            return list(self.options)
        if self.type == "bool":
            return [Option("true", self.yes_label or t("dialogue.yes")),
                    Option("false", self.no_label or t("dialogue.no"))]
        return []


@dataclass(frozen=True)
class Form:
    calculator: str
    intro: str
    keywords: tuple[str, ...]
    slots: tuple[Slot, ...]

    @property
    def title(self) -> str:
        return REGISTRY.get(self.calculator).title

    @property
    def clause(self) -> str:
        return REGISTRY.get(self.calculator).clause

    def slot(self, name: str) -> Slot:
        return next(s for s in self.slots if s.name == name)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "Form":
        form = cls(calculator=data["calculator"], intro=data.get("intro", ""),
                   keywords=tuple(data.get("keywords") or ()),
                   slots=tuple(Slot.from_mapping(s) for s in data["slots"]))
        form.check()
        return form

    def check(self) -> None:
        """A form must fit its calculator: every slot an input of the right type, every required input asked."""
        calc = REGISTRY.get(self.calculator)
        fields = calc.schema.by_name
        seen: set[str] = set()
        for slot in self.slots:
            if slot.type not in SLOT_TYPES or slot.name not in fields:
                raise ValueError(f"form {self.calculator}: slot {slot.name!r} is not an input of the calculator")
            if slot.unit not in UNITS:
                raise ValueError(f"form {self.calculator}: slot {slot.name}: unknown unit {slot.unit!r}")
            if FIELD_TYPES.get(slot.type) != fields[slot.name].type:
                raise ValueError(f"form {self.calculator}: slot {slot.name} type {slot.type} does not fit")
            if slot.type == "choice" and {o.value for o in slot.options} != set(fields[slot.name].options):
                raise ValueError(f"form {self.calculator}: slot {slot.name} options differ from the calculator's")
            for name in list(slot.when) + ([slot.max_from] if slot.max_from else []):
                if name not in seen:
                    raise ValueError(f"form {self.calculator}: slot {slot.name} depends on a later slot {name}")
            seen.add(slot.name)
        for f in calc.schema.fields:
            if f.required and f.name not in seen:
                raise ValueError(f"form {self.calculator}: required input {f.name} is never asked")


@lru_cache(maxsize=1)
def load_forms() -> dict[str, Form]:
    """Every form, in the registry's order (the 测算 menu order)."""
    forms: dict[str, Form] = {}
    for path in sorted(FORMS_DIR.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            form = Form.from_mapping(yaml.safe_load(fh))
        forms[form.calculator] = form
    return {name: forms[name] for name in REGISTRY.names() if name in forms}


# ------------------------------------------------------------------------------------ runner
@dataclass
class Prompt:
    text: str
    options: list[dict[str, str]]
    slot: str


def _render(text: str, view: ParameterView | None) -> str:
    if view is None:
        return text
    try:
        return view.render(text)
    except ParameterError:
        return text


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


class Dialogue:
    """One person's progress through one form; `state` is plain JSON (stored by the caller)."""

    def __init__(self, form: Form, state: dict[str, Any], view: ParameterView | None = None):
        self.form = form
        self.state = state
        self.view = view

    @classmethod
    def begin(cls, form: Form, now: dt.datetime, view: ParameterView | None = None) -> "Dialogue":
        stamp = _iso(now)
        return cls(form, {"calc": form.calculator, "answers": {}, "asked": [], "misses": 0,
                          "started": stamp, "updated": stamp}, view)

    @property
    def answers(self) -> dict[str, Any]:
        return self.state.setdefault("answers", {})

    # -- time ------------------------------------------------------------------------------
    def touch(self, now: dt.datetime) -> None:
        self.state["updated"] = _iso(now)

    def expired(self, now: dt.datetime, ttl_hours: float) -> bool:
        try:
            updated = dt.datetime.fromisoformat(self.state.get("updated") or self.state.get("started") or "")
        except ValueError:
            return True
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=dt.timezone.utc)
        return now - updated > dt.timedelta(hours=float(ttl_hours))

    # -- which question ---------------------------------------------------------------------
    def applies(self, slot: Slot) -> bool:
        for name, wanted in slot.when.items():
            allowed = wanted if isinstance(wanted, list) else [wanted]
            if name not in self.answers or self.answers[name] not in allowed:
                return False
        if slot.when_window and self.view is not None:
            try:
                if not self.view.window(slot.when_window).covers(self.view.day):
                    return False
            except ParameterError:
                return False
        return True

    def current(self) -> Slot | None:
        for slot in self.form.slots:
            if slot.name not in self.answers and self.applies(slot):
                return slot
        return None

    @property
    def done(self) -> bool:
        return self.current() is None

    def prompt(self) -> Prompt:
        slot = self.current()
        if slot is None:
            raise RuntimeError("the form is complete")
        text = _render(slot.question, self.view)
        choices = slot.choices()
        if choices:
            text += t("dialogue.choice_hint")
        options = [{"key": str(i), "label": _render(o.label, self.view)} for i, o in enumerate(choices, 1)]
        return Prompt(text, options, slot.name)

    # -- answers ------------------------------------------------------------------------------
    def parse(self, text: str) -> Any:
        """The current slot's value for a free answer, or AnswerError with what to send instead."""
        slot = self.current()
        if slot is None:
            raise RuntimeError("the form is complete")
        if any(word in _clean(text) for word in UNSURE):
            raise AnswerError(t("dialogue.unsure", invalid=self._invalid(slot)), unsure=True)
        try:
            return self._parse(slot, text)
        except AnswerError as exc:
            if not exc.message and slot.type in ("int", "number") and is_vague_quantity(text):
                raise AnswerError(t("dialogue.vague", invalid=self._invalid(slot))) from None
            raise AnswerError(exc.message or self._invalid(slot)) from None

    def _invalid(self, slot: Slot) -> str:
        return _render(slot.invalid, self.view) or t(f"dialogue.invalid_{slot.type}")

    def _parse(self, slot: Slot, text: str) -> Any:
        if slot.type == "choice":
            return self._choice(slot, text)
        if slot.type == "bool":
            return parse_bool(text, slot.yes_words, slot.no_words)
        if slot.type == "date":
            return parse_date(text)
        value = parse_quantity(text, slot.unit)
        if slot.type == "int" and not float(value).is_integer():
            raise AnswerError(t("dialogue.whole_number", value=value))
        if slot.type == "int":
            value = int(value)
        low = slot.minimum
        high = self.answers.get(slot.max_from) if slot.max_from else slot.maximum
        if low is not None and value < low:
            raise AnswerError(_render(slot.too_small, self.view).format(min=_n(low), max=_n(high))
                              if slot.too_small else t("dialogue.too_small", minimum=_n(low)))
        if high is not None and value > high:
            raise AnswerError(_render(slot.too_large, self.view).format(min=_n(low), max=_n(high))
                              if slot.too_large else t("dialogue.too_large", maximum=_n(high)))
        return value

    def _choice(self, slot: Slot, text: str) -> str:
        options = slot.options
        number = parse_option_number(text)
        if number is not None:
            if 1 <= number <= len(options):
                return options[number - 1].value
            raise AnswerError(t("dialogue.no_such_option", count=len(options)))
        s = _clean(text)
        for o in options:
            if s in (o.value.lower(), _clean(_render(o.label, self.view))) or s in o.says:
                return o.value
        best: dict[str, int] = {}
        for o in options:
            for word in (*o.says, _clean(_render(o.label, self.view))):
                if word and word in s:
                    best[o.value] = max(best.get(o.value, 0), len(word))
        if best:
            top = max(best.values())
            winners = [v for v, n in best.items() if n == top]
            if len(winners) == 1:
                return winners[0]
        raise AnswerError("")

    def accept(self, value: Any) -> None:
        slot = self.current()
        if slot is None:
            raise RuntimeError("the form is complete")
        self.answers[slot.name] = value
        self.state.setdefault("asked", []).append(slot.name)
        self.state["misses"] = 0

    def miss(self) -> int:
        """Count an unusable answer; returns how many in a row."""
        self.state["misses"] = int(self.state.get("misses") or 0) + 1
        return self.state["misses"]

    def prefill(self, text: str) -> list[str]:
        """Answer slots from words of the opening question ("我们厂能贷多少" → 小微企业)."""
        filled = []
        s = _clean(text)
        for slot in self.form.slots:
            if not slot.prefill or slot.name in self.answers or not self.applies(slot):
                continue
            hits = {value for value, words in slot.prefill.items() if any(w in s for w in words)}
            if len(hits) == 1:
                self.answers[slot.name] = _typed(slot, hits.pop())
                self.state.setdefault("asked", []).append(slot.name)
                filled.append(slot.name)
        return filled

    def back(self) -> bool:
        """Forget the last answer so its question is asked again; False when at the first question."""
        asked = self.state.setdefault("asked", [])
        while asked:
            name = asked.pop()
            if name in self.answers:
                del self.answers[name]
                self._drop_orphans()
                self.state["misses"] = 0
                return True
        return False

    def _drop_orphans(self) -> None:
        """Answers whose conditions no longer hold are forgotten (asked again if they apply again)."""
        for slot in self.form.slots:
            if slot.name in self.answers and not self.applies(slot):
                del self.answers[slot.name]
        self.state["asked"] = [n for n in self.state.get("asked", []) if n in self.answers]

    def restart(self, now: dt.datetime) -> None:
        stamp = _iso(now)
        self.state.update({"answers": {}, "asked": [], "misses": 0, "started": stamp, "updated": stamp})

    def inputs(self) -> dict[str, Any]:
        """The calculator inputs: answers of the slots that apply."""
        return {s.name: self.answers[s.name] for s in self.form.slots if s.name in self.answers and self.applies(s)}

    def summary(self, names: list[str] | None = None) -> list[str]:
        """'label：answer' for what has been answered (or for the slots `names`)."""
        lines = []
        for slot in self.form.slots:
            if slot.name not in self.answers or not self.applies(slot) or (names is not None and slot.name not in names):
                continue
            value = self.answers[slot.name]
            shown = next((_render(o.label, self.view) for o in slot.choices() if o.value == str(value).lower()
                          or o.value == value), None)
            lines.append(f"{t(f'fields.{self.form.calculator}.{slot.name}')}：{shown or _n(value)}")
        return lines


def _typed(slot: Slot, raw: str) -> Any:
    if slot.type == "bool":
        return raw == "true"
    return raw


def _n(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)
