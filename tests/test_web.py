"""The web chat, through its API (gradio_client) and in a real browser (Playwright + Debian's Chromium)."""

from __future__ import annotations

import re
import shutil

import pytest
from gradio_client import Client

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]


def test_api_respond_keeps_a_session(web_app):
    client = Client(web_app, verbose=False)
    first = client.predict("my name is Theo", api_name="/respond")
    assert first["intent"] == "remember_name" and first["entities"] == {"name": "Theo"}
    second = client.predict("do you remember my name?", api_name="/respond")
    assert second["intent"] == "recall_name" and "Theo" in second["text"]


def test_api_chat_returns_history_with_reply_and_its_source(web_app):
    client = Client(web_app, verbose=False)
    box, history = client.predict("what's 9 times 9?", [], api_name="/chat")
    assert box == "" and [m["role"] for m in history] == ["user", "assistant"]
    text = history[-1]["content"][0]["text"] if isinstance(history[-1]["content"], list) else history[-1]["content"]
    assert "81" in text and re.search(r"calculate · \d+% · action</span>", text)


@pytest.mark.browser
def test_browser_types_a_message_and_sees_the_reply(web_app):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page()
            page.goto(web_app)
            page.locator("#message textarea").fill("tell me a joke")
            page.keyboard.press("Enter")
            meta = page.locator(".reply-meta").first
            meta.wait_for(timeout=60_000)
            intent, confidence, source = meta.inner_text().split(" · ")
            assert (intent, source) == ("joke", "template") and confidence.endswith("%")
            assert "tell me a joke" in page.locator("#chat").inner_text()
        finally:
            browser.close()
