"""How `robot data validate` scales with the size of the data: 20,000 intents of one example each, and 100,000
examples of two intents (issue #23: once minutes and 15 s). Each run is the whole command, in a fresh process,
with a fresh embedding cache.

    python benchmarks/validate_scale.py
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from report import print_table, scratch

WORDS = "apple banana cherry delta echo fox golf hotel india juliet kilo lima mike november oscar papa".split()


def table(path: Path, rows: int, intents: int) -> Path:
    rng = random.Random(0)
    lines = [f"{' '.join(rng.choice(WORDS) for _ in range(5))} {k},intent_{k % intents}\n" for k in range(rows)]
    path.write_text("text,intent\n" + "".join(lines))
    return path


def validate_seconds(path: Path) -> tuple[float, int]:
    env = {**os.environ, "ROBOT_HOME": scratch("robot-validate-"), "ROBOT_CACHE": scratch("robot-validate-cache-")}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "robot.cli", "data", "validate", str(path)], env=env,
                          capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode


def main() -> None:
    folder = Path(scratch("robot-validate-data-"))
    rows = []
    for name, n, intents, target in [("20,000 intents, one example each", 20_000, 20_000, "<= 10 s"),
                                     ("100,000 examples of two intents", 100_000, 2, ""),
                                     ("2,000 intents of 5 examples (near duplicates checked)", 10_000, 2_000, "")]:
        seconds, code = validate_seconds(table(folder / f"{n}-{intents}.csv", n, intents))
        rows.append((f"{name}: whole command (exit {code})", f"{seconds:.1f} s", target))
    print(f"\n`robot data validate` on generated tables, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print_table(rows)


if __name__ == "__main__":
    main()
