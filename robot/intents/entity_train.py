"""Training the entity tagger on annotated examples, and measuring it (with the rules) on a held-out fifth."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from robot.intents.annotations import Span, plain_text
from robot.intents.encoder import SentenceEncoder, TokenStates
from robot.intents.entities import EntityExtractor
from robot.intents.metrics import entity_metrics
from robot.intents.tagger import EntityTagger
from robot.intents.train import init_linears


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
    tagger = init_linears(EntityTagger(tags, x.shape[1], value_map), torch.Generator().manual_seed(config.seed))
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
