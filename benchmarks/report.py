"""What every benchmark prints: percentiles and a markdown table of (measure, value, target) rows."""

from __future__ import annotations

import numpy as np


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
