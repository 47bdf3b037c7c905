"""The robot with ears and a voice: audio -> transcript -> `Robot.respond` -> reply audio.

Shared by the terminal loop, the web app and the benchmark. The recogniser follows the robot's active
brain: after a retrain and hot swap, the next utterance is decoded with the new intents' language model.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from robot.brain import Brain, Reply, Robot, Session, clean_message
from robot.errors import InputError
from robot.intents.formats import parse_native_yaml, read_text, to_native_yaml
from robot.intents.schema import IntentData
from robot.intents.spoken import RECOGNIZER_FILE, adapt, recognizer_settings
from robot.language import ENGLISH, base_language
from robot.paths import cache_home
from robot.speech import whisper
from robot.speech.audio import AudioLimits
from robot.speech.language_model import SPEECH_DIR
from robot.speech.recognizers import BACKENDS, PocketsphinxRecognizer, Recognizer, Transcript, transcribe_utterance
from robot.speech.sentences import SentenceCutter
from robot.speech.tts import Voice, synthesize_stream, voice_for
from robot.speech.whisper import WhisperOptions, WhisperRecognizer


@dataclass(frozen=True)
class VoiceOptions:
    voice: Voice = Voice()
    limits: AudioLimits = AudioLimits()
    backend: str | None = None  # "whisper", "pocketsphinx" or "moonshine"; None: what the intent model was built for
    whisper: WhisperOptions = WhisperOptions()
    general: bool = False  # not adapted to the intents: pocketsphinx's general model, Whisper without a prompt
    speak: bool = True  # synthesise the reply
    doubt_below: float = 4.0  # Moonshine: a transcript whose intent score is under this many times the intent
    # model's out-of-scope threshold is heard again by Whisper, primed with the intents (`benchmarks/voice.py --doubts`
    # on the development requests: WER 20.2% -> 12.4%, Whisper alone 14.0%; a Whisper pass for 48% of them, 3 ties)


class VoiceReply:
    """A voice turn's answer as it is made. `speech` is the reply spoken, 16 kHz float32, a sentence at a time as
    soon as the reply's text has it: the first sentence plays while the rest is written (None when speech is off).
    `reply` is the whole reply (what speaking has not yet taken from the robot is taken then)."""

    def __init__(self, transcript: Transcript, replies: Iterator[Reply],
                 say: Callable[[str], Iterator[np.ndarray]] | None) -> None:
        self.transcript = transcript
        self._replies = replies
        self._last: Reply | None = None
        self.speech = None if say is None else self._spoken(say)

    def _written(self) -> Iterator[Reply]:
        for reply in self._replies:
            self._last = reply
            yield reply

    def _spoken(self, say: Callable[[str], Iterator[np.ndarray]]) -> Iterator[np.ndarray]:
        cutter = SentenceCutter()
        for reply in self._written():
            if text := cutter.take(reply.text):
                yield from say(text)
        if text := cutter.take(self._last.text, final=True):
            yield from say(text)

    @property
    def reply(self) -> Reply:
        for _ in self._written():
            pass
        return self._last


def speech_folder(folder: Path | None, data: IntentData | None = None) -> Path:
    """The recognisers' adaptation of an intent model: its folder's speech/, or (for folders trained before
    it existed, or brains built in memory) built once into the cache, keyed by the intents' content."""
    speech = None if folder is None else folder / SPEECH_DIR
    if speech is not None and (speech / RECOGNIZER_FILE).exists():
        return speech
    if data is None:
        data = parse_native_yaml(read_text(folder / "intents.yaml"), str(folder / "intents.yaml"))
    key = hashlib.sha256(to_native_yaml(data).encode()).hexdigest()[:16]
    cached = cache_home() / "speech" / key
    if not (cached / RECOGNIZER_FILE).exists():
        adapt(data).save(cached)
    return cached


def make_recognizer(options: VoiceOptions, folder: Path | None, data: IntentData | None = None,
                    doubt: Callable[[str], bool] | None = None) -> Recognizer:
    """The recogniser the options ask for, else the one the intent model in `folder` (or built from `data`)
    was adapted for; Whisper whose weights are missing falls back to pocketsphinx unless asked for by name.
    `doubt`: which of Moonshine's transcripts Whisper hears again (see `unlikely_request`)."""
    speech = speech_folder(folder, data)  # complete: older folders get theirs built into the cache
    settings = recognizer_settings(speech)
    backend = options.backend or settings["backend"]
    if backend not in BACKENDS:
        raise InputError(f"unknown speech recogniser {backend!r} (known: {', '.join(BACKENDS)})")
    if backend == "whisper" and options.backend is None and not _whisper_usable(options.whisper.model):
        backend = "pocketsphinx"
    language = base_language(settings.get("language", ENGLISH))  # folders from before languages: English
    prompt = None if options.general else settings["prompt"]
    if backend == "moonshine":
        model = options.whisper.model
        whisper_there = model not in whisper.WHISPER_MODELS or whisper.installed(model)
        return _moonshine(language, (lambda: WhisperRecognizer(replace(options.whisper, language=language), prompt))
                          if whisper_there else None, doubt)
    if backend == "whisper":  # listening for the intents' language
        return WhisperRecognizer(replace(options.whisper, language=language), prompt)
    return PocketsphinxRecognizer(None if options.general else speech)


