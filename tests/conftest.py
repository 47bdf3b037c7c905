"""Shared fixtures. Tests run on one torch thread (two collapse when another process is busy) and with
ROBOT_HOME in a temporary folder, so they never touch the user's models."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import tempfile
from pathlib import Path

os.environ["ROBOT_HOME"] = tempfile.mkdtemp(prefix="robot-test-home-")
os.environ["ROBOT_CACHE"] = tempfile.mkdtemp(prefix="robot-test-cache-")  # one dialogue engine build per run
for _folder in (os.environ["ROBOT_HOME"], os.environ["ROBOT_CACHE"]):  # about 1 GB a run: gone when it ends
    atexit.register(shutil.rmtree, _folder, ignore_errors=True)
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import onnxruntime  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

onnxruntime.set_seed(0)  # the neural voice samples its durations: the same inputs every run of the suite
torch.set_num_threads(1)
transformers.utils.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()

from robot.brain import Robot  # noqa: E402
from robot.paths import DEFAULT_INTENTS  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # small licensed files, see fixtures/README.md
FORMATS = FIXTURES / "formats"
CHATS = FIXTURES / "dialogue" / "ccc_chitchat.valid.jsonl"  # BYU Chit-Chat Challenge validation dialogues (MIT)
PERSONA = "Robo is a friendly robot."  # the persona of the dialogue models trained in the tests


@functools.lru_cache(maxsize=1)
def reference_model(folder: Path) -> tuple[transformers.PreTrainedModel, tuple[int, ...], list[int]]:
    """A dialogue folder's float32 transformers model (loaded once for a test's references: 11-14 s a load), the
    ids that end the robot's turn and the special ids never generated."""
    from robot.dialogue.chat_format import ChatFormat
    from robot.dialogue.generate import load_torch_model

    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    stops = ChatFormat.of(tokenizer).stops
    return load_torch_model(folder), stops, [i for i in tokenizer.all_special_ids if i not in stops]


@torch.inference_mode()
def uncached_greedy(folder: Path, prompt: list[int], n: int, never: list[list[int]] = ()) -> list[int]:
    """The reference decoding of a dialogue model folder: transformers re-reads the whole sequence for every token
    (no cache) and takes the likeliest token that is not a special one, up to the end of the robot's turn, which
    may not come after a reply in `never` (the conversation's recent replies, token ids)."""
    model, stops, banned = reference_model(folder)
    ids, out = list(prompt), []
    for _ in range(n):
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
        logits[banned] = float("-inf")
        if out in never:
            logits[list(stops)] = float("-inf")
        token = int(logits.argmax())
        if token in stops:
            break
        out.append(token)
        ids.append(token)
    return out


@pytest.fixture(scope="session")
def encoder():
    from robot.intents.encoder import shared_encoder

    return shared_encoder()


@pytest.fixture(scope="session")
def trained(encoder):
    """A classifier trained here, now, on the default assets (not the shipped copy)."""
    from robot.intents.train import train_intents
    from robot.service import load_training_data

    data, _ = load_training_data([DEFAULT_INTENTS])
    classifier, metrics = train_intents(data, encoder)[:2]
    return classifier, data, metrics


@pytest.fixture(scope="session")
def robot() -> Robot:
    from robot.service import load_robot

    return load_robot(seed=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def web_app(robot):
    from robot.web.app import launch

    port = free_port()
    app = launch(robot, port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()
