"""The first start a new user sees: the robot answers what it knows at once and prepares its dialogue model in the
background (merged into its base once: this was 27-76 s before the page answered anything), saying so on stderr,
in out-of-scope replies and on the page; a one-turn `robot chat` never waits for a model its turn does not need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.conftest import free_port
from tests.test_web import BROWSER_ARGS, CHROMIUM

OUT_OF_SCOPE = "I just got back from a long walk by the sea"


def fresh_env(tmp_path) -> dict[str, str]:
    """An empty robot home and cache: nothing merged, exported or joined yet."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("ROBOT_AUTH", "ROBOT_DIALOGUE"))},
            "ROBOT_HOME": str(tmp_path / "home"), "ROBOT_CACHE": str(tmp_path / "cache")}


def test_serve_answers_at_once_and_brings_its_chat_model_in_the_background(tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "robot.cli", "serve", "--port", str(port)],
                              env=fresh_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said: list[str] = []
    reader = threading.Thread(target=lambda: said.extend(iter(server.stdout.readline, "")), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}/api/respond"
    try:
        deadline = time.monotonic() + 120
        while not any("is listening on" in line for line in said):
            assert time.monotonic() < deadline and server.poll() is None, said
            time.sleep(0.05)
        assert httpx.post(url, json={"message": "hello"}, timeout=30).json()["intent"] == "greet"
        warming = httpx.post(url, json={"message": OUT_OF_SCOPE}, timeout=30).json()
        assert warming["source"] == "fallback" and "warming up" in warming["text"], warming
        assert not (tmp_path / "cache" / "dialogue").is_dir() or not any(
            p.name[0] != "." for p in (tmp_path / "cache" / "dialogue").iterdir())  # still being merged
        while (reply := httpx.post(url, json={"message": OUT_OF_SCOPE}, timeout=60).json())["source"] != "dialogue":
            assert time.monotonic() < deadline + 180, said
            time.sleep(0.5)
        assert "warming up" not in reply["text"]
        log = "".join(said)
        assert "Preparing the chat model in the background" in log and "Ready: the chat model" in log, log
        assert "Ready: the sentence encoder's ONNX export" in log  # made after the first answers, not before
        assert list((tmp_path / "cache" / "encoder").glob("*/model.onnx"))
    finally:
        server.terminate()
        server.wait(60)


def chat_once(tmp_path, message: str) -> tuple[dict, float]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "robot.cli", "chat", "--json", "--message", message],
                            env=fresh_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), time.perf_counter() - started


def test_one_turn_of_chat_loads_the_chat_model_only_when_the_turn_needs_it(tmp_path):
    reply, _ = chat_once(tmp_path, "hello")
    assert reply["intent"] == "greet"
    assert not (tmp_path / "cache" / "dialogue").exists()  # nothing merged for a greeting
    reply, _ = chat_once(tmp_path, OUT_OF_SCOPE)
    assert reply["source"] == "dialogue" and reply["text"] and "warming up" not in reply["text"]
    assert any((tmp_path / "cache" / "dialogue").iterdir())


@pytest.mark.browser
def test_the_page_says_what_is_still_being_prepared(robot):
    """The line under the heading names the job in progress and goes once everything is ready."""
    from robot.warmup import Job, Warmup
    from robot.web.app import launch

    playwright = pytest.importorskip("playwright.sync_api")
    release = threading.Event()
    warmup = Warmup([Job("dialogue", "the chat model", lambda: release.wait(120))])
    port = free_port()
    app = launch(robot, port=port, block=False, warmup=warmup)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            line = page.locator("#warming")
            playwright.expect(line).to_contain_text("Preparing the chat model in the background", timeout=30_000)
            release.set()
            playwright.expect(line).to_be_hidden(timeout=30_000)
            browser.close()
    finally:
        release.set()
        app.close()


def test_a_speaking_robot_prepares_its_voice_in_the_background(tmp_path):
    """The reply voice is a background job of a robot that speaks (the first reply spoken waited 1 s for the voice's
    weights and 2 s for inflect, which reads numbers aloud); of one that does not speak, it is not."""
    code = """if True:
        import sys
        from robot.service import load_robot, warmup_jobs
        from robot.speech.neural_voice import neural_voice
        from robot.speech.tts import Voice
        robot = load_robot(dialogue=False)
        assert "voice" not in [job.kind for job in warmup_jobs(robot)]
        jobs = {job.kind: job for job in warmup_jobs(robot, voice=Voice())}
        assert "inflect" not in sys.modules and neural_voice.cache_info().currsize == 0
        jobs["voice"].run()
        assert "inflect" in sys.modules and neural_voice.cache_info().currsize == 1
    """
    env = {**os.environ, "ROBOT_HOME": str(tmp_path), "ROBOT_DIALOGUE": "off"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
