"""The dialogue model: tokenizer, a micro model that really trains, save/load, generation rules,
DDP under torchrun on the CPU, corpus errors, and the shipped model behind `robot chat`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from robot.dialogue.corpus import read_corpus
from robot.dialogue.data import dialogue_views
from robot.dialogue.generate import DialogueModel, GenerationConfig
from robot.dialogue.model import build_model
from robot.dialogue.tokenizer import END, ROBOT, USER, train_tokenizer
from robot.dialogue.train import DialogueTrainConfig, train_dialogue
from robot.errors import InputError
from tests.conftest import FIXTURES

CORPUS = FIXTURES / "dialogue" / "ccc_chitchat.valid.jsonl"
PERSONA = "Robo is a friendly robot."


@pytest.fixture(scope="module")
def dialogues() -> list[list[str]]:
    return read_corpus([CORPUS]).dialogues


@pytest.fixture(scope="module")
def micro_folder(tmp_path_factory, dialogues) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dialogue") / "model"
    config = DialogueTrainConfig(preset="micro", steps=60, batch_size=8, block_size=128, lr=3e-3, warmup=5,
                                 eval_every=30, eval_dialogues=10, checkpoint_every=30, device="cpu")
    metrics = train_dialogue(read_corpus([CORPUS]), dialogues[:10], PERSONA, out, config, progress=False)
    return out, metrics


def test_tokenizer_round_trip_and_chat_template(tmp_path, dialogues):
    tokenizer = train_tokenizer((t for d in dialogues for t in d), vocab_size=1000)
    text = "Hello there! Ça va? 🤖 naïve — 42"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    tokenizer.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert again(text)["input_ids"] == tokenizer(text)["input_ids"]
    chat = again.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert chat == f"{USER}hi{END}{ROBOT}"
    assert again.convert_tokens_to_ids(END) != again.unk_token_id


def test_loss_mask_covers_the_robot_side_only(dialogues):
    tokenizer = train_tokenizer((t for d in dialogues for t in d), vocab_size=1000)
    stream = dialogue_views(tokenizer, [["hi there", "hello you", "bye"]], PERSONA, 128)
    targets = tokenizer.decode([int(t) for t, m in zip(stream.ids, stream.mask) if m], skip_special_tokens=False)
    assert targets == f"hi there{END}bye{END}hello you{END}"  # view 1: turns 0 and 2; view 2: turn 1


def test_micro_model_trains_and_its_loss_falls(micro_folder):
    folder, metrics = micro_folder
    train = [h["train_bits_per_token"] for h in metrics["history"] if "train_bits_per_token" in h]
    val = [h["val_bits_per_char"] for h in metrics["history"] if "val_bits_per_char" in h]
    assert sum(train[-5:]) / 5 < sum(train[:5]) / 5 - 0.5 and len(val) >= 2 and val[-1] < val[0]
    assert metrics["steps"] == 60 and metrics["tokens_seen"] == 60 * 8 * 128
    assert {"model.safetensors", "config.json", "tokenizer.json", "training_curve.png", "metrics.json"} <= \
        {p.name for p in folder.iterdir()}
    assert (folder.with_name(folder.name + ".checkpoint") / "optimizer.safetensors").exists()


def test_resume_continues_from_the_checkpoint(micro_folder, tmp_path):
    folder, _ = micro_folder
    config = DialogueTrainConfig(preset="micro", steps=62, batch_size=8, block_size=128, warmup=5, eval_every=1000,
                                 device="cpu")
    metrics = train_dialogue(read_corpus([CORPUS]), [], PERSONA, tmp_path / "resumed", config,
                             resume=folder.with_name(folder.name + ".checkpoint"), progress=False)
    assert metrics["steps"] == 62 and metrics["tokens_seen"] == 62 * 8 * 128


def test_save_load_round_trip_through_auto_model(tmp_path, dialogues):
    tokenizer = train_tokenizer((t for d in dialogues for t in d), vocab_size=1000)
    model = build_model("micro", tokenizer).eval()
    model.save_pretrained(tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    x = torch.tensor([[5, 6, 7, 8]])
    assert torch.allclose(model(input_ids=x).logits, loaded(input_ids=x).logits, atol=1e-6)
    assert (tmp_path / "model.safetensors").exists() and not list(tmp_path.glob("*.bin"))


class ScriptedModel(torch.nn.Module):
    """Stands in for the network: emits `script` token ids one by one, then `then` for ever."""

    def __init__(self, vocab: int, script: list[int], then: int) -> None:
        super().__init__()
        self.vocab, self.script, self.then, self.calls, self.prompt_len = vocab, script, then, 0, 0

    def forward(self, input_ids, cache=None, use_cache=True, logits_to_keep=0):
        if self.calls == 0:
            self.prompt_len = input_ids.shape[1]
        token = self.script[self.calls] if self.calls < len(self.script) else self.then
        self.calls += 1
        logits = torch.full((1, input_ids.shape[1], self.vocab), -10.0)
        logits[0, -1, token] = 10.0
        return SimpleNamespace(logits=logits, cache=cache)


def scripted(folder: Path, script: list[str], then: str) -> DialogueModel:
    model = DialogueModel(folder)
    ids = [model.tokenizer.convert_tokens_to_ids(t) if t.startswith("<|") else model.encode(t)[0] for t in script]
    then_id = model.tokenizer.convert_tokens_to_ids(then) if then.startswith("<|") else model.encode(then)[0]
    model.model = ScriptedModel(len(model.tokenizer), ids, then_id)
    return model


def test_generation_stops_at_end_of_turn_and_hides_special_tokens(micro_folder):
    folder, _ = micro_folder
    greedy = GenerationConfig(temperature=0, repetition_penalty=1.0)
    model = scripted(folder, ["a", "b", END], then="x")
    assert model.reply("hello", config=greedy) == "ab" and model.model.calls == 3  # stopped at <|end|>
    model = scripted(folder, ["a", "b", USER, ROBOT], then="x")
    reply = model.reply("hello", config=greedy)
    assert reply.startswith("ab") and "<|" not in reply and "user" not in reply  # role tokens are never sampled


def test_generation_respects_reply_and_context_caps(micro_folder):
    folder, _ = micro_folder
    model = scripted(folder, [], then="a")
    config = GenerationConfig(temperature=0, repetition_penalty=1.0, max_new_tokens=7, max_context_tokens=64)
    history = [("tell me about " + "very " * 30 + "long things", "sure " * 40)] * 5
    model.reply("and now? " * 50, history, config=config)
    assert model.model.calls == 7 and model.model.prompt_len <= 64


def test_trained_micro_model_streams_text(micro_folder):
    folder, _ = micro_folder
    pieces = list(DialogueModel(folder).stream("do you like music?", config=GenerationConfig(seed=1)))
    text = "".join(pieces)
    assert len(pieces) >= 2 and all(isinstance(p, str) and p for p in pieces)  # streamed, piece by piece
    assert any(c.isalpha() for c in text) and "<|" not in text


def test_corpus_errors_and_malformed_lines(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError, match="no dialogues found"):
        read_corpus([empty])
    broken = tmp_path / "broken.jsonl"
    broken.write_text('not json\n{"turns": "x"}\n{"turns": ["only one"]}\n')
    with pytest.raises(InputError, match="broken.jsonl: no dialogues found"):
        read_corpus([broken])
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"turns": ["hi", "hello"]}\nnot json\n{"id": 3, "turns": ["a", "b", "c"]}\n')
    corpus = read_corpus([mixed])
    assert len(corpus.dialogues) == 2 and corpus.malformed == 1
    text = tmp_path / "plain.txt"
    text.write_text("hi\nhello\nhow are you\n\nsecond\ndialogue\n\nlonely\n")
    corpus = read_corpus([text])
    assert corpus.dialogues == [["hi", "hello", "how are you"], ["second", "dialogue"]] and corpus.malformed == 1


def test_cli_rejects_an_empty_corpus(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    result = subprocess.run([sys.executable, "-m", "robot.cli", "train", "dialogue", "--corpus", str(empty)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "no dialogues found" in result.stderr and "Traceback" not in result.stderr


def test_torchrun_ddp_two_processes_on_cpu(tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
           "-m", "robot.cli", "train", "dialogue", "--corpus", str(CORPUS), "--preset", "micro", "--steps", "4",
           "--batch-size", "4", "--block-size", "64", "--eval-every", "1000", "--out", str(out), "--device", "cpu"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["steps"] == 4 and metrics["tokens_seen"] == 4 * 4 * 64 * 2


def test_chat_answers_out_of_scope_with_the_shipped_dialogue_model():
    result = subprocess.run([sys.executable, "-m", "robot.cli", "chat", "--message", "what music do you like?",
                             "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["source"] == "dialogue" and reply["intent"] is None and reply["text"].strip()
    assert "<|" not in reply["text"]


def test_eval_dialogue_json():
    result = subprocess.run([sys.executable, "-m", "robot.cli", "eval", "dialogue", "--corpus", str(CORPUS),
                             "--limit", "5", "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert 0.5 < metrics["bits_per_char"] < 8 and metrics["n_chars"] > 1000 and 0 <= metrics["repetition_rate"] <= 1
