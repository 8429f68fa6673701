"""Pure parts of the web pages: figures with their windows, calculator forms from a schema,
and the colour palette's contrast."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from knowledge.parameters import DatedValue, ParameterDef, Parameters
from webhooks.web.figures import figure_row, related_windows
from webhooks.web.forms import form_fields, payload_from_form

D = dt.date


def window(name, start, end, clause="16"):
    return ParameterDef(name, "执行期", clause, "window",
                        values=[DatedValue(D(2019, 1, 1), {"start": start, "end": end})])


def figure(name, value, clause="16", unit="years", values=None, window=""):
    return ParameterDef(name, name, clause, unit, values=values or [DatedValue(D(2019, 1, 1), value)], window=window)


PARAMS = Parameters([
    window("skill_upgrade.relaxed_window", "2019-01-01", "2020-12-31"),
    figure("skill_upgrade.insured_years_relaxed", 1, window="skill_upgrade.relaxed_window"),
    figure("skill_upgrade.primary", 1000, unit="CNY", window="skill_upgrade.relaxed_window"),
    figure("skill_upgrade.insured_years_standard", 3),
    window("internship.youth_extension", "2019-01-01", None, clause="12"),
    figure("internship.youth_max_age", 24, clause="12", unit="age", window="internship.youth_extension"),
    figure("internship.rate", 1000, clause="12", unit="CNY",
           values=[DatedValue(D(2019, 1, 1), 1000), DatedValue(D(2027, 1, 1), 1100, source="staff")]),
    figure("old.thing", 5, clause="12", unit="count",
           values=[DatedValue(D(2019, 1, 1), 5), DatedValue(D(2021, 1, 1), None)]),
])


def test_a_figure_follows_the_window_its_definition_names():
    names = lambda p: [d.name for d in related_windows(PARAMS.definition(p), PARAMS)]  # noqa: E731
    assert names("skill_upgrade.insured_years_relaxed") == ["skill_upgrade.relaxed_window"]
    assert names("skill_upgrade.primary") == ["skill_upgrade.relaxed_window"]  # 1000元 only for 2019–2020
    assert names("skill_upgrade.insured_years_standard") == []
    assert names("internship.youth_max_age") == ["internship.youth_extension"]
    assert names("internship.rate") == []


@pytest.mark.parametrize("day,expired", [(D(2020, 12, 31), False), (D(2021, 1, 1), True)])
def test_a_window_expires_the_day_after_its_end(day, expired):
    row = figure_row(PARAMS.definition("skill_upgrade.relaxed_window"), PARAMS, day)
    assert row.status == ("expired" if expired else "in_force") and row.expired is expired
    follower = figure_row(PARAMS.definition("skill_upgrade.insured_years_relaxed"), PARAMS, day)
    assert follower.expired is expired and follower.value_text == "1年"
    assert follower.windows[0].text == "2019年1月1日至2020年12月31日"


def test_an_open_window_never_expires():
    row = figure_row(PARAMS.definition("internship.youth_max_age"), PARAMS, D(2030, 1, 1))
    assert not row.expired and row.windows[0].text == "2019年1月1日起"


def test_a_later_dated_value_is_announced_and_then_applies():
    before = figure_row(PARAMS.definition("internship.rate"), PARAMS, D(2026, 11, 27))
    assert before.value_text == "1000元" and before.upcoming == [(D(2027, 1, 1), "1100元")] and before.changed
    after = figure_row(PARAMS.definition("internship.rate"), PARAMS, D(2027, 1, 1))
    assert after.value_text == "1100元" and after.since == D(2027, 1, 1) and after.upcoming == []


def test_a_repealed_figure_says_so():
    assert figure_row(PARAMS.definition("old.thing"), PARAMS, D(2020, 6, 1)).status == "in_force"
    row = figure_row(PARAMS.definition("old.thing"), PARAMS, D(2021, 1, 1))
    assert row.status == "repealed" and row.value_text == ""


def test_a_figure_before_its_first_date_is_not_in_force():
    row = figure_row(PARAMS.definition("internship.rate"), PARAMS, D(2018, 12, 31))
    assert row.status == "not_started" and row.value_text == ""


SCHEMA = {
    "type": "object",
    "properties": {
        "applicant": {"title": "申请人类型", "type": "string", "enum": ["individual", "small_business"],
                      "x-labels": {"individual": "个人", "small_business": "小微企业"}},
        "staff": {"title": "职工人数", "type": "integer", "minimum": 1, "description": "小微企业必填"},
        "ratio": {"title": "合同年限", "type": "number", "minimum": 0},
        "arrears": {"title": "是否欠缴", "type": "boolean", "default": False},
        "as_of": {"title": "测算日期", "type": "string", "format": "date"},
        "passed": {"title": "是否合格", "type": "boolean"},
    },
    "required": ["applicant"],
    "allOf": [{"if": {"properties": {"applicant": {"const": "small_business"}}, "required": ["applicant"]},
               "then": {"required": ["staff", "arrears"]}}],
}


def test_form_fields_follow_the_schema():
    fields = {f.name: f for f in form_fields(SCHEMA)}
    assert list(fields) == ["applicant", "staff", "ratio", "arrears", "as_of", "passed"]
    assert fields["applicant"].kind == "choice" and fields["applicant"].required
    assert fields["applicant"].options == [("individual", "个人"), ("small_business", "小微企业")]
    assert fields["staff"].kind == "number" and fields["staff"].minimum == 1 and fields["staff"].step == "1"
    assert fields["staff"].when == {"applicant": "small_business"} and not fields["staff"].required
    assert fields["ratio"].step == "any" and fields["ratio"].inputmode == "decimal"
    assert fields["arrears"].options == [("true", "是"), ("false", "否")] and fields["arrears"].value == "false"
    assert fields["as_of"].kind == "date" and fields["as_of"].advanced
    assert fields["passed"].options == [("true", "是"), ("false", "否"), ("", "不填")]  # optional: can be undone
    assert fields["passed"].value == ""


def test_submitted_values_and_the_error_are_kept():
    fields = {f.name: f for f in form_fields(SCHEMA, {"staff": "7"}, {"error": "staff（职工人数）太少", "field": "staff",
                                                                     "plain": "职工人数太少"})}
    assert fields["staff"].value == "7" and fields["staff"].error == "职工人数太少"
    assert fields["arrears"].value == "" and fields["applicant"].error == ""


def test_form_answers_become_typed_json():
    form = {"applicant": "small_business", "staff": "１２０", "ratio": "0.5", "arrears": "false", "as_of": ""}
    assert payload_from_form(SCHEMA, form) == {"applicant": "small_business", "staff": 120, "ratio": 0.5,
                                               "arrears": False}
    # what does not parse goes on as typed, so the calculator's message names the field
    assert payload_from_form(SCHEMA, {"staff": "很多", "ratio": "1"}) == {"staff": "很多", "ratio": 1}
    assert payload_from_form(SCHEMA, {"staff": "2.5"}) == {"staff": 2.5}


def test_errors_for_people_name_the_field_by_its_label_without_codes():
    """The web form shows the calculator's own sentence for a person (declared in the catalog), not a
    parsed-back API message."""
    from eligibility import InvalidInput, REGISTRY

    schema = REGISTRY.get("startup_loan").schema
    for payload, label in (({"applicant": "small_business", "staff": 0}, "企业现有在职职工人数"),
                           ({"applicant": "small_business", "staff": 5, "new_hires": 9, "contract_years": 1,
                             "arrears": False}, "当年新招用符合条件人员数"),
                           ({"applicant": "shop"}, "申请人类型")):
        try:
            schema.validate(payload)
        except InvalidInput as exc:
            assert label in exc.plain and not re.search(r"[a-z_]{3,}", exc.plain), exc.plain
            assert exc.field and exc.field in exc.message  # the API message keeps the code
        else:
            raise AssertionError(payload)

def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_palette_text_colours_have_enough_contrast():
    css = (Path(__file__).resolve().parents[2] / "webhooks" / "static" / "web" / "site.css").read_text()
    root = css[css.index(":root"):css.index("}", css.index(":root"))]
    var = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", root))
    pairs = [("fg", "bg"), ("fg", "card"), ("muted", "bg"), ("muted", "card"), ("link", "card"), ("link", "bg"),
             ("primary-fg", "primary"), ("primary", "card"), ("danger", "danger-bg"), ("danger", "card"),
             ("ok", "ok-bg"), ("warn-fg", "warn-bg")]
    for fg, bg in pairs:
        assert contrast(var[fg], var[bg]) >= 4.5, (fg, bg, round(contrast(var[fg], var[bg]), 2))
    assert contrast(var["fg"], "#95ec69") >= 4.5  # the visitor's own bubble


# Text on surfaces written as literal colours in the style sheets: (rule, text, background).
LITERAL_PAIRS = [
    (".btn", "var(--primary)", "#f2f2f2"),               # secondary button
    (".tabs", "var(--primary)", "#f7f7f7"),              # the current tab
    (".tabs", "var(--fg)", "#f7f7f7"),
    (".original", "var(--fg)", "#f7f7f7"),               # quoted plan text
    (".result", "var(--muted)", "#f7f7f7"),              # a result the office decides
    (".badge", "var(--fg)", "#e8e8e8"),
    (".opt-key", "var(--link)", "#eef0f5"),              # quick-reply number
    (".inputbar input::placeholder", "#6e6e6e", "#fff"),
]


def test_literal_colours_in_the_style_sheets_have_enough_contrast():
    web = Path(__file__).resolve().parents[2] / "webhooks" / "static" / "web"
    css = (web / "site.css").read_text() + (web / "chat.css").read_text()
    root = css[css.index(":root"):css.index("}", css.index(":root"))]
    var = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", root))

    def colour(c: str) -> str:
        c = var[c[6:-1]] if c.startswith("var(--") else c
        return "#ffffff" if c == "#fff" else c

    for rule, fg, bg in LITERAL_PAIRS:
        assert rule in css and bg in css, (rule, bg)  # the pair is still in the style sheets
        ratio = contrast(colour(fg), colour(bg))
        assert ratio >= 4.5, (rule, fg, bg, round(ratio, 2))
