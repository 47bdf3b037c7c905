"""Streaming replies from the dialogue model: KV cache, temperature, top-p, repetition penalty, stop at
the end of the robot's turn, hard caps on reply and context length. Special tokens never reach the user.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache

from robot.dialogue.evaluate import bits_per_char
from robot.dialogue.tokenizer import END, EOS, ROBOT, SYSTEM, USER
from robot.errors import InputError

MAX_EVAL_CONTEXT = 512  # tokens of context when scoring held-out dialogues
TOP_K_CEILING = 256  # top-p sampling looks at the 256 likeliest tokens at most


@dataclass(frozen=True)
class GenerationConfig:
    temperature: float = 0.8
    top_p: float = 0.9
    repetition_penalty: float = 1.3
    max_new_tokens: int = 60
    max_context_tokens: int = 384
    seed: int | None = None


def sample(logits: torch.Tensor, seen: torch.Tensor, config: GenerationConfig, generator) -> int:
    logits = logits.float().clone()
    if config.repetition_penalty != 1.0 and len(seen):
        picked = logits[seen]
        logits[seen] = torch.where(picked > 0, picked / config.repetition_penalty, picked * config.repetition_penalty)
    if config.temperature <= 0:
        return int(logits.argmax())
    probs = torch.softmax(logits / config.temperature, dim=-1)
    ordered, order = probs.topk(min(TOP_K_CEILING, len(probs)))  # the nucleus lies in here; no full sort
    keep = ordered.cumsum(0) - ordered < config.top_p  # the smallest set whose mass reaches top_p
    ordered = ordered * keep
    return int(order[torch.multinomial(ordered / ordered.sum(), 1, generator=generator)])


class DialogueModel:
    def __init__(self, folder: str | Path, device: str = "cpu") -> None:
        folder = Path(folder)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
            self.model = AutoModelForCausalLM.from_pretrained(folder).to(device).eval()
        except OSError as exc:
            raise InputError(f"not a dialogue model folder ({exc})", path=folder) from None
        persona = folder / "persona.txt"
        self.persona = persona.read_text().strip() if persona.exists() else ""
        self.device = device
        self.ids = {t: self.tokenizer.convert_tokens_to_ids(t) for t in (SYSTEM, USER, ROBOT, END, EOS)}
        stops = (self.ids[END], self.ids[EOS])
        self.banned = torch.tensor([i for i in self.tokenizer.all_special_ids if i not in stops])

    def bits_per_char(self, dialogues: list[list[str]]) -> dict:
        """Held-out bits per character of this model on the dialogues' responses (see evaluate.py)."""
        block = min(MAX_EVAL_CONTEXT, self.model.config.max_position_embeddings)
        return bits_per_char(self.model, self.tokenizer, dialogues, self.persona, block)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.backend_tokenizer.decode(ids, skip_special_tokens=True)  # the Rust decoder, no wrappers

    def prompt(self, message: str, history: list[tuple[str, str]], persona: str | None,
               config: GenerationConfig) -> list[int]:
        """Persona line, then as many of the latest turns as fit in max_context_tokens, then the message."""
        persona = self.persona if persona is None else persona
        head = [self.ids[SYSTEM], *self.encode(persona), self.ids[END]]
        tail = [self.ids[USER], *self.encode(message)[-config.max_context_tokens // 2:], self.ids[END], self.ids[ROBOT]]
        budget = config.max_context_tokens - len(head) - len(tail)
        turns: list[int] = []
        for user, robot in reversed(history):
            pair = [self.ids[USER], *self.encode(user), self.ids[END], self.ids[ROBOT], *self.encode(robot),
                    self.ids[END]]
            if len(pair) > budget - len(turns):
                break
            turns = pair + turns
        return head + turns + tail

    @torch.inference_mode()
    def stream(self, message: str, history: list[tuple[str, str]] = (), persona: str | None = None,
               config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        """Text pieces of the reply as they are generated."""
        prompt = self.prompt(message, list(history), persona, config)
        generator = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
        cache = DynamicCache()
        x = torch.tensor([prompt], device=self.device)
        generated: list[int] = []
        shown = ""
        for _ in range(config.max_new_tokens):
            logits = self.model(input_ids=x, cache=cache, use_cache=True, logits_to_keep=1).logits[0, -1].cpu()
            logits[self.banned] = float("-inf")
            seen = torch.tensor(sorted(set(prompt[-64:] + generated)), dtype=torch.long)
            token = sample(logits, seen, config, generator)
            if token in (self.ids[END], self.ids[EOS]):
                break
            generated.append(token)
            text = self.decode(generated)
            if not text.endswith("\ufffd") and len(text) > len(shown):  # wait for whole UTF-8 characters
                yield text[len(shown):]
                shown = text
            x = torch.tensor([[token]], device=self.device)
        text = self.decode(generated).rstrip("\ufffd")
        if len(text) > len(shown):
            yield text[len(shown):]

    def reply(self, message: str, history: list[tuple[str, str]] = (), persona: str | None = None,
              config: GenerationConfig = GenerationConfig()) -> str:
        return "".join(self.stream(message, history, persona, config)).strip()


class DialogueFallback:
    """The robot's fallback for out-of-scope turns: its own dialogue model, persona and recent history."""

    source = "dialogue"

    def __init__(self, model: DialogueModel, persona: str, config: GenerationConfig = GenerationConfig(),
                 empty_reply: str = "Hmm, tell me more?") -> None:
        self.model, self.persona, self.config, self.empty_reply = model, persona, config, empty_reply

    def stream(self, text: str, session) -> Iterator[str]:
        produced = False
        for piece in self.model.stream(text, session.history[-8:], self.persona, self.config):
            if not produced:
                piece = piece.lstrip()
            if piece:
                produced = True
                yield piece
        if not produced:
            yield self.empty_reply
