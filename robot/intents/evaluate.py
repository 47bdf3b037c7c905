"""Evaluating a classifier on labelled data or by K-fold cross-validation, and writing the report."""

from __future__ import annotations

import csv
import json
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from robot.errors import InputError
from robot.intents.classifier import OOS, IntentClassifier, Prediction
from robot.intents.encoder import SentenceEncoder
from robot.intents.entities import EntityExtractor
from robot.intents.metrics import entity_metrics, metrics_from_predictions
from robot.intents.schema import Intent, IntentData
from robot.intents.train import TrainConfig, _folds, train_intents
from robot.language import CJK


def evaluate(classifier: IntentClassifier, data: IntentData, extractor: EntityExtractor | None = None,
             progress: bool = False) -> dict:
    """Intent metrics, plus entity metrics when the data carries annotations and an extractor is given."""
    texts, names = data.labelled_examples()
    if not texts:
        raise InputError("no examples to evaluate", path=data.source)
    features = classifier.encoder.encode(texts, progress=progress)
    metrics = metrics_from_predictions(names, classifier.classify(features), texts)
    gold = {text: {s.entity: s.value for s in spans} for text, spans in data.annotated_examples()}
    if extractor is not None and gold:
        tokens = classifier.encoder.encode_tokens(texts)
        metrics["entities"] = entity_metrics([gold.get(t, {}) for t in texts],
                                             [extractor.extract(t, k) for t, k in zip(texts, tokens)])
        metrics["summary"]["entity_f1"] = metrics["entities"]["micro"]["f1"]
    return metrics


def _subset(data: IntentData, keep: np.ndarray) -> IntentData:
    texts, names = data.labelled_examples()
    intents: dict[str, Intent] = {}
    oos = []
    for k in np.flatnonzero(keep):
        if names[k] == OOS:
            oos.append(texts[k])
        else:
            intents.setdefault(names[k], replace(data.intent(names[k]), examples=[])).examples.append(texts[k])
    return IntentData(list(intents.values()), data.entities, oos, source=data.source,
                      language=data.language)


def cross_validate(data: IntentData, folds: int, encoder: SentenceEncoder, config: TrainConfig = TrainConfig(),
                   device: str = "cpu", progress: bool = False) -> dict:
    """Train on K-1 folds, predict the held-out fold, K times; metrics over all held-out predictions."""
    if folds < 2:
        raise InputError("--folds must be at least 2")
    texts, names = data.labelled_examples()
    label_ids = {n: k for k, n in enumerate(dict.fromkeys(names))}
    fold = _folds(np.array([label_ids[n] for n in names]), folds, config.seed)
    predictions: list[Prediction | None] = [None] * len(texts)
    for f in range(folds):
        classifier = train_intents(_subset(data, fold != f), encoder, config, device=device).classifier
        held = np.flatnonzero(fold == f)
        for k, prediction in zip(held, classifier.predict([texts[k] for k in held])):
            predictions[k] = prediction
        if progress:
            print(f"fold {f + 1}/{folds} done", flush=True)
    metrics = metrics_from_predictions(names, predictions, texts)
    metrics["summary"]["folds"] = folds
    return metrics


def confusion_labels(metrics: dict, limit: int = 20, focus: set[str] | None = None) -> list[int]:
    """Indices of the labels involved in the most errors, for a readable confusion matrix.

    With `focus` (a user's intents composed with the built-in skills), only the errors that involve one of them
    count, and those intents are drawn even without errors: the built-ins' mistakes among themselves are the
    same whatever the user trains, and they are in the per-intent table and errors.csv."""
    matrix = np.array(metrics["confusion"])
    off = matrix - np.diag(np.diag(matrix))
    mine = np.array([label in focus for label in metrics["labels"]]) if focus else np.zeros(len(matrix), bool)
    if focus:
        off = off * (mine[:, None] | mine[None, :])
    weight = off.sum(0) + off.sum(1)
    order = [k for k in np.argsort(-weight, kind="stable") if weight[k] > 0 or mine[k]][:limit]
    return sorted(order) if order else list(range(min(limit, len(matrix))))


