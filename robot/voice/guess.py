"""Decoding at pauses, for recognisers that read a whole utterance at once (Whisper): a transcript of the speech
so far is started in the background when the speaker pauses and kept while no voice comes back, so that when
the end of speech is known (the endpointer's window later, or a click on Stop) the transcript is ready or
nearly so. Voice after the pause makes the guess stale: it is cancelled if it has not started yet."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future, wait

import numpy as np

from robot.speech.recognizers import Transcript


class PauseGuess:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._current: Future | None = None  # the guess at the latest pause, while no voice came after it
        self._last: Future | None = None  # the latest guess started, current or stale

    def pause(self, decode: Callable[[np.ndarray], Transcript], audio: np.ndarray) -> None:
        self.resume()
        self._current = self._last = self._executor.submit(decode, audio)

    def resume(self) -> None:
        """Voice again: the guess no longer covers the utterance."""
        if self._current is not None:
            self._current.cancel()
        self._current = None

    def take(self, fallback: Callable[[], Transcript]) -> tuple[Transcript, bool]:
        """The current guess (True), else `fallback()` (False) once a stale guess still holding the cores is
        done. Errors of the decoding (audio too short, silent) come out here either way."""
        current, self._current = self._current, None
        if current is not None:
            return current.result(), True
        if self._last is not None:
            wait([self._last])
        return fallback(), False
