"""The ten subsidy calculators of the plan, as small pure functions over the dated parameters.

Each reads its figures and windows from the `ParameterView` (knowledge/data/parameters.yaml, with
staff overrides) — no figure is typed here. "以上/以下" include the number itself, "超过/不满"
exclude it (docs/calculators.md). A figure with no value in force on `as_of` (before the plan's
figures start, or repealed by staff) is never guessed: the answer says so and leaves the decision
to the lead office (eligible None) or gives no amount.
"""
from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

from knowledge.parameters import ParameterError, ParameterView, Window, format_value, to_date

from .errors import InvalidInput
from .declarations import declaration
from .registry import calculator
from .result import Result
from .texts import day, form_text, label, listing, money, number, option_label, percent, plain_amount as _plain, t


class Run:
    """One calculation: reads figures at `as_of`, collects reasons and what would change the outcome."""

    def __init__(self, name: str, inputs: dict[str, Any], view: ParameterView, as_of: dt.date):
        self.name, self.inputs, self.view, self.as_of = name, inputs, view, as_of
        self.clause = declaration(name).clause
        self.reasons: list[str] = []
        self.reason_keys: list[str] = []
        self.changes: list[str] = []
        self.change_inputs: list[dict[str, Any]] = []
        self.fixes: list[str | None] = []
        self.notes: list[str] = []
        self.expired_notes: list[str] = []
        self.expired = False
        self.undecided = False  # a figure the decision needs has no value in force
        self.missing: dict[tuple[str, dt.date | None], list[str]] = {}

    # -- figures ---------------------------------------------------------------------------
    def fig(self, name: str) -> Any:
        """The value in force on as_of, or None (and a reason saying the plan gives none)."""
        try:
            return self.view[name]
        except ParameterError:
            # a figure the plan gives for no such day: the result cannot be "符合条件" beside
            # "无法按方案测算", so the office decides
            self.no_figure(name)
            self.undecided = True
            return None

    def need(self, *names: str) -> list[Any] | None:
        """Figures an eligibility condition needs; None (decision left to the office) if one is missing."""
        values = [self.fig(n) for n in names]
        if any(v is None for v in values):
            self.undecided = True
            return None
        return values

    def text(self, name: str) -> str:
        return self.view.text(name)

    def no_figure(self, name: str) -> None:
        """Remember a figure with no value in force; one sentence per kind is said at the end."""
        definition = self.view.params.definition(name)
        since = next((v.effective for v in definition.timeline() if v.value is not None), None)
        key = ("yet", since) if since is not None and self.as_of < since else ("repealed", None)
        whats = self.missing.setdefault(key, [])
        if definition.description not in whats:
            whats.append(definition.description)

    def missing_sentences(self) -> list[str]:
        out = []
        for (kind, since), whats in self.missing.items():
            what = listing(whats)
            if kind == "yet":
                out.append(self.say("common.no_figure_yet", what=what, since=day(since)))
            else:
                out.append(self.say("common.no_figure_repealed", what=what))
        return out

    def window(self, name: str) -> Window | None:
        """The window in force on as_of; before its first definition, that first definition."""
        try:
            return self.view.window(name)
        except ParameterError:
            line = self.view.params.definition(name).timeline()
            if line and line[0].value is not None and self.as_of < line[0].effective:
                value = line[0].value
                return Window(to_date(value["start"]), to_date(value.get("end")))
            return None

    def outside(self, window: Window | None, rule: str) -> None:
        """Record that a window the answer depends on does not cover as_of, said plainly."""
        self.expired = True
        what = t(f"rules.{rule}")
        if window is None:
            note = self.say("common.window_repealed", rule=what)
        elif window.expired(self.as_of):
            note = self.say("common.window_ended", rule=what, window=window.text())
        else:
            note = self.say("common.window_not_started", rule=what, start=day(window.start))
        self.expired_notes.append(note)

    # -- sentences -----------------------------------------------------------------------------
    def say(self, key: str, **kw: Any) -> str:
        return t(key, clause=self.clause, as_of=day(self.as_of), **kw)

    def because(self, key: str, **kw: Any) -> None:
        self.reasons.append(self.say(f"{self.name}.{key}", **kw))
        self.reason_keys.append(key)

    def change(self, key: str, inputs: dict[str, Any], **kw: Any) -> None:
        """What would change the outcome: a sentence and the inputs it proposes.

        The inputs are found with the same condition that decided the result, so running the
        calculator on them gives what the sentence says; the change fixes the last reason given.
        """
        self.changes.append(self.say(f"{self.name}.{key}", **kw))
        self.change_inputs.append(dict(inputs))
        self.fixes.append(self.reason_keys[-1] if self.reason_keys else None)

    def note(self, key: str, **kw: Any) -> None:
        self.notes.append(self.say(f"{self.name}.{key}", **kw))

    def option(self, field: str) -> str:
        return option_label(self.name, field, self.inputs[field])

    def result(self, eligible: bool | None, amount: Any = None, kind: str | None = None,
               amount_range: list[Any] | None = None) -> Result:
        """The result. A null verdict may carry the figure the plan states (a loan ceiling, a pilot's
        amount, a monthly rate) when the office decides only whether it applies; a condition not
        met, or a figure missing on as_of, gives no amount at all."""
        self.reasons.extend(self.missing_sentences())
        if self.undecided and eligible is not False:
            eligible = None
            amount, kind, amount_range = None, None, None
            self.reasons.append(self.say("common.office_decides"))
        if eligible is False:
            amount, kind, amount_range = None, None, None
        return Result(self.name, self.clause, self.as_of, eligible, _plain(amount), kind if amount is not None else None,
                      [_plain(x) for x in amount_range] if amount_range is not None else None, self.expired,
                      self.reasons, [], form_text(self.name, "title", declaration(self.name).title), self.changes, self.change_inputs,
                      self.expired_notes, self.notes, dict(self.inputs), self.reason_keys, self.fixes)


