"""Guided dialogues: forms declared as data (eligibility/forms/*.yaml) and the runner that fills them.

A form lists the slots of one calculator in the order they are asked (rasa-style): each slot has
a question, a type (int, number, choice, bool, date), numbered options, bounds, the message for an
answer it cannot use, and conditions on earlier answers (`when`) or on a window of the plan being
in force today (`when_window`: a question that cannot change the result on that date is not asked).
The runner keeps everything in a JSON-serialisable dict, so the bot can store it in the user's
conversation state between messages.

What a form may declare beyond the question, so that free words are understood:
- options: `says` (everyday words for an option); an option that stands for an official status
  (`status: true`, e.g. 已认定的就业困难人员) is chosen only by its number or one of its `names`;
  the slot's `loose` words (生活困难, 没工作) ask whether the status was recognised (`confirm`),
  never choose it;
- `cues`: words near a number that say it answers this slot ("留下了2个", "交了10万失业保险");
- `prefill`: words that answer a choice or yes/no slot when said in passing ("没裁员", "个体户").

Answers are parsed strictly against the pending question's type (eligibility/answers.py): a
message that does not parse is not taken as an answer. Facts stated anywhere in a message fill
the slots they belong to (`take_facts`), and a correction ("不对，是4个人") changes the answer it
is about, not only the last one (`correct`).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from knowledge.parameters import ParameterError, ParameterView

from .answers import (AnswerError, Quantity, asks_something, clean, cn_number, convert, find_quantities,  # noqa: F401
                      fits_unit, is_unsure, is_vague_quantity, parse_bool, parse_date, parse_option_number,
                      parse_plain_number, parse_quantity, MAX_ANSWER, QUESTION_MARKS, UNSURE)
from .declarations import Declaration, Input, Option, declarations
from .registry import REGISTRY
from .texts import form_text, t

UNITS = ("people", "months", "years", "age", "yuan", "")
CUE_BEFORE, CUE_AFTER = 8, 6  # characters around a number searched for a slot's cue words
EXAMPLES = {"people": "5", "months": "6", "years": "1", "age": "20", "yuan": "20000"}  # example answers by unit


class NeedsConfirmation(Exception):
    """A description that hints at an official status ("生活困难"): ask whether it was recognised."""

    def __init__(self, option: str):
        super().__init__(option)
        self.option = option


# ------------------------------------------------------------------------------------- forms
# A dialogue asks for a calculator's inputs as its declaration says (eligibility/declarations.py):
# a slot is one declared input.
Slot = Input


def choices(slot: Slot) -> list[Option]:
    """Numbered options: a choice's own, or 是/否 for a yes-no question."""
    if slot.type == "choice":
        return list(slot.options)
    if slot.type == "bool":
        return [Option("true", slot.yes_label or t("dialogue.yes")),
                Option("false", slot.no_label or t("dialogue.no"))]
    return []


@dataclass(frozen=True)
class Form:
    """The dialogue of one calculator: its declaration, asked in order."""

    declaration: Declaration

    @property
    def calculator(self) -> str:
        return self.declaration.calculator

    @property
    def intro(self) -> str:
        return self.declaration.intro

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.declaration.keywords

    @property
    def slots(self) -> tuple[Slot, ...]:
        return self.declaration.inputs

    @property
    def title(self) -> str:
        return form_text(self.calculator, "title", self.declaration.title)

    @property
    def clause(self) -> str:
        return self.declaration.clause

    def slot(self, name: str) -> Slot:
        return self.declaration.input(name)

    def required(self, name: str) -> bool:
        """Whether the calculator needs this input (an optional one may be skipped)."""
        return self.declaration.input(name).required


@lru_cache(maxsize=1)
def load_forms() -> dict[str, Form]:
    """Every calculator's dialogue, in the registry's order (the 测算 menu order)."""
    decls = declarations()
    return {name: Form(decls[name]) for name in REGISTRY.names() if name in decls}


@dataclass
class Prompt:
    text: str
    options: list[dict[str, str]]
    slot: str
    kind: str = "ask"   # ask | confirm (was a status recognised?)


def _render(text: str, view: ParameterView | None) -> str:
    if view is None:
        return text
    try:
        return view.render(text)
    except ParameterError:
        return text


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


