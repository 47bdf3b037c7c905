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


NEW_INTENT = """
  favourite_colour:
    examples: [what is your favourite colour, which colour do you like best, do you have a favourite color,
      what colour do you love, tell me your favourite colour, which color is the best, what's your fav colour]
    responses: ["Electric blue, the colour of a happy LED!"]
"""


@pytest.mark.browser
def test_browser_upload_train_activate_then_chat(tmp_path, encoder):
    """Upload an intents file with a brand-new intent, train, activate, and get that intent's reply."""
    from robot.brain import Brain, Persona, Robot
    from robot.paths import DEFAULT_INTENTS, SHIPPED_MODELS
    from robot.registry import ModelRegistry
    from robot.web.app import launch
    from tests.conftest import free_port

    playwright = pytest.importorskip("playwright.sync_api")
    upload = tmp_path / "my_intents.yaml"
    upload.write_text(DEFAULT_INTENTS.read_text().replace("\nentities:", NEW_INTENT + "entities:"))
    registry = ModelRegistry("intents", home=tmp_path / "home")
    robot = Robot(Brain.load(SHIPPED_MODELS / "intents", "default", encoder=encoder), Persona.load(), seed=0)
    port = free_port()
    app = launch(robot, port=port, block=False, registry=registry)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("tab", name="Train").click()
            page.locator("#upload input[type=file]").set_input_files(str(upload))
            page.get_by_text("Loaded 28 intents").wait_for(timeout=30_000)
            page.locator("#train").click()
            page.locator("#activate").wait_for(state="visible", timeout=240_000)
            assert "Trained version" in page.locator("#train-status").inner_text()
            page.locator("#activate").click()
            page.get_by_text("is now active").wait_for(timeout=60_000)
            page.get_by_role("tab", name="Chat").click()
            page.locator("#message textarea").fill("what colour do you like the most?")
            page.keyboard.press("Enter")
            page.get_by_text("Electric blue").wait_for(timeout=60_000)
            assert "favourite_colour" in page.locator(".reply-meta").last.inner_text()
            browser.close()
    finally:
        app.close()
    assert registry.active_name() != "default"