def reached(part: int | float, whole: int | float, percent_value: int | float) -> bool:
    """part / whole ≥ percent% ("达到……以上" includes the number itself), in exact arithmetic."""
    return Fraction(part) * 100 >= Fraction(percent_value) * Fraction(whole)


def ratio(part: int | float, whole: int | float) -> Fraction:
    return Fraction(part) / Fraction(whole)


# ------------------------------------------------------------------------------------------- 12
@calculator(
    "internship",
    parameters=("internship.rate", "internship.rate_retained", "internship.retention_threshold",
                "internship.min_months", "internship.max_months", "internship.youth_min_age",
                "internship.youth_max_age", "internship.youth_extension"),
)
def internship(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """就业见习补贴 (clause 12), paid to the host unit.

    1000 yuan per intern per month, 1200 when the retention rate at the end is 50% or more;
    subsidy months = internship months, at most 12 ("最长不超过1年"). From 2019-01-01 the scope
    extends from graduates to unemployed youth aged 16–24 (inclusive). The 3–12 month internship
    is the plan's words for 失业青年 ("组织失业青年参加3-12个月的就业见习"); calculators.md applies
    the 3-month minimum to every intern, so a graduate's shorter internship is not eligible either
    — and the reason says the plan wrote the period for 失业青年 and names the office to ask.
    """
    r = Run("internship", inputs, view, as_of)
    interns, months, retained = inputs["interns"], inputs["months"], inputs.get("retained", 0)
    status = inputs.get("intern_status")
    eligible: bool | None = True

    if status == "unemployed_youth":
        extension = r.window("internship.youth_extension")
        if extension is None or not extension.covers(as_of):
            r.outside(extension, "internship_youth_extension")
            r.because("youth_not_covered", start=day(extension.start) if extension else "—")
            eligible = False
        ages = r.need("internship.youth_min_age", "internship.youth_max_age")
        if ages is not None:
            age, (low, high) = inputs["intern_age"], ages
            words = dict(age=age, low=r.text("internship.youth_min_age"), high=r.text("internship.youth_max_age"))
            if low <= age <= high:
                r.because("youth_age_ok", **words)
            else:
                r.because("youth_age_out", **words)
                r.change("change_graduate", {"intern_status": "graduate"})
                eligible = False
    elif status == "graduate":
        r.because("graduate_ok")
    elif r.view.get("internship.youth_min_age") is not None and r.view.get("internship.youth_max_age") is not None:
        r.note("who_qualifies", low=r.text("internship.youth_min_age"), high=r.text("internship.youth_max_age"))

    bounds = r.need("internship.min_months", "internship.max_months")
    paid_months = months
    if bounds is not None:
        low_m, high_m = bounds
        words = dict(months=months, minimum=r.text("internship.min_months"), maximum=r.text("internship.max_months"))
        if months == 0:
            r.because("no_internship", **words)
            eligible = False
        elif months < low_m:
            r.because("months_short_graduate" if status == "graduate" else "months_short", **words)
            r.change("change_months", {"months": low_m}, **words)
            eligible = False
        elif months > high_m:
            paid_months = high_m
            r.because("months_capped", **words)

    if eligible is False:
        return r.result(False)

    threshold = r.fig("internship.retention_threshold")
    base, higher = r.fig("internship.rate"), r.fig("internship.rate_retained")
    if threshold is None or base is None or higher is None:
        return r.result(eligible)
    share = percent(ratio(retained, interns))
    if reached(retained, interns, threshold):
        rate = higher
        r.because("rate_retained", retained=retained, interns=interns, share=share,
                  threshold=r.text("internship.retention_threshold"), rate=r.text("internship.rate_retained"))
    else:
        rate = base
        r.because("rate_base", retained=retained, interns=interns, share=share,
                  threshold=r.text("internship.retention_threshold"), rate=r.text("internship.rate"))
        more = next((k for k in range(1, interns - retained + 1) if reached(retained + k, interns, threshold)), None)
        if more is not None:
            r.change("change_retain", {"retained": retained + more}, more=more,
                     threshold=r.text("internship.retention_threshold"), rate=r.text("internship.rate_retained"),
                     amount=money(higher * interns * paid_months))
    amount = rate * interns * paid_months
    r.because("amount", rate=money(rate), interns=interns, months=paid_months, amount=money(amount))
    return r.result(True, amount, "exact")


# ------------------------------------------------------------------------------------------- 16
LEVELS = ("primary", "intermediate", "advanced")


@calculator(
    "skill_upgrade",
    parameters=("skill_upgrade.primary", "skill_upgrade.intermediate", "skill_upgrade.advanced",
                "skill_upgrade.relaxed_window", "skill_upgrade.insured_years_relaxed"),
)
def skill_upgrade(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """技术技能提升补贴 (clause 16), for an insured employee who obtained a certificate.

    2019-01-01..2020-12-31: 1000 / 1500 / 2000 yuan for a primary / intermediate / advanced
    certificate, with one insured year ("参保1年以上", relaxed from three). Outside that window the
    plan states neither the amounts nor the insured-years condition — it does not say the three
    years return — so the result is null with no amount: the office states the current standard.
    """
    r = Run("skill_upgrade", inputs, view, as_of)
    level, years = inputs["level"], inputs["insured_years"]
    level_name = option_label("skill_upgrade", "level", level)
    window = r.window("skill_upgrade.relaxed_window")
    if window is None or not window.covers(as_of):
        r.outside(window, "skill_upgrade_relaxed")
        if window is None:
            r.because("outside_no_window")
            return r.result(None)
        # the window's own figures, quoted as the window's and never as today's
        inside = view.params.at(window.end if window.end is not None and window.expired(as_of) else window.start)
        figure, needed = inside.get(f"skill_upgrade.{level}"), inside.get("skill_upgrade.insured_years_relaxed")
        r.because("outside_window", window=window.text(), level=level_name,
                  figure=money(figure) if figure is not None else "—",
                  needed=format_value("years", needed) if needed is not None else "—")
        return r.result(None)
    r.because("in_window", window=window.text())
    needed = r.need("skill_upgrade.insured_years_relaxed")
    if needed is None:
        return r.result(None)
    words = dict(years=number(years), needed=r.text("skill_upgrade.insured_years_relaxed"))
    if years < needed[0]:
        r.because("years_short", **words)
        r.change("change_years", {"insured_years": needed[0]}, **words)
        return r.result(False)
    r.because("years_ok", **words)
    amount = r.fig(f"skill_upgrade.{level}")
    if amount is None:
        return r.result(True)
    r.because("amount", level=level_name, amount=money(amount))
    return r.result(True, amount, "exact")


# ------------------------------------------------------------------------------------------- 10
@calculator(
    "startup_loan",
    parameters=("startup_loan.individual_max", "startup_loan.business_max", "startup_loan.hire_ratio",
                "startup_loan.hire_ratio_large", "startup_loan.large_staff_threshold",
                "startup_loan.min_contract_years", "startup_loan.term_years"),
)
def startup_loan(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """创业担保贷款 (clause 10): a ceiling, not a grant.

    An individual in self-employment "符合创业担保贷款申请条件的" may borrow up to 150,000 yuan; the
    plan does not list those conditions, so the lending office decides (null, with the ceiling).
    A small business may borrow up to 3,000,000 when this year's qualifying new hires reach 25% of
    current staff (15% when staff is over 100 — "超过100人" excludes 100), with contracts of one
    year or more ("1年以上") and no wage arrears, unpaid social insurance or bad credit. The plan
    extends the term to three years for 个体工商户 loans.
    """
    r = Run("startup_loan", inputs, view, as_of)
    if inputs["applicant"] == "individual":
        ceiling = r.fig("startup_loan.individual_max")
        if ceiling is not None:
            r.because("individual", ceiling=money(ceiling))
        r.because("individual_conditions")
        if r.view.get("startup_loan.term_years") is not None:
            r.note("term_individual", term=r.text("startup_loan.term_years"))
        return r.result(None, ceiling, "max")

    staff, hires, years, arrears = (inputs["staff"], inputs["new_hires"], inputs["contract_years"],
                                    inputs["arrears"])
    eligible = True
    figures = r.need("startup_loan.large_staff_threshold", "startup_loan.hire_ratio",
                     "startup_loan.hire_ratio_large", "startup_loan.min_contract_years")
    if figures is not None:
        large_at, small_ratio, large_ratio, min_years = figures

        def needed_ratio(staff_count: int) -> Any:
            return large_ratio if staff_count > large_at else small_ratio

        def hires_met(staff_count: int, hire_count: int) -> bool:
            return reached(hire_count, staff_count, needed_ratio(staff_count))

        large = staff > large_at
        ratio_name = "startup_loan.hire_ratio_large" if large else "startup_loan.hire_ratio"
        words = dict(staff=staff, threshold=number(large_at), ratio=r.text(ratio_name), hires=hires,
                     share=percent(ratio(hires, staff)))
        r.because("size_large" if large else "size_small", **words)
        if hires_met(staff, hires):
            r.because("hires_ok", **words)
        else:
            r.because("hires_short", **words)
            more = _more_hires(staff, hires, large_at, small_ratio, large_ratio, hires_met)
            if more is not None:
                after = staff + more
                r.change("change_hires", {"staff": after, "new_hires": hires + more}, more=more, after=after,
                         ratio=format_value("percent", needed_ratio(after)), share=percent(ratio(hires + more, after)))
            eligible = False
        contract = dict(years=number(years), minimum=r.text("startup_loan.min_contract_years"))
        if years >= min_years:
            r.because("contract_ok", **contract)
        else:
            r.because("contract_short", **contract)
            r.change("change_contract", {"contract_years": min_years}, **contract)
            eligible = False
    if arrears:
        r.because("arrears")
        eligible = False
    else:
        r.because("no_arrears")
    if eligible is False:
        return r.result(False)
    ceiling = r.fig("startup_loan.business_max")
    if ceiling is not None:
        r.because("business", ceiling=money(ceiling))
    if r.view.get("startup_loan.term_years") is not None:
        r.note("term_business", term=r.text("startup_loan.term_years"))
    return r.result(True, ceiling, "max")


def _more_hires(staff: int, hires: int, large_at: Any, small_ratio: Any, large_ratio: Any,
                hires_met: Any) -> int | None:
    """The fewest further qualifying hires that meet the hiring condition.

    Each new hire is also a new member of staff, and past `large_at` staff the lower ratio applies:
    within each size band the share only grows with more hires, so the answer is the first count
    that meets the band's ratio, in the band it falls in. Checked with the rule itself.
    """
    found = []
    for band_ratio, first, last in ((small_ratio, 1, large_at - staff), (large_ratio, max(1, large_at - staff + 1), None)):
        if last is not None and last < first:
            continue
        if band_ratio >= 100:
            k = first if hires >= staff else None  # a share of 100% is only reached with nobody else on staff
        else:
            k = max(first, math.ceil(Fraction(Fraction(band_ratio) * staff - 100 * hires) / (100 - Fraction(band_ratio))))
        if k is not None and (last is None or k <= last) and hires_met(staff + k, hires + k):
            found.append(k)
    return min(found) if found else None


@calculator(
    "startup_subsidy",
    parameters=("startup_subsidy.amount",),
)
def startup_subsidy(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """一次性创业补贴 (clause 10): 5000 yuan, once, for a graduate or a recognised person with
    employment difficulty (就业困难人员) starting a small business or self-employment for the first
    time. The plan gives it "按政策试点": meeting the stated conditions, the office decides whether
    the applicant is covered by the pilot, so the verdict is null (with the pilot's figure)."""
    r = Run("startup_subsidy", inputs, view, as_of)
    eligible: bool | None = None
    if inputs["group"] == "other":
        r.because("group_out")
        r.change("change_group", {"group": "difficulty"})
        eligible = False
    else:
        r.because("group_ok", group=r.option("group"))
    if not inputs["first_business"]:
        r.because("not_first")
        eligible = False
    else:
        r.because("first_ok")
    if eligible is False:
        return r.result(False)
    amount = r.fig("startup_subsidy.amount")
    if amount is not None:
        r.because("pilot", amount=money(amount))
    else:
        r.because("pilot_no_amount")
    return r.result(None, amount, "exact")


# -------------------------------------------------------------------------------------------- 8
HARDSHIP_FIELDS = ("insured_staff", "monthly_ui_benefit", "monthly_social_insurance")


@calculator(
    "job_stabilization",
    parameters=("job_stabilization.refund_rate", "job_stabilization.hardship_window",
                "job_stabilization.hardship_months", "job_stabilization.hardship_si_rate"),
)
def job_stabilization(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """稳岗返还 (clause 8), for an insured enterprise that lays off no one or few.

    Standard: 50% of last year's unemployment-insurance premium actually paid. From 2019-01-01 to
    2019-12-31 an enterprise in temporary hardship may instead get 6 × the local monthly
    per-capita unemployment benefit × insured staff, or 6 × 50% of the monthly social-insurance
    contributions; the plan names both ways without saying which applies, so both are returned
    as a range and the office determines the standard. Outside 2019 only the standard rule applies.
    """
    r = Run("job_stabilization", inputs, view, as_of)
    premium, layoffs = inputs["last_year_ui_premium"], inputs["layoffs"]
    if layoffs == "many":
        r.because("many_layoffs")
        r.change("change_layoffs", {"layoffs": "few"})
        return r.result(False)
    r.because("layoffs_ok", layoffs=r.option("layoffs"))
    rate = r.fig("job_stabilization.refund_rate")
    standard = Fraction(premium) * Fraction(rate) / 100 if rate is not None else None

    if inputs.get("hardship"):
        window = r.window("job_stabilization.hardship_window")
        if window is not None and window.covers(as_of):
            for name in HARDSHIP_FIELDS:
                if inputs.get(name) is None:
                    raise InvalidInput(t("errors.hardship_field_missing", field=name,
                                         label=label("job_stabilization", name), window=window.text()), name)
            months, si_rate = r.fig("job_stabilization.hardship_months"), r.fig("job_stabilization.hardship_si_rate")
            if months is not None and si_rate is not None:
                by_benefit = Fraction(months) * Fraction(inputs["monthly_ui_benefit"]) * inputs["insured_staff"]
                by_contrib = Fraction(months) * Fraction(inputs["monthly_social_insurance"]) * Fraction(si_rate) / 100
                low, high = sorted((by_benefit, by_contrib))
                r.because("hardship", window=window.text(), months=r.text("job_stabilization.hardship_months"),
                          si_rate=r.text("job_stabilization.hardship_si_rate"),
                          by_benefit=money(_plain(by_benefit)), by_contrib=money(_plain(by_contrib)))
                if standard is not None:
                    r.note("standard_for_reference", rate=r.text("job_stabilization.refund_rate"),
                           amount=money(_plain(standard)))
                return r.result(True, amount_range=[low, high])
        else:
            r.outside(window, "job_stabilization_hardship")
            r.because("hardship_outside", window=window.text() if window else "—")
    if standard is None:
        return r.result(True)
    r.because("standard", premium=money(_plain(premium)), rate=r.text("job_stabilization.refund_rate"),
              amount=money(_plain(standard)))
    return r.result(True, standard, "exact")


@calculator(
    "graduate_hiring",
    parameters=("graduate_hiring.monthly_allowance", "graduate_hiring.graduates_per_year"),
)
def graduate_hiring(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """吸纳高校毕业生生活补贴 (clause 8): 1500 yuan per graduate per month, from the county finance,
    tied to the county's yearly selection of 30+ graduates for enterprises. The plan fixes neither
    for how many months nor who receives it, so the verdict is null and the amount is monthly
    (kind "monthly"); given months, a reason shows the product as an illustration, never as the
    amount. For newly graduated hires the enterprise's social-insurance share is also subsidised
    (no figure in the plan)."""
    r = Run("graduate_hiring", inputs, view, as_of)
    graduates, months = inputs["graduates"], inputs.get("months")
    allowance = r.fig("graduate_hiring.monthly_allowance")
    per_year = r.view.get("graduate_hiring.graduates_per_year")
    if per_year is not None:
        r.because("selection", per_year=r.text("graduate_hiring.graduates_per_year"))
    if allowance is None:
        r.because("terms")
        r.note("social_insurance")
        return r.result(None)
    monthly = allowance * graduates
    r.because("monthly", rate=r.text("graduate_hiring.monthly_allowance"), graduates=graduates,
              amount=money(monthly))
    r.because("terms")
    if months is not None:
        r.because("illustration", months=months, amount=money(monthly * months))
    r.note("social_insurance")
    return r.result(None, monthly, "monthly")


# ------------------------------------------------------------------------------------------- 15
@calculator(
    "training",
    parameters=("training.skills_min", "training.skills_max", "training.startup_min", "training.startup_max",
                "training.living_allowance_window"),
)
def training(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """失业人员培训补贴 (clause 15), for 失业人员: after passing, 600–1500 yuan for skills training or
    500–1900 for start-up training (a range; the plan does not say where in it, the office sets
    it). Employed people are not covered by clause 15 (clauses 14 and 16 are theirs). From
    2019-01-01 to 2020-12-31 people with employment difficulty and members of zero-employment
    families also get a living allowance during training, once a year, not together with
    unemployment benefit; the plan gives no figure for it."""
    r = Run("training", inputs, view, as_of)
    if not inputs["unemployed"]:
        r.because("not_unemployed")
        r.note("employed_elsewhere")
        return r.result(False)
    course = inputs["course"]
    if not inputs["passed"]:
        r.because("not_passed", course=r.option("course"))
        r.change("change_pass", {"passed": True})
        return r.result(False)
    low, high = r.fig(f"training.{course}_min"), r.fig(f"training.{course}_max")
    if low is not None and high is not None:
        r.because("passed", course=r.option("course"), low=money(low), high=money(high))
    span = [low, high] if low is not None and high is not None else None

    window = r.window("training.living_allowance_window")
    in_window = window is not None and window.covers(as_of)
    if inputs.get("difficulty_or_zero_employment"):
        if not in_window:
            r.outside(window, "training_living_allowance")
            r.because("allowance_outside", window=window.text() if window else "—")
        elif inputs.get("receiving_ui_benefit"):
            r.because("allowance_not_with_benefit", window=window.text())  # type: ignore[union-attr]
            r.change("change_benefit", {"receiving_ui_benefit": False})
        else:
            r.because("allowance_ok", window=window.text())  # type: ignore[union-attr]
    elif in_window and inputs.get("difficulty_or_zero_employment") is False:
        r.because("allowance_group", window=window.text())  # type: ignore[union-attr]
        r.change("change_difficulty", {"difficulty_or_zero_employment": True, "receiving_ui_benefit": False},
                 window=window.text())  # type: ignore[union-attr]
    elif in_window:
        r.note("allowance_who", window=window.text())  # type: ignore[union-attr]
    return r.result(True, amount_range=span)


# ------------------------------------------------------------------------------------------- 16
@calculator(
    "poverty_hire_training",
    parameters=("poverty_hire_training.short_contract", "poverty_hire_training.long_contract",
                "poverty_hire_training.min_contract_months", "poverty_hire_training.long_contract_months"),
)
def poverty_hire_training(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """吸纳建档立卡贫困劳动力培训补助 (clause 16), for an enterprise that hires registered poor
    workers and trains them: a contract of 6 months up to (not including) a year → 1000 yuan per
    worker; a year or more ("含1年") → 2000; under 6 months → nothing."""
    r = Run("poverty_hire_training", inputs, view, as_of)
    workers, months = inputs["workers"], inputs["contract_months"]
    eligible = True
    if not inputs["trained"]:
        r.because("not_trained")
        r.change("change_train", {"trained": True})
        eligible = False
    figures = r.need("poverty_hire_training.min_contract_months", "poverty_hire_training.long_contract_months")
    if figures is None:
        return r.result(False if eligible is False else None)
    shortest, long_from = figures
    words = dict(months=months, minimum=r.text("poverty_hire_training.min_contract_months"),
                 long_from=r.text("poverty_hire_training.long_contract_months"))
    if months < shortest:
        r.because("contract_short", **words)
        r.change("change_contract_min", {"contract_months": shortest},
                 short=r.text("poverty_hire_training.short_contract"),
                 long=r.text("poverty_hire_training.long_contract"), **words)
        eligible = False
    if eligible is False:
        return r.result(False)
    long = months >= long_from
    per_name = "poverty_hire_training.long_contract" if long else "poverty_hire_training.short_contract"
    per = r.fig(per_name)
    if per is None:
        return r.result(True)
    amount = per * workers
    r.because("long" if long else "short", per=r.text(per_name), workers=workers, amount=money(amount), **words)
    if not long:
        better = r.view.get("poverty_hire_training.long_contract")
        if better is not None:
            r.change("change_contract_long", {"contract_months": long_from},
                     long=r.text("poverty_hire_training.long_contract"),
                     amount=money(better * workers), **words)
    return r.result(True, amount, "exact")


# ------------------------------------------------------------------------------------------- 11
@calculator(
    "incubator",
    parameters=("incubator.subsidy_min", "incubator.subsidy_max"),
)
def incubator(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """县级创业孵化基地补助 (clause 11): a base recognised at county level that passes the annual
    assessment gets a one-off 10,000–30,000 yuan."""
    r = Run("incubator", inputs, view, as_of)
    eligible = True
    if inputs["level"] != "county":
        r.because("level_out", level=r.option("level"))
        eligible = False
    else:
        r.because("level_ok")
    if not inputs["assessment_passed"]:
        r.because("not_passed")
        r.change("change_assessment", {"assessment_passed": True})
        eligible = False
    if not eligible:
        return r.result(False)
    low, high = r.fig("incubator.subsidy_min"), r.fig("incubator.subsidy_max")
    if low is None or high is None:
        return r.result(True)
    r.because("range", low=money(low), high=money(high))
    return r.result(True, amount_range=[low, high])


@calculator(
    "skill_master_studio",
    parameters=("skill_master_studio.amount",),
)
def skill_master_studio(inputs: dict[str, Any], view: ParameterView, as_of: dt.date) -> Result:
    """技能大师工作室补贴 (clause 16): a studio approved as city-level gets 30,000 yuan once."""
    r = Run("skill_master_studio", inputs, view, as_of)
    if inputs["level"] != "city":
        r.because("level_out")
        r.change("change_level", {"level": "city"})
        return r.result(False)
    amount = r.fig("skill_master_studio.amount")
    if amount is not None:
        r.because("amount", amount=money(amount))
    return r.result(True, amount, "exact")
