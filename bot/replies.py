"""Reply building: pure functions from what is known (the pack, today, the locale) to a `Reply`.

Nothing here reads or changes a conversation; the router decides which reply a message gets
and keeps the state. A reply that offers numbered options carries one action per option
(bot.actions), which the router stores so that the next number performs it. Every sentence
comes from the message catalog (bot/messages).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Sequence

from eligibility import Result
from eligibility.dialogue import Form, Prompt
from eligibility.texts import money
from knowledge.matcher import MatchResult
from knowledge.parameters import ParameterError, ParameterView
from knowledge.runtime import THEMES
from knowledge.service import FaqInfo, Snapshot, citation

from . import personas as persona_lists
from .actions import (Action, ExitDialogue, ListCalculators, ListPersonas, RequestCallback, ResumeDialogue,
                      SetLanguage, ShowClause, ShowContacts, ShowFaq, ShowMenu, ShowPersona, ShowTheme,
                      StartCalculator)
from .i18n import msg
from .reply import Reply

THEME_OPTIONS = 8
WECHAT_TEXT_BYTES = 2048
RESULT_BUDGET = 1700  # bytes of result text, leaving room for the numbered options
DEFAULT_OFFICE_KEY = "lead_office_unknown"  # the county HR bureau's name, as the office directory spells it


@dataclass(frozen=True)
class Scene:
    """What every reply may use: the knowledge pack, today's date, the language, links' base."""

    snapshot: Snapshot
    today: dt.date
    locale: str = "zh"
    callbacks: bool = False  # offer "留下电话" (the callback service is available)

    @cached_property
    def params(self) -> ParameterView:
        return self.snapshot.parameters.at(self.today)

    def m(self, key: str, **kw: Any) -> str:
        return msg(key, self.locale, **kw)

    @property
    def default_office(self) -> str:
        """The office for everything without a lead office: its Chinese name (a key of the directory)."""
        return msg(DEFAULT_OFFICE_KEY)

    def join(self, items: Sequence[str]) -> str:
        """Names listed in this language's way (、 in Chinese)."""
        return self.m("list_sep").join(items)

    def lead_office(self, clause_id: str | None) -> str:
        clause = self.snapshot.clauses.get(clause_id or "")
        return self.join(clause.lead_offices) if clause and clause.lead_offices else self.default_office

    def county_contact(self) -> list[dict[str, str]]:
        office = self.snapshot.office(self.default_office)
        return [office.contact()] if office else []


def numbered(reply: Reply, choices: Sequence[tuple[str, Action]]) -> Reply:
    """Give `reply` numbered options, each with the action it performs."""
    reply.options = [{"key": str(i), "label": label} for i, (label, _) in enumerate(choices, 1)]
    reply.actions = [action for _, action in choices]
    return reply


# ------------------------------------------------------------------------------ menus
def menu(scene: Scene, intro: str = "") -> Reply:
    """The main menu: the themes, the calculators, the offices, "for me" lists, the other language."""
    choices: list[tuple[str, Action]] = [(scene.m(f"theme_{theme}"), ShowTheme(theme)) for theme, _ in THEMES]
    choices += [(scene.m("menu_calc"), ListCalculators()), (scene.m("menu_contacts"), ShowContacts()),
                (scene.m("menu_forme"), ListPersonas()),
                (scene.m("menu_language"), SetLanguage("zh" if scene.locale == "mn" else "mn"))]
    text = (intro + "\n\n" if intro else "") + scene.m("menu_intro")
    return numbered(Reply(text, "menu", locale=scene.locale), choices)


def personas(scene: Scene) -> Reply:
    """我是……: the groups the plan names, numbered."""
    choices: list[tuple[str, Action]] = [(scene.m(f"persona_{pid}"), ShowPersona(pid)) for pid in persona_lists.PERSONAS]
    return numbered(Reply(scene.m("forme_pick"), "menu", locale=scene.locale), choices)


