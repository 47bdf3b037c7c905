"""Hands-free listening: blocks of a live 16 kHz stream in, a transcript out at the end of each utterance.

The recogniser decodes while the user is still speaking, so that at the end of speech little is left: a
streaming one (pocketsphinx) is fed the endpointer's events as they come; one that reads whole utterances
(Whisper) starts on the utterance so far at each pause, in the background, and that guess is the transcript
when the endpointer then declares the end there (no voice came back). Used by the microphone loop and the
benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from robot.speech.endpoint import Endpointer, EndpointOptions
from robot.speech.recognizers import Recognizer, Transcript
from robot.voice.guess import PauseGuess
from robot.voice.voice_robot import VoiceRobot


@dataclass(frozen=True)
class Heard:
    transcript: Transcript
    end_detected: float  # time.perf_counter() when the endpointer declared the end of speech
    stream_position: int  # samples of the stream consumed at that moment
    early: bool = False  # the transcript was started at the pause that became the end, before it was declared


class Listener:
    def __init__(self, voice: VoiceRobot, options: EndpointOptions = EndpointOptions()) -> None:
        self.voice, self.options = voice, options
        self.endpointer = Endpointer(options)
        self._recognizer: Recognizer | None = None
        self._consumed = 0
        self._guess = PauseGuess(ThreadPoolExecutor(1, thread_name_prefix="guess"))

    def feed(self, block: np.ndarray) -> Iterator[Heard]:
        for event in self.endpointer.feed(block):
            if event.kind == "start":
                self._recognizer = self.voice.recognizer()  # follows a model swapped meanwhile
                self._recognizer.start()
                self._guess.resume()
            if self._recognizer is None:
                continue
            if event.kind in ("pause", "resume"):
                if event.kind == "pause" and not self._recognizer.streaming:
                    self._guess.pause(self._recognizer.transcribe, event.audio)
                else:
                    self._guess.resume()
                continue
            self._recognizer.feed(event.audio)
            if event.kind == "end":
                ended, recognizer, self._recognizer = time.perf_counter(), self._recognizer, None
                transcript, early = self._guess.take(recognizer.finish)
                yield Heard(transcript, ended, self._consumed + block.size, early)
        self._consumed += block.size

    def reset(self) -> None:
        """Drop what was heard (while the robot speaks, its own voice must not count)."""
        self.endpointer.reset()
        self._recognizer = None
        self._guess.resume()
