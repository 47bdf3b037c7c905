"""The shipped dialogue model behind `robot chat`: it answers out of scope, reads held-out chat as its float
model does, stays honest about tasks, meets news in their mood, and names its base. (Apart from the dialogue
code's own tests so that the two run side by side in the suite's two workers.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from robot.dialogue.corpus import read_corpus
from robot.dialogue.generate import DialogueModel, GenerationConfig
from tests.conftest import CHATS, FIXTURES


def test_chat_answers_out_of_scope_with_the_shipped_dialogue_model():
    result = subprocess.run([sys.executable, "-m", "robot.cli", "chat", "--message", "what music do you like?",
                             "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout)
    assert reply["source"] == "dialogue" and reply["intent"] is None and reply["text"].strip()
    assert "<|" not in reply["text"]


def test_eval_dialogue_json():
    result = subprocess.run([sys.executable, "-m", "robot.cli", "eval", "dialogue", "--corpus", str(CHATS),
                             "--limit", "2", "--json"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert 0.5 < metrics["bits_per_char"] < 8 and metrics["n_chars"] > 1000 and 0 <= metrics["repetition_rate"] <= 1


CANNOT = re.compile(r"\b(can(?:no|')t|cannot|don't|do not|not able|unable|no access|offline|never|not sure|"
                    r"i'm a (?:small )?robot|as a robot|didn't eat)\b", re.I)  # a robot claims no meal


@pytest.fixture(scope="module")
def shipped() -> DialogueModel:
    from robot.paths import SHIPPED_MODELS

    return DialogueModel(SHIPPED_MODELS / "dialogue")


@pytest.mark.parametrize("message", ["could you order me some sushi for dinner?", "please text my dad that i'm late",
                                     "how much is a barrel of oil selling for today?", "what did you have for lunch?"])
def test_shipped_model_is_honest_about_being_a_small_offline_robot(shipped, message):
    reply = shipped.reply(message, config=GenerationConfig(temperature=0))
    assert CANNOT.search(reply), reply
    assert len(reply.split()) <= 40 and len(re.findall(r"[.!?](?:\s|$)", reply)) <= 3, reply


def test_shipped_model_meets_news_in_its_mood(shipped):
    """The adapter was trained to listen (issue #26): of the 24 development news of benchmarks/listening.py, good
    news met with joy and bad news with sympathy, never the other, greedy, at one thread (RESULTS.md: 17 with the
    engine's down projection in float32, 11-13 with every layer in int8, 3 for the adapter before)."""
    joy, sorry = re.compile(r"congrat|great|wonderful|glad|well done|lovely|amazing", re.I), re.compile("sorry", re.I)
    lines = (FIXTURES.parent.parent / "benchmarks" / "data" / "listening" / "dev_moods.tsv").read_text().splitlines()
    news = [line.split("\t") for line in lines if line and not line.startswith("#")]
    replies = [shipped.reply(message, config=GenerationConfig(temperature=0)) for message, _ in news]
    fits = [bool((joy if mood == "good" else sorry).search(r)) and not (sorry if mood == "good" else joy).search(r)
            for r, (_, mood) in zip(replies, news)]
    assert len(news) == 24 and sum(fits) >= 15, list(zip(replies, fits))


def test_shipped_model_never_says_a_recent_reply_of_the_conversation_again(shipped):
    """The model copies its own replies from the conversation ("That sounds lovely." to five news in 73 turns,
    RESULTS.md); a reply among the latest ones cannot be said again whole. Greedy, the same message again after
    its own reply: without the rule, the same reply word for word."""
    greedy, message = GenerationConfig(temperature=0), "i baked cookies for my neighbours"
    first = shipped.reply(message, config=greedy)
    again = shipped.reply(message, [(message, first)], config=greedy)
    assert first and again.strip() != first.strip(), (first, again)


def test_the_int8_engine_reads_chat_as_its_float_model_does(shipped):
    """CTranslate2 in int8 reads held-out chat almost as the float32 model does; torch's dynamic int8 of every
    linear layer read it 0.31-0.39 bits a character worse (each of the fixture's first four chats alike) and
    replied as if it had not read the message. Two chats: each one costs seconds at one thread."""
    chats = read_corpus([CHATS]).dialogues[:2]
    gap = shipped.bits_per_char(chats, by_engine=True)["bits_per_char"] - shipped.bits_per_char(chats)["bits_per_char"]
    assert gap < 0.2, gap


def test_shipped_model_names_its_base_and_stays_small():
    from robot.dialogue.base import get_base, read_base_file
    from robot.paths import SHIPPED_MODELS

    folder = SHIPPED_MODELS / "dialogue"
    assert read_base_file(folder) == get_base("smollm2")
    assert sum(p.stat().st_size for p in folder.iterdir()) < 60e6
    card = (folder / "README.md").read_text()
    assert "CPU" in card and "smollm2" in card.lower() and "robot train dialogue --init smollm2" in card
