"""The robot with ears and a voice: audio -> transcript -> `Robot.respond` -> reply audio.

Shared by the terminal loop, the web app and the benchmark. The recogniser follows the robot's active
brain: after a retrain and hot swap, the next utterance is decoded with the new intents' language model.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robot.brain import Brain, Reply, Robot, Session
from robot.intents.formats import parse_native_yaml, read_text, to_native_yaml
from robot.intents.schema import IntentData
from robot.intents.spoken import adapted_model
from robot.paths import cache_home
from robot.speech.audio import AudioLimits
from robot.speech.language_model import LM_FILE, SPEECH_DIR
from robot.speech.recognizers import (
    PocketsphinxRecognizer,
    Recognizer,
    Transcript,
    WhisperRecognizer,
    transcribe_utterance,
)
from robot.speech.tts import Voice, synthesize


@dataclass(frozen=True)
class VoiceOptions:
    voice: Voice = Voice()
    limits: AudioLimits = AudioLimits()
    whisper: str | None = None  # a Whisper model folder or cached hub id, instead of pocketsphinx
    general: bool = False  # pocketsphinx with its general English model instead of the adapted one
    speak: bool = True  # synthesise the reply


@dataclass(frozen=True)
class VoiceReply:
    transcript: Transcript
    reply: Reply
    audio: np.ndarray | None  # the reply spoken, 16 kHz float32 (None when speech is off)


def language_model_folder(folder: Path | None, data: IntentData | None = None) -> Path:
    """The adapted language model of an intent model: in its folder's speech/, or (for folders trained before
    voice existed, or brains built in memory) built once into the cache, keyed by the intents' content."""
    if folder is not None and (folder / SPEECH_DIR / LM_FILE).exists():
        return folder / SPEECH_DIR
    if data is None:
        data = parse_native_yaml(read_text(folder / "intents.yaml"), str(folder / "intents.yaml"))
    key = hashlib.sha256(to_native_yaml(data).encode()).hexdigest()[:16]
    cached = cache_home() / "speech" / key
    if not (cached / LM_FILE).exists():
        adapted_model(data).save(cached)
    return cached


def make_recognizer(options: VoiceOptions, folder: Path | None, data: IntentData | None = None) -> Recognizer:
    """The recogniser the options ask for; pocketsphinx's adapted language model is the one of the intent
    model in `folder` (or built from `data`)."""
    if options.whisper is not None:
        return WhisperRecognizer(options.whisper)
    return PocketsphinxRecognizer(None if options.general else language_model_folder(folder, data))


class VoiceRobot:
    def __init__(self, robot: Robot, options: VoiceOptions = VoiceOptions()) -> None:
        self.robot, self.options = robot, options
        self._lock = threading.Lock()  # one decoder, not thread-safe: utterances are decoded one at a time
        self._brain: Brain | None = None
        self._recognizer: Recognizer | None = None

    def recognizer(self) -> Recognizer:
        """The recogniser for the robot's current brain (rebuilt after a model swap)."""
        brain = self.robot.brain
        if self._recognizer is None or (self._brain is not brain and self.options.whisper is None):
            self._recognizer = make_recognizer(self.options, brain.folder, brain.data)
            self._brain = brain
        return self._recognizer

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """Whole-utterance decoding of checked 16 kHz audio (files, uploads, browser recordings)."""
        with self._lock:
            return transcribe_utterance(self.recognizer(), audio, self.options.limits)

    def answer(self, transcript: Transcript, session: Session) -> VoiceReply:
        reply = self.robot.respond(transcript.text, session)
        audio = synthesize(reply.text, self.options.voice) if self.options.speak else None
        return VoiceReply(transcript, reply, audio)

    def turn(self, audio: np.ndarray, session: Session) -> VoiceReply:
        return self.answer(self.transcribe(audio), session)
