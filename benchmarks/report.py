"""What every benchmark prints: percentiles and a markdown table of (measure, value, target) rows."""

from __future__ import annotations

import numpy as np


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


Row = tuple[str, str, str]


def print_table(rows: list[Row], header: Row = ("measure", "value", "target")) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(3)]
    line = lambda row: f"| {row[0]:<{widths[0]}} | {row[1]:>{widths[1]}} | {row[2]:<{widths[2]}} |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
