"""GET /api/v1/calculators and POST /api/v1/calculators/NAME."""
from __future__ import annotations

import pytest

from eligibility import REGISTRY
from eligibility.schema import PLAUSIBLE_MAX


def test_list_has_every_calculator_with_a_json_schema(client):
    r = client.get("/api/v1/calculators")
    assert r.status_code == 200
    calcs = {c["name"]: c for c in r.get_json()["calculators"]}
    assert set(calcs) == set(REGISTRY.names()) and len(calcs) == 10
    schema = calcs["internship"]["input_schema"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["required"]) == {"interns", "months"}
    # the bounds are the declaration's (eligibility/forms/internship.yaml), the same the dialogue uses
    assert schema["properties"]["interns"] == {"title": "见习人数", "type": "integer", "minimum": 1,
                                               "maximum": 100000}
    assert schema["properties"]["intern_age"]["maximum"] == 150  # a field's own bound wins
    assert schema["properties"]["as_of"]["format"] == "date"
    assert calcs["internship"]["clause"] == "12" and calcs["internship"]["url"] == "/calc/internship"
    loan = calcs["startup_loan"]["input_schema"]
    assert loan["properties"]["applicant"]["enum"] == ["individual", "small_business"]
    assert loan["allOf"] == [{"if": {"properties": {"applicant": {"const": "small_business"}}, "required": ["applicant"]},
                              "then": {"required": ["staff", "new_hires", "contract_years", "arrears"]}}]


def test_post_computes(client):
    r = client.post("/api/v1/calculators/startup_loan",
                    json={"applicant": "small_business", "staff": 120, "new_hires": 18, "contract_years": 1,
                          "arrears": False})
    assert r.status_code == 200
    body = r.get_json()
    assert body["eligible"] is True and body["amount"] == 3000000 and body["amount_kind"] == "max"
    assert body["as_of"] == "2026-11-27" and body["contacts"][0]["hotline"] == "12333"


def test_post_with_as_of(client):
    body = client.post("/api/v1/calculators/job_stabilization",
                       json={"last_year_ui_premium": 20000, "layoffs": "none", "hardship": True, "insured_staff": 10,
                             "monthly_ui_benefit": 1500, "monthly_social_insurance": 8000,
                             "as_of": "2019-03-01"}).get_json()
    assert body["amount_range"] == [24000, 90000] and body["amount"] is None


def test_bad_input_is_400_with_error_and_field(client):
    r = client.post("/api/v1/calculators/internship", json={"interns": 4, "months": 6, "retained": 5})
    assert r.status_code == 400 and r.get_json()["field"] == "retained" and "不能多于" in r.get_json()["error"]
    r = client.post("/api/v1/calculators/internship", json={"interns": "4", "months": 6})
    assert r.status_code == 400 and r.get_json()["field"] == "interns"


@pytest.mark.parametrize("body,content_type,says", [
    ("interns=4&months=6", "application/x-www-form-urlencoded", "不是合法的 JSON"),
    ("interns=4", "text/plain", "不是合法的 JSON"),
    ('{"interns": 4,', "application/json", "不是合法的 JSON"),
    (b"\xff\xfe\x00", "application/json", "JSON"),
    ("", "application/json", "应为 JSON 对象"),
    ("null", "application/json", "应为 JSON 对象"),
    ("[1, 2]", "application/json", "应为 JSON 对象"),
    ('"internship"', "application/json", "应为 JSON 对象"),
    ("[" * 100_000, "application/json", "嵌套过深"),                     # RecursionError, not a 500
    ('{"interns": 1' + "0" * 5000 + ', "months": 6}', "application/json", "数字位数过多"),
])
def test_body_that_is_not_a_json_object_is_400_never_500(client, body, content_type, says):
    r = client.post("/api/v1/calculators/internship", data=body, content_type=content_type)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json() == {"error": r.get_json()["error"], "field": None} and says in r.get_json()["error"]


