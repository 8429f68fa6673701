"""Bridge between the engine and eligibility dialogues (eligibility/dialogue.py).

The engine calls these hooks; they keep the dialogue state inside the user's
conversation state dict (key "dialogue") so it survives restarts and moves
between workers with the database.

Contract (used by bot.engine):
- `list_calculators(ctx, intro="") -> Reply`  the 测算 menu (numbered)
- `start(ctx, name, intro="") -> Reply`     open a dialogue, ask its first question
- `is_open(ctx) -> bool`                    a dialogue is open (an expired one counts until the
                                            person's next message, which is told it expired)
- `handle(ctx, text) -> Reply | None`       an answer to the open dialogue; None when the
                                            text is not an answer but looks like a new
                                            question (the engine then answers it and asks
                                            "继续刚才的测算吗？")
- `command(ctx, name) -> Reply | None`      back / restart / exit / resume inside a dialogue
- `maybe_start(ctx, match, text) -> Reply | None`  "can I get …" questions open the dialogue of
                                            the matched clause, after a short cited answer

State (JSON): {"calc", "answers", "asked", "misses", "started", "updated"} — timestamps in UTC;
a dialogue not touched for settings DIALOGUE_TTL_HOURS (default 24) expires politely. The clock
is `engine.now()` when the engine has one (tests inject it), else the real time.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from eligibility import REGISTRY, InvalidInput, Result, evaluate
from eligibility.dialogue import QUESTION_MARKS, AnswerError, Dialogue, Form, is_vague_quantity, load_forms
from eligibility.texts import money
from knowledge.service import citation

from .i18n import msg
from .reply import Reply

if TYPE_CHECKING:
    from knowledge.matcher import MatchResult

    from .engine import Context

STATE_KEY = "dialogue"
LAST_KEY = "last_calculator"  # the calculator of the last finished dialogue
DEFAULT_TTL_HOURS = 24
WECHAT_TEXT_BYTES = 2048
RESULT_BUDGET = 1700  # bytes of result text, leaving room for the numbered options
MISSES_BEFORE_HINT = 2

# "Do I qualify / how much can I get" wording that turns a question into a dialogue.
ELIGIBILITY_RE = re.compile(
    r"(能不能|能否|可不可以|能|可以|够不够)(领|拿|贷|申请|享受|办|补|报|批)|符合(条件|资格|要求)|够(条件|格|资格)"
    r"|有(没有)?资格|有没有(我的)?份|有我的份|测算|算一算|算算|帮我算|(能|可以).{0,6}多少"
)
# Said of oneself: "我能领……吗" asks about my case; "……最多能贷多少" asks for the figure (an answer).
PERSONAL_RE = re.compile(r"我|俺|咱|本人|自己|自家|本单位|本公司|本企业|测算|算一算|算算|帮我算")
# The same without any topic: "我符合条件吗" → the list of calculators.
GENERIC_RE = re.compile(
    r"(我|我们|俺|咱|咱们)?(家|单位|企业|公司|厂)?(能|可以)?(符合|够)(条件|资格|要求)?(吗|么|不|没有|嘛)?"
    r"|(我|我们|俺)?(能|可以)(领|拿|申请|享受)(什么|哪些|啥)(补贴|补助|政策|钱)?(吗)?"
    r"|(我|我们)?有(没有)?资格(吗)?|(帮我)?(测算|算一算|算算)(一下)?"
)


# ------------------------------------------------------------------------------ helpers
def _now(ctx: "Context") -> dt.datetime:
    clock = getattr(ctx.engine, "now", None)
    return clock() if callable(clock) else dt.datetime.now(dt.timezone.utc)


def _ttl(ctx: "Context") -> float:
    value = ctx.engine.settings.get("DIALOGUE_TTL_HOURS")
    return float(value) if value not in (None, "") else DEFAULT_TTL_HOURS


def _view(ctx: "Context"):
    return ctx.snapshot.parameters.at(ctx.today)


def _load(ctx: "Context") -> Dialogue | None:
    """The open dialogue, on a copy of the stored state (the engine saves what we put back)."""
    stored = ctx.state.get(STATE_KEY)
    if not isinstance(stored, dict):
        return None
    form = load_forms().get(stored.get("calc", ""))
    if form is None:
        ctx.state.pop(STATE_KEY, None)
        return None
    return Dialogue(form, copy.deepcopy(stored), _view(ctx))


def _save(ctx: "Context", dlg: Dialogue) -> None:
    ctx.state[STATE_KEY] = copy.deepcopy(dlg.state)
    ctx.state.pop("offered", None)  # numbers now answer the dialogue, not an old menu


def _calc_link(ctx: "Context", form: Form) -> dict[str, str]:
    return {"title": msg("flows_web_link", ctx.locale, title=form.title), "url": f"/calc/{form.calculator}"}


def _ask(ctx: "Context", dlg: Dialogue, before: str = "") -> Reply:
    prompt = dlg.prompt()
    text = (before + "\n" if before else "") + prompt.text
    return Reply(text, "flow", clause=dlg.form.clause, options=prompt.options, links=[_calc_link(ctx, dlg.form)],
                 locale=ctx.locale, extra={"dialogue": {"calculator": dlg.form.calculator, "slot": prompt.slot}})


def _looks_like_question(ctx: "Context", text: str) -> bool:
    """Not an answer but a policy question: phrased as a question, or a confident match of 4+ characters.

    Short words and rough amounts ("好多年", "十几个人", "一百多") are attempts at an answer even when
    the matcher is confident about them: they get the question explained again, not an FAQ.
    """
    if len(text) <= 2 or is_vague_quantity(text):
        return False
    asks = any(mark in text for mark in QUESTION_MARKS)
    match = ctx.engine.matcher.match(text)
    if match.smalltalk:
        return False
    return len(text) >= 4 and (asks or match.confident)


# ------------------------------------------------------------------------------ the hooks
def list_calculators(ctx: "Context", intro: str = "") -> Reply:
    forms = list(load_forms().values())
    options = [{"key": str(i), "label": form.title} for i, form in enumerate(forms, 1)]
    text = (intro + "\n" if intro else "") + msg("flows_menu", ctx.locale)
    reply = Reply(text, "menu", options=options, locale=ctx.locale)
    return ctx.offer(reply, [{"type": "calc", "name": form.calculator} for form in forms])


def start(ctx: "Context", name: str, intro: str = "", said: str = "") -> Reply:
    """Open the dialogue `name`; `said` (the opening question) may already answer some slots."""
    form = load_forms().get(name)
    if form is None:
        return list_calculators(ctx, intro=msg("flows_unknown", ctx.locale))
    dlg = Dialogue.begin(form, _now(ctx), _view(ctx))
    filled = dlg.prefill(said) if said else []
    _save(ctx, dlg)
    if dlg.done:  # the opening question answered everything ("个人创业担保贷款我能贷多少")
        reply = _finish(ctx, dlg)
        if filled and "result" in reply.extra:
            reply.reply = msg("flows_prefilled_done", ctx.locale, answers="；".join(
                Dialogue(form, {"answers": reply.extra["result"]["inputs"]}, _view(ctx)).summary(filled))) \
                + "\n" + reply.reply
        return reply
    opening = form.intro + msg("flows_controls", ctx.locale)
    if filled:
        opening += "\n" + msg("flows_prefilled", ctx.locale, answers="；".join(dlg.summary(filled)))
    return _ask(ctx, dlg, "\n\n".join(p for p in (intro, opening) if p))


def is_open(ctx: "Context") -> bool:
    return isinstance(ctx.state.get(STATE_KEY), dict)


def handle(ctx: "Context", text: str) -> Reply | None:
    dlg = _load(ctx)
    if dlg is None:
        return None
    now = _now(ctx)
    if dlg.expired(now, _ttl(ctx)):
        return _expired(ctx, dlg, text)
    try:
        value = dlg.parse(text)
    except AnswerError as exc:
        if not exc.unsure and _looks_like_question(ctx, text):
            return None
        misses = dlg.miss()
        dlg.touch(now)
        _save(ctx, dlg)
        hint = "\n" + msg("flows_stuck", ctx.locale) if misses >= MISSES_BEFORE_HINT else ""
        return _ask(ctx, dlg, exc.message + hint)
    dlg.accept(value)
    dlg.touch(now)
    _save(ctx, dlg)
    if dlg.done:
        return _finish(ctx, dlg)
    return _ask(ctx, dlg)


def command(ctx: "Context", name: str) -> Reply | None:
    dlg = _load(ctx)
    if dlg is None:
        last = ctx.state.get(LAST_KEY)
        if name == "restart" and isinstance(last, str) and last in REGISTRY:
            title = REGISTRY.get(last).title
            return start(ctx, last, intro=msg("flows_restarted", ctx.locale, title=title))
        return None
    now = _now(ctx)
    title = dlg.form.title
    if dlg.expired(now, _ttl(ctx)):
        if name == "restart":
            ctx.state.pop(STATE_KEY, None)
            return start(ctx, dlg.form.calculator, intro=msg("flows_restarted", ctx.locale, title=title))
        if name == "exit":
            ctx.state.pop(STATE_KEY, None)
            return ctx.engine.menu(ctx, intro=msg("flows_exited", ctx.locale, title=title))
        return _expired(ctx, dlg, "")
    if name == "exit":
        ctx.state.pop(STATE_KEY, None)
        return ctx.engine.menu(ctx, intro=msg("flows_exited", ctx.locale, title=title))
    if name == "back":
        before = msg("flows_back" if dlg.back() else "flows_at_first", ctx.locale)
    elif name == "restart":
        dlg.restart(now)
        before = msg("flows_restarted", ctx.locale, title=title)
    elif name == "resume":
        before = msg("flows_resumed", ctx.locale, title=title)
    else:
        return None
    dlg.touch(now)
    _save(ctx, dlg)
    return _ask(ctx, dlg, before)


def maybe_start(ctx: "Context", match: "MatchResult", text: str) -> Reply | None:
    """Open a dialogue when someone asks whether they qualify ("我能领见习补贴吗", "我们厂能贷多少").

    Needs eligibility wording said of oneself (我/我们/本单位…): "个人创业贷款最多能贷多少" asks
    for the figure and gets the cited answer as before.

    The calculator is the one whose keywords the question uses (within the matched clause when
    there is one), else the matched FAQ's `calculator`, else the clause's only calculator; several
    candidates give a numbered choice. The reply begins with the short cited FAQ answer.
    """
    if is_open(ctx) or match.out_of_scope:
        return None
    plain = unicodedata.normalize("NFKC", text).strip()
    bare = re.sub(r"[\s，,。.!！?？~～]", "", plain)
    if not ELIGIBILITY_RE.search(bare) or not PERSONAL_RE.search(bare):
        return None
    if GENERIC_RE.fullmatch(bare):
        return list_calculators(ctx, intro=msg("flows_which", ctx.locale))
    best = match.best
    near = best is not None and (match.confident or best.score >= match.threshold * 0.6)
    clause = best.clause if near and best is not None else None
    faq = ctx.snapshot.faq(best.faq_id) if near and best is not None and best.faq_id else None
    names = _pick(bare, clause, faq.calculator if faq else "")
    if not names:
        return None
    if clause is None:
        clause = REGISTRY.get(names[0]).clause
    intro = _short_answer(ctx, faq) if faq is not None and faq.clause == clause else ""
    if len(names) > 1:
        forms = load_forms()
        options = [{"key": str(i), "label": forms[n].title} for i, n in enumerate(names, 1)]
        reply = Reply((intro + "\n\n" if intro else "") + msg("flows_pick", ctx.locale), "flow", clause=clause,
                      options=options, contacts=ctx.snapshot.lead_contacts(clause), locale=ctx.locale)
        reply = ctx.offer(reply, [{"type": "calc", "name": n} for n in names])
    else:
        reply = start(ctx, names[0], intro=intro, said=bare)
        reply.contacts = reply.contacts or ctx.snapshot.lead_contacts(clause)
    reply.clause = clause
    if faq is not None and faq.clause == clause:
        reply.faq_id = faq.id
    reply.score = best.score if best is not None else None
    return reply


def _pick(text: str, clause: str | None, faq_calculator: str) -> list[str]:
    """Candidate calculators for a question, best first."""
    forms = load_forms()
    pool = [n for n, f in forms.items() if clause is None or f.clause == clause]
    scores = {n: max((len(k) for k in forms[n].keywords if k in text), default=0) for n in pool}
    top = max(scores.values(), default=0)
    if top:
        return [n for n in pool if scores[n] == top]
    if faq_calculator in forms and (clause is None or forms[faq_calculator].clause == clause):
        return [faq_calculator]
    if clause is not None:
        return pool
    return []


def _short_answer(ctx: "Context", faq: Any) -> str:
    """The FAQ answer's first sentence with its citation — the short answer before the questions."""
    full = ctx.engine.faq_reply(ctx, faq, score=None).reply
    sentences = [s for s in re.split(r"(?<=。)", full) if s.strip()]
    short = sentences[0] if sentences else full
    if len(short) < 25 and len(sentences) > 1:
        short += sentences[1]
    if "依据" not in short:
        short = short.rstrip("。") + msg("flows_citation", ctx.locale, citation=citation(faq.clause))
    return short.strip()


