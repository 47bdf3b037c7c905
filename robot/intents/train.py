"""Training the intent head on frozen sentence features, and calibrating it on held-out predictions.

Held-out data is the calibration set when one is given (CLINC150's val split, say); for large data a
stratified tenth held out of training; otherwise every example gets an out-of-fold prediction from K
models trained on the other folds, so small intent sets spend no example on calibration alone.
Temperature scaling makes the confidences honest probabilities; the out-of-scope threshold (on the score:
confidence times familiarity, see `classifier`) is then the highest that rejects at most `max_false_rejection`
of the held-out in-scope messages the model gets right: a budget a user understands ("1 in 100 good requests
is sent to the fallback"), not a magic 0.75. A held-out message's familiarity is measured against training
examples it was not among, as a new message's would be.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from robot.errors import InputError
from robot.intents.classifier import (
    OOS,
    SHARPNESS,
    HeadConfig,
    IntentClassifier,
    IntentHead,
    example_rows,
    familiarity,
    native_bfloat16,
)
from robot.intents.encoder import SentenceEncoder
from robot.intents.metrics import metrics_from_predictions
from robot.intents.schema import IntentData
from robot.intents.start import Start


@dataclass(frozen=True)
class TrainConfig:
    hidden: int = 512
    dropout: float = 0.5
    epochs: int = 20
    min_steps: int = 100  # small data sets get more passes
    start_from_builtins: bool = True  # a composed training starts from the built-in skills' heads (`start`)
    start_steps: int = 50  # steps of a head so started
    batch_size: int = 512  # the largest batch; smaller data sets take a quarter of their rows, see `batch_rows`
    min_batch_size: int = 128
    batches_per_epoch: int = 4
    lr: float = 3e-3
    weight_decay: float = 0.01
    label_smoothing: float = 0.1
    max_false_rejection: float = 0.01
    calibration_folds: int = 4
    holdout_above: int = 2000  # from this many examples on, calibrate on a held-out slice instead
    holdout_fraction: float = 0.1
    sharpness: float = SHARPNESS  # how much distance from the training examples lowers the score
    seed: int = 0


def pick_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but PyTorch sees no CUDA device")
    if device not in ("cpu", "cuda"):
        raise InputError(f"unknown device {device!r} (auto, cpu or cuda)")
    return device


class DropoutBank:
    """Dropout masks drawn once per fit and reused in turn.

    Drawing random numbers on the CPU costs more than this small head's whole forward pass (about 10 ms a
    step for torch's dropout on a 512x1152 batch); examples are reshuffled every epoch, so each one still
    meets a different mask each time. Same accuracy on CLINC150, half the training time.
    """

    def __init__(self, rows: int, dims: tuple[int, ...], p: float, generator: torch.Generator,
                 size: int = 16, device: str = "cpu") -> None:
        keep = 1.0 - p
        self.masks = [((torch.rand(size, rows, d, generator=generator) < keep).float() / keep).to(device)
                      for d in dims]
        self.size = size

    def __call__(self, step: int, rows: int) -> tuple[torch.Tensor, ...]:
        return tuple(m[(step * (k + 1)) % self.size, :rows] for k, m in enumerate(self.masks))


def dropout_bank(rows: int, dim: int, config: TrainConfig, generator: torch.Generator,
                 device: str = "cpu") -> DropoutBank | None:
    """Masks for batches of up to `rows` rows of the head's input and hidden layer (None without dropout)."""
    if not config.dropout:
        return None
    return DropoutBank(rows, (dim, config.hidden) if config.hidden else (dim,), config.dropout, generator,
                       device=device)


