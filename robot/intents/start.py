"""Heads a composed training starts from: those of the built-in skills trained alone.

Composing a user's intents with the built-in skills trains on the built-ins' 600 examples again each time, and
for a small user set that was most of the training (the pizza shop's 26 examples: +30% over training them
alone). The model of the built-in skills alone keeps its cross-fitted fold heads and which fold each example
was in (`FOLDS`); a composed training then puts each built-in example in the same fold and starts its fold-f
head from the built-in fold-f head, which never saw the examples of fold f either, so the out-of-fold
predictions that calibrate the threshold stay honest. Started heads keep the built-ins' hidden layer,
standardisation and output rows (a user's intent of a built-in's name starts from scratch) and take
`TrainConfig.start_steps` steps (benchmarks/RESULTS.md, "Started from the built-ins' heads").
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from robot.intents.classifier import HeadConfig, IntentHead
from robot.intents.encoder import SentenceEncoder

FOLDS = "folds.safetensors"


@dataclass
class Start:
    """A training's heads: `head` saw every example, `folds[f]` all but those of fold f (`fold_of`)."""
    labels: list[str]
    head: IntentHead
    folds: list[IntentHead]
    fold_of: dict[str, int]  # example text -> its fold

    def initialiser(self, head: IntentHead, labels: list[str], inherited: set[str]) -> Callable[[IntentHead], None]:
        """A function that sets up a new head of `labels` from `head` (one of ours): standardisation and hidden
        layer as they are, the output rows of the `inherited` labels we have (the others keep their draw)."""
        def initialise(new: IntentHead) -> None:
            with torch.no_grad():
                new.mean.copy_(head.mean)
                new.std.copy_(head.std)
                if head.hidden is not None:
                    new.hidden.load_state_dict(head.hidden.state_dict())
                for row, label in enumerate(labels):
                    if label in inherited and label in self.labels:
                        new.out.weight[row].copy_(head.out.weight[self.labels.index(label)])
                        new.out.bias[row].copy_(head.out.bias[self.labels.index(label)])
        return initialise

    def save(self, folder: Path) -> None:
        """The fold heads (float16: a start, 4.9 MB for four) and folds beside a saved model (whose own head is
        `head`)."""
        tensors = {f"{f}.{name}": t.half().contiguous().cpu() for f, fold in enumerate(self.folds)
                   for name, t in fold.state_dict().items()}
        save_file(tensors, str(folder / FOLDS), metadata={"folds": str(len(self.folds)),
                                                            "fold_of": json.dumps(self.fold_of, ensure_ascii=False)})

    @classmethod
    def load(cls, folder: Path, encoder: SentenceEncoder, hidden: int) -> Start | None:
        """A saved model's start, if it has one for this encoder and hidden size (else None: a training then
        starts from scratch; an unreadable one says so on stderr)."""
        if not (folder / FOLDS).is_file():
            return None
        try:
            config = json.loads((folder / "config.json").read_text())
            head_config = HeadConfig(**config["head"])
            if config["encoder"] != {**asdict(encoder.config), "sha256": encoder.sha256} \
                    or head_config.hidden != hidden:
                return None
            with safe_open(str(folder / FOLDS), "pt") as f:
                metadata = f.metadata()
                folds = [{name: f.get_tensor(f"{k}.{name}") for name in
                          IntentHead(head_config).state_dict()} for k in range(int(metadata["folds"]))]
            heads = [IntentHead.restored(head_config, state)
                     for state in [load_file(str(folder / "model.safetensors")), *folds]]
            return cls(config["labels"], heads[0], heads[1:], json.loads(metadata["fold_of"]))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as exc:
            print(f"warning: {folder / FOLDS} is unreadable ({exc}); training every head from scratch",
                  file=sys.stderr, flush=True)
            return None