def _moonshine(language: str, whisper_recognizer: Callable[[], Recognizer] | None,
               doubt: Callable[[str], bool] | None) -> Recognizer:
    """Moonshine (asked for by name only: English, installed apart), with Whisper, where installed, deciding what
    it is unsure of; Whisper is built on the first such utterance."""
    from robot.speech import moonshine

    if language != ENGLISH:
        raise InputError(f"Moonshine listens for English only, and these intents are in {language!r}: use "
                         "--backend whisper")
    if not moonshine.installed():
        raise InputError(f"Moonshine is not installed: {moonshine.INSTALL}")
    return moonshine.MoonshineRecognizer(fallback=whisper_recognizer and functools.cache(whisper_recognizer),
                                         doubt=doubt)


def brain_recognizer(options: VoiceOptions, brain: Brain) -> Recognizer:
    """The recogniser for `brain`'s intents, with Moonshine's transcripts checked against them (unless
    `general`)."""
    doubt = None if options.general else unlikely_request(brain, options.doubt_below)
    return make_recognizer(options, brain.folder, brain.data, doubt)


def unlikely_request(brain: Brain, below: float) -> Callable[[str], bool]:
    """Whether a transcript is unlike what the robot is asked: its intent score under `below` times the model's
    out-of-scope threshold. Moonshine cannot be primed with the intents, and what it mishears ("Harold is the
    robot", "do you know a good dog") reads like nothing the robot knows; Whisper, primed, hears it again."""
    classifier = brain.classifier

    def doubt(text: str) -> bool:  # read as the turn will read it: the turn then finds it encoded
        features, _ = classifier.encoder.encode_message(clean_message(text))
        return classifier.classify_message(features).score < below * classifier.threshold

    return doubt


@functools.cache
def _whisper_usable(model: str) -> bool:
    """Whether a named Whisper model is installed (a folder path always counts); the fallback is said once."""
    if model not in whisper.WHISPER_MODELS or whisper.installed(model):
        return True
    print(f"warning: Whisper {model} is not installed ({whisper.WHISPER_MODELS[model].install}); listening with "
          "pocketsphinx", file=sys.stderr)
    return False


class VoiceRobot:
    def __init__(self, robot: Robot, options: VoiceOptions = VoiceOptions()) -> None:
        self.robot, self.options = robot, options
        self._lock = threading.Lock()  # one decoder, not thread-safe: utterances are decoded one at a time
        self._brain: Brain | None = None
        self._recognizer: Recognizer | None = None

    def recognizer(self) -> Recognizer:
        """The recogniser for the robot's current brain (rebuilt after a model swap)."""
        brain = self.robot.brain
        if self._recognizer is None or self._brain is not brain:
            self._recognizer = brain_recognizer(self.options, brain)
            self._brain = brain
        return self._recognizer

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """Whole-utterance decoding of checked 16 kHz audio (files, uploads, browser recordings)."""
        with self._lock:
            return transcribe_utterance(self.recognizer(), audio, self.options.limits)

    def answer(self, transcript: Transcript, session: Session) -> VoiceReply:
        """The reply to a transcript, spoken as it is written (see `VoiceReply`). The turn begins here, on the brain
        the robot has now: its first reply is taken at once (a model swapped in later does not answer it)."""
        replies = self.robot.stream(transcript.text, session)
        return VoiceReply(transcript, itertools.chain([next(replies)], replies),
                          self.speech if self.options.speak else None)

    def speech(self, text: str) -> Iterator[np.ndarray] | None:
        """`text` in the voice for the model's language, a sentence at a time (None when speech is off)."""
        voice = voice_for(self.robot.brain.language, self.options.voice)
        return synthesize_stream(text, voice, self.robot.brain.language) if self.options.speak else None

    def turn(self, audio: np.ndarray, session: Session) -> VoiceReply:
        return self.answer(self.transcribe(audio), session)
