"""GET /api/v1/calculators and POST /api/v1/calculators/NAME."""
from __future__ import annotations

from eligibility import REGISTRY


def test_list_has_every_calculator_with_a_json_schema(client):
    r = client.get("/api/v1/calculators")
    assert r.status_code == 200
    calcs = {c["name"]: c for c in r.get_json()["calculators"]}
    assert set(calcs) == set(REGISTRY.names()) and len(calcs) == 10
    schema = calcs["internship"]["input_schema"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["required"]) == {"interns", "months"}
    assert schema["properties"]["interns"] == {"title": "见习人数", "type": "integer", "minimum": 1}
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


def test_body_that_is_not_a_json_object_is_400(client):
    r = client.post("/api/v1/calculators/internship", data="interns=4", content_type="text/plain")
    assert r.status_code == 400 and r.get_json()["field"] is None and "JSON" in r.get_json()["error"]
    r = client.post("/api/v1/calculators/internship", json=[1, 2])
    assert r.status_code == 400


def test_unknown_calculator_is_404_with_the_same_error_shape(client):
    r = client.post("/api/v1/calculators/pension", json={})
    assert r.status_code == 404
    assert set(r.get_json()) == {"error", "field"} and "internship" in r.get_json()["error"]


def test_get_on_a_calculator_is_not_allowed(client):
    assert client.get("/api/v1/calculators/internship").status_code == 405


def test_staff_override_applies_to_the_next_request(fresh_app):
    from knowledge.service import StaffService
    from webhooks.db import get_db

    client = fresh_app.test_client()
    payload = {"graduates": 2, "months": 12}
    assert client.post("/api/v1/calculators/graduate_hiring", json=payload).get_json()["amount"] == 36000
    with fresh_app.app_context():
        with get_db().session() as s:
            StaffService(s).override_parameter("graduate_hiring.monthly_allowance", "2026-06-01", 1800, "测试员", "测试")
    assert client.post("/api/v1/calculators/graduate_hiring", json=payload).get_json()["amount"] == 43200