def _write_scores(path: Path, kind: str, rows: dict[str, dict]) -> None:
    """A CSV of precision, recall, F1 and support, one row per intent or entity."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow([kind, "precision", "recall", "f1", "support"])
        for name, row in rows.items():
            out.writerow([name, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}",
                          row["support"]])


CJK_FONTS = {"WenQuanYi Micro Hei": "wqy-microhei", "Noto Sans CJK SC": "notosanscjk",
             "Source Han Sans SC": "sourcehansans"}  # family -> how its file is named


def chart_fonts(labels: list[str]) -> list[str]:
    """Font families for the charts: matplotlib's sans-serif, then (for the glyphs it lacks) a CJK font where one
    is installed (looked for on disk when matplotlib listed its fonts before it was installed); without one,
    Chinese labels cannot be drawn: said once, not once per missing glyph."""
    from matplotlib import font_manager

    own = ["sans-serif"]
    if not any(CJK.search(label) for label in labels):
        return own
    manager = font_manager.fontManager
    if not {f.name for f in manager.ttflist} & set(CJK_FONTS):
        for path in font_manager.findSystemFonts():
            if any(stem in Path(path).name.lower() for stem in CJK_FONTS.values()):
                manager.addfont(path)
    installed = [family for family in CJK_FONTS if family in {f.name for f in manager.ttflist}]
    if not installed:
        print("note: no CJK font for the report's charts, so their Chinese labels show as boxes: "
              "sudo apt-get install fonts-wqy-microhei", file=sys.stderr)
    return own + installed


def write_report(metrics: dict, folder: Path, focus: set[str] | None = None) -> list[Path]:
    """metrics.json, per_intent.csv, errors.csv, confusion_matrix.png, confidence_histogram.png; the confusion
    matrix is of the `focus` intents and what they are confused with, when given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "metrics.json", folder / "per_intent.csv", folder / "errors.csv",
               folder / "confusion_matrix.png", folder / "confidence_histogram.png"]
    written[0].write_text(json.dumps({"summary": metrics["summary"], "per_intent": metrics["per_intent"]},
                                     indent=2) + "\n")
    _write_scores(written[1], "intent", metrics["per_intent"])
    if "entities" in metrics:
        written.append(folder / "entities.csv")
        _write_scores(written[-1], "entity", {**metrics["entities"]["per_entity"],
                                              "(all, micro)": metrics["entities"]["micro"]})
    with written[2].open("w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=["text", "true", "predicted", "confidence"])
        out.writeheader()
        out.writerows(metrics["errors"])

    keep = confusion_labels(metrics, focus=focus)
    labels = [metrics["labels"][k] for k in keep]
    matrix = np.array(metrics["confusion"])[np.ix_(keep, keep)]
    size = max(5, 0.4 * len(labels) + 2)
    title = "your intents and what they are confused with" if focus else "most confused intents"
    with plt.rc_context({"font.family": chart_fonts(labels)}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Glyph .* missing from font")  # said once by chart_fonts
        _draw_confusion(plt, matrix, labels, size, written[3], title)
        _draw_confidences(plt, metrics["confidences"], written[4])
    return written


def _draw_confusion(plt, matrix: np.ndarray, labels: list[str], size: float, path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for (i, j), value in np.ndenumerate(matrix):
        if value:
            ax.text(j, i, str(value), ha="center", va="center", fontsize=7,
                    color="white" if value > matrix.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix ({title})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _draw_confidences(plt, confidences: list, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    groups = [("correct", [c for c, ok, _ in confidences if ok]),
              ("wrong, in scope", [c for c, ok, oos in confidences if not ok and not oos]),
              ("wrong, out of scope", [c for c, ok, oos in confidences if not ok and oos])]
    for name, values in groups:
        if values:
            ax.hist(values, bins=20, range=(0, 1), alpha=0.6, label=f"{name} ({len(values)})")
    ax.set_xlabel("confidence (best in-scope intent)")
    ax.set_ylabel("messages")
    ax.set_title("Confidence by outcome")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
