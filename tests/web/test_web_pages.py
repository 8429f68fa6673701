"""Mobile web pages through the Flask client: every page, its content without JavaScript,
bad input, the visitor cookie, no third-party assets, and the chat page's weight."""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from knowledge.service import StaffService
from webhooks.db import get_db

PAGES = ["/", "/policies", "/standards", "/offices", "/complaints", "/poster", "/calc"]
CHAT_BUDGET = 100 * 1000  # bytes, HTML + CSS + JS, uncompressed


class Assets(HTMLParser):
    """Collects every URL a page loads (scripts, styles, images, icons) and every link."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.loads.append(a["src"])
            elif a.get("type") != "application/json":
                self.inline_scripts += 1
        elif tag == "link" and a.get("href"):
            self.loads.append(a["href"])
        elif tag in ("img", "iframe", "source", "audio", "video") and a.get("src"):
            self.loads.append(a["src"])
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


def parse(html: str) -> Assets:
    p = Assets()
    p.feed(html)
    return p


def fetch(client, url: str) -> tuple[int, bytes]:
    """GET a URL and close the response (static files are streamed from disk)."""
    with client.get(url) as r:
        return r.status_code, r.get_data()


def text_of(html: str) -> str:
    """What a reader without JavaScript sees: the markup without tags and scripts."""
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def main_of(html: str) -> str:
    """The page's own content (<main>), without the header, tabs and the footer every page shares:
    a check that the page names a hotline must not pass on the footer's hotlines alone."""
    match = re.search(r'<main id="main">(.*)</main>', html, flags=re.S)
    assert match, "a page without <main>"
    return match.group(1)


@pytest.fixture(scope="module")
def snap(app):
    with app.app_context():
        from webhooks.db import get_engine

        return get_engine().refresh()


