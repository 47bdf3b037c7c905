"""A recording that arrives in pieces while the user speaks (the browser's microphone, a quarter of a second
at a time) and is answered when they click Stop.

Each piece is downmixed, resampled to 16 kHz as part of one continuous stream and run through the endpointer.
At every pause in the speech, the whole recording so far is transcribed in the background (`PauseGuess`),
exactly as Stop would have it transcribed: if no voice came after that pause, the transcript is ready, or
nearly, when Stop is clicked; otherwise the whole recording is transcribed then, as an upload would be.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor

import numpy as np

from robot.speech.audio import SAMPLE_RATE, AudioError, StreamResampler, before_work, downmix
from robot.speech.endpoint import Endpointer
from robot.speech.recognizers import Transcript
from robot.voice.guess import PauseGuess
from robot.voice.voice_robot import VoiceRobot


class StreamedRecording:
    def __init__(self, voice: VoiceRobot, executor: Executor) -> None:
        self.voice = voice
        self.endpointer = Endpointer()
        self._guess = PauseGuess(executor)
        self._resampler: StreamResampler | None = None
        self._rate = 0
        self._pieces: list[np.ndarray] = []
        self._samples = 0
        self.cut = False  # the recording ran past the voice limit; what came after it is dropped
        self._lock = threading.Lock()  # pieces and Stop may come in on different server threads

    def add(self, rate: int, samples: np.ndarray) -> None:
        """A piece as the browser sends it: int16 or float, (n,) or (n, channels), at the recording's rate."""
        with self._lock:
            if self._resampler is None:
                before_work(rate, 0, None)
                self._resampler, self._rate = StreamResampler(rate), rate
            elif rate != self._rate:
                raise AudioError(f"the recording changed its sample rate ({self._rate} -> {rate} Hz)")
            audio = self._resampler(downmix(samples))
            room = int(self.voice.options.limits.max_seconds * SAMPLE_RATE) - self._samples
            if audio.size > room:
                audio, self.cut = audio[:max(room, 0)], True
            self._pieces.append(audio)
            self._samples += audio.size
            self._listen(audio)

    def _listen(self, audio: np.ndarray, guess: bool = True) -> None:
        for event in self.endpointer.feed(audio):
            if event.kind == "pause" and guess:
                self._guess.pause(self.voice.transcribe, self._audio())
            elif event.kind in ("start", "resume"):  # voice after the pause: the guess misses it
                self._guess.resume()

    def _audio(self) -> np.ndarray:
        if len(self._pieces) > 1:
            self._pieces = [np.concatenate(self._pieces)]
        return self._pieces[0] if self._pieces else np.empty(0, np.float32)

    def finish(self) -> tuple[Transcript, bool]:
        """The transcript of the whole recording, and whether it was made while the user spoke. A window of
        silence is run through the endpointer first, so that voice it had not yet reported (the endpointer
        lags) still counts as coming after the pause; the pause that silence makes is no guess."""
        with self._lock:
            self._listen(np.zeros(int((self.endpointer.options.window + 0.1) * SAMPLE_RATE), np.float32), False)
            audio = self._audio()
        return self._guess.take(lambda: self.voice.transcribe(audio))