def persona(scene: Scene, pid: str, forms: dict[str, Form]) -> Reply:
    """What applies to one group: its FAQ entries (the cited answer) and calculators, numbered."""
    choices: list[tuple[str, Action]] = []
    for kind, ref in persona_lists.options(pid):
        if kind == "calc" and ref in forms:
            choices.append((scene.m("persona_calc", title=forms[ref].title), persona_lists.action_of(kind, ref)))
        elif kind == "faq" and scene.snapshot.faq(ref) is not None:
            choices.append((scene.snapshot.faq(ref).question, persona_lists.action_of(kind, ref)))
    reply = Reply(scene.m("persona_intro", persona=scene.m(f"persona_{pid}")), "menu", locale=scene.locale)
    return numbered(reply, choices)


def in_chinese(scene: Scene, text: str) -> str:
    """A policy text that exists only in Chinese, said so in one line of the person's language."""
    return text if scene.locale == "zh" else scene.m("faq_in_chinese") + "\n" + text


def theme(scene: Scene, theme_id: str, *, others_than: str | None = None) -> Reply:
    """A theme's common questions, numbered; `others_than` (an FAQ just answered) leaves that one
    out and says these are the others ("还有别的能申请的吗")."""
    clause_ids = dict(THEMES).get(theme_id, ())
    by_clause = {cid: [f for f in scene.snapshot.faqs if f.clause == cid and f.id != others_than]
                 for cid in clause_ids}
    # round-robin over the theme's clauses in the pack's order, so each clause shows its
    # leading questions first; at most 8 options keep a chat bubble readable
    picked: list[FaqInfo] = []
    for rank in range(max((len(v) for v in by_clause.values()), default=0)):
        picked += [faqs[rank] for faqs in by_clause.values() if rank < len(faqs)]
    picked = picked[:THEME_OPTIONS]
    intro = scene.m("theme_intro", theme=scene.m(f"theme_{theme_id}"))
    if others_than is not None:
        intro = scene.m("others_intro") + "\n" + intro
    reply = Reply(intro, "menu", locale=scene.locale)
    return numbered(reply, [(f.question, ShowFaq(f.id)) for f in picked])


def calculators(scene: Scene, forms: dict[str, Form], intro: str = "", names: Sequence[str] | None = None,
                resumable: Sequence[str] = ()) -> Reply:
    """The 测算 menu (or a choice among `names`), numbered."""
    chosen = [forms[n] for n in (names or forms) if n in forms]
    choices: list[tuple[str, Action]] = [(scene.m("flows_resume_label", title=forms[n].title), ResumeDialogue(n))
                                         for n in resumable if n in forms]
    choices += [(form.title, StartCalculator(form.calculator)) for form in chosen]
    text = (intro + "\n" if intro else "") + scene.m("flows_menu" if names is None else "flows_pick")
    return numbered(Reply(text, "menu" if names is None else "flow", locale=scene.locale), choices)


# ------------------------------------------------------------------------------ answers
def window_notes(scene: Scene, windows: Sequence[str], clause_id: str) -> list[str]:
    """"该政策执行期为……，已到期" for each window the text depends on that has ended."""
    notes = []
    for name in windows:
        try:
            window = scene.params.window(name)
        except (ParameterError, KeyError, AttributeError):
            continue
        if window.expired(scene.today):
            notes.append(scene.m("window_expired", window=window.text(), office=scene.lead_office(clause_id)))
    return list(dict.fromkeys(notes))


def faq_answer(scene: Scene, faq: FaqInfo, score: float | None, lead: str = "") -> Reply:
    text = scene.params.render(faq.answer)
    notes = window_notes(scene, faq.noted_windows, faq.clause)
    if notes:
        text = text + "\n" + "\n".join(notes)
    if lead:
        text = lead + text
    text = in_chinese(scene, text)
    links = []
    if faq.calculator:
        links.append({"title": scene.m("calc_link"), "url": f"/calc/{faq.calculator}"})
    links.append({"title": scene.m("clause_link", citation=citation(faq.clause)), "url": f"/policies/{faq.clause}"})
    return Reply(text, "answer", clause=faq.clause, faq_id=faq.id, score=score,
                 contacts=scene.snapshot.lead_contacts(faq.clause), links=links, locale=scene.locale)