@pytest.mark.parametrize("path", PAGES + ["/policies/10", "/calc/internship"])
def test_every_page_is_served_locally(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = parse(r.get_data(as_text=True))
    assert page.inline_scripts == 0  # the CSP allows only this app's script files
    for url in page.loads:
        assert url.startswith("/") and not url.startswith("//"), f"{path} loads {url} from elsewhere"
        assert fetch(client, url)[0] == 200, url
    for url in page.links:
        assert url.startswith(("/", "#", "tel:")), f"{path} links out to {url}"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp


class Outline(HTMLParser):
    """Headings, form controls with their labels, and buttons with their names."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = None
        self.headings: list[int] = []
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.buttons: list[str] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append({**a, "wrapped": self.label_depth > 0})
        elif tag == "button":
            self._button = [a.get("aria-label") or ""]

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag == "label":
            self.label_depth -= 1
        elif tag == "button" and self._button is not None:
            self.buttons.append("".join(self._button).strip())
            self._button = None

    def handle_data(self, data):  # noqa: ANN001
        if self._button is not None:
            self._button.append(data)


@pytest.mark.parametrize("path", PAGES + ["/policies/16", "/policies/I", "/calc/startup_loan", "/calc/internship",
                                          "/policies/99"])
def test_pages_have_a_language_an_outline_labels_and_named_buttons(client, path):
    page = Outline()
    page.feed(client.get(path).get_data(as_text=True))
    assert page.lang == "zh-CN"
    assert page.headings[0] == 1 and page.headings.count(1) == 1, page.headings
    for before, after in zip(page.headings, page.headings[1:]):
        assert after <= before + 1, f"{path}: h{before} is followed by h{after}"
    for control in page.controls:
        assert control["wrapped"] or control.get("id") in page.label_for or control.get("aria-label"), control
    assert all(page.buttons), page.buttons


def test_chat_page_weight_is_within_budget(client):
    r = client.get("/")
    html = r.get_data()
    total = len(html)
    sizes = {"/": len(html)}
    for url in parse(html.decode()).loads:
        body = fetch(client, url)[1]
        sizes[url] = len(body)
        total += len(body)
    print(f"chat page weight: {total} bytes {sizes}")
    assert total <= CHAT_BUDGET, sizes


# The visitor cookie: a random id and its signature (itsdangerous, SECRET_KEY).
SIGNED_UID = r"jiuye_uid=(w[A-Za-z0-9_-]{24})\.[A-Za-z0-9_-]{20,};"


def test_chat_page_sets_an_anonymous_visitor_cookie(app):
    client = app.test_client()
    r = client.get("/")
    cookie = r.headers["Set-Cookie"]
    assert re.match(SIGNED_UID, cookie) and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=2592000" in cookie  # a month, not a year (shared township PCs)
    # the same browser keeps its id
    assert "Set-Cookie" not in client.get("/").headers
    text = text_of(r.get_data(as_text=True))
    assert "肃南县就业政策小助手" in text and "政策清单" in text  # a no-script reader is pointed to the pages


def test_chat_conversation_is_keyed_by_the_cookie(app):
    client = app.test_client()
    client.get("/")
    menu = client.post("/api/v1/ask", json={"text": "菜单"}).get_json()
    label = next(o["label"] for o in menu["options"] if o["key"] == "2")
    theme = client.post("/api/v1/ask", json={"text": "2"}).get_json()
    assert theme["kind"] == "menu" and label in theme["reply"]
    other = app.test_client()
    other.get("/")
    assert other.post("/api/v1/ask", json={"text": "2"}).get_json()["reply"] != theme["reply"]


@pytest.mark.parametrize("cookie", ["<bad id>", "", "short", "a" * 65, "w" + "é" * 20, "a;b=c", '"quoted-id-123"',
                                    "\x00" * 12])
def test_a_forged_cookie_is_replaced(app, cookie):
    client = app.test_client()
    client.set_cookie("jiuye_uid", cookie)
    r = client.get("/")
    assert r.status_code == 200
    new = re.match(SIGNED_UID, r.headers["Set-Cookie"])
    assert new, r.headers["Set-Cookie"]
    assert client.get("/").status_code == 200 and "Set-Cookie" not in client.get("/policies").headers
    assert client.post("/api/v1/ask", json={"text": "菜单"}).status_code == 200


def test_raw_garbage_cookie_headers_are_survived(app):
    for raw in ["jiuye_uid=\xff\xfe", "jiuye_uid=" + "a" * 8000, "jiuye_uid", "=;;;", "jiuye_uid=中文"]:
        r = app.test_client().get("/", headers={"Cookie": raw})
        assert r.status_code == 200 and r.headers["Set-Cookie"].startswith("jiuye_uid=w"), raw[:20]


def conversation_tag_of(html: str) -> str:
    return re.search(r'data-conversation="([0-9a-f]{16})"', html).group(1)


def test_the_chat_history_is_tagged_with_the_cookie_it_belongs_to(app):
    """The page's history tag follows the cookie: same on a reload, new with a new cookie, and on a
    first visit the tag of the very cookie that response sets."""
    from webhooks.web.common import conversation_tag

    client = app.test_client()
    first = client.get("/")
    uid = re.match(SIGNED_UID, first.headers["Set-Cookie"]).group(1)
    tag = conversation_tag_of(first.get_data(as_text=True))
    assert tag == conversation_tag(uid)
    assert conversation_tag_of(client.get("/").get_data(as_text=True)) == tag
    other = app.test_client()
    assert conversation_tag_of(other.get("/").get_data(as_text=True)) != tag
    assert uid not in first.get_data(as_text=True)  # the HttpOnly id itself never reaches the page


def test_an_unsigned_or_forged_cookie_is_refused_and_replaced(app):
    """Issue 10, item 3: a cookie value must not be choosable — not a bare id, not one signed with
    another key. Before the fix a bare `w…` id was accepted as is."""
    from itsdangerous import Signer
    import hashlib

    client = app.test_client()
    first = client.get("/")
    signed = re.match(r"jiuye_uid=([^;]+);", first.headers["Set-Cookie"]).group(1)
    uid = signed.split(".")[0]
    other_key = Signer(b"not-our-key", salt="jiuye.visitor", digest_method=hashlib.sha256).sign(uid).decode()
    for forged in (uid, other_key, uid + ".AAAAAAAAAAAAAAAAAAAAAAAAAAA", signed[:-2] + "xx"):
        c = app.test_client()
        c.set_cookie("jiuye_uid", forged)
        r = c.get("/")
        new = re.match(SIGNED_UID, r.headers.get("Set-Cookie", ""))
        assert new and new.group(1) != uid, forged


def test_policy_list_names_every_clause_by_theme(client, snap):
    text = text_of(client.get("/policies").get_data(as_text=True))
    for clause in snap.clauses.values():
        assert clause.title in text
    assert "创业贷款与创业补贴" in text and "就业见习补贴" in text
    assert "{{" not in text  # figures are rendered, not placeholders


def test_every_clause_has_a_page(client, snap):
    for cid, clause in snap.clauses.items():
        r = client.get(f"/policies/{cid}")
        assert r.status_code == 200, cid
        text = text_of(r.get_data(as_text=True))
        assert clause.title in text and clause.citation in text
        assert clause.text[:30] in text  # the original text
        assert "{{" not in text
        for office in clause.lead_offices:
            assert office in text


def test_clause_page_has_figures_windows_offices_faq_and_calculator(client, snap):
    html = main_of(client.get("/policies/16").get_data(as_text=True))
    text = text_of(html)
    assert "技术技能提升补贴（中级职业资格证书" in text and "1500元" in text
    assert "2019年1月1日至2020年12月31日" in text and "已到期" in text
    assert "县人社局" in text and "待公布" in text and 'href="tel:12333"' in html
    faq = next(f for f in snap.faqs if f.clause == "16")
    assert faq.question in text
    assert 'href="/calc/skill_upgrade"' in html
    assert "怎么办理" in text and "方案没有写明" in text


def test_unknown_clause_is_a_404_page(client):
    r = client.get("/policies/99")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "没有找到" in r.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/policies/", "/calc/"])
def test_a_404_never_repeats_the_path(client, path):
    """Issue 10, item 9: the path's own words on an official-looking page are content spoofing."""
    notice = "补贴已改为电话领取，请拨打 400-000-0000"
    r = client.get(path + notice)
    html = r.get_data(as_text=True)
    assert r.status_code == 404 and "没有找到" in html
    assert "400-000-0000" not in html and "电话领取" not in html


@pytest.mark.parametrize("path", [
    "/policies/%00", "/policies/../", "/policies/..%2F", "/policies/%2e%2e", "/policies/" + "9" * 5000,
    "/policies/%FF%FE", "/policies/%E4%B8", "/policies/10%20", "/policies/%F0%9F%98%80",
    "/calc/<script>alert(1)</script>", "/calc/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/calc/%00", "/calc/" + "x" * 5000,
    "/policies/", "/calc/", "/complaints/", "/static/web/../../__init__.py",
])
def test_odd_paths_are_404_pages(client, path):
    r = client.get(path)
    assert r.status_code == 404 and r.mimetype == "text/html", path
    assert "<script>alert(1)" not in r.get_data(as_text=True)
    assert client.post(path).status_code in (404, 405)  # a GET-only page refuses a POST, it does not fail


@pytest.mark.parametrize("path", PAGES + ["/policies/16", "/calc/internship", "/poster/qr.svg"])
def test_junk_query_strings_are_ignored(client, path):
    for query in ["q=%00", "q=" + "%FF" * 200, "%00=%00&x=%E4%B8", "&".join(["a=1"] * 2000), "as_of=zzz"]:
        r = client.get(f"{path}?{query}")
        assert r.status_code == 200, (path, query[:30])


def test_standards_lists_every_figure_and_marks_expired_windows(client, snap):
    text = text_of(client.get("/standards").get_data(as_text=True))
    for defn in snap.parameters.defs.values():
        assert defn.description in text, defn.name
    assert "2026年11月27日" in text  # "today" is the engine's clock
    assert "已到期" in text and "执行中" in text
    assert "15万元" in text and "300万元" in text


def test_standards_follow_the_engine_clock(new_db_url):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": new_db_url("c"), "TODAY": "2019-06-01"})
    r = app.test_client().get("/standards")
    text = text_of(r.get_data(as_text=True))
    assert r.status_code == 200 and "2019年6月1日" in text
    assert "执行中" in text and "已到期" not in text


def test_offices_directory(client, snap):
    html = main_of(client.get("/offices").get_data(as_text=True))
    text = text_of(html)
    for office in snap.offices.values():
        if office.kind != "hotline":
            assert office.name in text
    assert "待公布" in text
    assert 'href="tel:12333"' in html and 'href="tel:12345"' in html


def test_offices_show_a_number_once_staff_enter_it(fresh_app):
    with fresh_app.app_context():
        with get_db().session() as s:
            StaffService(s).update_office("hrss", {"phone": "0936-0000000"}, author="test", reason="test")
    html = fresh_app.test_client().get("/offices").get_data(as_text=True)
    assert 'href="tel:0936-0000000"' in html


def test_complaint_hotline_is_12345_until_staff_set_one(client, fresh_app):
    text = text_of(main_of(client.get("/complaints").get_data(as_text=True)))
    assert "投诉电话公布前，可拨打 12345" in text and "待公布" in text
    with fresh_app.app_context():
        with get_db().session() as s:
            StaffService(s).set_setting("complaint_hotline", "0936-1234567", author="test", reason="test")
    html = fresh_app.test_client().get("/complaints").get_data(as_text=True)
    assert 'href="tel:0936-1234567"' in html and "待公布" not in text_of(html)


def test_poster_has_a_qr_code_for_a_trusted_host(new_db_url):
    from webhooks import create_app
    from webhooks.web.poster import qr_svg

    app = create_app({"TESTING": True, "DATABASE_URL": new_db_url("p"),
                      "TRUSTED_HOSTS": "jiuye.test"})
    client = app.test_client()
    html = main_of(client.get("/poster", base_url="http://jiuye.test/").get_data(as_text=True))
    assert "http://jiuye.test/" in html
    assert qr_svg("http://jiuye.test/") in html
    assert "12333" in html and "12345" in html
    assert "PUBLIC_BASE_URL" in html  # the page says to set the public address before printing
    svg = client.get("/poster/qr.svg", base_url="http://jiuye.test/")
    assert svg.mimetype == "image/svg+xml" and svg.get_data(as_text=True) == qr_svg("http://jiuye.test/")
    assert "no-cache" in svg.headers["Cache-Control"] and "private" in svg.headers["Cache-Control"]
    assert "Host" in svg.headers["Vary"]
    assert client.get("/poster", base_url="http://evil.example/").status_code == 400  # Flask's TRUSTED_HOSTS


def test_poster_uses_public_base_url(new_db_url):
    from webhooks import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": new_db_url("p"),
                      "PUBLIC_BASE_URL": "https://jiuye.example.gov.cn"})
    html = app.test_client().get("/poster").get_data(as_text=True)
    assert "https://jiuye.example.gov.cn/" in html and "localhost" not in html
    html = app.test_client().get("/poster", base_url="http://evil.example/").get_data(as_text=True)
    assert "evil.example" not in html and "https://jiuye.example.gov.cn/" in html


