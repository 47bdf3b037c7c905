"""From dialogues to training tokens.

Each dialogue is read twice, once with each speaker as the robot, and the loss is taken on the robot's
turns only (its words and its end-of-turn token). Why: the model must learn to *reply* to what it is
told, never to write the user's side; reading each dialogue from both sides still turns every utterance
of the corpus into a training target once. A dialogue becomes segments of whole turns that fit the
context, each starting with the persona line, the same prefix the robot uses when it talks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from robot.dialogue.chat_format import ChatFormat


@dataclass
class TokenStream:
    ids: np.ndarray  # int32, all segments back to back
    mask: np.ndarray  # uint8, 1 where the token is a robot target

    def __len__(self) -> int:
        return len(self.ids)


def encode_turns(tokenizer, turns: list[str]) -> list[list[int]]:
    return tokenizer(turns, add_special_tokens=False)["input_ids"]


def dialogue_segments(tokenizer, dialogues: list[list[str]], persona: str, block_size: int,
                      first_robot: tuple[int, ...] = (0, 1), score_openings: bool = True
                      ) -> Iterator[tuple[list[int], list[int]]]:
    """(token ids, loss mask) segments of whole turns, each starting with the persona line; the robot
    speaks first on turn 0 and/or turn 1. `score_openings=False` leaves a dialogue's first turn out of
    the loss (evaluation scores responses only)."""
    fmt = ChatFormat.of(tokenizer)
    prefix = fmt.turn(fmt.system, tokenizer(persona, add_special_tokens=False)["input_ids"])
    for dialogue in dialogues:
        encoded = encode_turns(tokenizer, dialogue)
        for start in first_robot:
            seg_ids, seg_mask = list(prefix), [0] * len(prefix)
            for k, turn in enumerate(encoded):
                robot = (k - start) % 2 == 0
                scored = robot and (score_openings or k > 0)
                opener = fmt.robot if robot else fmt.user
                piece = fmt.turn(opener, turn[: block_size // 2])
                if len(seg_ids) + len(piece) > block_size and len(seg_ids) > len(prefix):
                    yield seg_ids, seg_mask
                    seg_ids, seg_mask = list(prefix), [0] * len(prefix)
                seg_ids += piece
                seg_mask += [0] * len(opener) + [int(scored)] * (len(piece) - len(opener))  # the role is given
            yield seg_ids, seg_mask


def dialogue_views(tokenizer, dialogues: list[list[str]], persona: str, block_size: int,
                   scripted: list[list[str]] = ()) -> TokenStream:
    """The training stream: every segment of both views of `dialogues`, and of `scripted` dialogues (written
    for the robot: the user speaks first) the robot's side only, back to back."""
    ids: list[int] = []
    mask: list[int] = []
    segments = [dialogue_segments(tokenizer, dialogues, persona, block_size),
                dialogue_segments(tokenizer, list(scripted), persona, block_size, first_robot=(1,))]
    for seg_ids, seg_mask in (segment for part in segments for segment in part):
        ids += seg_ids
        mask += seg_mask
    return TokenStream(np.array(ids, dtype=np.int32), np.array(mask, dtype=np.uint8))


class WindowSampler:
    """Random windows of block_size + 1 tokens from a stream (targets are inputs shifted by one)."""

    def __init__(self, stream: TokenStream, block_size: int, seed: int) -> None:
        if len(stream) <= block_size + 1:
            raise ValueError("the corpus is shorter than one training window")
        self.stream, self.block_size = stream, block_size
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        starts = self.rng.integers(0, len(self.stream) - self.block_size - 1, size)
        idx = starts[:, None] + np.arange(self.block_size + 1)
        ids = torch.from_numpy(self.stream.ids[idx].astype(np.int64))
        mask = torch.from_numpy(self.stream.mask[idx[:, 1:]].astype(bool))
        return ids[:, :-1], ids[:, 1:], mask


def masked_loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (nats) over the robot's tokens."""
    losses = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), reduction="none")
    mask = mask.flatten().to(losses.dtype)
    return (losses * mask).sum() / mask.sum().clamp(min=1)
