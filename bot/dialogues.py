"""The dialogue service: runs an eligibility form turn by turn and says what happened.

It never builds a reply and never calls back into the router: each call returns an
`Outcome` (a question to ask, a result, an answer it could not use, a message that is not an
answer at all), and the router decides what the person sees. Dialogue state is plain JSON
(eligibility.dialogue.Dialogue.state) that the router keeps in the conversation.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from eligibility import InvalidInput, Result, evaluate
from eligibility.dialogue import (CORRECTION_RE, AnswerError, Dialogue, Form, NeedsConfirmation, asks_something,
                                  load_forms)
from knowledge.service import Snapshot

from .i18n import msg

DEFAULT_TTL_HOURS = 24
FILLERS_RE = re.compile(r"嗯|呃|额|啊|哦|噢|那个|这个|就是|然后|那啥|这啥|反正|对了|哎")
MISSES_BEFORE_HINT = 2


@dataclass
class Outcome:
    kind: str                      # asked | done | retry | not_answer
    dialogue: Dialogue
    note: str = ""                 # said before the question (why it is asked again, what was changed)
    result: Result | None = None
    taken: list[str] = field(default_factory=list)   # "label：value" of facts taken from the message
    error: AnswerError | None = None


class Dialogues:
    """Forms for one turn: what today is, the pack's figures, the dialogue time-to-live."""

    def __init__(self, snapshot: Snapshot, today: dt.date, now: dt.datetime, ttl_hours: float = DEFAULT_TTL_HOURS,
                 locale: str = "zh"):
        self.snapshot = snapshot
        self.today = today
        self.now = now
        self.ttl_hours = ttl_hours
        self.locale = locale
        self.forms: dict[str, Form] = load_forms()
        self.view = snapshot.parameters.at(today)

    # -- loading --------------------------------------------------------------------------------
    def load(self, stored: dict[str, Any] | None) -> Dialogue | None:
        """The dialogue in `stored` (a copy), or None when it names no known form."""
        if not isinstance(stored, dict):
            return None
        form = self.forms.get(str(stored.get("calc", "")))
        if form is None:
            return None
        state = copy.deepcopy(stored)
        if not isinstance(state.get("answers"), dict):
            state["answers"] = {}
        return Dialogue(form, state, self.view)

    def expired(self, dlg: Dialogue) -> bool:
        return dlg.expired(self.now, self.ttl_hours)

    # -- turns ----------------------------------------------------------------------------------
    def begin(self, name: str, said: str = "") -> Outcome:
        """Open the form `name`; facts in the opening message (`said`) answer their questions."""
        dlg = Dialogue.begin(self.forms[name], self.now, self.view)
        taken = dlg.take_facts(said) if said else []
        return self.advance(dlg, taken=dlg.summary(taken) if taken else [])

    def answer(self, dlg: Dialogue, text: str) -> Outcome:
        """The person's message at the pending question: an answer, facts, or not an answer."""
        dlg.touch(self.now)
        if CORRECTION_RE.search(text.strip()) and dlg.state.get("asked"):
            corrected = self.correct(dlg, text)
            if corrected is not None:
                return corrected
        try:
            value = dlg.parse(text, strict=True)
        except NeedsConfirmation as need:
            dlg.ask_confirmation(need.option)
            return self.advance(dlg)
        except AnswerError as exc:
            if exc.unsure:
                if dlg.skip():
                    return self.advance(dlg, note=msg("flows_skipped", self.locale))
                return self._retry(dlg, exc)
            if asks_something(text):
                # "以前开过店还算第一次吗？" asks; its words are no answer (and no facts)
                return Outcome("not_answer", dlg, error=exc)
            taken = dlg.take_facts(text)
            if taken:
                return self.advance(dlg, taken=dlg.summary(taken))
            try:
                value = dlg.parse(text, strict=False)
            except (AnswerError, NeedsConfirmation):
                return Outcome("not_answer", dlg, error=exc)
        dlg.accept(value)
        return self.advance(dlg)

    def correct(self, dlg: Dialogue, text: str) -> Outcome | None:
        """"不对，是4个人": the answer it is about is changed (not only the last one)."""
        changed = dlg.correct(text)
        if not changed:
            return None
        note = msg("flows_corrected", self.locale, answers="；".join(dlg.summary(changed)))
        return self.advance(dlg, note=note)

    def retry(self, dlg: Dialogue, error: AnswerError | None) -> Outcome:
        """The message is no usable answer and no question either: say why, ask again."""
        return self._retry(dlg, error or AnswerError(""))

    def _retry(self, dlg: Dialogue, exc: AnswerError) -> Outcome:
        misses = dlg.miss()
        slot = dlg.current()
        message = exc.message or (dlg.invalid_message(slot) if slot is not None else "")
        if misses >= MISSES_BEFORE_HINT:
            message += "\n" + msg("flows_stuck", self.locale)
        return Outcome("retry", dlg, note=message, error=exc)

    def advance(self, dlg: Dialogue, note: str = "", taken: list[str] | None = None) -> Outcome:
        """The next question, or the result when the form is complete."""
        taken = taken or []
        if not dlg.done:
            return Outcome("asked", dlg, note=note, taken=taken)
        try:
            result = evaluate(dlg.form.calculator, dlg.inputs(), self.snapshot.parameters, self.today, self.snapshot)
        except InvalidInput as exc:
            # The form let through an answer the calculator refuses: ask that question again.
            if exc.field in dlg.answers:
                del dlg.answers[exc.field]
                dlg.state["asked"] = [n for n in dlg.state.get("asked", []) if n != exc.field]
            if not dlg.done:
                return Outcome("retry", dlg, note=exc.message, taken=taken)
            raise
        return Outcome("done", dlg, note=note, result=result, taken=dlg.summary() if taken else [])

    @staticmethod
    def looks_like_question(text: str, confident: bool) -> bool:
        """Not an answer but a question of its own: phrased as one, or a confident policy match.

        Fillers do not make a question ("嗯那个啥" is someone thinking aloud)."""
        compact = FILLERS_RE.sub("", "".join(text.split()))
        return len(compact) >= 3 and (asks_something(compact) or (confident and len(compact) >= 4))
