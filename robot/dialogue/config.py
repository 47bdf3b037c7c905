"""The dialogue model's training settings, apart from the training code so that the command line takes its
defaults from here without importing PyTorch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DialogueTrainConfig:
    preset: str = "tiny"
    init: str = "scratch"  # a base name (smollm2), a local causal-LM folder or .gguf file, or scratch
    full: bool = False  # with a pretrained init: train every weight instead of LoRA adapters
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    steps: int = 2000
    batch_size: int = 16
    grad_accum: int = 1
    block_size: int = 256
    lr: float = 2e-3
    min_lr: float = 2e-4
    warmup: int = 100
    weight_decay: float = 0.1
    clip: float = 1.0
    eval_every: int = 250
    eval_dialogues: int = 200
    checkpoint_every: int = 500
    max_seconds: float = 0.0  # stop (and save) after this long; 0: no limit
    compile: bool = False
    device: str = "auto"
    seed: int = 0
