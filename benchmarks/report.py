"""What every benchmark shares: percentiles and a markdown table of (measure, value, target) rows, its options,
its scratch folders."""

from __future__ import annotations

import argparse
import atexit
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np


def scratch(prefix: str) -> str:
    """A temporary folder removed when the benchmark ends (robot homes and caches reach a gigabyte)."""
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def poll(check: Callable[[], bool], deadline: float, every: float = 0.05) -> float | None:
    """Seconds until `check()` is true (tried every `every` s; an HTTP error counts as not yet), or None past
    `deadline` seconds."""
    started = time.perf_counter()
    while time.perf_counter() - started < deadline:
        try:
            if check():
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(every)
    return None


def pace() -> str:
    """How fast this machine is at the moment, for comparing runs: its speed moved 2-3x between hours (the same
    training 1.3 s one day, 3.6 s another). A pure-Python loop of 10^7 additions (imports, the web server, the
    brain's Python) and 100 float32 512x512 products (torch's kernels), one thread."""
    import torch

    started = time.perf_counter()
    total = 0
    for k in range(10**7):
        total += k
    python = time.perf_counter() - started
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    a = torch.ones(512, 512)
    started = time.perf_counter()
    for _ in range(100):
        a @ a
    products = time.perf_counter() - started
    torch.set_num_threads(threads)
    return f"pace: Python loop {python:.2f} s, 100 products {products:.2f} s"


def bench_arguments(doc: str, data: Path, turns: int) -> argparse.ArgumentParser:
    """The options every intent benchmark takes: its data, torch's threads, how many chat turns to time."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path, default=data)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--turns", type=int, default=turns, help="chat turns timed for latency")
    return parser


def time_each(step: Callable[[str], object], texts: list[str], warmup: int = 20) -> list[float]:
    """Milliseconds of `step` on each text, after `warmup` untimed ones."""
    for text in texts[:warmup]:
        step(text)
    times = []
    for text in texts:
        start = time.perf_counter()
        step(text)
        times.append(1000 * (time.perf_counter() - start))
    return times


def time_turns(robot, texts: list[str]) -> list[float]:
    """Milliseconds of each chat turn, a fresh session each."""
    from robot.brain import Session

    return time_each(lambda text: robot.respond(text, Session()), texts)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


Row = tuple[str, ...]


def print_table(rows: list[Row], header: Row = ("measure", "value", "target")) -> None:
    """Names left, numbers right, a target column left."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    align = ["<" if i == 0 or name == "target" else ">" for i, name in enumerate(header)]
    line = lambda row: "| " + " | ".join(f"{row[i]:{align[i]}{widths[i]}}" for i in range(len(header))) + " |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
