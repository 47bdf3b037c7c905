"""A learned entity tagger: BIO tags over the encoder's last-layer word-piece states, one linear layer
trained with PyTorch on the annotated examples (`[text](entity)` markup). It finds entities the rules
(regex, lookup, synonyms) do not know, like a cuisine never listed; values are mapped to canonical ones
through the synonyms the annotations and entity definitions give.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from robot.intents.annotations import Span
from robot.intents.encoder import SentenceEncoder, TokenStates


@dataclass(frozen=True)
class TaggerConfig:
    steps: int = 200
    lr: float = 5e-3
    weight_decay: float = 0.01
    seed: int = 0


def bio_targets(tokens: TokenStates, spans: list[Span], tags: list[str]) -> torch.Tensor:
    index = {t: k for k, t in enumerate(tags)}
    out = []
    for start, end in tokens.offsets:
        tag = "O"
        for span in spans:
            if start >= span.start and end <= span.end:
                tag = ("B-" if start == span.start else "I-") + span.entity
                break
        out.append(index.get(tag, 0))
    return torch.tensor(out, dtype=torch.long)


def decode(text: str, tokens: TokenStates, predicted: list[str]) -> list[tuple[str, int, int]]:
    """(entity, start, end) from BIO tags; a span ends at the next B, O or other entity, and is widened to
    whole words so a half-tagged word comes out whole."""
    spans: list[list] = []
    for (start, end), tag in zip(tokens.offsets, predicted):
        if tag == "O":
            continue
        kind, entity = tag.split("-", 1)
        joined = spans and spans[-1][0] == entity and (kind == "I" or text[spans[-1][2]:start] == "")
        if joined:
            spans[-1][2] = end
        else:
            spans.append([entity, start, end])
    out = []
    for entity, start, end in spans:
        while start > 0 and text[start - 1].isalnum():
            start -= 1
        while end < len(text) and text[end].isalnum():
            end += 1
        out.append((entity, start, end))
    return out


class EntityTagger(nn.Module):
    def __init__(self, tags: list[str], dim: int, value_map: dict[str, dict[str, str]]) -> None:
        super().__init__()
        self.tags, self.value_map = tags, value_map
        self.linear = nn.Linear(dim, len(tags))

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.linear(states)

    def tag(self, text: str, tokens: TokenStates) -> dict[str, str]:
        """{entity: canonical value} for one message."""
        if not tokens.offsets:
            return {}
        with torch.inference_mode():
            predicted = [self.tags[k] for k in self(tokens.states).argmax(-1).tolist()]
        found: dict[str, str] = {}
        for entity, start, end in decode(text, tokens, predicted):
            surface = text[start:end].strip()
            found.setdefault(entity, self.value_map.get(entity, {}).get(surface.casefold(), surface))
        return found

    def save(self, folder: Path) -> None:
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(folder / "tagger.safetensors"))
        (folder / "tagger.json").write_text(json.dumps({"tags": self.tags, "value_map": self.value_map}, indent=2))

    @classmethod
    def load(cls, folder: Path) -> EntityTagger | None:
        if not (folder / "tagger.json").exists():
            return None
        spec = json.loads((folder / "tagger.json").read_text())
        weights = load_file(str(folder / "tagger.safetensors"))
        tagger = cls(spec["tags"], weights["linear.weight"].shape[1], spec["value_map"])
        tagger.load_state_dict(weights)
        return tagger.eval()


def train_tagger(examples: list[tuple[str, list[Span]]], negatives: list[str], encoder: SentenceEncoder,
                 value_map: dict[str, dict[str, str]], config: TaggerConfig = TaggerConfig()) -> EntityTagger:
    """Train on annotated examples; `negatives` (examples without annotations) teach where no entity is."""
    entities = sorted({span.entity for _, spans in examples for span in spans})
    tags = ["O"] + [f"{kind}-{e}" for e in entities for kind in ("B", "I")]
    texts = [t for t, _ in examples] + negatives
    token_states = encoder.encode_tokens(texts)
    spans = [s for _, s in examples] + [[] for _ in negatives]
    x = torch.cat([t.states for t in token_states])
    y = torch.cat([bio_targets(t, s, tags) for t, s in zip(token_states, spans)])
    torch.manual_seed(config.seed)
    tagger = EntityTagger(tags, x.shape[1], value_map)
    counts = torch.bincount(y, minlength=len(tags)).float()
    weight = (counts.sum() / (counts.clamp(min=1) * len(tags))).sqrt()  # rare tags count more, gently
    optimizer = torch.optim.AdamW(tagger.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    for _ in range(config.steps):
        loss = F.cross_entropy(tagger(x), y, weight=weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return tagger.eval()


def value_maps(data_entities, examples: list[tuple[str, list[Span]]]) -> dict[str, dict[str, str]]:
    """entity -> {surface form (casefolded): canonical value}, from annotations and entity synonyms."""
    maps: dict[str, dict[str, str]] = {}
    for text, spans in examples:
        for span in spans:
            maps.setdefault(span.entity, {})[text[span.start:span.end].casefold()] = span.value
    for entity in data_entities:
        for value, variants in entity.synonyms.items():
            maps.setdefault(entity.name, {}).update({v.casefold(): value for v in [value, *variants]})
    return maps


def train_entities(data, encoder: SentenceEncoder, config: TaggerConfig = TaggerConfig(),
                   holdout: float = 0.2) -> tuple[EntityTagger | None, dict | None]:
    """The tagger for a data set, with entity metrics measured on a held-out fifth of its annotated
    examples (rules included) before the final tagger is trained on all of them. None without annotations."""
    from robot.intents.annotations import plain_text
    from robot.intents.entities import EntityExtractor
    from robot.intents.metrics import entity_metrics

    examples = data.annotated_examples()
    if not examples:
        return None, None
    negatives = [plain_text(e) for i in data.intents for e in i.examples if "[" not in e]
    maps = value_maps(data.entities, examples)
    order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(config.seed)).tolist()
    cut = max(1, int(len(examples) * holdout)) if len(examples) >= 5 else 0
    metrics = None
    if cut:
        held, kept = [examples[k] for k in order[:cut]], [examples[k] for k in order[cut:]]
        extractor = EntityExtractor(data.entities, train_tagger(kept, negatives, encoder, maps, config))
        predicted = [extractor.extract(text, tokens)
                     for (text, _), tokens in zip(held, encoder.encode_tokens([t for t, _ in held]))]
        metrics = entity_metrics([{s.entity: s.value for s in spans} for _, spans in held], predicted)
        metrics["held_out"] = len(held)
    return train_tagger(examples, negatives, encoder, maps, config), metrics
