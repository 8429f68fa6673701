"""`python -m eligibility calc NAME --json '{...}'` and `list`: output contract and exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eligibility.cli import main
from knowledge.db import Database
from knowledge.service import StaffService

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shared_db(databases):
    db = Database(databases.new("elig-cli")).init()
    yield db
    db.dispose()


@pytest.fixture()
def cli_db(shared_db, monkeypatch):
    """The database the CLI opens through the settings (JIUYE_DATABASE_URL), today pinned."""
    monkeypatch.setenv("JIUYE_DATABASE_URL", shared_db.url)
    monkeypatch.setenv("JIUYE_TODAY", "2026-11-27")
    return shared_db


@pytest.fixture()
def own_db(new_db_url, monkeypatch):
    db = Database(new_db_url("own")).init()
    monkeypatch.setenv("JIUYE_DATABASE_URL", db.url)
    monkeypatch.setenv("JIUYE_TODAY", "2026-11-27")
    yield db
    db.dispose()


def run(capsys, *argv: str) -> tuple[int, object]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_calc_prints_the_result_contract(cli_db, capsys):
    code, out = run(capsys, "calc", "internship", "--json", '{"interns": 5, "months": 6, "retained": 3}')
    assert code == 0
    assert out["calculator"] == "internship" and out["clause"] == "12" and out["as_of"] == "2026-11-27"
    assert out["eligible"] is True and out["amount"] == 36000 and out["amount_kind"] == "exact"
    assert out["amount_range"] is None and out["expired"] is False
    assert out["reasons"] and all("第12条" in r for r in out["reasons"])
    assert out["contacts"] == [{"office": "县人社局", "phone": "", "address": "", "hours": "", "hotline": "12333"}]


def test_calc_as_of_in_the_input(cli_db, capsys):
    code, out = run(capsys, "calc", "skill_upgrade", "--json",
                    '{"level": "intermediate", "insured_years": 1.5, "as_of": "2020-06-01"}')
    assert code == 0 and out["as_of"] == "2020-06-01" and out["amount"] == 1500


@pytest.mark.parametrize("name,payload,field", [
    ("internship", '{"interns": 4, "months": 6, "retained": 5}', "retained"),
    ("internship", '{"months": 6}', "interns"),
    ("internship", '{"interns": true, "months": 6}', "interns"),
    ("internship", '{"interns": 1, "months": 6, "bonus": 1}', "bonus"),
    ("skill_upgrade", '{"level": "expert", "insured_years": 1}', "level"),
    ("startup_loan", '{"applicant": "small_business", "staff": -3}', "staff"),
    ("internship", '{"interns": 1, "months": 6, "as_of": "yesterday"}', "as_of"),
    ("internship", '{"interns": 1, "months": 6, "as_of": 20261127}', "as_of"),
    ("internship", '{"interns": 2.5, "months": 6}', "interns"),
    ("internship", '{"interns": 1, "months": 6, "intern_status": "student"}', "intern_status"),
    ("internship", '{"interns": 1e308, "months": 6}', "interns"),
    ("startup_loan", '{"applicant": "small_business", "staff": 10, "new_hires": 1, "contract_years": 1, '
                     '"arrears": "no"}', "arrears"),
    ("internship", "[1, 2]", None),
    ("internship", "", None),
    ("internship", '{"interns": 1,', "json"),
    ("internship", "[" * 50_000, "json"),
    ("no_such_calculator", "{}", "name"),
    ("no_such_calculator", "{not json", "name"),
])
def test_bad_input_prints_error_and_field_and_exits_2(cli_db, capsys, name, payload, field):
    code, out = run(capsys, "calc", name, "--json", payload)
    assert code == 2
    assert set(out) == {"error", "field"} and out["field"] == field and out["error"]


def test_list_gives_every_calculator_with_its_schema(capsys):
    code, out = run(capsys, "list")
    assert code == 0
    assert [c["name"] for c in out] == ["internship", "skill_upgrade", "startup_loan", "startup_subsidy",
                                        "job_stabilization", "graduate_hiring", "training", "poverty_hire_training",
                                        "incubator", "skill_master_studio"]
    assert all(c["input_schema"]["type"] == "object" and c["clause"] and c["title"] for c in out)


def test_cli_reads_the_database_so_staff_overrides_apply(own_db, capsys):
    with own_db.session() as s:
        StaffService(s).override_parameter("internship.rate_retained", "2026-01-01", 1300, "测试员", "测试：新文件")
    code, out = run(capsys, "calc", "internship", "--json", '{"interns": 5, "months": 6, "retained": 3}')
    assert code == 0 and out["amount"] == 39000 and any("1300元" in r for r in out["reasons"])
    code, out = run(capsys, "calc", "internship", "--json",
                    '{"interns": 5, "months": 6, "retained": 3, "as_of": "2025-12-31"}')
    assert out["amount"] == 36000  # the override takes effect on its date


@pytest.mark.processes
def test_module_entry_point_and_exit_code(cli_db):
    env = dict(os.environ)
    ok = subprocess.run([sys.executable, "-m", "eligibility", "calc", "startup_loan", "--json",
                         '{"applicant": "individual"}'], capture_output=True, text=True, cwd=ROOT, env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["amount"] == 150000
    bad = subprocess.run([sys.executable, "-m", "eligibility", "calc", "startup_loan", "--json",
                          '{"applicant": "bank"}'], capture_output=True, text=True, cwd=ROOT, env=env)
    assert bad.returncode == 2 and json.loads(bad.stdout)["field"] == "applicant"