def test_poster_never_encodes_an_untrusted_host(client):
    """Issue 10, item 10: without PUBLIC_BASE_URL the Host header chose the QR code's address.
    Now an unknown host gets no QR code, only the request to set PUBLIC_BASE_URL."""
    r = client.get("/poster", base_url="http://evil.example/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "evil.example" not in html and 'class="qr"' not in html
    assert "PUBLIC_BASE_URL" in html
    svg = client.get("/poster/qr.svg", base_url="http://evil.example/")
    assert svg.status_code == 404 and "evil.example" not in svg.get_data(as_text=True)
    # a developer's own machine still gets a working poster
    local = client.get("/poster", base_url="http://localhost:5000/").get_data(as_text=True)
    assert 'class="qr"' in local and "http://localhost:5000/" in local


def test_poster_escapes_a_hostile_host(client):
    r = client.get("/poster", headers={"Host": 'x"><script>alert(1)</script>'})
    html = r.get_data(as_text=True)
    assert r.status_code in (200, 400)
    assert "<script>alert(1)" not in html


def test_dates_are_shown_in_chinese():
    from webhooks.web.common import cn_date

    assert cn_date(dt.date(2020, 12, 31)) == "2020年12月31日"


def _calculators():
    from webhooks.web.calc import _catalogue

    return _catalogue()


needs_calculators = pytest.mark.skipif(not _calculators(), reason="the eligibility package (calculators) is not installed")


def test_unknown_calculator_is_a_404_page(client):
    for method in (client.get, client.post):
        r = method("/calc/no_such_thing")
        assert r.status_code == 404 and "没有找到" in r.get_data(as_text=True)


@needs_calculators
def test_calculator_list_links_every_calculator(client):
    html = client.get("/calc").get_data(as_text=True)
    for calc in _calculators():
        assert f'href="/calc/{calc["name"]}"' in html and calc["title"] in html


@needs_calculators
@pytest.mark.parametrize("calc", _calculators() or [{}], ids=lambda c: c.get("name", "none"))
def test_every_calculator_has_a_form_from_its_schema(client, calc):
    html = client.get(f"/calc/{calc['name']}").get_data(as_text=True)
    for name, prop in calc["input_schema"]["properties"].items():
        assert f'name="{name}"' in html and prop["title"] in html
        for label in (prop.get("x-labels") or {}).values():
            assert label in html
    for name in calc["input_schema"].get("required") or []:
        assert re.search(rf'name="{name}"[^>]*required', html), name


@needs_calculators
def test_calculator_form_computes_with_the_shared_engine(client):
    r = client.post("/calc/internship", data={"interns": "5", "months": "6", "retained": "3", "as_of": ""})
    text = text_of(r.get_data(as_text=True))
    api = client.post("/api/v1/calculators/internship", json={"interns": 5, "months": 6, "retained": 3}).get_json()
    assert r.status_code == 200 and "符合条件" in text and "36000元" in text
    for reason in api["reasons"]:
        assert reason in text
    assert "就业见习补贴标准（每人每月）" in text  # the figures used
    assert "县人社局" in text and "待公布" in text  # where to go
    assert 'value="5"' in r.get_data(as_text=True)  # the answers stay in the form


@needs_calculators
def test_calculator_form_marks_an_expired_window(client):
    r = client.post("/calc/skill_upgrade", data={"level": "intermediate", "insured_years": "1.5"})
    text = text_of(r.get_data(as_text=True))
    assert "2019年1月1日至2020年12月31日" in text and "已到期" in text
    past = text_of(client.post("/calc/skill_upgrade", data={"level": "intermediate", "insured_years": "1.5",
                                                            "as_of": "2020-06-01"}).get_data(as_text=True))
    assert "符合条件" in past and "1500元" in past and "2020年6月1日" in past


@needs_calculators
@pytest.mark.parametrize("data,field", [
    ({"interns": "0", "months": "6"}, "interns"),
    ({"interns": "五", "months": "6"}, "interns"),
    ({"months": "6"}, "interns"),
    ({"interns": "2", "months": "6", "as_of": "明天"}, "as_of"),
])
def test_bad_answers_are_named_at_their_field(client, data, field):
    r = client.post("/calc/internship", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'role="alert"' in html
    assert re.search(rf'id="f-{field}"[^>]*\binvalid\b|class="field invalid" id="f-{field}"', html), html[:0]
    assert "符合条件" not in text_of(html)


CASES = Path(__file__).resolve().parent.parent / "eligibility" / "cases"


def _eligible_answers(calc) -> dict[str, str]:
    """The form answers of the first eligible case in the calculator's YAML cases (so that garbage in
    one field meets real numbers in the others and reaches the amount), else parseable defaults."""
    path = CASES / f"{calc['name']}.yaml"
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"] if path.exists() else []
    case = next((c for c in cases if (c.get("output") or {}).get("eligible") is True and "date" not in c), None)
    if case:
        return {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in case["input"].items()}
    out = {}
    for name, prop in calc["input_schema"]["properties"].items():
        if "enum" in prop:
            out[name] = str(prop["enum"][0])
        elif prop.get("type") == "boolean":
            out[name] = "false"
        elif prop.get("format") != "date":
            out[name] = "1"
    return out


GARBAGE = ["", "abc", "-1", "-1e308", "1e308", "1e309", "9" * 400, "inf", "-inf", "nan", "0x10", "1_000", "½",
           "１２", "\x00", "2019-02-30", "9999-12-31", "[]", "<script>", "é" * 3000]


@needs_calculators
@pytest.mark.parametrize("calc", _calculators() or [{}], ids=lambda c: c.get("name", "none"))
def test_garbage_answers_never_break_a_calculator_page(client, calc):
    schema = calc["input_schema"]
    base = _eligible_answers(calc)
    assert 'id="result"' in client.post(f"/calc/{calc['name']}", data=base).get_data(as_text=True)
    for name in schema["properties"]:
        for value in GARBAGE:
            r = client.post(f"/calc/{calc['name']}", data={**base, name: value})
            assert r.status_code == 200, (name, value[:20])
            assert "<script>" not in r.get_data(as_text=True)
    for data in [{}, {"nonsense": "1"}, {**base, "nonsense": "1"}, {k: ["1", "2"] for k in base}]:
        assert client.post(f"/calc/{calc['name']}", data=data).status_code == 200, data
    for body, ctype in [(b"\xff\xfe\x00=\xff&%FF=%FE", "application/x-www-form-urlencoded"),
                        (b"\xff\xfe\x00garbage", "multipart/form-data; boundary=zz"),
                        (b"{}", "application/json"), (b"\x00" * 100, "text/plain")]:
        r = client.post(f"/calc/{calc['name']}", data=body, content_type=ctype)
        assert r.status_code == 200 and 'role="alert"' in r.get_data(as_text=True), ctype
    assert client.post(f"/calc/{calc['name']}", data="x=" + "a" * 2_000_000,
                       content_type="application/x-www-form-urlencoded").status_code == 413


@needs_calculators
@pytest.mark.parametrize("value", ["1e308", "9" * 400, "1" + "0" * 30])
def test_a_huge_number_is_refused_at_its_field(client, value):
    r = client.post("/calc/internship", data={"interns": value, "months": "6"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'class="field invalid" id="f-interns"' in html
    assert 'id="result"' not in html
    message = re.search(r'<p class="field-error" id="e-interns">(.*?)</p>', html).group(1)
    assert len(message) < 80  # the message quotes the number short (1e+308), not in 400 digits
    money = client.post("/calc/job_stabilization", data={"last_year_ui_premium": value, "layoffs": "none"})
    assert 'class="field invalid" id="f-last_year_ui_premium"' in money.get_data(as_text=True)


@needs_calculators
def test_number_inputs_carry_the_schemas_bounds_for_the_browser(client):
    calc = next(c for c in _calculators() if c["name"] == "internship")
    prop = calc["input_schema"]["properties"]["interns"]
    html = client.get("/calc/internship").get_data(as_text=True)
    tag = re.search(r'<input[^>]*id="i-interns"[^>]*>', html).group(0)
    assert f'min="{prop["minimum"]}"' in tag and 'step="1"' in tag and "required" in tag
    if "maximum" in prop:
        assert f'max="{prop["maximum"]}"' in tag


def test_amounts_of_any_size_are_written_out():
    from webhooks.web.calc import yuan

    assert yuan(150000) == "15万元" and yuan(36000) == "36000元" and yuan(1500.5) == "1500.5元"
    assert yuan(10 ** 400).endswith("万元") and yuan(float("inf")) == "" and yuan(True) == "" and yuan("5") == ""


def test_assets_are_versioned_and_kept_by_the_browser(client):
    page = parse(client.get("/").get_data(as_text=True))
    assert page.loads and all(re.search(r"\?v=[0-9a-f]{10}$", url) for url in page.loads)
    with client.get(page.loads[0]) as r:
        assert "max-age=31536000" in r.headers["Cache-Control"] and "no-cache" not in r.headers["Cache-Control"]
    with client.get("/static/web/site.css") as r:  # an unversioned URL is revalidated as usual
        assert "max-age=31536000" not in r.headers.get("Cache-Control", "")


# ------------------------------------------------------------- the plan's figures with their periods
def test_main_of_leaves_out_the_shared_footer(client):
    """The footer names both hotlines on every page; main_of must not see them."""
    html = client.get("/calc").get_data(as_text=True)
    assert 'href="tel:12345"' in html and 'href="tel:12345"' not in main_of(html)


def _standards_rows(html: str) -> dict[str, str]:
    """/standards: description → the text of its row."""
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        if len(cells) == 2:
            rows[text_of(cells[0]).strip()] = text_of(cells[1])
    return rows


def test_standards_show_every_windowed_figure_with_its_window(client, snap):
    """1000/1500/2000元 are the plan's for 2019–2020 only: each row says so, and that it has ended."""
    rows = _standards_rows(client.get("/standards").get_data(as_text=True))
    checked = 0
    for defn in snap.parameters.defs.values():
        if not defn.window:
            continue
        window = snap.parameters.at(dt.date(2026, 11, 27)).window(defn.window)
        row = rows[defn.description]
        assert f"执行期 {window.text()}" in row, (defn.name, row)
        if window.expired(dt.date(2026, 11, 27)):
            assert "已到期" in row, (defn.name, row)
        checked += 1
    assert checked >= 6
    upgrade = [row for desc, row in rows.items() if desc.startswith("技术技能提升补贴（")]
    assert len(upgrade) == 3 and all("2019年1月1日至2020年12月31日" in r and "已到期" in r for r in upgrade)
    target = next(desc for desc in rows if "充分就业社区" in desc)
    assert "2020年" in target and "95%" in rows[target]  # a 2020 target, not a standing rule


def test_the_relaxed_three_years_is_never_shown_as_the_rule_in_force(client):
    rows = _standards_rows(client.get("/standards").get_data(as_text=True))
    desc = next(d for d in rows if "放宽前" in d)
    assert "没有写明执行期结束后的条件" in desc


def test_policy_list_never_shows_a_windowed_figure_without_its_window(client):
    html = main_of(client.get("/policies").get_data(as_text=True))
    cells = {text_of(m).strip() for m in re.findall(r'<span class="cell-desc">(.*?)</span>', html, flags=re.S)}
    upgrade = next(c for c in cells if "1500元" in c and "证书" in c)
    assert "2019年1月1日至2020年12月31日（已到期）" in upgrade
    for words in ("困难企业可组织职工在岗培训", "生活费补贴"):  # clauses 14 and 15
        cell = next(c for c in cells if words in c)
        assert "（已到期）" in cell, cell
    assert not any(re.search(r"(?<!\d)1[0-9]-2[0-9]岁|最长1年", c) for c in cells)


def test_clause_page_answers_say_when_their_window_has_ended(client, snap):
    """An answer shown on /policies/<clause> carries the same expiry note as in the chat."""
    for clause_id in ("14", "15", "16"):
        html = main_of(client.get(f"/policies/{clause_id}").get_data(as_text=True))
        for faq in snap.faqs:
            if faq.clause != clause_id or not faq.windows:
                continue
            block = re.search(re.escape(faq.question) + r"</summary>(.*?)</details>", html, flags=re.S)
            assert block, faq.id
            # a window the answer renders in place says "（已到期）" there; others get the note
            assert "已到期" in text_of(block.group(1)), faq.id
            assert ("提示：该政策执行期为" in text_of(block.group(1))) == bool(faq.noted_windows), faq.id


def test_townships_are_the_plans_unnamed_townships_and_farms_are_not_townships(client, snap):
    html = main_of(client.get("/offices").get_data(as_text=True))
    text = text_of(html)
    assert "各乡镇" in text and "方案没有点名具体乡镇" in text
    for office in snap.offices.values():
        if office.kind == "township":
            assert "没有点名" in office.duties, office.name
            assert "本辖区" not in office.duties
            if "牧场" in office.name or "育种场" in office.name:
                assert "不是乡镇人民政府" in office.duties and "没有给它单独安排工作" in office.duties


def test_12345_is_never_called_the_complaint_number(client, fresh_app):
    for path in ("/offices", "/complaints", "/poster"):
        text = text_of(main_of(client.get(path).get_data(as_text=True)))
        assert "投诉电话公布前，可拨打 12345" in text, path
        assert not re.search(r"监督投诉(电话)?[：: ]*12345", text), path
    with fresh_app.app_context():
        with get_db().session() as s:
            StaffService(s).set_setting("complaint_hotline", "0936-1234567", author="test", reason="test")
    client2 = fresh_app.test_client()
    for path in ("/offices", "/complaints", "/poster"):
        text = text_of(main_of(client2.get(path).get_data(as_text=True)))
        assert "0936-1234567" in text and "投诉电话公布前" not in text, path


@needs_calculators
def test_graduate_hiring_shows_a_monthly_amount_and_no_promise(client):
    text = text_of(main_of(client.post("/calc/graduate_hiring", data={"graduates": "6", "months": "12"})
                           .get_data(as_text=True)))
    assert "每月 9000元" in text and "需由经办单位认定" in text
    assert "按12个月粗算约108000元" in text and "符合条件" not in text.replace("不符合条件", "")
