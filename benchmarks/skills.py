"""What skills cost (issue #25): a turn through a form and through a webhook against a template turn, and training
a user's intents composed with the built-in skills against training them alone. The example pizza shop
(examples/pizza): its webhook server runs in this process on loopback and answers at once.

    python benchmarks/skills.py [--threads 2] [--turns 300] [--trainings 3] [--seeds 4]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from report import pace, percentile, print_table, scratch, time_each

os.environ.setdefault("ROBOT_HOME", scratch("robot-skills-"))
os.environ.setdefault("ROBOT_CACHE", scratch("robot-skills-cache-"))
os.environ["ROBOT_DIALOGUE"] = "off"

from robot.brain import Brain, Robot, Session  # noqa: E402
from robot.intents.classifier import IntentClassifier  # noqa: E402
from robot.intents.train import TrainConfig  # noqa: E402
from robot.service import load_persona, train_intent_model  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "pizza"


CLINC = Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150" / "data_full.json"


def clinc_subset(folder: Path, intents: int, per_intent: int = 100, first: int = 0) -> Path | None:
    """`intents` intents of CLINC150's train split from the `first` on, `per_intent` examples each, as a CSV (None
    when the data set is not there)."""
    if not CLINC.is_file():
        return None
    rows = json.loads(CLINC.read_text())["train"]
    wanted = list(dict.fromkeys(label for _, label in rows))[first:first + intents]
    taken: Counter[str] = Counter()
    kept = []
    for text, label in rows:
        if label in wanted and taken[label] < per_intent:
            taken[label] += 1
            kept.append((text, label))
    path = folder / f"clinc-{intents}-{per_intent}-{first}.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([("text", "intent"), *kept])
    return path


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """The chance that a positive scores above a negative (ties count half)."""
    return float((positive[:, None] > negative).mean() + (positive[:, None] == negative).mean() / 2)


def started_rows(folder: Path, seeds: int) -> list[tuple[str, str, str]]:
    """Composed trainings of CLINC150 subsets (10 examples an intent), started from the built-in skills' heads and
    from scratch, means over `seeds`: in-scope accuracy on the subset's test split, out-of-scope AUROC and recall on
    CLINC150's 1,000 out-of-scope test messages, and the training's time."""
    data = json.loads(CLINC.read_text())
    rows = []
    for intents, first in [(15, 0), (15, 30), (30, 60)]:
        path = clinc_subset(folder, intents, 10, first)
        labels = {label for _, label in csv.reader(path.open())}
        test = [(t, label) for t, label in data["test"] if label in labels]
        oos = [t for t, _ in data["oos_test"]]
        for started in (True, False):
            runs = []
            for seed in range(seeds):
                began = time.perf_counter()
                result = train_intent_model([path], out=folder / f"acc-{time.monotonic_ns()}", device="cpu",
                                            config=TrainConfig(seed=seed, start_from_builtins=started))
                seconds = time.perf_counter() - began
                classifier = IntentClassifier.load(result.folder)
                scored = classifier.predict([t for t, _ in test])
                refused = classifier.predict(oos)
                runs.append((np.mean([p.intent == label for p, (_, label) in zip(scored, test)]),
                             auroc(np.array([-p.score for p in refused]), np.array([-p.score for p in scored])),
                             np.mean([p.intent is None for p in refused]), seconds))
            accuracy, area, recall, seconds = np.mean(runs, axis=0)
            rows.append((f"CLINC150 intents {first + 1}-{first + intents}, 10 examples each, composed, "
                         + ("started from the built-ins" if started else "from scratch"),
                         f"accuracy {accuracy:.1%}, out-of-scope AUROC {area:.3f}, recall {recall:.1%}; "
                         f"{seconds:.1f} s", ""))
    return rows


def webhook_server():
    spec = importlib.util.spec_from_file_location("pizza_webhook", EXAMPLE / "webhook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = module.serve(0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--trainings", type=int, default=3, help="trainings timed of each kind (the median is kept)")
    parser.add_argument("--commands", type=int, default=3, help="whole `robot train intents` runs of each kind")
    parser.add_argument("--clinc", type=Path, default=CLINC, help="CLINC150's data_full.json (a user's larger set)")
    parser.add_argument("--clinc-intents", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=0, help="composed CLINC150 subsets trained with this many "
                        "seeds, started from the built-in skills' heads and from scratch: accuracy (0: skip)")
    args = parser.parse_args()
    before = pace()
    torch.set_num_threads(args.threads)
    server = webhook_server()
    folder = Path(scratch("robot-skills-data-"))
    intents = folder / "intents.yaml"
    intents.write_text((EXAMPLE / "intents.yaml").read_text().replace("127.0.0.1:8765",
                                                                        f"127.0.0.1:{server.server_port}"))

    def train(path: Path, replace: bool) -> float:
        started = time.perf_counter()
        train_intent_model([path], out=folder / f"model-{replace}-{time.monotonic_ns()}", device="cpu",
                           replace_builtins=replace)
        return time.perf_counter() - started

    def medians(path: Path) -> tuple[float, float]:
        """Alone and composed trainings taken in turn, so that the machine's drift falls on both alike."""
        times = [(train(path, True), train(path, False)) for _ in range(args.trainings)]
        return tuple(sorted(kind)[args.trainings // 2] for kind in zip(*times))

    def command(path: Path, replace: bool) -> float:
        """What a user waits for: `robot train intents` from start to exit (imports, loading, training)."""
        started = time.perf_counter()
        subprocess.run([shutil.which("robot") or "robot", "train", "intents", "--data", str(path), "--nice", "0",
                        "--out", str(folder / f"cli-{replace}-{time.monotonic_ns()}")] + ["--replace"] * replace,
                       check=True, capture_output=True)
        return time.perf_counter() - started

    training = []
    for name, path in [("the pizza shop's 2 intents (26 examples)", intents),
                       (f"{args.clinc_intents} CLINC150 intents ({args.clinc_intents * 100:,} examples)",
                        clinc_subset(folder, args.clinc_intents))]:
        if path is None:
            continue
        train(path, False)  # the encoder's cache holds every text from now on: what a user who retrains sees
        alone, composed = medians(path)
        training.append((f"training {name}, warm cache: alone / with the built-in skills",
                     f"{alone:.2f} / {composed:.2f} s ({composed / alone - 1:+.0%})", "<= +20%"))
    alone, composed = (sorted(command(intents, replace) for _ in range(args.commands))[args.commands // 2]
                       for replace in (True, False))
    training.append(("`robot train intents` on the pizza shop, whole command: alone / with the built-in skills",
                     f"{alone:.1f} / {composed:.1f} s ({composed / alone - 1:+.0%})", "<= +20%"))

    model = train_intent_model([intents], out=folder / "model", device="cpu").folder  # the shop, composed
    robot = Robot(Brain.load(model, "pizza"), load_persona(), seed=0)

    def form_turn(_: str) -> None:  # the form's first question
        assert robot.respond("i'd like to order a pizza", Session()).source == "form"

    def webhook_turn(_: str) -> None:  # every slot given: the webhook is called and the template filled
        assert robot.respond("can i get a large pizza", Session()).source == "webhook"

    def template_turn(_: str) -> None:
        assert robot.respond("tell me a joke", Session()).source == "template"

    texts = [""] * args.turns
    times = {name: time_each(turn, texts) for name, turn in
             [("template", template_turn), ("form", form_turn), ("webhook", webhook_turn)]}
    base = percentile(times["template"], 50)
    rows = [(f"turn through a {name}, p50 / p99 (over a template turn)",
             f"{percentile(times[name], 50):.1f} / {percentile(times[name], 99):.1f} ms "
             f"({percentile(times[name], 50) - base:+.1f} ms)", target)
            for name, target in [("template", ""), ("form", "<= +5 ms"), ("webhook", "<= +5 ms")]] + training
    if args.seeds and CLINC.is_file():
        rows += started_rows(folder, args.seeds)
    print(f"\nskills, {args.threads} torch threads, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}; "
          f"{before}, after the runs {pace().removeprefix('pace: ')}")
    print_table(rows)
    server.shutdown()


if __name__ == "__main__":
    main()