def clause_answer(scene: Scene, clause_id: str, score: float | None = None, lead: str = "") -> Reply:
    clause = scene.snapshot.clauses[clause_id]
    text = lead + in_chinese(scene, scene.m("clause_answer", title=clause.title,
                                            summary=scene.params.render(clause.summary), citation=clause.citation))
    return Reply(text, "answer", clause=clause_id, score=score, contacts=scene.snapshot.lead_contacts(clause_id),
                 links=[{"title": scene.m("clause_link", citation=clause.citation), "url": f"/policies/{clause_id}"}],
                 locale=scene.locale)


def short_answer(scene: Scene, faq: FaqInfo) -> str:
    """The FAQ answer's first sentence with its citation — said before a dialogue's questions."""
    full = faq_answer(scene, faq, score=None).reply
    sentences = [s for s in re.split(r"(?<=。)", full) if s.strip()]
    short = sentences[0] if sentences else full
    if len(short) < 25 and len(sentences) > 1:
        short += sentences[1]
    if citation(faq.clause) not in short:
        short = short.rstrip("。") + scene.m("flows_citation", citation=citation(faq.clause))
    return short.strip()


def smalltalk(scene: Scene, intent: str) -> Reply:
    return Reply(scene.m(f"smalltalk_{intent}"), "smalltalk", locale=scene.locale)


# ------------------------------------------------------------------------------ offices
def contact_lines(scene: Scene, cards: list[dict[str, str]]) -> list[str]:
    """One line per office: its phone, address and hours when staff published them, else 待公布."""
    published = [c for c in cards if c.get("phone") or c.get("address") or c.get("hours")]
    lines = [scene.m("contact_line", office=c["office"], phone=c.get("phone") or scene.m("not_published"),
                     address=c.get("address") or scene.m("not_published"))
             + (scene.m("contact_hours", hours=c["hours"]) if c.get("hours") else "")
             for c in published]
    rest = [c["office"] for c in cards if c not in published]
    if rest:
        lines.append(scene.m("contacts_unpublished", offices=scene.join(rest)))
    return lines


def contacts(scene: Scene, cards: list[dict[str, str]], *, clause_id: str | None = None, complaint: bool = False,
             intro: str = "", township: bool = False) -> Reply:
    """Whom to go to: the offices' cards, the topic they handle, the hotlines (and the complaint line)."""
    cards = cards or scene.county_contact()
    lines = [intro] if intro else []
    if clause_id and clause_id in scene.snapshot.clauses:
        lines.append(scene.m("contacts_topic", title=scene.snapshot.clauses[clause_id].title,
                             citation=citation(clause_id)))
    lines += contact_lines(scene, cards)
    if township:
        lines.append(scene.m("contacts_township"))
    if complaint:
        lines.append(complaint_sentence(scene))
    lines.append(scene.m("hotlines"))
    return Reply("\n".join(lines), "contacts", clause=clause_id, contacts=cards,
                 links=[{"title": scene.m("offices_link"), "url": "/offices"}], locale=scene.locale)


def complaint_sentence(scene: Scene) -> str:
    """The county's complaint number once published; until then, 12345 to call instead (never
    called the complaint number itself)."""
    if getattr(scene.snapshot, "complaint_published", False):
        return scene.m("complaint_line", hotline=scene.snapshot.complaint_hotline)
    return scene.m("complaint_pending")


def directory(scene: Scene, intro: str = "") -> Reply:
    text = (intro + "\n" if intro else "") + scene.m("directory", complaint=complaint_sentence(scene))
    return Reply(text, "contacts", contacts=scene.county_contact(),
                 links=[{"title": scene.m("offices_link"), "url": "/offices"}], locale=scene.locale)


