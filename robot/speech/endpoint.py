"""Endpointing: find where an utterance starts and ends in a live 16 kHz stream.

We use pocketsphinx's Endpointer: it ships in the wheel we already depend on (no extra native package,
unlike webrtcvad; no second neural network to run per frame, unlike silero-vad), it is the WebRTC VAD
underneath (robust on noisy microphones, ~1 µs per 30 ms frame), and it adds hysteresis over a window
so that a short pause inside a sentence does not end it. Its output lags its input by that window, and
it starts the speech a few frames before the first voiced one; we add a pre-roll of earlier frames on top
so that soft first consonants ("f" in "five", "h" in "hello") are never cut.

Because of that lag, the end of an utterance is known a window after the speaker stopped. Recognisers that
read a whole utterance at once (Whisper) can start during that window: each frame is also judged on its own
(the same WebRTC VAD in its strictest mode, whose own hang-over is shortest; no window), and a short run of
unvoiced frames inside speech is reported as a "pause" with the utterance so far, undelayed; voice again
after it is a "resume".
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from robot.speech.audio import SAMPLE_RATE, to_float, to_int16


@dataclass(frozen=True)
class EndpointOptions:
    window: float = 0.3  # seconds of hysteresis: how much silence ends an utterance
    ratio: float = 0.9  # share of the window that must agree to switch state
    aggressiveness: int = 0  # 0 (keeps most speech) .. 3 (drops most noise)
    pre_roll: float = 0.2  # seconds kept before the detected start
    max_seconds: float = 30.0  # an utterance is cut here even if the speaker goes on
    pause: float = 0.09  # seconds of unvoiced frames inside speech that make a "pause" event


@dataclass(frozen=True)
class SpeechEvent:
    kind: str  # "start" (pre-roll + first speech), "speech" (more of it), "end" (the last piece); and, undelayed,
    # "pause" (the utterance so far: a guess that it ended) and "resume" (voice again after a pause)
    audio: np.ndarray


class Endpointer:
    """Feed blocks of any length; get start/speech/end events with the utterance's audio in order."""

    def __init__(self, options: EndpointOptions = EndpointOptions()) -> None:
        import pocketsphinx

        self.options = options
        self.vad = pocketsphinx.Endpointer(window=options.window, ratio=options.ratio,
                                           vad_mode=options.aggressiveness, sample_rate=SAMPLE_RATE)
        self.frame = self.vad.frame_bytes // 2
        self.frame_vad = pocketsphinx.Vad(pocketsphinx.Vad.STRICT, SAMPLE_RATE)  # its own hang-over is the shortest
        self._pause_frames = max(1, round(options.pause * SAMPLE_RATE / self.frame))
        self._raw: list[np.ndarray] = []  # the utterance as it arrives, undelayed (from its start with pre-roll)
        self._quiet = self._voiced = 0  # the current run of unvoiced / voiced frames, judged one by one
        self._paused = False
        self._pending = np.empty(0, dtype=np.float32)
        self._clock = 0  # input samples consumed
        history = int((options.window + options.pre_roll) * SAMPLE_RATE / self.frame) + 2
        self._recent: collections.deque[tuple[int, np.ndarray]] = collections.deque(maxlen=history)
        self._utterance_samples = 0

    @property
    def in_speech(self) -> bool:
        return bool(self.vad.in_speech)

    def feed(self, audio: np.ndarray) -> Iterator[SpeechEvent]:
        self._pending = np.concatenate([self._pending, audio.astype(np.float32, copy=False)])
        while self._pending.size >= self.frame:
            frame, self._pending = self._pending[:self.frame], self._pending[self.frame:]
            yield from self._frame(frame)

    def _frame(self, frame: np.ndarray) -> Iterator[SpeechEvent]:
        was_speaking = self.in_speech
        self._recent.append((self._clock, frame))
        self._clock += frame.size
        pcm = to_int16(frame).tobytes()
        out = self.vad.process(pcm)
        speech = None if out is None else to_float(np.frombuffer(out, dtype=np.int16))
        if was_speaking:
            self._raw.append(frame)
            yield from self._pause_or_resume(self.frame_vad.is_speech(pcm))
        if not was_speaking and self.in_speech:
            start = int(self.vad.speech_start * SAMPLE_RATE) - int(self.options.pre_roll * SAMPLE_RATE)
            end = int(self.vad.speech_start * SAMPLE_RATE)
            pre = [f for t, f in self._recent if start <= t < end]
            audio = np.concatenate([*pre, speech]) if speech is not None else np.concatenate(pre or [frame])
            self._utterance_samples = audio.size
            self._raw = [f for t, f in self._recent if t >= start]
            self._quiet = self._voiced = 0
            self._paused = False
            yield SpeechEvent("start", audio)
        elif was_speaking and not self.in_speech:
            self._raw = []
            yield SpeechEvent("end", speech if speech is not None else np.empty(0, np.float32))
        elif speech is not None and self.in_speech:
            self._utterance_samples += speech.size
            if self._utterance_samples >= self.options.max_seconds * SAMPLE_RATE:
                yield SpeechEvent("end", speech)
                self.reset()
            else:
                yield SpeechEvent("speech", speech)

    def _pause_or_resume(self, voiced: bool) -> Iterator[SpeechEvent]:
        self._quiet, self._voiced = (0, self._voiced + 1) if voiced else (self._quiet + 1, 0)
        if not self._paused and self._quiet == self._pause_frames:
            self._paused = True
            yield SpeechEvent("pause", np.concatenate(self._raw))
        elif self._paused and self._voiced == 2:  # two voiced frames in a row: a click is not a resumption
            self._paused = False
            yield SpeechEvent("resume", np.empty(0, np.float32))

    def reset(self) -> None:
        """Forget the stream (after a cut or when the loop stops listening while the robot speaks)."""
        self.__init__(self.options)


def trim_silence(audio: np.ndarray, options: EndpointOptions = EndpointOptions()) -> np.ndarray:
    """The audio from the first detected speech (with pre-roll) to the end of the last, as a live microphone
    would have passed it on; unchanged when no speech is detected (a whisper still deserves a try)."""
    endpointer = Endpointer(options)
    first = last = None
    blocks = np.array_split(audio, max(1, audio.size // endpointer.frame))
    for block in [*blocks, np.zeros(int((options.window + 0.1) * SAMPLE_RATE), np.float32)]:
        for event in endpointer.feed(block):
            if event.kind == "start" and first is None:
                first = max(0, int((endpointer.vad.speech_start - options.pre_roll) * SAMPLE_RATE))
            if event.kind == "end":
                last = int(endpointer.vad.speech_end * SAMPLE_RATE)
    if first is None:
        return audio
    if endpointer.in_speech:  # the last utterance runs to the end of the recording
        last = None
    return audio[first:last]
