"""The README's picture of the page, made anew from the running robot: a short conversation in Chromium (Debian's,
through Playwright), the chat tab at 1280x900. Run it after a change to the page:

    python docs/screenshot.py [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONVERSATION = ["what is 15% of 80", "how many kilometers is 10 miles", "set a timer for 5 minutes"]
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]


def screenshot(out: Path, port: int = 7979) -> Path:
    """Serve the robot with its shipped models (no dialogue model: the picture shows the intents' replies), have the
    conversation above in the page, and save the chat tab as a PNG."""
    os.environ.setdefault("ROBOT_HOME", tempfile.mkdtemp(prefix="robot-screenshot-"))
    os.environ["ROBOT_DIALOGUE"] = "off"
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import expect, sync_playwright

    from robot.service import load_robot
    from robot.web.app import launch

    app = launch(load_robot(seed=0, dialogue=False), port=port, block=False)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                        args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            for message in CONVERSATION:
                page.locator("#message textarea").fill(message)
                page.keyboard.press("Enter")
                expect(page.locator("#chat .message-row")).to_have_count(2 * (CONVERSATION.index(message) + 1),
                                                                         timeout=60_000)
                expect(page.locator("#send")).to_be_visible(timeout=60_000)
            page.mouse.move(0, 0)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": 1280, "height": 900})
            browser.close()
    finally:
        app.close()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--port", type=int, default=7979)
    args = parser.parse_args()
    print(f"wrote {screenshot(args.out, args.port)}")