def handoff(scene: Scene, clause_id: str | None, intro: str = "") -> Reply:
    """A person, on request: the lead office of the topic with its contacts, the hotlines, a callback."""
    cards = scene.snapshot.lead_contacts(clause_id) if clause_id else []
    cards = cards or scene.county_contact()
    lines = [intro] if intro else []
    lines.append(scene.m("handoff", offices=scene.join([c["office"] for c in cards])))
    published = [c for c in cards if c.get("phone") or c.get("address") or c.get("hours")]
    lines += contact_lines(scene, published) if published else [scene.m("contacts_pending")]
    lines.append(scene.m("hotlines"))
    reply = Reply("\n".join(lines), "contacts", clause=clause_id, contacts=cards,
                  links=[{"title": scene.m("offices_link"), "url": "/offices"}], locale=scene.locale)
    if scene.callbacks:
        office = scene.join([c["office"] for c in cards])
        numbered(reply, [(scene.m("callback_offer", office=office), RequestCallback(clause_id or "")),
                         (scene.m("flows_menu_label"), ShowMenu())])
    return reply


def procedure(scene: Scene, clause_id: str, aspect: str, calculator: str = "") -> Reply:
    """How to apply / what to bring / where: what staff entered for the measure, else what the plan says."""
    clause = scene.snapshot.clauses[clause_id]
    entries = _procedures(scene.snapshot, clause_id, calculator)
    office = scene.lead_office(clause_id)
    lines = [scene.m("procedure_topic", title=clause.title)]
    if entries:
        for p in entries[:2]:
            if p.get("title") and len(entries) > 1:
                lines.append(scene.m("procedure_part", title=p["title"]))
            if aspect == "apply" and p.get("steps"):
                lines.append(scene.m("procedure_steps", steps=p["steps"]))
            if p.get("documents") and aspect in ("documents", "apply"):
                lines.append(scene.m("procedure_documents", documents=p["documents"]))
            if p.get("where"):
                lines.append(scene.m("procedure_where", where=p["where"]))
            if p.get("source"):
                lines.append(scene.m("procedure_source", source=p["source"]))
    else:
        lines.append(scene.m(f"procedure_unpublished_{aspect}", office=office))
    lines.append(scene.m("hotlines"))
    return Reply("\n".join(lines), "answer", clause=clause_id, contacts=scene.snapshot.lead_contacts(clause_id),
                 links=[{"title": scene.m("clause_link", citation=clause.citation), "url": f"/policies/{clause_id}"}],
                 locale=scene.locale)


def _procedures(snapshot: Snapshot, clause_id: str, calculator: str) -> list[dict[str, str]]:
    """Procedures staff entered for the clause (the console's table), the calculator's first."""
    found = []
    for p in snapshot.procedures_for(clause_id):
        item = {k: getattr(p, k, "") for k in ("title", "calculator", "steps", "documents", "where", "source")}
        # steps and documents are lists: one line reads them in order
        found.append({k: "；".join(v) if isinstance(v, (tuple, list)) else str(v or "") for k, v in item.items()})
    found.sort(key=lambda p: p.get("calculator") != calculator)
    return found


# ------------------------------------------------------------------------------ not answered
def fallback(scene: Scene, match: MatchResult, *, numbered_choices: bool = True, twice: bool = False) -> Reply:
    """No confident answer: the closest topics (numbered when numbers are free) and the hotlines."""
    if match.out_of_scope:
        return out_of_scope(scene)
    choices: list[tuple[str, Action]] = []
    for cand in match.suggestions[:3]:
        label = cand.question or scene.snapshot.clauses[cand.clause].title
        choices.append((label, ShowFaq(cand.faq_id) if cand.faq_id else ShowClause(cand.clause or "")))
    if twice:
        text = scene.m("cannot_handle")
    elif choices and numbered_choices:
        text = scene.m("fallback_suggest")
    elif choices:
        text = scene.m("fallback_topics", topics=scene.m("answers_sep").join(label for label, _ in choices)) + "\n" \
            + scene.m("hotlines")
    else:
        text = scene.m("fallback") + "\n" + scene.m("hotlines")
    reply = Reply(text, "fallback", score=match.best.score if match.best else None, locale=scene.locale)
    if twice:
        reply.contacts = scene.county_contact()
        extra: list[tuple[str, Action]] = [(scene.m("handoff_label"), ShowContacts())]
        return numbered(reply, (choices if numbered_choices else []) + extra)
    return numbered(reply, choices) if choices and numbered_choices else reply