# ------------------------------------------------------------------------------ endings
def _expired(ctx: "Context", dlg: Dialogue, text: str) -> Reply:
    """Say the old dialogue expired; answer the message if it is a question, else offer a restart."""
    ctx.state.pop(STATE_KEY, None)
    notice = msg("flows_expired", ctx.locale, title=dlg.form.title, hours=f"{_ttl(ctx):g}")
    if text and _looks_like_question(ctx, text):
        answer = ctx.answer_question(text)
        answer.reply = notice + "\n\n" + answer.reply
        return answer
    options = [{"key": "1", "label": msg("flows_restart_label", ctx.locale, title=dlg.form.title)},
               {"key": "2", "label": msg("flows_other_label", ctx.locale)}]
    reply = Reply(notice + msg("flows_expired_offer", ctx.locale), "flow", clause=dlg.form.clause,
                  options=options, links=[_calc_link(ctx, dlg.form)], locale=ctx.locale)
    return ctx.offer(reply, [{"type": "calc", "name": dlg.form.calculator}, {"type": "calc_list"}])


def _finish(ctx: "Context", dlg: Dialogue) -> Reply:
    form = dlg.form
    try:
        result = evaluate(form.calculator, dlg.inputs(), ctx.snapshot.parameters, ctx.today, ctx.snapshot)
    except InvalidInput as exc:
        # The form let through an answer the calculator refuses: ask that question again.
        if exc.field in dlg.answers:
            del dlg.answers[exc.field]
            dlg.state["asked"] = [n for n in dlg.state.get("asked", []) if n != exc.field]
        if not dlg.done:
            _save(ctx, dlg)
            return _ask(ctx, dlg, exc.message)
        ctx.state.pop(STATE_KEY, None)
        return ctx.engine.menu(ctx, intro=msg("result_error", ctx.locale, error=exc.message))
    ctx.state.pop(STATE_KEY, None)
    ctx.state[LAST_KEY] = form.calculator  # so "重新开始" after the result starts it again
    options = [{"key": "1", "label": msg("flows_restart_label", ctx.locale, title=form.title)},
               {"key": "2", "label": msg("flows_other_label", ctx.locale)},
               {"key": "3", "label": msg("flows_menu_label", ctx.locale)}]
    reply = Reply(result_text(ctx, form, result), "flow", clause=result.clause, options=options,
                  contacts=result.contacts, links=[_calc_link(ctx, form)], locale=ctx.locale,
                  extra={"result": result.to_dict()})
    return ctx.offer(reply, [{"type": "calc", "name": form.calculator}, {"type": "calc_list"}, {"type": "menu"}])


