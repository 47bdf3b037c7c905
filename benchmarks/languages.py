"""Chinese intents: CrossWOZ user turns (28 intents, ../shared/data/zh/crosswoz_intents), trained the way a
user trains (`robot train intents --data train.csv`: language detected, multilingual encoder, generic
negatives, calibration), cold (an empty embedding cache), tested on test.csv; one chat turn's latency on the
intent path; and the two encoders' cosine scales that `SentenceEncoder.similarity` puts on one footing.

    python benchmarks/languages.py [--data ../shared/data/zh/crosswoz_intents] [--threads 2]
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from report import bench_arguments, percentile, print_table, scratch, time_turns

os.environ["ROBOT_CACHE"] = scratch("robot-bench-cache-")  # cold: every sentence encoded
os.environ["ROBOT_HOME"] = scratch("robot-bench-home-")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from robot.brain import Brain, Robot  # noqa: E402
from robot.intents.encoder import MULTILINGUAL, EncoderConfig, SentenceEncoder  # noqa: E402
from robot.intents.evaluate import evaluate  # noqa: E402
from robot.intents.formats import load_intents  # noqa: E402
from robot.paths import DEFAULT_INTENTS  # noqa: E402
from robot.service import load_persona, train_intent_model  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "zh" / "crosswoz_intents"


def cosine_scales() -> list[tuple[str, ...]]:
    """Quartiles of the highest cosine between each default out-of-scope example and the default in-scope
    examples (mostly unrelated sentences), raw and on MiniLM's scale, for both encoders."""
    texts, labels = load_intents(DEFAULT_INTENTS).labelled_examples()
    inside = [t for t, label in zip(texts, labels) if label != "oos"]
    outside = [t for t, label in zip(texts, labels) if label == "oos"]
    rows = []
    for config in (EncoderConfig(), EncoderConfig(sentence=MULTILINGUAL)):
        encoder = SentenceEncoder(config)
        a, b = encoder.unit_vectors(outside), encoder.unit_vectors(inside)
        raw, scaled = (a @ b.T).max(1), encoder.similarity(a, b).max(1)
        quartiles = lambda v: " / ".join(f"{q:.2f}" for q in np.quantile(v, [0.25, 0.5, 0.75]))  # noqa: E731
        rows.append((f"unrelated max cosine, {config.sentence}: raw", quartiles(raw), ""))
        rows.append((f"unrelated max cosine, {config.sentence}: MiniLM scale", quartiles(scaled), ""))
    return rows


def main() -> None:
    args = bench_arguments(__doc__, DEFAULT_DATA, 300).parse_args()
    torch.set_num_threads(args.threads)

    folder = Path(scratch("robot-bench-zh-")) / "model"
    started = time.perf_counter()
    trained = train_intent_model([args.data / "train.csv"], out=folder, device="cpu", progress=True)
    seconds = time.perf_counter() - started
    brain = Brain.load(folder, "crosswoz")
    test = load_intents(args.data / "test.csv")
    result = evaluate(brain.classifier, test)["summary"]  # as the robot decides: under the threshold is wrong
    texts, names = test.labelled_examples()

    def top1(classifier) -> float:
        return float(np.mean([p.ranking[0][0] == n for p, n in zip(classifier.predict(texts), names)]))

    english = folder.parent / "as-english"  # the same data read by MiniLM, as before languages
    train_intent_model([args.data / "train.csv"], out=english, device="cpu", language="en")
    robot = Robot(brain, load_persona(), seed=0)
    turn_ms = time_turns(robot, texts[:: max(1, len(texts) // args.turns)])

    rows = [
        ("language (detected)", trained.metrics["language"], "zh"),
        ("test accuracy (best intent)", f"{100 * top1(brain.classifier):.2f}%", ">= 92%"),
        ("test accuracy (best intent), MiniLM (--language en)",
         f"{100 * top1(Brain.load(english, 'english').classifier):.2f}%", ""),
        ("test accuracy (in scope, threshold applied)", f"{100 * result['in_scope_accuracy']:.2f}%", ""),
        ("cold training, train.csv (1,811 examples), the whole command",
         f"{seconds:.1f} s (fit + calibrate {trained.metrics['train_seconds']:.1f} s)", "<= 30 s"),
        ("chat turn, intent path, p50", f"{percentile(turn_ms, 50):.1f} ms", "<= 20 ms"),
        ("chat turn, intent path, p99", f"{percentile(turn_ms, 99):.1f} ms", ""),
        *cosine_scales(),
    ]
    print(f"\nCrossWOZ intents ({args.data}), {platform.processor() or platform.machine()}, {args.threads} torch "
          f"threads, threshold {brain.classifier.threshold:.3f}")
    print_table(rows)


if __name__ == "__main__":
    main()
