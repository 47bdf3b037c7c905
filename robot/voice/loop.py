"""`robot voice`: listen on a microphone, answer on a speaker (sounddevice/PortAudio, robot/speech/devices.py).

Hands-free by default: the endpointer finds each utterance and the recogniser decodes it while the user
is still speaking, so the reply is ready soon after they stop. With push-to-talk, Enter starts and Enter
stops a recording. The microphone is ignored while the robot speaks, so it does not answer itself.
"""

from __future__ import annotations

import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from robot.brain import Session
from robot.errors import InputError
from robot.skills.timers import announcement, due
from robot.speech.audio import SAMPLE_RATE, AudioError, StreamResampler, from_array, to_float
from robot.speech.devices import sounddevice_module
from robot.speech.endpoint import EndpointOptions
from robot.voice.listen import Listener
from robot.voice.voice_robot import VoiceReply, VoiceRobot


@dataclass(frozen=True)
class LoopOptions:
    input_device: int | str | None = None  # sounddevice index or name; None is the system default
    output_device: int | str | None = None
    sample_rate: int = SAMPLE_RATE  # the capture rate; anything else is resampled to 16 kHz
    push_to_talk: bool = False
    endpoint: EndpointOptions = EndpointOptions()
    max_turns: int | None = None  # stop after this many replies (scripts, tests)
    max_seconds: float | None = None  # stop after listening this long, counted in samples