def verdict(ctx: "Context", result: Result) -> str:
    if result.eligible is None:
        return msg("result_office", ctx.locale)
    if result.eligible is False:
        return msg("result_not_eligible", ctx.locale)
    if result.amount_range is not None:
        low, high = result.amount_range
        return msg("result_range", ctx.locale, low=money(low), high=money(high))
    if result.amount is None:
        return msg("result_no_amount", ctx.locale)
    key = "result_max" if result.amount_kind == "max" else "result_exact"
    return msg(key, ctx.locale, amount=money(result.amount))


def result_text(ctx: "Context", form: Form, result: Result) -> str:
    """The result as one chat bubble: verdict, reasons, what would change it, expiry, office, link."""
    contact = result.contacts[0] if result.contacts else {"office": msg("lead_office_unknown", ctx.locale), "phone": ""}
    base = str(ctx.engine.settings.get("PUBLIC_BASE_URL") or "").rstrip("/")

    def compose(reasons: list[str], changes: list[str], notes: list[str]) -> str:
        lines = [msg("result_header", ctx.locale, title=form.title), verdict(ctx, result)]
        if reasons:
            lines.append(msg("result_reasons", ctx.locale))
            lines += [f"· {r}" for r in reasons]
        if changes:
            lines.append(msg("result_changes", ctx.locale))
            lines += [f"· {c}" for c in changes]
        lines += [msg("result_expired", ctx.locale, note=n) for n in result.expired_notes]
        lines += notes
        lines.append(msg("result_contact", ctx.locale, office=contact["office"],
                         phone=contact.get("phone") or msg("not_published", ctx.locale)))
        lines.append(msg("result_link", ctx.locale, url=f"{base}/calc/{form.calculator}"))
        return "\n".join(lines)

    reasons, changes, notes = list(result.reasons), list(result.would_change)[:2], list(result.notes)[:2]
    text = compose(reasons, changes, notes)
    while len(text.encode("utf-8")) > RESULT_BUDGET:
        if notes:
            notes.pop()
        elif len(changes) > 1:
            changes.pop()
        elif len(reasons) > 2:
            reasons.pop(0)  # the deciding sentences come last ("所以……")
        else:
            break
        text = compose(reasons, changes, notes)
    return text
