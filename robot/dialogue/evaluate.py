"""Held-out evaluation: bits per character on the responses of a corpus (tokenizer-independent, so
models with different vocabularies compare), and how often generated replies repeat themselves."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from robot.dialogue.chat_format import ChatFormat
from robot.dialogue.data import dialogue_segments

TokenScorer = Callable[[list[int]], torch.Tensor]  # ids -> log P(ids[k] | ids[:k]) for k = 1 .. len(ids) - 1


def torch_scorer(model) -> TokenScorer:
    """A causal LM's log-probabilities of each token after the first, read in one forward pass."""
    model.eval()
    device = next(model.parameters()).device

    @torch.inference_mode()
    def score(ids: list[int]) -> torch.Tensor:
        logits = model(input_ids=torch.tensor(ids[:-1], device=device)[None]).logits[0].float()
        return logits.log_softmax(-1).gather(1, torch.tensor(ids[1:], device=device)[:, None])[:, 0].cpu()

    return score


def ct2_scorer(generator, names: Callable[[list[int]], list[str]]) -> TokenScorer:
    """A CTranslate2 generator's log-probabilities of each token after the first (`score_batch`); `names` turns
    ids into the vocabulary's tokens."""
    return lambda ids: torch.tensor(generator.score_batch([names(ids)], max_input_length=0)[0].log_probs)


def bits_per_char(score: TokenScorer, tokenizer, dialogues: list[list[str]], persona: str, block_size: int) -> dict:
    """Total negative log2-likelihood of every response turn (its text and its end-of-turn token) over
    the characters of those turns, counting the end of a turn as one character. `score` reads a causal LM
    (`torch_scorer`) or CTranslate2 (`ct2_scorer`)."""
    end = ChatFormat.of(tokenizer).end
    nats, chars = 0.0, 0
    for ids, mask in dialogue_segments(tokenizer, dialogues, persona, block_size, score_openings=False):
        if sum(mask) == 0:
            continue
        nats -= float(score(ids)[torch.tensor(mask[1:], dtype=torch.bool)].sum())
        kept = [t for t, m in zip(ids[1:], mask[1:]) if m]
        chars += len(tokenizer.decode([t for t in kept if t not in end])) + kept.count(end[0])
    return {"bits_per_char": nats / math.log(2) / max(chars, 1), "n_chars": chars}


def repetition_rate(replies: list[str], n: int = 3) -> float:
    """Share of word n-grams in the replies that repeat an earlier n-gram of the same reply."""
    total = repeated = 0
    for reply in replies:
        words = reply.split()
        grams = [tuple(words[k:k + n]) for k in range(len(words) - n + 1)]
        total += len(grams)
        repeated += len(grams) - len(set(grams))
    return repeated / total if total else 0.0
