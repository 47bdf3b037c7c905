"""The robot's one CPU thread setting is torch's (`torch.set_num_threads`: tests use 1, benchmarks say how
many); the other engines (CTranslate2 for Whisper, onnxruntime for the neural voice) follow it, so that two
of them never fight over the cores with their own defaults."""

from __future__ import annotations


def cpu_threads() -> int:
    import torch

    return torch.get_num_threads()