class ConversationLoop:
    """The microphone loop. `report` receives one line per event (heard text, reply) for the terminal."""

    def __init__(self, voice: VoiceRobot, options: LoopOptions = LoopOptions(),
                 report: Callable[[str], None] = print) -> None:
        self.voice, self.options, self.report = voice, options, report
        self.sd = sounddevice_module()
        self.session = Session()
        self.turns = 0
        self._blocks: queue.Queue[np.ndarray] = queue.Queue()
        self._listening = threading.Event()
        self._stopped = threading.Event()  # Ctrl-C was pressed
        self._listening.set()
        self._resample = StreamResampler(options.sample_rate)

    def _callback(self, data: np.ndarray, frames: int, when, status) -> None:
        if self._listening.is_set():
            self._blocks.put(data[:, 0].copy())

    def _open_input(self):
        sd = self.sd
        try:
            sd.check_input_settings(self.options.input_device, channels=1, dtype="int16",
                                    samplerate=self.options.sample_rate)
            return sd.InputStream(samplerate=self.options.sample_rate, channels=1, dtype="int16",
                                  device=self.options.input_device, callback=self._callback,
                                  blocksize=int(self.options.sample_rate * 0.03))
        except (ValueError, sd.PortAudioError) as error:
            raise InputError(f"cannot open input device {self.options.input_device or 'default'} at "
                             f"{self.options.sample_rate} Hz mono ({error}); see `robot voice --list-devices`, "
                             "or try --sample-rate 48000") from None

    def _next_block(self, samples_read: int) -> np.ndarray | None:
        """The next captured block at 16 kHz, or None once `max_seconds` of input were consumed."""
        if self.options.max_seconds is not None and samples_read >= self.options.max_seconds * self.options.sample_rate:
            return None
        try:
            block = to_float(self._blocks.get(timeout=5))
        except queue.Empty:
            raise InputError(f"no audio from input device {self.options.input_device or 'default'} for 5 s") from None
        return self._resample(block)

    def run(self) -> int:
        """Listen and answer until Ctrl-C (or the turn/time limits). Returns the number of replies."""
        stream = self._open_input()
        previous = self._catch_ctrl_c()
        try:  # from the first line on, Ctrl-C is a clean stop
            with stream:
                self.report(f"Listening ({'Enter to talk' if self.options.push_to_talk else 'just speak'}; "
                            "Ctrl-C stops).")
                if self.options.push_to_talk:
                    self._push_to_talk()
                else:
                    self._hands_free()
        except KeyboardInterrupt:
            self._stopped.set()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if self._stopped.is_set():
            self.report("Stopped.")
        return self.turns

    def _catch_ctrl_c(self):
        """Ctrl-C also sets a flag the loop checks at every block: Python drops a KeyboardInterrupt raised while
        a finalizer runs (seen: the regex module's `__del__` during a reply), and the loop must stop anyway.
        Returns the handler to restore (None off the main thread, where signals cannot be caught, and where
        whoever started the robot chose to ignore Ctrl-C)."""
        if threading.current_thread() is not threading.main_thread() \
                or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            return None

        def on_ctrl_c(signum, frame):
            self._stopped.set()
            raise KeyboardInterrupt

        return signal.signal(signal.SIGINT, on_ctrl_c)

    def _done(self) -> bool:
        return self._stopped.is_set() or (self.options.max_turns is not None and self.turns >= self.options.max_turns)

    def _hands_free(self) -> None:
        listener = Listener(self.voice, self.options.endpoint)
        read = 0
        while not self._done():
            block = self._next_block(read)
            if block is None:
                return
            read += block.size * self.options.sample_rate // SAMPLE_RATE
            self._ring_timers()
            for heard in listener.feed(block):
                self._answer(self.voice.answer(heard.transcript, self.session))
                listener.reset()

    def _push_to_talk(self) -> None:
        while not self._done():
            self._listening.clear()
            if sys.stdin.readline() == "":
                return  # end of input
            self._drain()
            self._listening.set()
            self.report("Recording… Enter to stop.")
            if sys.stdin.readline() == "":
                return
            self._listening.clear()
            blocks = self._drain()
            try:
                audio = from_array(self.options.sample_rate, np.concatenate(blocks) if blocks else np.empty(0))
                self._answer(self.voice.turn(audio, self.session))
            except AudioError as error:
                self.report(f"(nothing to send: {error})")

    def _drain(self) -> list[np.ndarray]:
        blocks = []
        while not self._blocks.empty():
            blocks.append(self._blocks.get_nowait())
        return blocks

    def _ring_timers(self) -> None:
        """Timers of this conversation that have run out are said (and spoken), between utterances."""
        for timer in due(self.session.timers):
            said = announcement(timer, self.voice.robot.brain.language)
            self.report(f"{self.voice.robot.persona.name.lower()}> {said}")
            self._speak(self.voice.speech(said))

    def _answer(self, result: VoiceReply) -> None:
        self.turns += 1
        self.report(f"you> {result.transcript.text or '(nothing recognised)'}")
        self._speak(result.speech)  # as the reply is written: its text is whole once it has been said
        self.report(f"{self.voice.robot.persona.name.lower()}> {result.reply.text}")

    def _speak(self, speech: Iterator[np.ndarray] | None) -> None:
        """Play speech with the microphone closed (the robot must not hear itself)."""
        if speech is not None:
            self._listening.clear()  # do not hear ourselves
            remaining = 0.0
            try:
                remaining = self._play(speech)
            except (ValueError, self.sd.PortAudioError) as error:
                raise InputError(f"cannot play on output device {self.options.output_device or 'default'} "
                                 f"({error}); see `robot voice --list-devices`") from None
            finally:
                time.sleep(max(0.0, min(remaining, 0.2)))  # let the speaker's last samples die out
                self._drain()
                self._listening.set()

    def _play(self, speech: Iterator[np.ndarray]) -> float:
        """Sentence after sentence, each made while the one before plays; returns the seconds of the last one
        that may still be sounding when the device says it is done."""
        started, seconds = time.perf_counter(), 0.0
        try:
            for sentence in speech:
                if seconds:
                    self.sd.wait()
                self.sd.play(sentence, samplerate=SAMPLE_RATE, device=self.options.output_device)
                started, seconds = time.perf_counter(), sentence.size / SAMPLE_RATE
            if seconds:
                self.sd.wait()
        except BaseException:
            self.sd.stop()  # Ctrl-C while it speaks: silence at once, no output stream left open behind
            raise
        return seconds - (time.perf_counter() - started)
