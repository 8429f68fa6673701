"""What staff change in the console and where it shows: live edits on another worker, conflicts,
history and revert, figures, procedures, offices, the inbox, escaping, export and import."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from .conftest import Console, add_accounts, make_app

ASK = "见习补贴每人每月多少"


def ask(app, text: str = ASK, user: str | None = None) -> dict:
    body = {"text": text}
    if user:
        body["user"] = user
    return app.test_client().post("/api/v1/ask", json=body).get_json()


def faq_version(console: Console, faq_id: str) -> str:
    html = console.get(f"/console/faq/{faq_id}").get_data(as_text=True)
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def faq_form(console: Console, faq_id: str, **changes) -> dict:
    with console.app.app_context():
        from knowledge.models import Faq
        from webhooks.db import get_db

        with get_db().session() as s:
            row = s.get(Faq, faq_id)
            data = {"question": row.question, "phrasings": "\n".join(row.phrasings), "answer": row.answer,
                    "clause": row.clause, "calculator": row.calculator, "version": row.version}
            if row.enabled:
                data["enabled"] = "on"
    data.update(changes)
    return data


@pytest.fixture()
def two_workers(new_db_url):
    """Two apps on one database, as two gunicorn workers: edit in one, ask the other."""
    url = new_db_url("two")
    a, b = make_app(url), make_app(url)
    add_accounts(a)
    yield a, b
    for app in (a, b):
        app.extensions["jiuye.db"].dispose()


def test_an_edit_in_one_worker_changes_what_the_other_answers_without_restart(two_workers):
    a, b = two_workers
    before = ask(b)
    assert before["faq_id"] == "internship-rate" and "1000元" in before["reply"]
    editor = Console(a, "editor")
    r = editor.post("/console/parameters/internship.rate",
                    {"value": "1100", "effective": "2026年1月1日", "reason": "测试文号〔2026〕1号"})
    assert r.status_code == 302, r.get_data(as_text=True)
    after = ask(b)
    assert "1100元" in after["reply"] and "1000元" not in after["reply"]
    assert "测试文号〔2026〕1号" in after["reply"]  # the answer names the override's reference by the clause
    assert re.search(r"（依据：实施方案第12条；测试文号〔2026〕1号）", after["reply"])
    # an FAQ edit reaches the other worker too
    form = faq_form(editor, "internship-rate", answer="测试答案：见习补贴按{{internship.rate}}。（依据：实施方案第12条）")
    assert editor.post("/console/faq/internship-rate", form).status_code == 302
    assert ask(b)["reply"].startswith("测试答案：见习补贴按1100元")
    # the calculators and /standards of the other worker follow as well
    standards = b.test_client().get("/standards").get_data(as_text=True)
    assert "1100元" in standards
    calc = b.test_client().post("/api/v1/calculators/internship",
                                json={"interns": 1, "months": 6, "retained": 0}).get_json()
    assert "1100" in str(calc)


def test_a_second_editor_saving_the_same_entry_is_told_and_nothing_is_lost(capp):
    first, second = Console(capp, "editor"), Console(capp, "admin")
    form1 = faq_form(first, "internship-rate")
    form2 = dict(form1)
    form1["answer"] = "第一位编辑的答案。（依据：实施方案第12条）"
    form2["answer"] = "第二位编辑的答案。（依据：实施方案第12条）"
    assert first.post("/console/faq/internship-rate", form1).status_code == 302
    r = second.post("/console/faq/internship-rate", form2)
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "已被测试editor（test-editor）修改" in html and "第一位编辑的答案" in html and "第二位编辑的答案" in html
    assert ask(capp, user="conflict")["reply"].startswith("第一位编辑的答案")
    # saving again from the conflict page (it carries the new version) is a deliberate overwrite
    form2["version"] = re.search(r'name="version" value="(\d+)"', html).group(1)
    assert second.post("/console/faq/internship-rate", form2).status_code == 302
    assert ask(capp, user="conflict2")["reply"].startswith("第二位编辑的答案")


def test_every_change_is_recorded_and_can_be_reverted(capp):
    editor = Console(capp, "editor")
    original = ask(capp)["reply"]
    form = faq_form(editor, "internship-rate", answer="临时答案。（依据：实施方案第12条）", reason="测试原因")
    editor.post("/console/faq/internship-rate", form)
    html = editor.get("/console/faq/internship-rate").get_data(as_text=True)
    assert "测试原因" in html and "测试editor" in html and "临时答案" in html
    edit_id = re.search(r"/console/edits/(\d+)/revert", html).group(1)
    r = editor.post(f"/console/edits/{edit_id}/revert", {"back": "/console/faq/internship-rate"})
    assert r.status_code == 302
    assert ask(capp, user="after-revert")["reply"] == original


def test_disabling_an_entry_takes_it_out_of_answers(capp):
    editor = Console(capp, "editor")
    form = faq_form(editor, "internship-rate")
    form.pop("enabled")
    editor.post("/console/faq/internship-rate", form)
    assert ask(capp, user="disabled")["faq_id"] != "internship-rate"
    rows = editor.get("/console/faq?state=off").get_data(as_text=True)
    assert "已停用" in rows


def test_faq_search_by_chinese_pinyin_and_initials_and_clause(capp):
    viewer = Console(capp, "viewer")
    for q in ("见习补贴", "jianxibutie", "jxbt"):
        html = viewer.get(f"/console/faq?q={q}").get_data(as_text=True)
        assert "/console/faq/internship-rate" in html, q
    html = viewer.get("/console/faq?clause=10").get_data(as_text=True)
    assert "/console/faq/internship-rate" not in html and "第10条" in html


def test_try_box_shows_how_the_assistant_answers_now(capp):
    viewer = Console(capp, "viewer")
    r = viewer.post("/console/try", {"q": ASK}, form_page="/console/faq")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "1000元" in html and "有依据的回答" in html
    # staff trials are not residents' questions
    html = viewer.get("/console/inbox").get_data(as_text=True)
    assert ASK not in html


def test_a_new_entry_answers_and_bad_input_is_explained(capp):
    editor = Console(capp, "editor")
    data = {"id": "test-new-entry", "question": "测试专用问题：扎尕那牦牛合作社", "phrasings": "扎尕那牦牛合作社测试",
            "answer": "这是测试答案。（依据：实施方案第1条）", "clause": "1", "enabled": "on"}
    r = editor.post("/console/faq/new", data)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert ask(capp, "扎尕那牦牛合作社测试", user="new")["faq_id"] == "test-new-entry"
    bad = editor.post("/console/faq/new", {**data, "id": "Test Bad", "answer": "{{no.such}}"})
    assert bad.status_code == 422 and "编号只能用" in bad.get_data(as_text=True)
    bad = editor.post("/console/faq/new", {**data, "id": "test-other", "answer": "按{{no.such}}发放"})
    assert bad.status_code == 422 and "不存在的数字" in bad.get_data(as_text=True)


def test_figures_take_usual_dates_and_refuse_to_break_the_plans_order(capp):
    editor = Console(capp, "editor")
    html = editor.get("/console/parameters?q=见习补贴").get_data(as_text=True)
    assert "/console/parameters/internship.rate" in html
    # the retained-intern rate below the base rate
    r = editor.post("/console/parameters/internship.rate_retained",
                    {"value": "900", "effective": "2026/12/1", "reason": "测试文号"})
    assert r.status_code == 422 and "应高于基本标准" in r.get_data(as_text=True)
    # a range's low above its high
    r = editor.post("/console/parameters/incubator.subsidy_min",
                    {"value": "4万", "effective": "20261201", "reason": "测试文号"})
    assert r.status_code == 422 and "下限不能高于上限" in r.get_data(as_text=True)
    # a window ending before it starts
    r = editor.post("/console/parameters/skill_upgrade.relaxed_window",
                    {"start": "2027-01-01", "end": "2026年1月1日", "effective": "2027.1.1", "reason": "测试文号"})
    assert r.status_code == 422 and "结束日期不能早于开始日期" in r.get_data(as_text=True)
    r = editor.post("/console/parameters/internship.rate", {"value": "1100", "effective": "2026年13月1日", "reason": "x"})
    assert r.status_code == 422 and "看不懂日期" in r.get_data(as_text=True)
    r = editor.post("/console/parameters/internship.rate", {"value": "1100", "effective": "2026-01-01", "reason": ""})
    assert r.status_code == 422 and "文号" in r.get_data(as_text=True)
    # fine: a higher retained rate first, then the base rate
    assert editor.post("/console/parameters/internship.rate_retained",
                       {"value": "1500", "effective": "2026年12月1日", "reason": "测试文号"}).status_code == 302
    html = editor.get("/console/parameters/internship.rate_retained").get_data(as_text=True)
    assert "1500元" in html and "测试文号" in html and "2026-12-01" in html


def test_the_matcher_index_cache_key_includes_the_figures(fresh_db):
    from knowledge.matcher import _fingerprint
    from knowledge.service import StaffService, load_snapshot

    with fresh_db.session() as s:
        before = _fingerprint(load_snapshot(s))
        StaffService(s).override_parameter("internship.rate", "2026-01-01", 1100, "测试", "测试文号")
        after = _fingerprint(load_snapshot(s))
    assert before != after


def test_offices_show_at_once_in_replies_cards_and_the_offices_page(capp):
    editor = Console(capp, "editor")
    r = editor.post("/console/offices/hrss", {"phone": "0000-0000000", "address": "测试地址1号",
                                              "hours": "测试时间 周一至周五", "verified_by": "测试核实人",
                                              "verified_at": "2026年12月5日", "version": 1})
    assert r.status_code == 302, r.get_data(as_text=True)
    reply = ask(capp, "县人社局电话多少", user="office")
    card = next(c for c in reply["contacts"] if c["office"] == "县人社局")
    assert card["phone"] == "0000-0000000" and card["hours"] == "测试时间 周一至周五"
    page = capp.test_client().get("/offices").get_data(as_text=True)
    assert "0000-0000000" in page and "测试地址1号" in page and "测试核实人 2026年12月5日核实" in page
    bad = editor.post("/console/offices/hrss", {"phone": "call me", "verified_by": "x", "version": 2})
    assert bad.status_code == 422 and "电话只能包含" in bad.get_data(as_text=True)


def test_procedures_show_on_the_policy_page_once_entered(capp):
    from knowledge.service import load_snapshot

    assert "待公布" in capp.test_client().get("/policies/12").get_data(as_text=True)
    editor = Console(capp, "editor")
    r = editor.post("/console/procedures/new", {"clause": "12", "calculator": "internship", "title": "测试事项申领",
                                                "steps": "测试步骤一\n测试步骤二", "documents": "测试材料甲",
                                                "where": "测试窗口", "source": "测试来源 电话确认 2026-12-05",
                                                "enabled": "on"})
    assert r.status_code == 302, r.get_data(as_text=True)
    page = capp.test_client().get("/policies/12").get_data(as_text=True)
    assert "测试步骤二" in page and "测试材料甲" in page and "测试来源 电话确认 2026-12-05" in page
    with capp.app_context():
        from webhooks.db import get_db

        with get_db().session() as s:
            procs = load_snapshot(s).procedures_for("12")
    assert [p.title for p in procs] == ["测试事项申领"] and procs[0].steps == ("测试步骤一", "测试步骤二")
    missing_source = editor.post("/console/procedures/new", {"clause": "12", "title": "x", "steps": "a", "source": ""})
    assert missing_source.status_code == 422 and "来源" in missing_source.get_data(as_text=True)


def test_inbox_groups_questions_and_each_action_works(capp):
    for i, text in enumerate(["测试问题牦牛毛线怎么卖", "测试问题牦牛毛线怎么卖啊", "测试问题 牦牛毛线咋卖",
                              "测试问题完全不同的宇宙飞船"]):
        ask(capp, text, user=f"inbox-{i}")
    editor = Console(capp, "editor")
    html = editor.get("/console/inbox").get_data(as_text=True)
    assert "3次" in html and "宇宙飞船" in html
    ids = re.findall(r'name="ids" value="([\d,]+)"', html)
    group = next(i for i in ids if i.count(",") == 2)
    r = editor.post("/console/inbox/phrasing", {"ids": group, "faq_id": "internship-rate", "text": "测试问题牦牛毛线怎么卖"})
    assert r.status_code == 302
    html = editor.get("/console/inbox").get_data(as_text=True)
    assert '<h2 class="q">测试问题' in html and "牦牛毛线" not in html.split("</h1>")[1].split("</p>", 1)[1]
    with capp.app_context():
        from knowledge.models import Faq
        from webhooks.db import get_db

        with get_db().session() as s:
            assert "测试问题牦牛毛线怎么卖" in s.get(Faq, "internship-rate").phrasings
    other = re.findall(r'name="ids" value="([\d,]+)"', html)[0]
    new = editor.get(f"/console/faq/new?from={other}").get_data(as_text=True)
    assert "宇宙飞船" in new
    editor.post("/console/inbox/handled", {"ids": other})
    assert "宇宙飞船" not in editor.get("/console/inbox").get_data(as_text=True)


SCRIPT = "<script>alert(1)</script> ]]> 测试"


def test_markup_in_an_answer_is_shown_as_text_in_console_api_and_wechat(new_db_url):
    from webhooks.wechat.simulator import WeChatSimulator

    app = make_app(new_db_url("x"),
                   WECHAT={"TOKEN": "123456", "APP_ID": "wx49f0ab532d5d035a", "APP_SECRET": "",
                           "ENCODING_AES_KEY": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
                           "REPLY_DEADLINE_SECONDS": 30, "STALE_AFTER_SECONDS": 60})
    add_accounts(app)
    editor = Console(app, "editor")
    form = faq_form(editor, "internship-rate", answer=SCRIPT + "（依据：实施方案第12条）",
                    question="测试<script>问题</script>")
    assert editor.post("/console/faq/internship-rate", form).status_code == 302
    html = editor.get("/console/faq/internship-rate").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    try_html = editor.post("/console/try", {"q": ASK}).get_data(as_text=True)
    assert "<script>alert" not in try_html and "&lt;script&gt;alert(1)" in try_html
    api = ask(app)
    assert api["reply"].startswith(SCRIPT)  # JSON carries the text; the chat page sets it as textContent
    reply = WeChatSimulator(app).send_text(ASK)
    assert "<script>alert(1)</script> ]]> 测试" in reply.text  # parsed back out of the XML intact
    app.extensions["jiuye.db"].dispose()


def test_export_then_reseed_of_an_edited_database_loses_nothing(capp, tmp_path: Path, new_db_url):
    from knowledge.db import Database
    from knowledge.models import Callback, Faq, Office, Procedure, Setting
    from knowledge.service import StaffService, load_snapshot
    from sqlalchemy import select

    admin = Console(capp, "admin")
    with capp.app_context():
        from webhooks.db import get_db

        with get_db().session() as s:
            svc = StaffService(s)
            svc.update_faq("internship-rate", {"enabled": False}, "测试", "停用")
            svc.update_faq("loan-individual-limit" if s.get(Faq, "loan-individual-limit") else
                           s.scalars(select(Faq.id)).first(), {"answer": "测试改过的答案。（依据：实施方案第10条）"}, "测试")
            svc.override_parameter("internship.rate", "2026-01-01", 1100, "测试", "测试文号〔2026〕1号")
            svc.override_parameter("skill_upgrade.relaxed_window", "2026-06-01",
                                   {"start": "2026-06-01", "end": None}, "测试", "测试文号〔2026〕2号")
            svc.update_office("hrss", {"phone": "0000-0000000", "hours": "测试时间", "verified_by": "测试",
                                       "verified_at": "2026-12-05"}, "测试")
            svc.create_procedure({"clause": "12", "title": "测试事项", "steps": ["测试步骤"], "source": "测试来源"},
                                 "测试")
            svc.set_identity({"operator": "测试运营单位", "public_base_url": "https://test.example"}, "测试")
            before = load_snapshot(s)
            before_faqs = {f.id: (f.enabled, f.answer, f.question) for f in s.scalars(select(Faq))}
            before_office = {o.id: (o.phone, o.hours, o.verified_by, o.verified_at) for o in s.scalars(select(Office))}
            s.add(Callback(user_ref="t", name="测试", phone="13800000000", consent_text="x"))
    r = admin.get("/console/export/pack.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    folder = tmp_path / "pack"
    zipfile.ZipFile(io.BytesIO(r.data)).extractall(folder)
    again = Database(new_db_url("again", empty=True), data_dir=folder).init()
    with again.session() as s:
        after = load_snapshot(s)
        assert {f.id: (f.enabled, f.answer, f.question) for f in s.scalars(select(Faq))} == before_faqs
        assert {o.id: (o.phone, o.hours, o.verified_by, o.verified_at) for o in s.scalars(select(Office))} == before_office
        assert [(p.clause, p.title, p.steps, p.source) for p in s.scalars(select(Procedure))] == \
               [("12", "测试事项", ["测试步骤"], "测试来源")]
        assert s.get(Setting, "operator").value == "测试运营单位"
    assert {n: [(v.effective, v.value, v.source, v.author, v.reason) for v in d.values]
            for n, d in after.parameters.defs.items()} == \
           {n: [(v.effective, v.value, v.source, v.author, v.reason) for v in d.values]
            for n, d in before.parameters.defs.items()}
    assert after.clauses == before.clauses and after.offices == before.offices
    assert after.faqs == before.faqs and after.identity == before.identity
    again.dispose()


def test_import_shows_a_diff_first_and_then_replaces_the_knowledge(capp, tmp_path: Path):
    admin = Console(capp, "admin")
    zipped = admin.get("/console/export/pack.zip").data
    # an edited copy: one answer changed
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(zipped)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "parameters.yaml":
                data = data.replace(b"2019-01-01': 1000", b"2019-01-01': 1000")
            if info.filename.startswith("faq/") and b"id: internship-rate" in data:
                text = data.decode()
                text = re.sub(r"(id: internship-rate\n(?:.*\n)*?  answer: ).*", r"\1导入测试答案。（依据：实施方案第12条）",
                              text, count=1)
                data = text.encode()
            dst.writestr(info, data)
    r = admin.post("/console/export/import", {"pack": (io.BytesIO(buf.getvalue()), "test.zip")},
                   form_page="/console/export", content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "internship-rate" in html and "答案" in html
    assert "1000元" in ask(capp, user="before-import")["reply"]  # nothing changed yet
    tok = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    r = admin.post("/console/export/import/confirm", {"token": tok})
    assert r.status_code == 302
    assert ask(capp, user="after-import")["reply"].startswith("导入测试答案")
    bad = admin.post("/console/export/import", {"pack": (io.BytesIO(b"not a zip"), "x.zip")},
                     form_page="/console/export", content_type="multipart/form-data", follow_redirects=True)
    assert "这不是ZIP文件" in bad.get_data(as_text=True)


def test_service_identity_shows_on_the_chat_page_and_poster(capp):
    poster = capp.test_client().get("/poster").get_data(as_text=True)
    assert "对外网址还没有设置" in poster
    admin = Console(capp, "admin")
    r = admin.post("/console/settings", {"operator": "测试运营单位", "plan_date": "2019年5月1日",
                                         "content_updated": "2026-12-05", "public_base_url": "https://test.example"})
    assert r.status_code == 302, r.get_data(as_text=True)
    chat = capp.test_client().get("/").get_data(as_text=True)
    assert "测试运营单位" in chat and "内容更新于2026年12月5日" in chat
    poster = capp.test_client().get("/poster").get_data(as_text=True)
    assert "对外网址还没有设置" not in poster and "https://test.example/" in poster and "测试运营单位" in poster
    bad = admin.post("/console/settings", {"public_base_url": "javascript:alert(1)"})
    assert bad.status_code == 422


def test_dashboard_draws_its_charts_on_the_server(capp):
    ask(capp, "测试问题今天天气怎么样", user="dash")
    ask(capp, ASK, user="dash")
    html = Console(capp, "viewer").get("/console/").get_data(as_text=True)
    assert html.count("<svg") >= 3 and "每周未答率" in html and "<script>" not in html.split("</head>")[1]