def init_linears(module: torch.nn.Module, generator: torch.Generator) -> torch.nn.Module:
    """Draw the linear layers' initial weights (as PyTorch does) from `generator`, not torch's global RNG, which
    a chat reply sampled in another thread also draws from: a retrain is reproducible and leaves chat alone."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.in_features)
            torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return module


def batch_rows(examples: int, config: TrainConfig) -> int:
    """Rows per step: a quarter of a small data set, at least `min_batch_size`, at most `batch_size`.

    With the step count floored at `min_steps`, one fixed large batch made a few hundred examples cost as
    much per step as thousands: a user's 26 examples composed with the built-in skills (617 rows) trained
    twice as long as the 26 alone (85 rows with negatives). Batches that follow the data's size keep the
    cost of a step close to its fixed part; accuracy on CLINC150 subsets and the composed pizza shop stayed
    within the spread between seeds (benchmarks/RESULTS.md, "Skills").
    """
    quarter = math.ceil(examples / config.batches_per_epoch)
    return min(config.batch_size, max(config.min_batch_size, quarter))


def fit_head(features: np.ndarray, targets: np.ndarray, n_classes: int, config: TrainConfig,
             device: str = "cpu", progress: bool = False, dropout: DropoutBank | None = None,
             start: Callable[[IntentHead], None] | None = None) -> IntentHead:
    """Train a head; `dropout` masks may be shared by the fits of one training (they are drawn for its
    largest batch). `start` sets up the new head from a trained one (`Start.initialiser`): it then takes
    `config.start_steps` steps."""
    generator = torch.Generator().manual_seed(config.seed)
    x = torch.from_numpy(features).to(device)
    y = torch.from_numpy(targets).long().to(device)
    head = init_linears(IntentHead(HeadConfig(features.shape[1], n_classes, config.hidden)), generator)
    rows = batch_rows(len(x), config)
    if start is not None:
        start(head)
        steps = config.start_steps
    else:
        head.mean.copy_(x.mean(0).cpu())
        head.std.copy_((x.std(0) + 1e-6 if len(x) > 1 else torch.ones_like(x[0])).cpu())
        steps = max(config.min_steps, config.epochs * math.ceil(len(x) / rows))
    head = head.to(device)
    # Fused: one kernel for all parameters; the per-tensor Python loop cost a third of a small fit's steps
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=steps)
    dropout = dropout or dropout_bank(min(len(x), rows), features.shape[1], config, generator, device)
    # No bar at all unless asked: the web app's tqdm hook reports even disabled bars, whose `n` stays 0.
    bar = tqdm(total=steps, desc="training head", unit="step") if progress else None
    # Products in bfloat16 where the CPU has it (weights and optimiser stay float32): compute-bound, 1.5x faster
    low_precision = torch.autocast("cpu", dtype=torch.bfloat16, enabled=device == "cpu" and native_bfloat16())
    step = 0
    while step < steps:
        order = torch.randperm(len(x), generator=generator).to(device)
        for first in range(0, len(x), rows):
            batch = order[first:first + rows]
            masks = dropout(step, len(batch)) if dropout else ()
            with low_precision:
                loss = F.cross_entropy(head(x[batch], masks), y[batch], label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if bar and (step % 10 == 0 or step == steps):  # few updates: the web app relays each one
                bar.update(step - bar.n)
            if step == steps:
                break
    if bar:
        bar.close()
    return head


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """The temperature minimising held-out negative log-likelihood (a 1-D search over log T)."""
    grid = torch.logspace(-1.5, 1.5, 121)
    losses = [F.cross_entropy(logits / t, targets).item() for t in grid]
    return float(grid[int(np.argmin(losses))])


def fit_threshold(confidence: torch.Tensor, correct: torch.Tensor, max_false_rejection: float) -> float:
    if not bool(correct.any()):
        return 0.0
    return float(torch.quantile(confidence[correct], max_false_rejection))


def _folds(targets: np.ndarray, k: int, seed: int) -> np.ndarray:
    """A fold number for each example, stratified by label."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(targets), dtype=int)
    for label in np.unique(targets):
        idx = np.flatnonzero(targets == label)
        fold[rng.permutation(idx)] = np.arange(len(idx)) % k
    return fold


class Trained(NamedTuple):
    classifier: IntentClassifier
    metrics: dict  # held-out summary
    report: dict  # the full held-out report (per-intent table, confusion matrix, errors) `evaluate.write_report` draws
    start: Start | None  # its heads and folds, for a training to start from (cross-fitted trainings only)


