"""Every "what would change the result" hint is checked by running its calculator on the hinted inputs.

A calculator's `would_change` sentences come with `would_change_inputs`: the inputs each one
proposes. Over a grid of inputs and dates, for every hint:

- the condition it addresses (the failed reason it follows) is met once the hint is applied, and
  the result is no worse (a verdict never drops, an amount never falls);
- it asks for no more than needed: one person, one month or a hundredth of a year less and the
  condition still fails (a new hire also counts as staff: 20 staff with 4 hires need 2 more, not 1);
- applied together, the hints of one result fix every condition they address.
"""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, Iterator

import pytest

from eligibility import REGISTRY, evaluate
from eligibility.errors import InvalidInput

TODAY = dt.date(2026, 11, 27)
DAYS = [dt.date(2018, 12, 31), dt.date(2019, 6, 1), dt.date(2020, 6, 1), TODAY]
RANK = {False: 0, None: 1, True: 2}


def grid(calc: str) -> Iterator[dict[str, Any]]:
    """Inputs around every threshold of the calculator."""
    if calc == "startup_loan":
        yield {"applicant": "individual"}
        for staff in (1, 4, 10, 20, 50, 90, 99, 100, 101, 120, 150, 400):
            for hires in sorted({0, 1, staff // 10, staff // 7, staff // 5, staff // 4, staff // 3, staff}):
                for years, arrears in ((1, False), (0.5, False), (2, True)):
                    yield {"applicant": "small_business", "staff": staff, "new_hires": min(hires, staff),
                           "contract_years": years, "arrears": arrears}
    elif calc == "internship":
        for interns, retained in ((1, 0), (2, 0), (4, 1), (5, 2), (7, 3), (99, 49), (10, 10)):
            for months in (0, 2, 3, 6, 12, 13):
                yield {"interns": interns, "months": months, "retained": retained}
                yield {"interns": interns, "months": months, "retained": retained, "intern_status": "graduate"}
                for age in (15, 16, 24, 25):
                    yield {"interns": interns, "months": months, "retained": retained,
                           "intern_status": "unemployed_youth", "intern_age": age}
    elif calc == "skill_upgrade":
        for level, years in itertools.product(("primary", "intermediate", "advanced"), (0, 0.5, 0.99, 1, 2.9, 3, 10)):
            yield {"level": level, "insured_years": years}
    elif calc == "startup_subsidy":
        for group, first in itertools.product(("graduate", "difficulty", "other"), (True, False)):
            yield {"group": group, "first_business": first}
    elif calc == "job_stabilization":
        for layoffs in ("none", "few", "many"):
            yield {"last_year_ui_premium": 20000, "layoffs": layoffs}
            yield {"last_year_ui_premium": 20000, "layoffs": layoffs, "hardship": True, "insured_staff": 10,
                   "monthly_ui_benefit": 1500, "monthly_social_insurance": 8000}
    elif calc == "graduate_hiring":
        for graduates, months in ((1, None), (2, 12), (6, 60)):
            yield {"graduates": graduates} if months is None else {"graduates": graduates, "months": months}
    elif calc == "training":
        yield {"unemployed": False}
        for course, passed in itertools.product(("skills", "startup"), (True, False)):
            yield {"unemployed": True, "course": course, "passed": passed}
            for difficulty, benefit in itertools.product((True, False), (True, False)):
                yield {"unemployed": True, "course": course, "passed": passed,
                       "difficulty_or_zero_employment": difficulty, "receiving_ui_benefit": benefit}
    elif calc == "poverty_hire_training":
        for workers, months, trained in itertools.product((1, 3), (0, 5, 6, 11, 12, 24), (True, False)):
            yield {"workers": workers, "contract_months": months, "trained": trained}
    elif calc == "incubator":
        for level, passed in itertools.product(("county", "city", "province"), (True, False)):
            yield {"level": level, "assessment_passed": passed}
    elif calc == "skill_master_studio":
        for level in ("city", "other"):
            yield {"level": level}


def run(snapshot, calc: str, inputs: dict[str, Any], day: dt.date):
    return evaluate(calc, dict(inputs, as_of=day.isoformat()), snapshot.parameters, TODAY, snapshot)


def value(result) -> float:
    if result.amount_range:
        return float(result.amount_range[1])
    return float(result.amount or 0)


def less(inputs: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    """The hint asking for a little less: one fewer of each count it raises, or a hundredth less of a
    number of years; None when the hint changes no number."""
    numbers = {k: v for k, v in hint.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if not numbers:
        return None
    smaller = dict(hint)
    for key, target in numbers.items():
        base = inputs.get(key)
        step = 1 if isinstance(target, int) and (base is None or isinstance(base, int)) else 0.01
        smaller[key] = round(target - step, 2) if step != 1 else target - step
    return smaller


@pytest.mark.parametrize("calc", REGISTRY.names())
def test_every_hint_is_what_the_calculator_says_on_the_hinted_inputs(pack_snapshot, calc):
    checked = 0
    problems: list[str] = []
    for day in DAYS:
        for inputs in grid(calc):
            result = run(pack_snapshot, calc, inputs, day)
            assert len(result.would_change_inputs) == len(result.would_change) == len(result.fixes), inputs
            for text, hint, fixed in zip(result.would_change, result.would_change_inputs, result.fixes):
                where = f"{calc} {day} {inputs} → hint {text!r} {hint}"
                if not hint or fixed is None:
                    problems.append(f"{where}: a hint without inputs or without the condition it fixes")
                    continue
                after = run(pack_snapshot, calc, dict(inputs, **hint), day)
                checked += 1
                if fixed in after.reason_keys:
                    problems.append(f"{where}: the condition ({fixed}) still fails: {after.reasons}")
                if RANK[after.eligible] < RANK[result.eligible]:
                    problems.append(f"{where}: the verdict drops to {after.eligible}")
                if result.eligible is True and after.eligible is True and value(after) < value(result):
                    problems.append(f"{where}: the amount falls to {value(after)}")
                smaller = less(inputs, hint)
                if smaller is not None:
                    try:
                        short = run(pack_snapshot, calc, dict(inputs, **smaller), day)
                    except InvalidInput:
                        continue  # below the allowed range: nothing smaller exists
                    if fixed not in short.reason_keys:
                        problems.append(f"{where}: asks for more than needed, {smaller} already meets it")
            if result.would_change_inputs:
                merged: dict[str, Any] = {}
                for hint in result.would_change_inputs:
                    merged.update(hint)
                together = run(pack_snapshot, calc, dict(inputs, **merged), day)
                left = [f for f in result.fixes if f in together.reason_keys]
                if left:
                    problems.append(f"{calc} {day} {inputs}: all hints together {merged} still fail {left}")
    assert not problems, "\n".join(problems[:20])
    if calc not in ("graduate_hiring",):  # graduate hiring has nothing a person could change
        assert checked, f"no {calc} input in the grid produced a hint: the grid misses its thresholds"


def test_small_business_hint_counts_the_new_hires_as_staff(pack_snapshot):
    """The issue's example: 20 staff with 4 hires is 20%; one more hire makes 5/21 = 23.8%, two make 6/22."""
    result = run(pack_snapshot, "startup_loan", {"applicant": "small_business", "staff": 20, "new_hires": 4,
                                                 "contract_years": 1, "arrears": False}, TODAY)
    assert result.would_change_inputs == [{"staff": 22, "new_hires": 6}]
    assert "再新招用2名" in result.would_change[0]
    for hires in range(0, 101):
        for staff in range(max(hires, 1), 130):
            r = run(pack_snapshot, "startup_loan", {"applicant": "small_business", "staff": staff,
                                                    "new_hires": hires, "contract_years": 1, "arrears": False},
                    TODAY)
            if r.eligible is True:
                continue
            (hint,) = r.would_change_inputs
            more = hint["new_hires"] - hires
            assert hint["staff"] - staff == more >= 1
            assert run(pack_snapshot, "startup_loan", {"applicant": "small_business", "contract_years": 1,
                                                       "arrears": False, **hint}, TODAY).eligible is True
            if more > 1:
                fewer = {"staff": staff + more - 1, "new_hires": hires + more - 1}
                assert run(pack_snapshot, "startup_loan", {"applicant": "small_business", "contract_years": 1,
                                                           "arrears": False, **fewer}, TODAY).eligible is False
