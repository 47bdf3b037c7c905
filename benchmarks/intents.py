"""CLINC150 benchmark: train on train+oos_train, calibrate on val+oos_val, report on test+oos_test.

Prints in-scope accuracy, out-of-scope recall/precision, macro F1, training seconds (encoding included,
cold cache) and the latency of one chat turn on the intent path with the shipped default intents (classify +
template, action or canned fallback; the dialogue model's generation is measured by benchmarks/dialogue.py),
batch 1; and one message encoded and classified by the CLINC150 model just trained (its familiarity reads all
15,000 training examples).

    python benchmarks/intents.py [--data ../shared/data/clinc150/data_full.json] [--threads 2]
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch
from report import bench_arguments, percentile, print_table, time_each, time_turns

from robot.brain import Robot
from robot.intents.encoder import SentenceEncoder
from robot.intents.evaluate import evaluate
from robot.intents.schema import Intent, IntentData
from robot.intents.train import train_intents
from robot.service import load_robot

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150" / "data_full.json"


def to_intent_data(pairs: list[list[str]], source: str) -> IntentData:
    intents: dict[str, Intent] = {}
    oos = []
    for text, label in pairs:
        if label == "oos":
            oos.append(text)
        else:
            intents.setdefault(label, Intent(label, [])).examples.append(text)
    return IntentData(list(intents.values()), oos_examples=oos, source=source)


def main() -> None:
    args = bench_arguments(__doc__, DEFAULT_DATA, 500).parse_args()
    torch.set_num_threads(args.threads)
    raw = json.loads(args.data.read_text())
    train = to_intent_data(raw["train"] + raw["oos_train"], f"{args.data.name}:train+oos_train")
    calibration = to_intent_data(raw["val"] + raw["oos_val"], f"{args.data.name}:val+oos_val")
    test = to_intent_data(raw["test"] + raw["oos_test"], f"{args.data.name}:test+oos_test")

    encoder = SentenceEncoder()  # no cache: training time includes encoding every sentence
    classifier, fit = train_intents(train, encoder, calibration=calibration, progress=True)[:2]
    result = evaluate(classifier, test)["summary"]

    shipped = load_robot(seed=0)
    robot = Robot(shipped.brain, shipped.persona, seed=0)  # the intent path: no dialogue model generating
    messages = [t for t, _ in raw["test"][: args.turns]]
    turn_ms = time_turns(robot, messages)
    # one message encoded and classified alone (familiarity reads every training example: it grows with them)
    clinc_ms = time_each(lambda text: classifier.classify_message(classifier.encoder.encode_message(text)[0]),
                         messages)

    rows = [
        ("in-scope accuracy (test)", f"{100 * result['in_scope_accuracy']:.2f}%", ">= 95.0%"),
        ("out-of-scope recall (oos_test)", f"{100 * result['oos_recall']:.2f}%", ">= 60%"),
        ("out-of-scope precision", f"{100 * result['oos_precision']:.2f}%", ""),
        ("macro F1 (151 classes)", f"{100 * result['macro_f1']:.2f}%", ""),
        ("training time (encode + fit + calibrate)", f"{fit['train_seconds']:.1f} s", "<= 90 s"),
        ("chat turn, intent path, p50", f"{percentile(turn_ms, 50):.1f} ms", "<= 15 ms"),
        ("chat turn, intent path, p99", f"{percentile(turn_ms, 99):.1f} ms", "<= 50 ms"),
        (f"one message, this CLINC150 model ({len(classifier.examples):,} examples), encode + classify, p50 / p99",
         f"{percentile(clinc_ms, 50):.1f} / {percentile(clinc_ms, 99):.1f} ms", ""),
    ]
    print(f"\nCLINC150 ({args.data.name}), {platform.processor() or platform.machine()}, "
          f"{args.threads} torch threads, threshold {classifier.threshold:.3f}, T {classifier.temperature:.3f}")
    print_table(rows, ("metric", "value", "target"))


if __name__ == "__main__":
    main()