# "不对，是4个人" "刚才说错了，合同签的两年" "改成3个": what is said after the marker is the new answer.
CORRECTION_RE = re.compile(r"^(不对|不是的|错了|说错了|搞错了|打错了|刚才说错了|刚才错了|我说错了|更正|纠正|改一下|改成|改为|应该是|其实是)")


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

    @property
    def skipped(self) -> list[str]:
        return self.state.setdefault("skipped", [])

    # -- time ------------------------------------------------------------------------------
    def touch(self, now: dt.datetime) -> None:
        self.state["updated"] = _iso(now)

    def expired(self, now: dt.datetime, ttl_hours: float) -> bool:
        try:
            updated = dt.datetime.fromisoformat(self.state.get("updated") or self.state.get("started") or "")
        except (TypeError, ValueError):
            return True
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=dt.timezone.utc)
        return now - updated > dt.timedelta(hours=float(ttl_hours))

    # -- which question ---------------------------------------------------------------------
    def applies(self, slot: Slot, window: bool = True) -> bool:
        """Whether the slot belongs to this case. `window=False` ignores its `when_window`: a fact
        the person states for a measure that has ended ("经营困难", outside 2019) is never asked,
        yet kept and passed on, so the result says that standard has ended."""
        for name, wanted in slot.when.items():
            allowed = wanted if isinstance(wanted, list) else [wanted]
            if name not in self.answers or self.answers[name] not in allowed:
                return False
        if window and slot.when_window and self.view is not None:
            try:
                if not self.view.window(slot.when_window).covers(self.view.day):
                    return False
            except ParameterError:
                return False
        return True

    def current(self) -> Slot | None:
        for slot in self.form.slots:
            if slot.name not in self.answers and slot.name not in self.skipped and self.applies(slot):
                return slot
        return None

    @property
    def done(self) -> bool:
        return self.current() is None

    @property
    def confirming(self) -> str | None:
        """The status option whose recognition is being asked about, if any."""
        pending = self.state.get("confirm")
        slot = self.current()
        if isinstance(pending, dict) and slot is not None and pending.get("slot") == slot.name:
            return str(pending.get("option"))
        return None

    def prompt(self) -> Prompt:
        slot = self.current()
        if slot is None:
            raise RuntimeError("the form is complete")
        option = self.confirming
        if option is not None:
            status = slot.option(option)
            assert status is not None
            options = [{"key": "1", "label": t("dialogue.confirm_yes")}, {"key": "2", "label": t("dialogue.confirm_no")}]
            confirm = self._text(f"{slot.name}.{option}.confirm", status.confirm)
            return Prompt(confirm + t("dialogue.choice_hint"), options, slot.name, "confirm")
        text = self._text(f"{slot.name}.question", slot.question)
        offered = choices(slot)
        if offered:
            text += t("dialogue.choice_hint")
        elif slot.numeric and not re.search(r"[0-9]", text):
            # plain language: every question says what to send, with an example number
            text += "\n" + t("dialogue.hint_number", example=EXAMPLES.get(slot.unit, "5"))
        labels = {"true": "yes_label", "false": "no_label"} if slot.type == "bool" else {}
        options = [{"key": str(i), "label": self._text(f"{slot.name}.{labels.get(o.value, o.value)}", o.label)}
                   for i, o in enumerate(offered, 1)]
        return Prompt(text, options, slot.name)

    def _text(self, key: str, zh: str) -> str:
        """A form text in the language being spoken (eligibility.texts.form_text), figures filled in."""
        return _render(form_text(self.form.calculator, key, zh), self.view)

    # -- answers ------------------------------------------------------------------------------
    def parse(self, text: str, strict: bool = False) -> Any:
        """The pending slot's value for an answer, parsed against its type.

        Raises AnswerError (with what to send instead; `unsure` for "不知道") when the message is
        not a usable answer, NeedsConfirmation when loose words hint at an official status.
        `strict`: a number must be the whole answer ("2个", "两年"); otherwise a statement with
        exactly one number of a fitting unit is read too ("留下了2个").
        """
        slot = self.current()
        if slot is None:
            raise RuntimeError("the form is complete")
        if len(clean(text)) > MAX_ANSWER:
            raise AnswerError(self.invalid_message(slot))
        option = self.confirming
        if option is not None:
            return self._confirmation(slot, option, text)
        if is_unsure(text):
            raise AnswerError(t("dialogue.unsure", invalid=self.invalid_message(slot)), unsure=True)
        if asks_something(text) and parse_option_number(text) is None:
            raise AnswerError("")  # "县级的工作室也有补贴吗？" asks; it does not answer
        try:
            return self._parse(slot, text, strict)
        except AnswerError as exc:
            if not exc.message and slot.numeric and is_vague_quantity(text):
                raise AnswerError(t("dialogue.vague", invalid=self.invalid_message(slot)), vague=True) from None
            raise AnswerError(exc.message or self.invalid_message(slot)) from None

    def invalid_message(self, slot: Slot) -> str:
        return self._text(f"{slot.name}.invalid", slot.invalid) or t(f"dialogue.invalid_{slot.type}")

    def _parse(self, slot: Slot, text: str, strict: bool = False) -> Any:
        if slot.type == "choice":
            return self._choice(slot, text)
        if slot.type == "bool":
            return parse_bool(text, slot.yes_words, slot.no_words)
        if slot.type == "date":
            return parse_date(text)
        try:
            value = parse_quantity(text, slot.unit)
        except AnswerError:
            if strict:
                raise
            value = self._one_quantity(slot, text)
        return self.check_value(slot, value)

    def _one_quantity(self, slot: Slot, text: str) -> float | int:
        """A statement with exactly one number of a fitting unit ("留下了2个", "我们招了5个大学生")."""
        if asks_something(text):
            raise AnswerError("")
        found = [q for q in find_quantities(text) if fits_unit(q, slot.unit)]
        if len(found) != 1 or len(find_quantities(text)) != 1:
            raise AnswerError("")
        if found[0].vague:
            raise AnswerError("")
        return convert(found[0], slot.unit)

    def check_value(self, slot: Slot, value: Any) -> Any:
        """A number within the slot's bounds (AnswerError saying the bound otherwise)."""
        if slot.type == "int" and not float(value).is_integer():
            raise AnswerError(t("dialogue.whole_number", value=_n(value)))
        if slot.type == "int":
            value = int(value)
        low = slot.minimum
        high = self.answers.get(slot.max_from) if slot.max_from else slot.maximum
        if low is not None and value < low:
            raise AnswerError(self._text(f"{slot.name}.too_small", slot.too_small).format(min=_n(low), max=_n(high))
                              if slot.too_small else t("dialogue.too_small", minimum=_n(low)))
        if high is not None and value > high:
            raise AnswerError(self._text(f"{slot.name}.too_large", slot.too_large).format(min=_n(low), max=_n(high))
                              if slot.too_large else t("dialogue.too_large", maximum=_n(high)))
        return value

    def _choice(self, slot: Slot, text: str) -> str:
        options = slot.options
        number = parse_option_number(text)
        if number is not None:
            if 1 <= number <= len(options):
                return options[number - 1].value
            raise AnswerError(t("dialogue.no_such_option", count=len(options)))
        s = clean(text)
        for o in options:
            names = (o.value.lower(), clean(_render(o.label, self.view)), *o.names)
            if s in names or (not o.status and s in o.says):
                return o.value
        best: dict[str, int] = {}
        for o in options:
            words = (clean(_render(o.label, self.view)), *o.names) if o.status else \
                (*o.says, clean(_render(o.label, self.view)))
            for word in words:
                if word and word in s:
                    best[o.value] = max(best.get(o.value, 0), len(word))
        if best:
            top = max(best.values())
            winners = [v for v, n in best.items() if n == top]
            if len(winners) == 1:
                return winners[0]
        for value, words in slot.loose.items():
            if any(w in s for w in words):
                raise NeedsConfirmation(value)
        raise AnswerError("")

    def _confirmation(self, slot: Slot, option: str, text: str) -> str:
        """The answer to "were you recognised as …?": the status, or the option for everyone else."""
        status = slot.option(option)
        assert status is not None
        try:
            recognised = parse_bool(text, ("认定了", "已认定", "认定过", "有证"), ("没认定", "没有认定", "还没认定", "没认定过", "不知道"))
        except AnswerError:
            if is_unsure(text):
                return status.otherwise
            raise AnswerError(t("dialogue.confirm_invalid")) from None
        return option if recognised else status.otherwise

    def ask_confirmation(self, option: str) -> None:
        slot = self.current()
        if slot is not None:
            self.state["confirm"] = {"slot": slot.name, "option": option}

    def accept(self, value: Any) -> None:
        slot = self.current()
        if slot is None:
            raise RuntimeError("the form is complete")
        self.set(slot.name, value)
        self.state["misses"] = 0

    def set(self, name: str, value: Any) -> None:
        self.answers[name] = value
        asked = [n for n in self.state.setdefault("asked", []) if n != name]
        self.state["asked"] = asked + [name]
        if name in self.skipped:
            self.skipped.remove(name)
        self.state.pop("confirm", None)
        self._drop_orphans()

    def skip(self) -> bool:
        """Leave the pending question unanswered when the calculator does not need it (不知道)."""
        slot = self.current()
        if slot is None or self.form.required(slot.name):
            return False
        self.skipped.append(slot.name)
        self.state.pop("confirm", None)
        return True

    def miss(self) -> int:
        """Count an unusable answer; returns how many in a row."""
        self.state["misses"] = int(self.state.get("misses") or 0) + 1
        return self.state["misses"]

    # -- facts said in passing ----------------------------------------------------------------
    def take_facts(self, text: str, overwrite: bool = False) -> list[str]:
        """Fill slots from facts anywhere in a message ("我们公司120人 去年没裁员 交了10万失业保险").

        Choice and yes/no slots by their `prefill` words; numbers by the `cues` nearest to them
        (in the same part of the sentence) and their unit. Only facts that are unambiguous are
        taken; returns the slots filled.
        """
        s = clean(text)[: MAX_ANSWER * 3]
        words = s
        for q in reversed(find_quantities(s)):  # "100个人" is no "个人": numbers are not words
            words = words[:q.start] + "＃" + words[q.end:]
        filled: list[str] = []
        # Choices first, in rounds: an answer can make a later slot apply (小微企业 → 职工人数).
        for _ in range(3):
            progress = False
            for slot in self.form.slots:
                if not self.applies(slot, window=False) or (slot.name in self.answers and not overwrite) \
                        or slot.name in filled:
                    continue
                value = self._prefilled(slot, words)
                if value is not None:
                    self._take(slot, value, filled)
                    progress = True
            if not progress:
                break
        for slot, value in self._numbers(s, overwrite, filled):
            self._take(slot, value, filled)
        return filled

    def _take(self, slot: Slot, value: Any, filled: list[str]) -> None:
        try:
            value = self.check_value(slot, value) if slot.numeric else value
        except AnswerError:
            return  # out of bounds: ask the question rather than take a slip
        self.set(slot.name, value)
        filled.append(slot.name)

    def _prefilled(self, slot: Slot, s: str) -> Any:
        if not slot.prefill or slot.type not in ("choice", "bool"):
            return None
        hits = {value for value, words in slot.prefill.items() if any(w in s for w in words)}
        # "没有拖欠" also contains "拖欠": the longer, negated word wins
        if len(hits) > 1:
            longest = {value: max(len(w) for w in slot.prefill[value] if w in s) for value in hits}
            top = max(longest.values())
            hits = {v for v, n in longest.items() if n == top}
        if len(hits) != 1:
            return None
        raw = hits.pop()
        return raw == "true" if slot.type == "bool" else raw

    def _numbers(self, s: str, overwrite: bool, filled: list[str]) -> list[tuple[Slot, Any]]:
        """Numbers of the message matched to the numeric slots whose cue word stands nearest.

        A cue counts within CUE_BEFORE characters before the number or CUE_AFTER after it, never
        across another number or a punctuation mark ("我们厂120人，今年新招了18个": 厂 → 职工,
        新招 → 新招用). Two slots with a cue at the same distance: neither is taken (ask instead).
        """
        slots = [sl for sl in self.form.slots if sl.numeric and sl.cues and self.applies(sl)
                 and (overwrite or sl.name not in self.answers) and sl.name not in filled]
        quantities = [q for q in find_quantities(s)]
        taken: list[tuple[Slot, Any]] = []
        used: set[str] = set()
        for i, q in enumerate(quantities):
            if q.vague:
                continue
            lo = max(quantities[i - 1].end if i else 0, q.start - CUE_BEFORE)
            hi = min(quantities[i + 1].start if i + 1 < len(quantities) else len(s), q.end + CUE_AFTER)
            before, after = s[lo:q.start], s[q.end:hi]
            before = re.split(r"[，,。；;！!？?\s]", before)[-1]
            after = re.split(r"[，,。；;！!？?\s]", after)[0]
            scored: list[tuple[int, int, Slot]] = []
            for slot in slots:
                if slot.name in used or not fits_unit(q, slot.unit):
                    continue
                best: tuple[int, int] | None = None
                for cue in slot.cues:
                    at = before.rfind(cue)
                    if at >= 0:
                        candidate = (len(before) - at - len(cue), -len(cue))
                        best = candidate if best is None or candidate < best else best
                    at = after.find(cue)
                    if at >= 0:
                        candidate = (at + 1, -len(cue))  # a cue after the number counts a little less
                        best = candidate if best is None or candidate < best else best
                if best is not None:
                    unit_bonus = 0 if q.unit and q.unit == slot.unit else 1
                    scored.append((best[0] + unit_bonus, best[1], slot))
            if not scored and q.unit in ("months", "years", "age", "yuan"):
                # no cue, but the unit says it: "见习8个月" when only one question counts months
                fitting = [sl for sl in slots if sl.name not in used and sl.unit == q.unit
                           or (sl.name not in used and q.unit in ("months", "years") and sl.unit in ("months", "years"))]
                if len(fitting) == 1:
                    scored.append((CUE_BEFORE + CUE_AFTER, 0, fitting[0]))
            if not scored:
                continue
            scored.sort(key=lambda item: (item[0], item[1]))
            if len(scored) > 1 and scored[0][:2] == scored[1][:2]:
                continue  # two slots fit equally: ask instead of guessing
            slot = scored[0][2]
            used.add(slot.name)
            taken.append((slot, convert(q, slot.unit)))
        return taken

    def correct(self, text: str) -> list[str]:
        """Apply a correction ("不对，是4个人"); returns the slots it changed (empty: not understood)."""
        rest = CORRECTION_RE.sub("", clean(text)).lstrip("，,是")
        if not rest:
            return []
        changed = self.take_facts(rest, overwrite=True)
        if changed:
            return changed
        answered = [self.form.slot(n) for n in reversed(self.state.get("asked", [])) if n in self.answers]
        found = [q for q in find_quantities(rest) if not q.vague]
        if len(found) == 1:
            q = found[0]
            for slot in answered:
                if slot.numeric and fits_unit(q, slot.unit) and (q.unit or slot is answered[0]):
                    try:
                        self.set(slot.name, self.check_value(slot, convert(q, slot.unit)))
                    except AnswerError:
                        return []
                    return [slot.name]
            return []
        for slot in answered:
            if slot.type == "choice":
                try:
                    value = self._choice(slot, rest)
                except (AnswerError, NeedsConfirmation):
                    continue
                if parse_option_number(rest) is None:
                    self.set(slot.name, value)
                    return [slot.name]
        return []

    def back(self) -> bool:
        """Forget the last answer so its question is asked again; False when at the first question."""
        asked = self.state.setdefault("asked", [])
        self.state.pop("confirm", None)
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
            if slot.name in self.answers and not self.applies(slot, window=False):
                del self.answers[slot.name]
        self.state["asked"] = [n for n in self.state.get("asked", []) if n in self.answers]

    def restart(self, now: dt.datetime) -> None:
        stamp = _iso(now)
        self.state.update({"answers": {}, "asked": [], "skipped": [], "misses": 0, "started": stamp, "updated": stamp})
        self.state.pop("confirm", None)

    def inputs(self) -> dict[str, Any]:
        """The calculator inputs: answers of the slots that apply."""
        return {s.name: self.answers[s.name] for s in self.form.slots
                if s.name in self.answers and self.applies(s, window=False)}

    def summary(self, names: list[str] | None = None) -> list[str]:
        """'label：answer' for what has been answered (or for the slots `names`)."""
        lines = []
        for slot in self.form.slots:
            if slot.name not in self.answers or not self.applies(slot, window=False) \
                    or (names is not None and slot.name not in names):
                continue
            value = self.answers[slot.name]
            shown = next((_render(o.label, self.view) for o in choices(slot) if o.value == str(value).lower()
                          or o.value == value), None)
            lines.append(f"{form_text(self.form.calculator, slot.name + '.label', slot.label)}：{shown or _n(value)}")
        return lines


def _n(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)