def train_intents(data: IntentData, encoder: SentenceEncoder, config: TrainConfig = TrainConfig(),
                  calibration: IntentData | None = None, device: str = "cpu",
                  progress: bool = False, start: Start | None = None) -> Trained:
    """Train and calibrate a classifier. A cross-fitted training with as many folds as `start` (the built-in
    skills' heads, see `robot.intents.start`) puts its examples in their folds and starts every head from it."""
    started = time.perf_counter()
    texts, names = data.labelled_examples()
    labels = [i.name for i in data.intents] + ([OOS] if data.oos_examples else [])
    if len([label for label in labels if label != OOS]) < 2:
        raise InputError("at least two intents with examples are needed to train", path=data.source)
    index = {label: k for k, label in enumerate(labels)}
    targets = np.array([index[n] for n in names])
    features = encoder.encode(texts, progress=progress)
    in_scope_rows = np.array([n != OOS for n in names])

    # One bank of dropout masks for every fit of this training (drawing them cost as much as a fit's steps)
    masks = dropout_bank(min(len(texts), batch_rows(len(texts), config)), features.shape[1], config,
                         torch.Generator().manual_seed(config.seed), device)

    def classifier_of(head: IntentHead, trained_on: np.ndarray | None = None) -> IntentClassifier:
        """The classifier of `head`, with the in-scope examples it was trained on for familiarity."""
        rows = in_scope_rows if trained_on is None else trained_on & in_scope_rows
        return IntentClassifier(labels, head, encoder, examples=features[rows], sharpness=config.sharpness)

    own = None  # this training as a start: cross-fitted ones only
    if calibration is not None or len(texts) >= config.holdout_above:
        start = None  # held-out examples the started heads saw would not be held out
    if calibration is not None:
        cal_texts, cal_names = calibration.labelled_examples()
        unknown = sorted(set(cal_names) - set(labels) - {OOS})
        if unknown:
            raise InputError(f"calibration intents unknown to the training data: {', '.join(unknown[:5])}",
                             path=calibration.source)
        classifier = classifier_of(fit_head(features, targets, len(labels), config, device, progress, masks))
        cal_features = encoder.encode(cal_texts, progress=progress)
        held_logits = classifier.logits(cal_features)
        held_known = familiarity(cal_features, classifier.examples)
        held_names, held_texts, held_out = cal_names, cal_texts, "calibration set"
    elif len(texts) >= config.holdout_above:
        # Plenty of data: hold out a stratified slice for calibration and keep the model trained on the rest
        # (one fit instead of K+1; the slice costs well under a point of accuracy at this size).
        held = _folds(targets, round(1 / config.holdout_fraction), config.seed) == 0
        head = fit_head(features[~held], targets[~held], len(labels), config, device, progress, masks)
        classifier = classifier_of(head, ~held)
        held_logits = classifier.logits(features[held])
        held_known = familiarity(features[held], classifier.examples)
        held_names = [names[k] for k in np.flatnonzero(held)]
        held_texts = [texts[k] for k in np.flatnonzero(held)]
        held_out = f"{held.sum()} held-out examples ({config.holdout_fraction:.0%}, stratified)"
    else:
        k = min(config.calibration_folds, max(2, int(np.bincount(targets).max())))
        fold = _folds(targets, k, config.seed)
        start = start if start is not None and len(start.folds) == k else None
        if start is not None:
            fold = np.array([start.fold_of.get(text, f) for text, f in zip(texts, fold)])
        inherited = {i.name for i in data.intents if i.builtin} | {OOS}

        def begin(f: int | None):
            """How the head of fold `f` (None: of every example) starts."""
            if start is None:
                return None
            return start.initialiser(start.head if f is None else start.folds[f], labels, inherited)

        classifier = classifier_of(fit_head(features, targets, len(labels), config, device, progress, masks,
                                            begin(None)))
        held_logits = torch.zeros(len(texts), len(labels))
        held_known = np.ones(len(texts), dtype=np.float32)
        fold_heads = []
        for f in tqdm(range(k), desc="calibrating (cross-fitting)") if progress else range(k):
            train_part, held_part = fold != f, fold == f
            fold_heads.append(fit_head(features[train_part], targets[train_part], len(labels), config, device,
                                       dropout=masks, start=begin(f)))
            with torch.inference_mode():
                held_logits[torch.from_numpy(held_part)] = fold_heads[-1](
                    torch.from_numpy(features[held_part]).to(device)).float().cpu()
            held_known[held_part] = familiarity(features[held_part], example_rows(features[train_part & in_scope_rows]))
        held_names, held_texts, held_out = names, texts, f"{k}-fold out-of-fold predictions"
        own = Start(labels, classifier.head, fold_heads, {text: int(f) for text, f in zip(texts, fold)})

    # Temperature on every held-out example (an oos example's target is the oos class, or none).
    known = [k for k, n in enumerate(held_names) if n in index]
    held_targets = torch.tensor([index[held_names[k]] for k in known])
    classifier.temperature = fit_temperature(held_logits[known], held_targets) if known else 1.0
    in_scope = [k for k, n in enumerate(held_names) if n != OOS]
    scored = classifier.decide(held_logits, held_known)
    score = torch.tensor([scored[k].score for k in in_scope])
    correct = torch.tensor([scored[k].ranking[0][0] == held_names[k] for k in in_scope])
    classifier.threshold = fit_threshold(score, correct, config.max_false_rejection)

    report = metrics_from_predictions(held_names, classifier.decide(held_logits, held_known), held_texts)
    metrics = dict(report["summary"])
    metrics.update({
        "held_out": held_out,
        "train_seconds": round(time.perf_counter() - started, 2), "n_examples": len(texts),
        "n_intents": len(classifier.intents), "n_oos_examples": len(data.oos_examples),
        "temperature": classifier.temperature, "threshold": classifier.threshold,
        "device": device, "config": asdict(config), "started_from_builtins": start is not None,
    })
    return Trained(classifier, metrics, report, own)
