"""The web chat, through its API (gradio_client) and in a real browser (Playwright + Debian's Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

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


def test_the_server_parses_http_in_c(robot):
    """uvicorn falls back to its pure-Python parser (h11) when httptools is missing: 5-10% more server CPU a
    request under load (benchmarks/RESULTS.md)."""
    from robot.web.app import launch
    from tests.conftest import free_port

    app = launch(robot, port=free_port(), block=False)
    try:
        assert app.server.config.http_protocol_class.__name__ == "HttpToolsProtocol"
    finally:
        app.close()


def test_a_new_session_computes_no_signature_and_gets_the_same_page(robot, monkeypatch):
    """Gradio builds every component's configuration for each new session, computing each class's signature
    every time: more than half of that cost (benchmarks/sessions.py). Remembered, none is computed."""
    import inspect

    from gradio.state_holder import SessionState

    from robot.web.app import build_app, remember_signatures

    app = build_app(robot)
    for init in {type(block).__init__ for block in app.blocks.values()}:  # as Gradio leaves them
        monkeypatch.delattr(init, "__signature__", raising=False)
    page = SessionState(app).config_values
    remember_signatures(app)
    computed, compute = [], inspect.Signature.__init__
    monkeypatch.setattr(inspect.Signature, "__init__", lambda *a, **k: computed.append(a) or compute(*a, **k))
    assert SessionState(app).config_values == page
    assert computed == []


def message_text(message: dict) -> str:
    content = message["content"]
    return content[0]["text"] if isinstance(content, list) else content


def test_api_chat_returns_history_and_the_reply_source_beside_it(web_app):
    client = Client(web_app, verbose=False)
    box, history, meta = client.predict("what's one hundred and twenty times two?", [], api_name="/chat")
    assert box == "" and [m["role"] for m in history] == ["user", "assistant"]
    assert message_text(history[-1]) == "That's 240." or "240" in message_text(history[-1])
    assert "<" not in message_text(history[-1])  # the message is the reply alone: copy and screen readers get it
    assert re.fullmatch(r"calculate · \d+% · action", meta)


def test_api_empty_message_sends_nothing(web_app):
    client = Client(web_app, verbose=False)
    _, history, meta = client.predict("   ", [], api_name="/chat")
    assert history == []


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
            playwright.expect(page.locator("#reply-meta")).to_contain_text("joke · ", timeout=60_000)
            intent, confidence, source = page.locator("#reply-meta").inner_text().split(" · ")
            assert (intent, source) == ("joke", "template") and confidence.endswith("%")
            assert "tell me a joke" in page.locator("#chat").inner_text()
        finally:
            browser.close()


def ratings(home) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(home / "feedback.sqlite") as db:
        return db.execute("SELECT turn, message, liked FROM ratings ORDER BY turn").fetchall()


@pytest.mark.browser
def test_browser_chat_controls(tmp_path, encoder):
    """Empty Enter, thumbs as a toggle that stays filled (said in a notice), undo and retry that rewind the robot's
    memory, Stop shown only while a reply is made, the trash icon as the one reset, a correction with no preset
    intent, and example prompts taken from the model."""
    from robot.brain import Brain, Persona, Robot
    from robot.feedback import FeedbackStore
    from robot.lifecycle import ModelRegistry
    from robot.paths import SHIPPED_MODELS
    from robot.web.app import launch
    from tests.conftest import free_port

    playwright = pytest.importorskip("playwright.sync_api")
    expect = playwright.expect
    robot = Robot(Brain.load(SHIPPED_MODELS / "intents", "default", encoder=encoder), Persona.load(), seed=0)
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    port = free_port()
    app = launch(robot, port=port, block=False, registry=ModelRegistry("intents", home=tmp_path), feedback=store)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            chat, meta, box = page.locator("#chat"), page.locator("#reply-meta"), page.locator("#message textarea")
            box.press("Enter")  # empty: nothing is sent
            expect(page.locator("#stop")).to_be_hidden()
            box.fill("My name is Sam")
            box.press("Enter")
            expect(meta).to_contain_text("remember_name · ", timeout=60_000)
            assert page.locator("#chat .message-row").count() == 2
            expect(page.locator("#stop")).to_be_hidden()  # only while a reply is made

            page.get_by_label("Dislike", exact=True).first.click()
            expect(page.get_by_text("Marked as a bad reply")).to_be_visible()  # a notice, in view
            page.get_by_label("Disliked", exact=True).first.click()  # clicked off again
            expect(page.get_by_text("Feedback removed")).to_be_visible()
            assert ratings(tmp_path) == []
            page.get_by_label("Like", exact=True).first.click()
            expect(page.get_by_text("Marked as a good reply")).to_be_visible()

            box.fill("what is my name")
            box.press("Enter")
            expect(chat).to_contain_text("Sam", timeout=30_000)
            expect(meta).to_contain_text("recall_name · ")
            expect(page.get_by_label("Liked", exact=True)).to_have_count(1)  # the first reply keeps its thumb
            assert ratings(tmp_path) == [(0, "My name is Sam", 1)]

            page.locator("#chat button[aria-label=Undo]").click()
            expect(page.locator("#chat .message-row")).to_have_count(2)
            page.locator("#chat button[aria-label=Undo]").click()  # "my name is Sam" goes: the robot forgets the name
            expect(page.locator("#chat .message-row")).to_have_count(0)
            assert ratings(tmp_path) == []  # feedback on an undone reply is gone too
            box.fill("what is my name")
            box.press("Enter")
            expect(chat).to_contain_text("don't know your name", timeout=30_000)
            page.locator("#chat button[aria-label=Retry]").click()
            expect(page.locator("#chat .message-row")).to_have_count(2)

            for _ in range(10):  # no intent chosen: nothing stored (while the retried turn is under way, the robot
                page.locator("#correct").click()  # has no last message yet: "Chat first")
                try:
                    expect(page.locator("#chat-note")).to_contain_text("Pick the intent", timeout=2_000)
                    break
                except AssertionError:
                    continue
            expect(page.locator("#chat-note")).to_contain_text("Pick the intent")
            assert store.pending() == []
            page.locator("#wanted input").click()
            page.get_by_role("option", name="out of scope (should not be answered)").click()
            page.locator("#correct").click()
            expect(page.locator("#chat-note")).to_contain_text("Saved")
            page.locator("#correct").click()
            assert [(c.message, c.intent) for c in store.pending()] == [("what is my name", "oos")]

            box.fill("my name is Ada")
            box.press("Enter")
            expect(meta).to_contain_text("remember_name · ", timeout=30_000)
            page.locator("#chat button[aria-label='Clear conversation']").click()  # the one reset: chat, memory
            expect(page.locator("#chat .message-row")).to_have_count(0)
            box.fill("what is my name")
            box.press("Enter")
            expect(chat).to_contain_text("don't know your name", timeout=30_000)
            page.locator("#chat button[aria-label='Clear conversation']").click()
            page.get_by_text("what can you do").click()  # an example prompt, from the model's own intents
            expect(meta).to_contain_text("capabilities · ", timeout=30_000)
            expect(chat).to_contain_text("convert units")
            browser.close()
    finally:
        app.close()


NEW_INTENT = """
  favourite_colour:
    examples: [what is your favourite colour, which colour do you like best, do you have a favourite color,
      what colour do you love, tell me your favourite colour, which color is the best, what's your fav colour]
    responses: ["Electric blue, the colour of a happy LED!"]
"""


@pytest.mark.browser
def test_browser_upload_train_activate_then_chat(tmp_path, encoder):
    """Upload an intents file with one new intent, train, activate: that intent answers, and so do the built-in
    skills it was composed with (a user's upload once replaced them all)."""
    from robot.brain import Brain, Persona, Robot
    from robot.lifecycle import ModelRegistry
    from robot.paths import SHIPPED_MODELS
    from robot.web.app import launch
    from tests.conftest import free_port

    playwright = pytest.importorskip("playwright.sync_api")
    upload = tmp_path / "my_intents.yaml"
    upload.write_text("version: 1\nintents:" + NEW_INTENT)
    registry = ModelRegistry("intents", home=tmp_path / "home")
    robot = Robot(Brain.load(SHIPPED_MODELS / "intents", "default", encoder=encoder), Persona.load(), seed=0)
    port = free_port()
    app = launch(robot, port=port, block=False, registry=registry)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page()
            console = []  # what the page says in the browser's console: nothing to warn about
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("warning", "error")
                    else None)
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("tab", name="Train").click()
            page.locator("#upload input[type=file]").set_input_files(str(upload))
            page.get_by_text("Loaded 1 intents").wait_for(timeout=30_000)
            page.locator("#train").click()
            seen = []  # the progress shown beside the Train button while training runs
            deadline = time.monotonic() + 300
            while not page.locator("#activate").is_visible():
                status = page.locator("#train-status").inner_text()
                assert time.monotonic() < deadline, f"training never finished: {status}"
                seen += [float(v) for v in re.findall(r"(\d+(?:\.\d+)?)%", status)]
                page.wait_for_timeout(100)
            assert seen and max(seen) <= 100
            status = page.locator("#train-status").inner_text()
            assert "Trained version" in status and "1 intents of yours and 33 built-in ones" in status, status
            playwright.expect(page.locator("#per-intent")).to_contain_text("favourite_colour")
            playwright.expect(page.locator("#per-intent")).to_contain_text("built-in")
            page.locator("#activate").click()
            page.get_by_text("is now active").wait_for(timeout=60_000)
            playwright.expect(page.locator("#activate")).to_be_hidden()  # activated: the button goes
            assert console == []
            page.reload()  # everything shown follows the active model
            page.locator("#chat").wait_for()
            console.clear()  # what the old page logged as its streams were cut by the reload
            page.get_by_role("tab", name="Train").click()
            page.locator("#editor").get_by_text("favourite_colour:").wait_for()
            download = page.locator("#editor a[download]").get_attribute("href")  # the editor draws only the
            editor_text = page.evaluate("async (url) => await (await fetch(url)).text()", download)  # lines in view
            assert "favourite_colour:" in editor_text and "greet:" not in editor_text  # the user's own intents
            page.get_by_role("tab", name="Models").click()
            page.locator("#models-activate").click()  # nothing chosen: a message, not an error
            playwright.expect(page.locator("#models-status")).to_contain_text("no model version chosen")
            page.locator("#version-choice input").click()
            playwright.expect(page.get_by_role("option")).to_have_count(2)  # default and the new one
            page.keyboard.press("Escape")
            page.get_by_role("tab", name="Chat").click()
            page.locator("#wanted input").click()
            page.get_by_role("option", name="favourite_colour").wait_for()
            page.keyboard.press("Escape")
            page.locator("#message textarea").fill("what colour do you like the most?")
            page.keyboard.press("Enter")
            page.locator("#chat").get_by_text("Electric blue").wait_for(timeout=60_000)
            playwright.expect(page.locator("#reply-meta")).to_contain_text("favourite_colour · ")
            page.locator("#message textarea").fill("what time is it")
            page.keyboard.press("Enter")
            playwright.expect(page.locator("#reply-meta")).to_contain_text("time · ", timeout=60_000)
            playwright.expect(page.locator("#reply-meta")).to_contain_text("action")
            assert console == []
            browser.close()
    finally:
        app.close()
    assert registry.active_name() != "default"


def test_undo_reaches_back_a_bounded_number_of_turns():
    from robot.web.chat_tab import UNDO_DEPTH, Conversation

    conversation = Conversation()
    for k in range(UNDO_DEPTH + 5):
        conversation.begin(f"message {k}")
        conversation.session.history.append((f"message {k}", "reply"))
    assert sum(s is not None for s in conversation.before) == UNDO_DEPTH  # older snapshots are dropped
    for _ in range(UNDO_DEPTH):
        assert conversation.can_rewind()
        conversation.rewind()
    assert not conversation.can_rewind() and len(conversation.replies) == 5


@pytest.mark.browser
def test_the_readme_screenshot_is_made_from_the_running_robot(tmp_path):
    """docs/screenshot.py, which makes README's picture of the page, works (here into a temporary folder)."""
    import subprocess
    import sys

    from PIL import Image

    from tests.conftest import free_port

    script = Path(__file__).resolve().parents[1] / "docs" / "screenshot.py"
    made = tmp_path / "page.png"
    subprocess.run([sys.executable, str(script), "--out", str(made), "--port", str(free_port())], check=True,
                   capture_output=True, timeout=300, env={**os.environ, "ROBOT_HOME": str(tmp_path / "home")})
    assert Image.open(made).size == (1280, 900)


@pytest.mark.browser
def test_browser_page_details(tmp_path, encoder):
    """What a first look at the page found (issue #24): at 390 px the chat's buttons cover no message; a refused
    upload empties the editor and names the line; validation's summary is not where training's progress goes;
    a typed message's reply is spoken while "Speak replies" is ticked."""
    from robot.brain import Brain, Persona, Robot
    from robot.lifecycle import ModelRegistry
    from robot.paths import SHIPPED_MODELS
    from robot.web.app import launch
    from tests.conftest import free_port

    playwright = pytest.importorskip("playwright.sync_api")
    expect = playwright.expect
    robot = Robot(Brain.load(SHIPPED_MODELS / "intents", "default", encoder=encoder), Persona.load(), seed=0)
    port = free_port()
    app = launch(robot, port=port, block=False, registry=ModelRegistry("intents", home=tmp_path))
    broken = tmp_path / "broken.yaml"
    broken.write_text("intents:\n  greet:\n    examples: [hi, hello: there]\n")
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("#message textarea").fill("a long message that fills the whole width of a narrow phone")
            page.keyboard.press("Enter")
            expect(page.locator("#reply-meta")).to_contain_text("·", timeout=60_000)
            trash = page.locator("#chat button[aria-label='Clear conversation']").bounding_box()
            first = page.locator("#chat .message-row").first.bounding_box()
            assert trash["y"] + trash["height"] <= first["y"]  # above the first message, not over it
            expect(page.locator("#spoken-reply audio[src]")).to_have_count(1, timeout=60_000)  # spoken

            page.get_by_role("tab", name="Train").click()
            page.locator("#upload input[type=file]").set_input_files(str(broken))
            expect(page.locator("#train-status")).to_contain_text("Upload refused: line 3", timeout=30_000)
            assert page.locator("#editor .cm-content").inner_text().strip() == ""  # nothing left to train by mistake
            page.locator("#validate").click()
            expect(page.locator("#validation-summary")).to_contain_text("Language: en", timeout=60_000)
            browser.close()
    finally:
        app.close()


@pytest.mark.browser
def test_browser_speaks_a_reply_a_sentence_at_a_time(tmp_path, encoder):
    """A reply is spoken as it is written (issue #27): its complete sentences reach the page's player while the
    turn runs and the rest when it ends, they play, and the whole reply stays in the Spoken reply player. An
    undone turn is not spoken again; unticking "Speak replies" silences the next one."""
    from robot.brain import Brain, Persona, Robot
    from robot.paths import SHIPPED_MODELS
    from robot.web.app import launch
    from tests.conftest import free_port

    playwright = pytest.importorskip("playwright.sync_api")
    expect = playwright.expect
    robot = Robot(Brain.load(SHIPPED_MODELS / "intents", "default", encoder=encoder), Persona.load(), seed=0)
    port = free_port()
    app = launch(robot, port=port, block=False)
    speech = "() => window.robotSpeech"
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=[*BROWSER_ARGS, "--autoplay-policy=no-user-gesture-required"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("() => window.robotSpeech !== undefined", timeout=30_000)
            page.locator("#message textarea").fill("hello")  # every greeting is two or three sentences
            page.keyboard.press("Enter")
            expect(page.locator("#spoken-reply audio[src]")).to_have_count(1, timeout=60_000)
            page.wait_for_function("() => window.robotSpeech.clips.filter(c => c.started).length >= 2",
                                   timeout=30_000)
            clips = page.evaluate(speech)["clips"]  # e.g. "Hello! I'm Robo." at once, "How can I help?" after it
            reply = page.locator("#chat [data-testid='bot']").last.inner_text()
            assert len(clips) == 2 and " ".join(c["text"] for c in clips) == reply.strip(), (clips, reply)
            assert clips[0]["started"] <= clips[1]["started"]  # played in order
            said = page.locator("#spoken-reply audio[src]").get_attribute("src")

            page.locator("#chat button[aria-label='Undo']").click()
            page.wait_for_timeout(1500)
            assert len(page.evaluate(speech)["clips"]) == 2  # the undone turn is not said again

            page.get_by_text("Voice settings").click()
            page.locator("#speak-replies input").uncheck()
            page.locator("#message textarea").fill("tell me a joke")
            page.keyboard.press("Enter")
            expect(page.locator("#reply-meta")).to_contain_text("joke", timeout=60_000)
            page.wait_for_timeout(1500)
            assert len(page.evaluate(speech)["clips"]) == 2  # nothing more said
            # The Spoken reply player keeps the last reply spoken: never emptied, which removed Gradio's player while
            # it loaded its clip (a console warning from Svelte, the CI failure of 2026-12-03)
            assert page.locator("#spoken-reply audio[src]").get_attribute("src") == said
            browser.close()
    finally:
        app.close()


def test_the_spoken_reply_is_what_was_said_along_not_a_second_synthesis():
    """The Spoken reply player gets the clips said as the reply was written, joined: the default voice speaks
    each sentence once."""
    from robot.speech.audio import SAMPLE_RATE
    from robot.speech.tts import synthesize
    from robot.web.voice_controls import Speaker

    said = []

    def say(text: str):
        said.append(text)
        return synthesize(text)

    speaker = Speaker(say)
    first = speaker.along("Hello there. How")
    rest = speaker.along("Hello there. How are you today?", final=True)
    assert (first["text"], rest["text"]) == ("Hello there.", "How are you today?") and said == [first["text"],
                                                                                                 rest["text"]]
    rate, audio = speaker.whole()
    assert rate == SAMPLE_RATE and audio.dtype.name == "int16"
    assert len(audio) == sum(len(synthesize(text)) for text in said) > SAMPLE_RATE  # both sentences, in order
    assert len(said) == 2  # nothing synthesised again
    assert Speaker(None).whole() is None and Speaker(say).whole() is None  # not speaking / nothing said


def test_the_editor_quotes_what_its_highlighter_would_misread():
    """An unquoted apostrophe ("what's up") starts a string for the page's YAML highlighter: such text is written
    double-quoted, and reads back the same."""
    from robot.intents.formats import parse_native_yaml, to_native_yaml
    from robot.intents.schema import Intent, IntentData

    data = IntentData([Intent("greet", ["yo, what's up", "hi"], ["Hey! I'm {robot_name}."])])
    text = to_native_yaml(data)
    assert '- "yo, what\'s up"' in text and "- hi\n" in text and "\"Hey! I'm {robot_name}.\"" in text
    assert parse_native_yaml(text).intents[0].examples == data.intents[0].examples
