"""The mobile web in headless Chromium at 375×667: chat, calculators, publicity pages.

Every test runs under the `page` guard: no console errors, no request leaving 127.0.0.1."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PHONE

pytestmark = pytest.mark.browser


def _have_calculators() -> bool:
    from webhooks.web.calc import _catalogue

    return bool(_catalogue())


needs_calculators = pytest.mark.skipif(not _have_calculators(), reason="the eligibility package (calculators) is not installed")
PUBLICITY = ["/policies", "/policies/12", "/policies/16", "/standards", "/offices", "/complaints", "/poster", "/calc",
             "/calc/internship"]


def bubbles(page):
    return page.locator(".msg.bot:not(.typing)")


def wait_replies(page, n: int) -> None:
    """Wait until the n-th reply is on screen (locators only: the page's CSP forbids eval)."""
    expect(bubbles(page).nth(n - 1)).to_be_visible()
    expect(page.locator(".msg.typing")).to_have_count(0)


def test_first_visit_shows_the_menu_as_buttons(page, screenshot):
    page.goto("/")
    wait_replies(page, 1)
    opts = page.locator(".opts .opt")
    assert opts.count() >= 10
    assert "创业" in opts.first.inner_text()
    screenshot(page, "chat-menu")


def test_ask_a_question_and_see_a_cited_answer(page, screenshot):
    page.goto("/")
    wait_replies(page, 1)
    page.fill("#q", "见习补贴每人每月多少钱")
    page.click(".send-btn")
    wait_replies(page, 2)
    answer = bubbles(page).last
    text = answer.inner_text()
    assert "1000元" in text
    assert "依据" in text and "第12条" in text
    assert answer.locator("a.chip[href='/policies/12']").count() == 1
    assert answer.locator(".ccard").count() >= 1
    assert page.locator(".msg.me").last.inner_text().strip() == "见习补贴每人每月多少钱"
    screenshot(page, "chat-answer")


def test_tap_through_the_menu_without_a_keyboard(page, screenshot):
    page.goto("/")
    wait_replies(page, 1)
    page.locator(".opts .opt", has_text="就业见习补贴").last.click()
    wait_replies(page, 2)
    assert page.locator(".msg.me").last.inner_text().strip() == "就业见习补贴"
    page.locator(".msg.bot").last.locator(".opt").first.click()
    wait_replies(page, 3)
    last = bubbles(page).last.inner_text()
    assert "依据" in last
    # options of earlier messages are no longer tappable
    assert page.locator(".opts .opt:not([disabled])").count() == 0
    screenshot(page, "chat-tapped")


def test_conversation_survives_a_reload(page):
    page.goto("/")
    wait_replies(page, 1)
    page.fill("#q", "创业担保贷款最多能贷多少")
    page.press("#q", "Enter")
    wait_replies(page, 2)
    before = bubbles(page).last.inner_text()
    assert "依据" in before
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/api/" in r.url else None)
    page.reload()
    page.wait_for_selector(".msg.me")
    assert page.locator(".msg.me").last.inner_text().strip() == "创业担保贷款最多能贷多少"
    assert bubbles(page).last.inner_text() == before
    page.wait_for_timeout(300)
    assert asked == []  # a reload re-asks nothing
    # the menu of the first reply is disabled, the live state continues on the server
    page.click("#menu-btn")
    wait_replies(page, 3)
    assert page.locator(".opts .opt:not([disabled])").count() >= 10


def test_history_belongs_to_the_cookie(page):
    """A browser that lost its cookie gets a new conversation on the server, so the page must not
    show (and offer the buttons of) the old one."""
    page.goto("/")
    wait_replies(page, 1)
    page.fill("#q", "见习补贴每人每月多少钱")
    page.press("#q", "Enter")
    wait_replies(page, 2)
    page.context.clear_cookies()
    page.reload()
    wait_replies(page, 1)
    assert page.locator(".msg.me").count() == 0
    assert page.locator(".opts .opt:not([disabled])").count() >= 10


def test_large_text_switch(page, screenshot):
    page.goto("/")
    wait_replies(page, 1)
    before = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.click("#size-toggle")
    after = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert after > before
    assert page.get_attribute("#size-toggle", "aria-pressed") == "true"
    screenshot(page, "chat-large-text")
    # every tab still fits the phone's width, even a 320-pixel one
    page.set_viewport_size({"width": 320, "height": 568})
    assert page.evaluate("(t => t.scrollWidth <= t.clientWidth)(document.querySelector('.tabs'))")
    page.set_viewport_size(PHONE)
    page.goto("/policies")
    assert page.evaluate("document.documentElement.classList.contains('big')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "policies-large-text")


@pytest.mark.parametrize("path", PUBLICITY)
def test_pages_read_without_javascript(browser, live_server, path):
    """With scripts off, publicity pages show all their content. (The chat page's <noscript> note is
    checked through the Flask client: Playwright's switch does not make Chromium render <noscript>.)"""
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN", base_url=live_server)
    try:
        pg = context.new_page()
        assert pg.goto(path).status == 200
        expect(pg.locator("main h1")).to_be_visible()
        assert pg.locator("main").inner_text().count("\n") >= 3
        hidden = pg.locator("main [hidden]:not([data-print])")
        assert hidden.count() == 0  # nothing waits for a script to be shown
    finally:
        context.close()


def test_the_guard_catches_a_request_leaving_the_machine(page):
    """The `page` fixture's promise (no request leaves 127.0.0.1) is checked, not assumed."""
    with pytest.raises(Exception):
        page.goto("http://example.com/")
    assert page.guard.outside == ["http://example.com/"]
    page.guard.outside.clear()


def test_focus_is_visible_when_tabbing(page):
    page.goto("/policies")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    style = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                          " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; })()")
    assert style[0] == "A" and style[1] == "solid" and style[2] == "3px", style


@pytest.mark.parametrize("path", PUBLICITY)
def test_every_publicity_page_opens(page, screenshot, path):
    response = page.goto(path)
    assert response.status == 200
    assert page.locator("h1").count() >= 1
    # laid out for the phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    name = "page" + re.sub(r"[^a-z0-9]+", "-", path)
    screenshot(page, name)
    screenshot(page, name + "-full", full_page=True)


@needs_calculators
def test_tap_through_a_calculator_dialogue_to_a_result(page, screenshot):
    page.goto("/")
    wait_replies(page, 1)
    page.locator(".opt:not([disabled])", has_text="补贴测算").click()
    wait_replies(page, 2)
    page.locator(".opt:not([disabled])", has_text="一次性创业补贴").click()
    wait_replies(page, 3)
    page.locator(".opt:not([disabled])", has_text="高校毕业生").click()
    wait_replies(page, 4)
    page.locator(".opt:not([disabled])").first.click()  # 是，第一次
    wait_replies(page, 5)
    result = bubbles(page).last.locator(".result")
    expect(result).to_be_visible()
    # the pilot ("按政策试点"): the stated conditions are met, the office decides (eligible null)
    assert "需由经办单位认定" in result.inner_text() and "5000元" in result.inner_text()
    assert "是否纳入试点由县人社局认定" in result.inner_text()
    assert "第10条" in result.inner_text()
    assert bubbles(page).last.locator(".ccard").count() >= 1
    screenshot(page, "chat-calculator-result")


@needs_calculators
def test_fill_a_calculator_form(page, screenshot):
    page.goto("/calc/startup_loan")
    staff = page.locator("#f-staff")
    expect(staff).to_be_hidden()  # only for small businesses
    page.locator(".choice", has_text="小微企业").click()
    expect(staff).to_be_visible()
    page.fill("#i-staff", "120")
    page.fill("#i-new_hires", "18")
    page.fill("#i-contract_years", "1")
    page.locator("#f-arrears .choice", has_text="否").click()
    screenshot(page, "calc-form-filled", full_page=True)
    page.click("button[type=submit]")
    result = page.locator("#result")
    expect(result).to_be_visible()
    text = result.inner_text()
    assert "符合条件" in text and "300万元" in text and "第10条" in text
    assert page.locator("#f-staff input").input_value() == "120"  # the form keeps the answers
    screenshot(page, "calc-form-result")


@needs_calculators
def test_calculator_form_checks_bounds_in_the_browser(page):
    page.goto("/calc/internship")
    page.fill("#i-interns", "0")
    page.fill("#i-months", "6")
    page.click("button[type=submit]")
    assert page.locator("#result").count() == 0  # the browser refused to send it
    assert page.eval_on_selector("#i-interns", "el => el.validity.rangeUnderflow")


@needs_calculators
def test_calculator_form_shows_the_servers_objection(page, screenshot):
    page.goto("/calc/startup_loan")
    page.locator(".choice", has_text="小微企业").click()
    page.fill("#i-staff", "10")
    page.fill("#i-new_hires", "30")  # more hires than staff: only the calculator knows
    page.fill("#i-contract_years", "1")
    page.locator("#f-arrears .choice", has_text="否").click()
    page.click("button[type=submit]")
    alert = page.locator("#form-error")
    expect(alert).to_be_visible()
    assert page.locator(".field.invalid").count() == 1
    screenshot(page, "calc-form-error")


def test_poster_prints_on_one_a4_page(page, tmp_path):
    page.goto("/poster")
    expect(page.locator("svg.qr")).to_be_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(pages) == 1
    assert abs(float(box.group(1)) - 595.3) < 2 and abs(float(box.group(2)) - 841.9) < 2  # A4 in points
