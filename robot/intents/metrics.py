"""Intent metrics from predictions: in-scope accuracy, out-of-scope recall/precision, per-intent P/R/F1."""

from __future__ import annotations

from collections import Counter

from robot.intents.classifier import OOS, Prediction
from robot.intents.schema import OOS_LABELS


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def metrics_from_predictions(true: list[str], predictions: list[Prediction], texts: list[str]) -> dict:
    """Everything a report shows. `true` uses `oos` (or `out_of_scope`) for out-of-scope examples."""
    true = [OOS if t in OOS_LABELS else t for t in true]
    predicted = [p.intent or OOS for p in predictions]
    pairs = list(zip(true, predicted))
    in_scope = [(t, p) for t, p in pairs if t != OOS]
    oos_true = sum(t == OOS for t in true)
    oos_predicted = sum(p == OOS for p in predicted)
    oos_hits = sum(t == p == OOS for t, p in pairs)
    labels = sorted(set(true) | set(predicted), key=lambda label: (label == OOS, label))
    tp, support, claimed = Counter(), Counter(true), Counter(predicted)
    for t, p in pairs:
        if t == p:
            tp[t] += 1
    per_intent = {}
    for label in labels:
        precision = tp[label] / claimed[label] if claimed[label] else 0.0
        recall = tp[label] / support[label] if support[label] else 0.0
        per_intent[label] = {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
                             "support": support[label]}
    scored = [label for label in labels if support[label]]
    confusion = Counter(pairs)
    summary = {
        "n": len(true),
        "in_scope_accuracy": sum(t == p for t, p in in_scope) / len(in_scope) if in_scope else None,
        "oos_recall": oos_hits / oos_true if oos_true else None,
        "oos_precision": oos_hits / oos_predicted if oos_predicted else None,
        "macro_f1": sum(per_intent[label]["f1"] for label in scored) / len(scored) if scored else 0.0,
        "accuracy": sum(t == p for t, p in pairs) / len(pairs) if pairs else 0.0,
    }
    errors = [{"text": text, "true": t, "predicted": p, "confidence": round(pred.confidence, 4)}
              for text, t, p, pred in zip(texts, true, predicted, predictions) if t != p]
    return {
        "summary": summary, "per_intent": per_intent, "labels": labels,
        "confusion": [[confusion[(t, p)] for p in labels] for t in labels],
        "confidences": [(pred.confidence, t == p, t == OOS) for t, p, pred in zip(true, predicted, predictions)],
        "errors": errors,
    }


def entity_metrics(gold: list[dict[str, str]], predicted: list[dict[str, str]]) -> dict:
    """Per-entity and micro precision/recall/F1; a hit needs the right entity and value (case-insensitive)."""
    counts: dict[str, Counter] = {}
    for g, p in zip(gold, predicted):
        g = {k: v.casefold() for k, v in g.items()}
        p = {k: v.casefold() for k, v in p.items()}
        for entity in set(g) | set(p):
            c = counts.setdefault(entity, Counter())
            c["tp"] += entity in g and g[entity] == p.get(entity)
            c["fp"] += entity in p and g.get(entity) != p[entity]
            c["fn"] += entity in g and p.get(entity) != g[entity]
    total = sum(counts.values(), Counter())

    def prf(c: Counter) -> dict:
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        return {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
                "support": c["tp"] + c["fn"]}

    return {"micro": prf(total), "per_entity": {e: prf(c) for e, c in sorted(counts.items())}}
