"""The first start a new user sees: `robot serve` on an empty ROBOT_HOME and cache, timed from the command to
the page, to the first answer to "hello", and to the first reply of the dialogue model (prepared in the
background on a first start). Then a second start on the same home, for comparison.

    python benchmarks/first_start.py [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from report import pace, poll, print_table, scratch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import free_port  # noqa: E402


def one_start(home: str, cache: str) -> dict[str, float | None]:
    port = free_port()
    env = {**os.environ, "ROBOT_HOME": home, "ROBOT_CACHE": cache}
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "robot.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"

    def turn(message: str) -> dict:
        reply = httpx.post(url + "api/respond", json={"message": message}, timeout=60)
        return reply.json() if reply.status_code == 200 else {}

    try:
        page = poll(lambda: httpx.get(url, timeout=5).status_code == 200, 300)
        hello = poll(lambda: turn("hello").get("intent") == "greet", 300)
        elapsed = time.perf_counter() - started
        chat = poll(lambda: turn("I just got back from a long walk by the sea").get("source") == "dialogue", 600)
        total = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(60)
    return {"page": page, "hello": elapsed if hello is not None else None, "dialogue": total if chat else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="first starts, each on a new home and cache")
    args = parser.parse_args()
    rows, before = [], pace()
    for run in range(args.runs):
        home, cache = scratch("robot-first-home-"), scratch("robot-first-cache-")
        for kind in ("first start", "second start"):
            times = one_start(home, cache)
            shown = {k: "never" if v is None else f"{v:.1f} s" for k, v in times.items()}
            rows.append((f"run {run + 1}, {kind}", shown["page"], shown["hello"], shown["dialogue"]))
    print(f"\n`robot serve` from an empty ROBOT_HOME, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')} "
          f"(seconds from the command); {before}, after the runs {pace().removeprefix('pace: ')}")
    print_table(rows, ("start", "page served", "'hello' answered (target <= 10 s)", "dialogue model answers"))


if __name__ == "__main__":
    main()
