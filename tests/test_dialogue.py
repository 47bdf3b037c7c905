"""The dialogue model: tokenizer, a micro model that really trains, save/load, generation rules,
DDP under torchrun on the CPU, corpus errors, versions. The pretrained base: test_dialogue_base.py; the shipped
model: test_shipped_dialogue.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from robot.dialogue.config import DialogueTrainConfig
from robot.dialogue.corpus import read_corpus
from robot.dialogue.data import dialogue_views
from robot.dialogue.generate import DialogueModel, GenerationConfig
from robot.dialogue.model import build_model
from robot.dialogue.tokenizer import END, ROBOT, USER, train_tokenizer
from robot.dialogue.train import train_dialogue
from robot.errors import InputError
from tests.conftest import CHATS, PERSONA


@pytest.fixture(scope="module")
def dialogues() -> list[list[str]]:
    return read_corpus([CHATS]).dialogues


@pytest.fixture(scope="module")
def micro_folder(tmp_path_factory, dialogues) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dialogue") / "model"
    config = DialogueTrainConfig(preset="micro", steps=60, batch_size=8, block_size=128, lr=3e-3, warmup=5,
                                 eval_every=30, eval_dialogues=10, checkpoint_every=30, device="cpu")
    metrics = train_dialogue(read_corpus([CHATS]), dialogues[:10], PERSONA, out, config, progress=False)
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


def test_resume_continues_from_the_checkpoint_with_its_tokenizer(micro_folder, tmp_path):
    folder, _ = micro_folder
    other = tmp_path / "other.txt"  # another corpus would train another tokenizer: the checkpoint's must be kept
    other.write_text("zebra xylophone quartz\nquokka jigsaw vortex\n\n" * 200)
    config = DialogueTrainConfig(preset="micro", steps=62, batch_size=8, block_size=128, warmup=5, eval_every=1000,
                                 device="cpu")
    metrics = train_dialogue(read_corpus([other]), [], PERSONA, tmp_path / "resumed", config,
                             resume=folder.with_name(folder.name + ".checkpoint"), progress=False)
    assert metrics["steps"] == 62 and metrics["tokens_seen"] == 62 * 8 * 128 and metrics["steps_this_run"] == 2
    assert (tmp_path / "resumed" / "tokenizer.json").read_text() == (folder / "tokenizer.json").read_text()


def test_save_load_round_trip_through_auto_model(tmp_path, dialogues):
    tokenizer = train_tokenizer((t for d in dialogues for t in d), vocab_size=1000)
    model = build_model("micro", tokenizer).eval()
    model.save_pretrained(tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    x = torch.tensor([[5, 6, 7, 8]])
    assert torch.allclose(model(input_ids=x).logits, loaded(input_ids=x).logits, atol=1e-6)
    assert (tmp_path / "model.safetensors").exists() and not list(tmp_path.glob("*.bin"))


@torch.inference_mode()
def uncached_log_probability(folder: Path, context: list[int], reply: list[int]) -> float:
    """The reference: log P(reply | context) from one uncached pass over the whole sequence."""
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    logits = model(input_ids=torch.tensor([context + reply])).logits[0].log_softmax(-1)
    return float(sum(logits[len(context) - 1 + i, t] for i, t in enumerate(reply)))


def test_candidates_sampled_side_by_side_carry_their_reference_scores(micro_folder):
    """Several replies come from one reading of the prompt; each one's score is log P(reply, end of turn |
    conversation) and its generic score log P(reply, end of turn | persona alone), as an uncached pass finds."""
    folder, _ = micro_folder
    model = DialogueModel(folder, quantize=False)
    config = GenerationConfig(temperature=1.0, candidates=4, max_new_tokens=12, seed=3)
    head, conversation = model.prompt("do you like music?", [], None, config)
    candidates = model.sample(head, conversation, config)
    assert len(candidates) == 4 and len({tuple(c.tokens) for c in candidates}) > 1
    for c in candidates:
        ended = [] if c.end is None else [c.end]
        assert c.end in (None, *model.format.stops) and (c.end is None) == (len(c.tokens) == config.max_new_tokens)
        assert c.score == pytest.approx(uncached_log_probability(folder, head + conversation, c.tokens + ended),
                                        abs=1e-3)
        assert c.generic == pytest.approx(uncached_log_probability(
            folder, head + list(model.format.robot), c.tokens + (ended or [model.format.stops[0]])), abs=1e-3)


def test_reranking_never_repeats_a_recent_reply(micro_folder):
    folder, _ = micro_folder
    model = DialogueModel(folder, quantize=False)
    config = GenerationConfig(temperature=1.0, candidates=4, max_new_tokens=12, seed=5)
    head, conversation = model.prompt("what do you do for fun?", [], None, config)
    candidates = model.sample(head, conversation, config)
    best = model.rerank(candidates, [], config)
    said = model.decode(best.tokens)
    again = model.rerank(candidates, [said.upper()], config)  # said before (case and spacing aside)
    assert model.decode(again.tokens) != said
    assert model.reply("what do you do for fun?", config=config).strip()


def test_a_conversation_that_outgrows_the_context_keeps_its_latest_turns(micro_folder):
    folder, _ = micro_folder
    model = DialogueModel(folder)
    config = GenerationConfig(max_new_tokens=4, max_context_tokens=160, seed=0)
    history = [(f"tell me about thing number {k} please", f"thing {k} is a fine thing") for k in range(12)]
    head, conversation = model.prompt("and the next one?", history, None, config)
    text = model.tokenizer.decode(head + conversation)
    assert len(head) + len(conversation) <= model.context_limit(config) < len(model.encode(str(history)))
    kept = [k for k in range(12) if f"thing number {k} please" in text]
    assert kept and kept == list(range(kept[0], 12))  # the latest turns, none skipped
    assert model.reply("and the next one?", history, config=config) is not None


def test_a_conversation_is_read_ahead_and_the_engine_keeps_the_latest_openings(micro_folder, monkeypatch):
    """Between turns the persona and the latest turns become the engine's static prompt, so that the next turn
    reads only its message (the same prompt, split elsewhere); past OPENINGS_KEPT openings a fresh generator
    takes over, since CTranslate2 cannot forget one."""
    from robot.dialogue import generate

    monkeypatch.setattr(generate, "OPENINGS_KEPT", 2)
    folder, _ = micro_folder
    model = DialogueModel(folder)
    config = GenerationConfig(max_new_tokens=4, max_context_tokens=160, seed=0)
    persona, first = model.head(None, config), model.generator
    assert model.read_ahead([], None, config) is None  # the persona alone is read by the first reply
    history = []
    for k in range(4):
        message = f"tell me about thing number {k} please"
        unread = model.prompt(message, history, None, config)
        assert unread[0] == persona
        if history:
            model.read_ahead(history, None, config).result()
            assert model.read_ahead(history, None, config) is None  # read once
            head, rest = model.prompt(message, history, None, config)
            assert len(head) > len(persona) and rest == [*model.format.turn(model.format.user, model.encode(message)),
                                                         *model.format.robot]
            assert head + rest == sum(unread, [])  # while the conversation fits, the same prompt
        history.append((message, model.reply(message, history, config=config)))
    assert model.generator is not first and len(model.engine.openings) == 1  # three read, two kept at most
    history.append(("and the next one?", "thing 4"))
    earlier = model.read_ahead(history[:-1] + [("and the one after?", "thing 5")], None, config, "someone")
    later = model.read_ahead(history, None, config, "someone")  # before the first began: it is not read
    earlier.result(), later.result()
    assert model.prompt("more?", history[:-1] + [("and the one after?", "thing 5")], None, config)[0] == persona
    assert model.prompt("more?", history, None, config)[0] != persona
    model.engine = generate.Engine(model.load())  # nothing read
    replying = model.tokens(persona, model.encode("hi"), config)
    assert next(replying, None) is not None  # a reply under way: reading ahead would make it wait
    model.read_ahead(history, None, config).result()
    assert model.prompt("more?", history, None, config)[0] == persona
    replying.close()
    model.read_ahead(history, None, config).result()
    assert model.prompt("more?", history, None, config)[0] != persona
    wide = GenerationConfig(max_new_tokens=4)  # a message may take a quarter of the context: 63 tokens here
    long = [(f"hi {k}", f"oh, {k}") for k in range(40)]  # short turns: the opening fills all but the room
    model.read_ahead(long, None, wide).result()
    head, rest = model.prompt("and now?", long, None, wide)
    assert len(head) > len(persona) and len(head) + len(rest) <= model.context_limit(wide)
    head, rest = model.prompt("and now? " * 50, long, None, wide)  # more than the room left: read again
    assert head == persona and len(head) + len(rest) <= model.context_limit(wide)


def test_prompt_never_runs_past_the_trained_positions(micro_folder):
    folder, _ = micro_folder
    model = DialogueModel(folder)
    assert model.positions == 256  # the micro preset's context
    history = [("tell me about " + "very " * 30 + "long things", "sure " * 40)] * 5
    for config in (GenerationConfig(max_new_tokens=7, max_context_tokens=64),
                   GenerationConfig(max_new_tokens=60, max_context_tokens=10_000)):
        head, conversation = model.prompt("and now? " * 50, history, None, config)
        assert len(head) + len(conversation) <= model.context_limit(config) <= model.positions - config.max_new_tokens
        assert conversation[-len(model.format.robot):] == list(model.format.robot)  # ends opening the robot's turn
    short = GenerationConfig(max_new_tokens=5, temperature=0)
    assert len(model.encode(model.reply("hello", config=short))) <= 5


def test_trained_micro_model_streams_text(micro_folder):
    folder, _ = micro_folder
    model = DialogueModel(folder)
    streams = [list(model.stream("do you like music?", config=GenerationConfig(seed=s, temperature=1)))
               for s in range(4)]  # a sampled micro model may end its turn at once: most seeds do not
    assert sum(len(pieces) >= 2 for pieces in streams) >= 2  # streamed, piece by piece
    assert all(isinstance(p, str) and p for pieces in streams for p in pieces)
    text = "".join(p for pieces in streams for p in pieces)
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
           "--log-dir", str(tmp_path / "torchrun"),  # not a torchelastic_* folder in /tmp left behind
           "-m", "robot.cli", "train", "dialogue", "--corpus", str(CHATS), "--preset", "micro", "--steps", "4",
           "--batch-size", "4", "--block-size", "64", "--eval-every", "1000", "--out", str(out), "--device", "cpu",
           "--json"]
    # a hang must fail with every process's Python stacks: SIGABRT makes faulthandler print them
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"})
    try:
        stdout, stderr = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGABRT)
        stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr[-6000:]
    assert json.loads(stdout)["model"] == str(out)  # one report (rank 0's), not one per process
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["steps"] == 4 and metrics["tokens_seen"] == 4 * 4 * 64 * 2


def test_dialogue_versions_train_activate_and_roll_back(tmp_path):
    """`robot train dialogue` adds a version and never touches the active model; models --kind dialogue."""
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "robot.cli", *args], capture_output=True, text=True,
                              timeout=600, env={**os.environ, "ROBOT_HOME": str(tmp_path), "OMP_NUM_THREADS": "1"})

    trained = cli("train", "dialogue", "--corpus", str(CHATS), "--preset", "micro", "--steps", "2", "--batch-size",
                  "2", "--block-size", "64", "--eval-every", "1000", "--device", "cpu", "--json")
    assert trained.returncode == 0, trained.stderr[-2000:]
    version = json.loads(trained.stdout)["version"]
    listed = json.loads(cli("models", "list", "--kind", "dialogue", "--json").stdout)
    assert listed["active"] == "default" and {v["name"] for v in listed["versions"]} == {"default", version}
    assert cli("models", "activate", version, "--kind", "dialogue").returncode == 0
    assert json.loads(cli("models", "list", "--kind", "dialogue", "--json").stdout)["active"] == version
    assert json.loads(cli("models", "list", "--json").stdout)["active"] == "default"  # intents are apart
    rolled = cli("models", "rollback", "--kind", "dialogue")
    assert rolled.returncode == 0 and "default" in rolled.stdout


def test_activating_a_dialogue_version_swaps_the_running_robots_model(micro_folder, tmp_path, encoder):
    import shutil

    from robot.brain import Brain, Persona, Robot, Session
    from robot.lifecycle import ModelRegistry, activate
    from robot.paths import SHIPPED_MODELS

    registry = ModelRegistry("dialogue", home=tmp_path)
    good = registry.add(lambda folder: shutil.copytree(micro_folder[0], folder))
    broken = registry.add(lambda folder: (shutil.copytree(micro_folder[0], folder),
                                          (folder / "tokenizer.json").write_text("{not json")))
    robot = Robot(Brain.load(SHIPPED_MODELS / "intents", "default", encoder=encoder), Persona.load(), seed=0)
    activate(registry, good, robot)
    assert registry.active_name() == good and robot.fallback.model.folder == registry.path(good)
    assert robot.respond("what's your favourite season for a walk?", Session()).source == "dialogue"
    session = Session()  # a conversation under way is read ahead after its second turn, not its first
    robot.respond("what's your favourite season for a walk?", session)
    assert robot.fallback.model.reader.submit(len, robot.fallback.model.engine.openings).result() == 0
    robot.respond("and what about the rain?", session)
    assert robot.fallback.model.reader.submit(len, robot.fallback.model.engine.openings).result() == 1
    with pytest.raises(InputError, match="not a dialogue model folder"):
        activate(registry, broken, robot)
    assert registry.active_name() == good and robot.fallback.model.folder == registry.path(good)


def test_a_pickled_model_folder_is_refused_never_unpickled(tmp_path, dialogues):
    from robot.dialogue.model import load_pretrained

    tokenizer = train_tokenizer((t for d in dialogues for t in d), vocab_size=1000)
    model = build_model("micro", tokenizer)
    model.config.save_pretrained(tmp_path)
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")  # a pickle: loading it could run any code
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(InputError, match="cannot load a causal language model"):
        load_pretrained(tmp_path)
