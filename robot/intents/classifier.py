"""The intent classifier: frozen sentence features -> a small PyTorch head -> calibrated intent ranking.

Confidences are softmax probabilities after temperature scaling fitted on held-out data. A message is out of
scope when the `oos` class (trained from negative examples, if any) beats every intent, or when its score is
under a threshold chosen on held-out data (`train.train_intents`). The score is the confidence times its
familiarity to the power SHARPNESS, familiarity being the mean cosine similarity of the message to the
NEIGHBOURS training examples nearest to it: a head is often confident far from anything it was trained on,
and distance to the training examples catches much of that (CLINC150: out-of-scope recall 72.8% -> 79.9% at
the same in-scope accuracy, the exponent chosen on its validation split; benchmarks/RESULTS.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from robot.errors import InputError
from robot.intents.encoder import EncoderConfig, SentenceEncoder, shared_encoder
from robot.threads import Batcher, one_openmp_thread

OOS = "oos"
FORMAT = "robot-intent-classifier/1"
EXAMPLES = "examples.safetensors"  # the in-scope training features, for familiarity (float16)
NEIGHBOURS = 5
SHARPNESS = 4.0  # a model saved without examples has none: its score is its confidence


@dataclass(frozen=True)
class HeadConfig:
    dim: int
    n_classes: int
    hidden: int = 512


class IntentHead(nn.Module):
    """Standardise features, then an MLP (or a linear layer when hidden=0) to one logit per label.

    Dropout masks come from the caller while training (see `train.DropoutBank`), so the module itself is
    the same function in training and inference.
    """

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("mean", torch.zeros(config.dim))
        self.register_buffer("std", torch.ones(config.dim))
        self.hidden = nn.Linear(config.dim, config.hidden) if config.hidden else None
        self.out = nn.Linear(config.hidden or config.dim, config.n_classes)

    @classmethod
    def restored(cls, config: HeadConfig, state: dict[str, torch.Tensor]) -> IntentHead:
        """A saved head (a model folder's, or a fold head a training starts from)."""
        head = cls(config)
        head.load_state_dict(state)
        return head

    def forward(self, features: torch.Tensor, masks: tuple[torch.Tensor, ...] = ()) -> torch.Tensor:
        x = (features - self.mean) / self.std
        if masks:
            x = x * masks[0]
        if self.hidden is not None:
            x = F.gelu(self.hidden(x))
            if masks:
                x = x * masks[1]
        return self.out(x)


@dataclass(frozen=True)
class Prediction:
    intent: str | None  # None: out of scope
    confidence: float  # calibrated probability of the best in-scope intent
    ranking: list[tuple[str, float]]  # in-scope intents, best first
    score: float  # confidence * familiarity ** SHARPNESS, compared with the threshold


def unit_rows(features: np.ndarray) -> torch.Tensor:
    """Rows scaled to length 1, in torch: a NumPy product here left NumPy's BLAS threads spinning, and the
    torch head right after it took 8 ms instead of 0.1."""
    rows = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    return rows / rows.norm(dim=1, keepdim=True).clamp_min(1e-12)


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX, through oneDNN)."""
    return torch.ops.mkldnn._is_mkldnn_bf16_supported()


def example_rows(features: np.ndarray) -> torch.Tensor:
    """Training examples as `familiarity` reads them: unit rows, in bfloat16 where the CPU multiplies it
    natively. Every message is compared with every example, which is bound by memory: half the bytes took one
    message against CLINC150's 15,000 examples from 5.3 to 2.6 ms and batches of 1,000 from 222 to 122 ms;
    the cosines move by about 1e-5 (benchmarks/RESULTS.md)."""
    return unit_rows(features).to(torch.bfloat16 if native_bfloat16() else torch.float32)


def familiarity(features: np.ndarray, examples: torch.Tensor | None) -> np.ndarray:
    """Mean cosine similarity of each row to its NEIGHBOURS nearest `examples` (`example_rows`), in [0, 1];
    1 for every row when there are no examples."""
    if examples is None or not len(examples):
        return np.ones(len(features), dtype=np.float32)
    with torch.inference_mode():
        similarity = (unit_rows(features).to(examples.dtype) @ examples.T).float()
        nearest = similarity.topk(min(NEIGHBOURS, len(examples)), dim=1).values
        return nearest.mean(dim=1).clamp(0.0, 1.0).numpy()


class IntentClassifier:
    def __init__(self, labels: list[str], head: IntentHead, encoder: SentenceEncoder,
                 temperature: float = 1.0, threshold: float = 0.0, examples: np.ndarray | None = None,
                 sharpness: float = SHARPNESS) -> None:
        self.labels, self.head, self.encoder = labels, head.eval(), encoder
        self.temperature, self.threshold = temperature, threshold
        self.examples = None if examples is None else example_rows(examples)
        self.sharpness = sharpness if examples is not None else 0.0
        self.intents = [label for label in labels if label != OOS]

    def logits(self, features: np.ndarray) -> torch.Tensor:
        with torch.inference_mode():
            x = torch.from_numpy(features).to(self.head.mean.device)
            return self.head(x).float().cpu()

    def decide(self, logits: torch.Tensor, familiar: np.ndarray,
               eligible: Sequence[set[str] | None] | None = None) -> list[Prediction]:
        """Predictions from raw logits and the messages' familiarity; intents outside a message's `eligible`
        set (context-gated; None: all) are never chosen."""
        if eligible is not None:
            allowed = torch.tensor([[names is None or label == OOS or label in names for label in self.labels]
                                    for names in eligible])
            logits = logits.masked_fill(~allowed, float("-inf"))
        probs = torch.softmax(logits / self.temperature, dim=-1)
        oos_index = self.labels.index(OOS) if OOS in self.labels else None
        in_scope_probs = probs.clone()
        if oos_index is not None:
            in_scope_probs[:, oos_index] = -1.0  # never ranked
        top = torch.topk(in_scope_probs, min(5, len(self.intents)), dim=-1)  # in C: 10,000 intents stay fast
        out = []
        for row, values, indices, near in zip(probs, top.values.tolist(), top.indices.tolist(), familiar.tolist()):
            oos_prob = float(row[oos_index]) if oos_index is not None else 0.0
            ranked = [(self.labels[k], p) for k, p in zip(indices, values)]
            best, confidence = ranked[0]
            score = confidence * near ** self.sharpness
            in_scope = score >= self.threshold and confidence >= oos_prob
            out.append(Prediction(best if in_scope else None, confidence, ranked, score))
        return out

    def classify(self, features: np.ndarray, eligible: set[str] | None = None) -> list[Prediction]:
        return self.classify_rows(features, None if eligible is None else [eligible] * len(features))

    def classify_rows(self, features: np.ndarray, eligible: Sequence[set[str] | None] | None) -> list[Prediction]:
        """Predictions for rows of features, each with its own eligible intents (None: all)."""
        return self.decide(self.logits(features), familiarity(features, self.examples), eligible)

    def classify_message(self, features: np.ndarray, eligible: set[str] | None = None) -> Prediction:
        """One chat message's prediction, batched with the messages that arrive meanwhile (`MESSAGES`)."""
        return MESSAGES((self, features, eligible))

    def predict(self, texts: list[str], eligible: set[str] | None = None) -> list[Prediction]:
        return self.classify(self.encoder.encode(texts), eligible)

    def save(self, folder: Path, extra: dict | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous().cpu() for k, v in self.head.state_dict().items()},
                  str(folder / "model.safetensors"))
        if self.examples is not None:
            save_file({"features": self.examples.half()}, str(folder / EXAMPLES))
        config = {
            "format": FORMAT, "labels": self.labels, "temperature": self.temperature,
            "threshold": self.threshold, "sharpness": self.sharpness, "head": asdict(self.head.config),
            "encoder": {**asdict(self.encoder.config), "sha256": self.encoder.sha256}, **(extra or {}),
        }
        (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path, device: str = "cpu", encoder: SentenceEncoder | None = None) -> IntentClassifier:
        """Load a model folder; an `encoder` already loaded is reused when it is the one the model was trained
        with, else the process's shared one for the model's configuration."""
        try:
            config = json.loads((folder / "config.json").read_text())
            weights = load_file(str(folder / "model.safetensors"))
            examples = load_file(str(folder / EXAMPLES))["features"].float().numpy() \
                if (folder / EXAMPLES).exists() else None
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise InputError(f"not a readable intent model folder ({exc})", path=folder) from None
        if config.get("format") != FORMAT:
            raise InputError(f"unknown model format {config.get('format')!r}", path=folder / "config.json")
        spec = dict(config["encoder"])
        sha256 = spec.pop("sha256")
        encoder_config = EncoderConfig(**spec)
        if encoder is None or encoder.config != encoder_config:
            encoder = shared_encoder(encoder_config, device)
        if encoder.sha256 != sha256:
            raise InputError(f"the model was trained on encoder weights with sha256 {sha256}; these have "
                             f"{encoder.sha256}", path=folder / "config.json")
        head = IntentHead.restored(HeadConfig(**config["head"]), weights)
        return cls(config["labels"], head.to(device), encoder, config["temperature"], config["threshold"], examples,
                   config.get("sharpness", 0.0))


def _classify_each(messages: list[tuple[IntentClassifier, np.ndarray, set[str] | None]]) -> list[Prediction]:
    """A batch of single messages, each with the model it was sent to (two during a hot swap) and its own
    eligible intents."""
    found: dict[int, Prediction] = {}
    by_model: dict[int, list[int]] = {}
    for k, (classifier, _, _) in enumerate(messages):
        by_model.setdefault(id(classifier), []).append(k)
    for rows in by_model.values():
        classifier = messages[rows[0]][0]
        predictions = classifier.classify_rows(np.concatenate([messages[k][1] for k in rows]),
                                               [messages[k][2] for k in rows])
        found.update(zip(rows, predictions))
    return [found[k] for k in range(len(messages))]


# Chat messages' heads and familiarity, from every request thread: one thread, batched. One at a time on a
# single thread they queued behind each other under load (100 clients: 90 ms waiting for 2-6 ms of work).
MESSAGES: Batcher = Batcher(_classify_each, "intent-heads", initializer=one_openmp_thread)
