"""A learned entity tagger: BIO tags over the encoder's last-layer word-piece states, one linear layer
(trained in entity_train.py on the annotated examples, `[text](entity)` markup). It finds entities the rules
(regex, lookup, synonyms) do not know, like a cuisine never listed; values are mapped to canonical ones
through the synonyms the annotations and entity definitions give.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from robot.intents.encoder import TokenStates


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