def clarify_word(scene: Scene, matcher: Any, word: str) -> Reply | None:
    """A lone word ("贷款", "补贴"): the policies that use it, numbered — each clause's leading entry
    for the word when few clauses use it, else the menu themes they belong to."""
    clauses = [cid for cid in scene.snapshot.clauses if cid in matcher.clauses_using(word)]
    if not clauses:
        return None
    choices: list[tuple[str, Action]] = []
    if len(clauses) <= 4:
        per_clause = 2 if len(clauses) <= 2 else 1
        for cid in clauses:
            # the clause's leading entries (pack order) that name the word in their question
            named = [f for f in scene.snapshot.faqs if f.clause == cid and word in f.question][:per_clause]
            if not named:
                best = next((c for c in matcher.match_within(word, [cid]) if c.faq_id), None)
                named = [scene.snapshot.faq(best.faq_id)] if best is not None else []
            choices += [(f.question, ShowFaq(f.id)) for f in named if f is not None]
        choices = choices[:4]
    else:
        for theme_id, ids in THEMES:
            if any(cid in ids for cid in clauses):
                choices.append((scene.m(f"theme_{theme_id}"), ShowTheme(theme_id)))
        choices = choices[:6]
    if not choices:
        return None
    choices.append((scene.m("menu_calc"), ListCalculators()))
    return numbered(Reply(scene.m("clarify_word", word=word), "menu", locale=scene.locale), choices)


def clarify(scene: Scene, match: MatchResult) -> Reply:
    """A vague word ("补贴", "贷款"): a short numbered choice between the likely meanings."""
    choices: list[tuple[str, Action]] = []
    for cand in match.suggestions[:4]:
        label = cand.question or scene.snapshot.clauses[cand.clause].title
        choices.append((label, ShowFaq(cand.faq_id) if cand.faq_id else ShowClause(cand.clause or "")))
    choices.append((scene.m("menu_calc"), ListCalculators()))
    return numbered(Reply(scene.m("clarify"), "menu", locale=scene.locale), choices)


def out_of_scope(scene: Scene, elsewhere: bool = False) -> Reply:
    key = "elsewhere" if elsewhere else "out_of_scope"
    return Reply(scene.m(key) + "\n" + scene.m("hotlines"), "fallback", locale=scene.locale)


# ------------------------------------------------------------------------------ dialogues
def calc_link(scene: Scene, form: Form) -> dict[str, str]:
    return {"title": scene.m("flows_web_link", title=form.title), "url": f"/calc/{form.calculator}"}


def question(scene: Scene, form: Form, prompt: Prompt, before: str = "") -> Reply:
    """A dialogue's pending question (after `before`: what was understood, a side answer…)."""
    text = (before + "\n" if before else "") + prompt.text
    return Reply(text, "flow", clause=form.clause, options=prompt.options, links=[calc_link(scene, form)],
                 locale=scene.locale, extra={"dialogue": {"calculator": form.calculator, "slot": prompt.slot}})


def verdict(scene: Scene, result: Result, office: str) -> str:
    kind = result.amount_kind
    if result.eligible is False:
        return scene.m("result_not_eligible")
    if result.eligible is None:
        if result.amount_range is not None:
            low, high = result.amount_range
            return scene.m("result_office_range", office=office, low=money(low), high=money(high))
        if result.amount is not None:
            key = {"max": "result_office_max", "monthly": "result_office_monthly"}.get(kind or "", "result_office_exact")
            return scene.m(key, office=office, amount=money(result.amount))
        return scene.m("result_office", office=office)
    if result.amount_range is not None:
        low, high = result.amount_range
        return scene.m("result_range", low=money(low), high=money(high), office=office)
    if result.amount is None:
        return scene.m("result_no_amount", office=office)
    key = {"max": "result_max", "monthly": "result_monthly"}.get(kind or "", "result_exact")
    return scene.m(key, amount=money(result.amount))


