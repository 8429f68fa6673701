"""Dated parameters: values by effective date, windows, staff overrides, rendering."""
import datetime as dt

import pytest

from knowledge.parameters import ParameterError, Parameters, Window, format_value
from knowledge.service import InvalidEdit, StaffService, load_snapshot

D = dt.date

SAMPLE = {
    "x.rate": {"clause": "12", "unit": "CNY", "values": {D(2019, 1, 1): 1000, D(2021, 1, 1): 1100, D(2023, 1, 1): None}},
    "x.window": {"clause": "16", "unit": "window", "values": {D(2019, 1, 1): {"start": D(2019, 1, 1), "end": D(2020, 12, 31)}}},
}


def test_value_in_force_on_each_side_of_a_change():
    p = Parameters.from_mapping(SAMPLE)
    assert p.at(D(2020, 12, 31))["x.rate"] == 1000
    assert p.at(D(2021, 1, 1))["x.rate"] == 1100
    with pytest.raises(ParameterError, match="no value"):
        p.at(D(2018, 12, 31))["x.rate"]
    with pytest.raises(ParameterError, match="repealed"):
        p.at(D(2023, 1, 1))["x.rate"]


def test_window_bounds_are_inclusive():
    w = Parameters.from_mapping(SAMPLE).at(D(2025, 1, 1)).window("x.window")
    assert w == Window(D(2019, 1, 1), D(2020, 12, 31))
    assert not w.covers(D(2018, 12, 31)) and w.covers(D(2019, 1, 1))
    assert w.covers(D(2020, 12, 31)) and not w.covers(D(2021, 1, 1))
    assert w.expired(D(2021, 1, 1)) and not w.expired(D(2020, 12, 31))
    assert w.text() == "2019年1月1日至2020年12月31日"
    assert Window(D(2019, 1, 1), None).text() == "2019年1月1日起"


@pytest.mark.parametrize("unit,value,text", [
    ("CNY", 1000, "1000元"), ("CNY", 150000, "15万元"), ("CNY", 3000000, "300万元"), ("CNY", 15000, "1.5万元"),
    ("percent", 50, "50%"), ("years", 3, "3年"), ("months", 6, "6个月"), ("age", 16, "16岁"), ("count", 700, "700"),
])
def test_format_value(unit, value, text):
    assert format_value(unit, value) == text


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="unit"):
        Parameters.from_mapping({"bad": {"clause": "1", "unit": "furlongs", "values": {}}})


def test_pack_figures_render_in_answers(database):
    with database.session() as s:
        view = load_snapshot(s).parameters.at(D(2026, 11, 27))
    assert view.render("每人每月{{internship.rate}}，最高{{startup_loan.individual_max}}") == "每人每月1000元，最高15万元"
    assert view.text("skill_upgrade.relaxed_window") == "2019年1月1日至2020年12月31日"


def test_staff_override_wins_from_its_date(fresh_db):
    with fresh_db.session() as s:
        # 1100 keeps the plan's order (the retained-intern rate, 1200, stays above the base rate)
        StaffService(s).override_parameter("internship.rate", "2026-07-01", "1100", "王科员", "县人社发〔2026〕1号")
    with fresh_db.session() as s:
        params = load_snapshot(s).parameters
    assert params.at(D(2026, 6, 30))["internship.rate"] == 1000
    assert params.at(D(2026, 7, 1))["internship.rate"] == 1100


@pytest.mark.parametrize("kwargs,field", [
    ({"name": "nope.rate", "effective": "2026-01-01", "value": 1}, "name"),
    ({"name": "internship.rate", "effective": "2026-13-01", "value": 1}, "effective"),
    ({"name": "internship.rate", "effective": "2026-01-01", "value": -5}, "value"),
    ({"name": "internship.rate", "effective": "2026-01-01", "value": "很多"}, "value"),
    ({"name": "skill_upgrade.relaxed_window", "effective": "2026-01-01",
      "value": {"start": "2026-01-01", "end": "2025-01-01"}}, "value"),
])
def test_bad_overrides_name_the_field(fresh_db, kwargs, field):
    with fresh_db.session() as s:
        with pytest.raises(Exception) as info:
            StaffService(s).override_parameter(author="a", reason="r", **kwargs)
    assert getattr(info.value, "field", None) == field


def test_staff_edits_are_checked_logged_and_reach_the_snapshot(fresh_db):
    from sqlalchemy import select

    from knowledge.models import Edit
    from knowledge.service import NotFound

    with fresh_db.session() as s:
        staff = StaffService(s)
        staff.update_office("hrss", {"phone": "0936-0000000"}, "王科员", "测试")
        staff.update_faq("internship-rate", {"question": "见习补贴每月多少？"}, "王科员", "措辞")
        with pytest.raises(InvalidEdit) as bad_field:
            staff.update_office("hrss", {"name": "别的局"}, "王科员", "")
        with pytest.raises(NotFound):
            staff.update_faq("no-such-faq", {"question": "?"}, "王科员", "")
        with pytest.raises(InvalidEdit) as bad_template:
            staff.update_faq("internship-rate", {"answer": "{{no.such}}"}, "王科员", "")
    assert bad_field.value.field == "name" and bad_template.value.field == "answer"
    with fresh_db.session() as s:
        snap = load_snapshot(s)
        edits = s.scalars(select(Edit).order_by(Edit.id)).all()
    assert snap.office("县人社局").phone == "0936-0000000"
    assert snap.faq("internship-rate").question == "见习补贴每月多少？"
    assert [(e.entity, e.entity_id) for e in edits] == [("office", "hrss"), ("faq", "internship-rate")]
    assert edits[0].before == {"phone": ""} and snap.version == 2
