"""How a tokenizer writes a conversation: the tokens that open a system, user or robot turn, the tokens
that close any turn, and the tokens generation stops on.

Two formats: the project's own role tokens (`<|system|>` ... `<|end|>`, for models trained from scratch),
and ChatML (`<|im_start|>assistant\\n` ... `<|im_end|>`), the format pretrained chat models such as
SmolLM2-Instruct were tuned on: fine-tuning keeps it, so that no untrained token embedding is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from robot.dialogue.tokenizer import END, EOS, ROBOT, SYSTEM, USER

CHATML_START, CHATML_END = "<|im_start|>", "<|im_end|>"


@dataclass(frozen=True)
class ChatFormat:
    system: tuple[int, ...]
    user: tuple[int, ...]
    robot: tuple[int, ...]
    end: tuple[int, ...]  # closes every turn; its first token ends a generated reply
    stops: tuple[int, ...]  # generation stops on any of these

    @classmethod
    def of(cls, tokenizer) -> ChatFormat:
        vocab = tokenizer.get_vocab()
        if CHATML_START in vocab and CHATML_END in vocab:
            def ids(text: str) -> tuple[int, ...]:
                return tuple(tokenizer(text, add_special_tokens=False)["input_ids"])

            stops = {vocab[CHATML_END]} | ({tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set())
            return cls(ids(f"{CHATML_START}system\n"), ids(f"{CHATML_START}user\n"),
                       ids(f"{CHATML_START}assistant\n"), ids(f"{CHATML_END}\n"), tuple(sorted(stops)))
        role = {name: (vocab[name],) for name in (SYSTEM, USER, ROBOT, END)}
        return cls(role[SYSTEM], role[USER], role[ROBOT], role[END],
                   tuple(sorted({vocab[END], *([vocab[EOS]] if EOS in vocab else [])})))

    def turn(self, opener: tuple[int, ...], text_ids: list[int]) -> list[int]:
        return [*opener, *text_ids, *self.end]