def test_a_json_object_is_read_whatever_the_content_type(client):
    r = client.post("/api/v1/calculators/internship", data='{"interns": 5, "months": 6, "retained": 3}',
                    content_type="text/plain")
    assert r.status_code == 200 and r.get_json()["amount"] == 36000


@pytest.mark.parametrize("payload,field,says", [
    ({"months": 6}, "interns", "缺少"),
    ({"interns": "5", "months": 6}, "interns", "文字"),
    ({"interns": True, "months": 6}, "interns", "true/false"),
    ({"interns": -1, "months": 6}, "interns", "不能为负数"),
    ({"interns": 5.5, "months": 6}, "interns", "小数 5.5"),
    ({"interns": 5, "months": 6, "intern_status": "student"}, "intern_status", "只能是"),
    ({"interns": 5, "months": 6, "salary": 1}, "salary", "不认识的字段"),
    ({"interns": 5, "months": 6, "as_of": "27/11/2026"}, "as_of", "YYYY-MM-DD"),
    ({"interns": 5, "months": 6, "as_of": "2026-02-30"}, "as_of", "YYYY-MM-DD"),
    ({"interns": 5, "months": 6, "as_of": 20261127}, "as_of", "YYYY-MM-DD"),
    ({"interns": 1e308, "months": 6}, "interns", "数值过大"),
    ({"interns": 10 ** 30, "months": 6}, "interns", "数值过大"),
])
def test_every_kind_of_bad_input_is_400_naming_the_field(client, payload, field, says):
    r = client.post("/api/v1/calculators/internship", json=payload)
    assert r.status_code == 400
    body = r.get_json()
    assert set(body) == {"error", "field"} and body["field"] == field and says in body["error"], body


def test_huge_figures_in_a_range_are_refused_not_a_500(client):
    """6 × 1e308 × staff used to overflow float arithmetic into a 500."""
    r = client.post("/api/v1/calculators/job_stabilization",
                    json={"last_year_ui_premium": 1, "layoffs": "none", "hardship": True, "insured_staff": 10,
                          "monthly_ui_benefit": 1e308, "monthly_social_insurance": 1, "as_of": "2019-05-01"})
    assert r.status_code == 400 and r.get_json()["field"] == "monthly_ui_benefit"


@pytest.mark.parametrize("text", ['{"interns": NaN, "months": 6}', '{"interns": Infinity, "months": 6}'])
def test_nan_and_infinity_are_refused(client, text):
    r = client.post("/api/v1/calculators/internship", data=text, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["field"] == "interns" and "无效数字" in r.get_json()["error"]


def test_unknown_calculator_is_404_with_the_same_error_shape(client):
    r = client.post("/api/v1/calculators/pension", json={})
    assert r.status_code == 404
    assert r.get_json() == {"error": r.get_json()["error"], "field": "name"} and "internship" in r.get_json()["error"]
    r = client.post("/api/v1/calculators/pension", data="{not json", content_type="application/json")
    assert r.status_code == 404 and r.get_json()["field"] == "name"  # the name is judged before the body


def test_get_on_a_calculator_is_not_allowed(client):
    assert client.get("/api/v1/calculators/internship").status_code == 405


def test_staff_override_applies_to_the_next_request(fresh_app):
    from knowledge.service import StaffService
    from webhooks.db import get_db

    client = fresh_app.test_client()
    payload = {"graduates": 2, "months": 12}
    assert client.post("/api/v1/calculators/graduate_hiring", json=payload).get_json()["amount"] == 3000
    with fresh_app.app_context():
        with get_db().session() as s:
            StaffService(s).override_parameter("graduate_hiring.monthly_allowance", "2026-06-01", 1800, "测试员", "测试")
    after = client.post("/api/v1/calculators/graduate_hiring", json=payload).get_json()
    assert (after["amount"], after["amount_kind"]) == (3600, "monthly")
