"""Mongolian in the phone browser (375×667): vertical columns drawn with Noto Sans Mongolian, the
language switch, and the 🔊 button reading an answer aloud (the browser's speech synthesis, stubbed)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from webhooks.web.language import font_path

from .conftest import PHONE

pytestmark = pytest.mark.browser
needs_font = pytest.mark.skipif(font_path("NotoSansMongolian-Regular.ttf") is None,
                                reason="fonts-noto-core is not installed (make test installs it)")


def bubbles(page):
    return page.locator(".msg.bot:not(.typing)")


def wait_replies(page, n: int) -> None:
    expect(bubbles(page).nth(n - 1)).to_be_visible()
    expect(page.locator(".msg.typing")).to_have_count(0)


def send(page, text: str, n: int) -> None:
    page.fill("#q", text)
    page.click(".send-btn")
    wait_replies(page, n)


@needs_font
def test_mongolian_is_drawn_vertically_with_its_own_font(page, screenshot):
    page.goto("/")
    wait_replies(page, 1)
    send(page, "ᠰᠠᠶᠢᠨ ᠪᠠᠶᠢᠨ᠎ᠠ ᠤᠤ", 2)
    # the conversation switched to Mongolian: the page follows (drawn again from its history)
    expect(page.locator("#lang-switch")).to_have_attribute("data-locale", "zh")
    assert page.get_attribute("html", "lang") == "mn-Mong"
    wait_replies(page, 2)
    text = bubbles(page).last.locator(".text")
    expect(text).to_have_attribute("lang", "mn-Mong")
    assert text.evaluate("e => getComputedStyle(e).writingMode") == "vertical-lr"
    page.evaluate("document.fonts.ready.then(() => true)")
    assert page.evaluate("document.fonts.check('16px \"Noto Sans Mongolian\"', 'ᠠᠵᠢᠯ')")
    # Glyphs, not boxes: twenty joined letters in the served font are narrow (tofu boxes are about
    # one em each), and written vertically they make one tall, narrow column.
    size = page.evaluate("""() => {
        const probe = (vertical) => {
            const el = document.createElement('span');
            el.textContent = 'ᠠ'.repeat(20);
            el.style.cssText = 'display:inline-block;font:16px "Noto Sans Mongolian";line-height:1;'
                + (vertical ? 'writing-mode:vertical-lr' : 'writing-mode:horizontal-tb');
            document.body.appendChild(el);
            const r = el.getBoundingClientRect();
            el.remove();
            return [r.width, r.height];
        };
        return {across: probe(false), down: probe(true)};
    }""")
    across, down = size["across"], size["down"]
    assert across[0] < 0.6 * 20 * 16, size   # joined glyphs, not twenty boxes
    assert down[1] > 3 * down[0], size        # vertical: a column
    # the switch to Chinese is on the page, and the screen is laid out for the phone
    expect(page.locator("#lang-switch")).to_be_visible()
    screenshot(page, "mn-chat-greeting")
    send(page, "ᠳᠠᠳᠤᠯᠭ᠎ᠠ", 3)
    for i, answer in enumerate(("᠑", "᠕", "᠖")):
        send(page, answer, 4 + i)
    screenshot(page, "mn-chat-dialogue")
    send(page, "᠓", 7)
    result = bubbles(page).last
    expect(result.locator(".result")).to_be_visible()
    assert "36000" in result.inner_text()
    screenshot(page, "mn-chat-result")
    screenshot(page, "mn-chat-result-full", full_page=True)


def test_the_language_switch_changes_the_page(page, screenshot):
    page.goto("/policies")
    assert page.get_attribute("html", "lang") == "zh-CN"
    page.click("#lang-switch")
    page.wait_for_url("**/policies")
    assert page.get_attribute("html", "lang") == "mn-Mong"
    note = page.locator(".page-note")
    expect(note).to_be_visible()
    assert note.evaluate("e => getComputedStyle(e).writingMode") == "vertical-lr"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "mn-policies")
    page.goto("/")
    wait_replies(page, 1)
    assert bubbles(page).first.locator(".text").get_attribute("lang") == "mn-Mong"  # the chat answers in Mongolian
    page.click("#lang-switch")
    wait_replies(page, 1)
    assert page.get_attribute("html", "lang") == "zh-CN"


STUB = """
window.__spoken = [];
window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ''; };
Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
  speak: function (u) { window.__spoken.push([u.text, u.lang]); if (u.onend) { u.onend(); } },
  cancel: function () {}
}});
"""


def test_the_read_aloud_button_speaks_the_answer(browser, live_server, screenshot):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server)
    context.add_init_script(STUB)
    try:
        page = context.new_page()
        page.goto("/")
        wait_replies(page, 1)
        send(page, "见习补贴每人每月多少钱", 2)
        button = bubbles(page).last.locator("button.speak")
        expect(button).to_be_visible()
        screenshot(page, "chat-read-aloud")
        button.click()
        spoken = page.evaluate("window.__spoken")
        assert len(spoken) == 1 and spoken[0][1] == "zh-CN" and "1000元" in spoken[0][0]
    finally:
        context.close()


def test_no_read_aloud_button_without_speech(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", base_url=live_server)
    context.add_init_script("delete window.speechSynthesis; window.SpeechSynthesisUtterance = undefined;")
    try:
        page = context.new_page()
        page.goto("/")
        wait_replies(page, 1)
        send(page, "见习补贴每人每月多少钱", 2)
        assert bubbles(page).last.locator("button.speak").count() == 0
    finally:
        context.close()