def result_text(scene: Scene, form: Form, result: Result, taken: Sequence[str] = ()) -> str:
    """The result as one chat bubble: what was assumed, verdict, reasons, what would change it,
    expiry, the office and what the plan says about documents."""
    contact = result.contacts[0] if result.contacts else {"office": scene.default_office, "phone": ""}
    office = scene.join([c["office"] for c in result.contacts]) or scene.default_office
    has_procedure = bool(_procedures(scene.snapshot, form.clause, form.calculator))

    def compose(reasons: list[str], changes: list[str], notes: list[str]) -> str:
        lines = [scene.m("result_header", title=form.title)]
        if taken:
            lines.append(scene.m("result_taken", answers=scene.m("answers_sep").join(taken)))
        lines.append(verdict(scene, result, office))
        if reasons:
            lines.append(scene.m("result_reasons"))
            lines += [f"· {r}" for r in reasons]
        if changes:
            lines.append(scene.m("result_changes"))
            lines += [f"· {c}" for c in changes]
        lines += [scene.m("result_expired", note=n) for n in result.expired_notes]
        lines += notes
        lines.append(scene.m("result_contact", office=contact["office"],
                             phone=contact.get("phone") or scene.m("not_published")))
        if result.eligible is not False:
            lines.append(scene.m("result_documents_entered" if has_procedure else "result_documents", office=office))
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


def result(scene: Scene, form: Form, res: Result, taken: Sequence[str] = (), resumable: Sequence[tuple[str, str]] = ()
           ) -> Reply:
    """The result bubble with the next steps as numbered options."""
    reply = Reply(result_text(scene, form, res, taken), "flow", clause=res.clause, contacts=res.contacts,
                  links=[calc_link(scene, form)], locale=scene.locale, extra={"result": res.to_dict()})
    choices: list[tuple[str, Action]] = [(scene.m("flows_restart_label", title=form.title),
                                          StartCalculator(form.calculator))]
    choices += [(scene.m("flows_resume_label", title=title), ResumeDialogue(name)) for name, title in resumable]
    choices.append((scene.m("flows_other_label"), ListCalculators()))
    if scene.callbacks and res.eligible is not False:
        choices.append((scene.m("callback_offer", office=scene.lead_office(form.clause)), RequestCallback(form.clause)))
    choices.append((scene.m("flows_menu_label"), ShowMenu()))
    return numbered(reply, choices)


def expired_dialogue(scene: Scene, form: Form, notice: str) -> Reply:
    reply = Reply(notice + scene.m("flows_expired_offer"), "flow", clause=form.clause, links=[calc_link(scene, form)],
                  locale=scene.locale)
    return numbered(reply, [(scene.m("flows_restart_label", title=form.title), StartCalculator(form.calculator)),
                            (scene.m("flows_other_label"), ListCalculators())])


def resume_offer(scene: Scene, reply: Reply, title: str) -> Reply:
    """After a menu or an answer while a dialogue waits: a yes/no to go on (no numbers: they may
    answer the dialogue's question)."""
    reply.reply = reply.reply + "\n\n" + scene.m("resume_hint", title=title)
    return reply


def exited(scene: Scene, title: str) -> Reply:
    return menu(scene, intro=scene.m("flows_exited", title=title))


__all__ = ["Scene", "numbered", "menu", "personas", "persona", "in_chinese", "theme", "calculators", "faq_answer", "clause_answer", "short_answer",
           "smalltalk", "contacts", "directory", "handoff", "procedure", "fallback", "out_of_scope", "question",
           "verdict", "result_text", "result", "expired_dialogue", "resume_offer", "exited", "window_notes",
           "ExitDialogue"]
