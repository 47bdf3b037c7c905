"""What a new Gradio session costs the server: for each session it has not seen, Gradio builds the configuration
of every component on the page (`gradio/state_holder.py`), on its event loop, where every other request waits.
Timed with the component classes' signatures computed each time (Gradio's own way) and remembered
(`robot/web/app.py: remember_signatures`, as `robot serve` does).

    python benchmarks/sessions.py [--sessions 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from report import percentile, print_table, scratch, time_each

os.environ.setdefault("ROBOT_HOME", scratch("robot-sessions-"))
os.environ["ROBOT_DIALOGUE"] = "off"  # the page is the same; its model is not needed here
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gradio.state_holder import SessionState  # noqa: E402

from robot.service import load_robot  # noqa: E402
from robot.web.app import build_app, remember_signatures  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300)
    args = parser.parse_args()
    app = build_app(load_robot())
    new_session = lambda _: SessionState(app)  # noqa: E731
    computed = time_each(new_session, [""] * args.sessions)
    remember_signatures(app)
    remembered = time_each(new_session, [""] * args.sessions)
    print(f"\na new Gradio session of the robot's page ({len(app.blocks)} components), {args.sessions} timed, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print_table([(f"{q}, ms", f"{percentile(computed, q):.2f}", f"{percentile(remembered, q):.2f}") for q in (50, 90)],
                ("percentile", "signatures computed each time", "remembered"))


if __name__ == "__main__":
    main()
