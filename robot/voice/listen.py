"""Hands-free listening: blocks of a live 16 kHz stream in, a transcript out at the end of each utterance.

The recogniser decodes while the user is still speaking (fed by the endpointer's events), so at the end of
speech only the last frames and the final search remain. Used by the microphone loop and the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from robot.speech.endpoint import Endpointer, EndpointOptions
from robot.speech.recognizers import Recognizer, Transcript
from robot.voice.voice_robot import VoiceRobot


@dataclass(frozen=True)
class Heard:
    transcript: Transcript
    end_detected: float  # time.perf_counter() when the endpointer declared the end of speech
    stream_position: int  # samples of the stream consumed at that moment


class Listener:
    def __init__(self, voice: VoiceRobot, options: EndpointOptions = EndpointOptions()) -> None:
        self.voice, self.options = voice, options
        self.endpointer = Endpointer(options)
        self._recognizer: Recognizer | None = None
        self._consumed = 0

    def feed(self, block: np.ndarray) -> Iterator[Heard]:
        for event in self.endpointer.feed(block):
            if event.kind == "start":
                self._recognizer = self.voice.recognizer()  # follows a model swapped meanwhile
                self._recognizer.start()
            if self._recognizer is None:
                continue
            self._recognizer.feed(event.audio)
            if event.kind == "end":
                ended = time.perf_counter()
                transcript, self._recognizer = self._recognizer.finish(), None
                yield Heard(transcript, ended, self._consumed + block.size)
        self._consumed += block.size

    def reset(self) -> None:
        """Drop what was heard (while the robot speaks, its own voice must not count)."""
        self.endpointer.reset()
        self._recognizer = None
