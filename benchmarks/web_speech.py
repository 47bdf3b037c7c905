"""Replies spoken in the browser as they are written (issue #27): from the moment the words of a reply's first
clip (its first sentence, or the first few when they came at once) are all on the page to the moment that clip
starts playing, in Chromium on the real page, the page's own clock for both. Built-in replies (whole at once)
and the dialogue model's (streamed a token at a time; a one-sentence reply is only known to be whole at its end).

    python benchmarks/web_speech.py [--threads 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

import torch
from report import percentile, print_table, scratch

os.environ.setdefault("ROBOT_HOME", scratch("robot-web-speech-"))
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from robot.service import load_robot, warmup_jobs  # noqa: E402
from robot.speech.tts import Voice  # noqa: E402
from robot.warmup import Warmup  # noqa: E402
from robot.web.app import launch  # noqa: E402

BUILT_IN = ["hello", "tell me a joke", "what time is it", "what is 15% of 80", "how many kilometers is 10 miles",
            "what can you do?", "how are you", "what day is 25 December"]
CHIT_CHAT = ["what's your favourite colour?", "i had a long day at work", "do you like music?",
             "tell me something about yourself", "what should i cook tonight?", "i just got back from holiday"]

# Every change of the last reply's text, with the page's clock
WATCH = """() => {
  window.robotShown = [];
  window.robotSpeech.clips = [];
  const chat = document.querySelector('#chat');
  const seen = () => {
    const bots = chat.querySelectorAll('[data-testid="bot"]');
    if (bots.length) window.robotShown.push([performance.now(), bots[bots.length - 1].textContent]);
  };
  if (window.robotWatch) window.robotWatch.disconnect();
  window.robotWatch = new MutationObserver(seen);
  window.robotWatch.observe(chat, {subtree: true, childList: true, characterData: true});
}"""


def first_clip_delay(shown: list[tuple[float, str]], clip: dict) -> float:
    """Milliseconds from the first moment the clip's words were all on the page to its playing."""
    words = clip["text"].split()
    at = next(t for t, text in shown if text.split()[:len(words)] == words)
    return clip["started"] - at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="times each prompt is sent")
    parser.add_argument("--port", type=int, default=7871)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from playwright.sync_api import sync_playwright

    robot = load_robot(seed=0)  # the dialogue model loaded; the voice prepared, as `robot serve` does
    app = launch(robot, port=args.port, block=False, warmup=Warmup(warmup_jobs(robot, voice=Voice())).start())
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                "--autoplay-policy=no-user-gesture-required"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{args.port}/")
            page.wait_for_function("() => window.robotSpeech !== undefined", timeout=60_000)
            page.locator("#warming").wait_for(state="hidden", timeout=120_000)
            for name, prompts in [("built-in replies", BUILT_IN), ("dialogue model replies", CHIT_CHAT)]:
                delays = []
                for prompt in prompts * args.rounds:
                    page.evaluate(WATCH)
                    page.locator("#message textarea").fill(prompt)
                    page.keyboard.press("Enter")
                    page.wait_for_function("() => window.robotSpeech.clips.length && "
                                           "window.robotSpeech.clips[0].started", timeout=60_000)
                    page.wait_for_function("() => { const send = document.querySelector('#send'); "
                                           "return send && send.offsetParent !== null; }",
                                           timeout=60_000)  # the turn over
                    delays.append(first_clip_delay(page.evaluate("() => window.robotShown"),
                                                   page.evaluate("() => window.robotSpeech.clips[0]")))
                rows.append((f"{name}: first clip's words shown -> its audio playing, p50 / p90 ({len(delays)} turns)",
                             f"{percentile(delays, 50):.0f} / {percentile(delays, 90):.0f} ms", "<= 150 ms"))
            browser.close()
    finally:
        app.close()
    print(f"\nweb speech, {args.threads} torch threads, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print_table(rows)


if __name__ == "__main__":
    main()
