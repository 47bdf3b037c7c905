"""Retraining benchmark: default assets retrain + hot swap, CLINC150 retrain (cold and warm embedding
cache), and chat requests from 10 concurrent web clients while a retrain runs and swaps.

    python benchmarks/retrain.py [--threads 2] [--clinc ../shared/data/clinc150/data_full.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import threading
import time
from pathlib import Path

from report import print_table, scratch

os.environ["ROBOT_HOME"] = scratch("robot-bench-")  # a clean registry and a cold cache

import torch  # noqa: E402
from gradio_client import Client  # noqa: E402

from robot.lifecycle import (
    ModelRegistry,  # noqa: E402
    activate,
)
from robot.paths import DEFAULT_INTENTS  # noqa: E402
from robot.service import (
    load_robot,  # noqa: E402
    train_version,  # noqa: E402
)
from robot.web.app import launch  # noqa: E402

DEFAULT_CLINC = Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150" / "data_full.json"


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clinc", type=Path, default=DEFAULT_CLINC)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    registry = ModelRegistry("intents")
    robot = load_robot(registry=registry, seed=0)
    rows = []

    def retrain_and_swap():
        result = train_version([DEFAULT_INTENTS], registry, robot)
        activate(registry, result.version, robot)
        return result

    for label in ("cold cache", "warm cache"):
        seconds, _ = timed(retrain_and_swap)
        rows.append((f"default assets: click to active model ({label})", f"{seconds:.1f} s", "<= 10 s"))

    raw = json.loads(args.clinc.read_text())
    table = Path(os.environ["ROBOT_HOME"]) / "clinc_train.csv"
    with table.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "intent"])
        writer.writerows(raw["train"] + raw["oos_train"])
    for label in ("cold cache", "warm cache"):
        seconds, result = timed(lambda: train_version([table], registry, robot))
        rows.append((f"CLINC150 15,100 examples: retrain ({label})", f"{seconds:.1f} s", "<= 60 s"))
    accuracy = f"{100 * result.metrics['in_scope_accuracy']:.1f}%"
    rows.append(("CLINC150 retrain: held-out in-scope accuracy", accuracy, ""))

    app = launch(robot, port=7899, block=False, registry=registry)
    failures, answered, stop = [], [], threading.Event()

    def client(k: int) -> None:
        c = Client("http://127.0.0.1:7899/", verbose=False)
        while not stop.is_set():
            try:
                reply = c.predict(["hello", "what is 7 times 6", "tell me a joke"][k % 3], api_name="/respond")
                answered.append(bool(reply["text"]))
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                failures.append(repr(exc))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    time.sleep(2)
    seconds, _ = timed(retrain_and_swap)
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join()
    app.close()
    rows.append((f"{args.clients} web clients during a retrain + swap ({seconds:.1f} s)",
                 f"{len(answered)} ok, {len(failures)} failed", "0 failed"))

    print(f"\nretrain benchmark, {args.threads} torch threads")
    print_table(rows)
    if failures:
        print("first failure:", failures[0])


if __name__ == "__main__":
    main()
