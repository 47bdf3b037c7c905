"""Speech-to-text behind one small interface: `transcribe(audio) -> Transcript` on 16 kHz float32 audio,
plus, for recognisers that can, incremental decoding so that the text is ready soon after speech ends.

- `PocketsphinxRecognizer`: light, the acoustic model shipped in the pocketsphinx wheel, and a language model
  adapted to the robot's intents (`language_model.py`) or pocketsphinx's general one.
- `WhisperRecognizer` (`whisper.py`, the default where its weights are installed): Whisper through
  faster-whisper, primed with the intents' examples.
- `MoonshineRecognizer` (`moonshine.py`, English, opt-in): Moonshine base, whose cost follows the audio's length;
  Whisper decides what it is unsure of.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from robot.errors import InputError
from robot.speech.audio import SAMPLE_RATE, AudioLimits, check, to_int16
from robot.speech.endpoint import trim_silence
from robot.speech.language_model import ACOUSTIC_MODEL, DICT_FILE, DICTIONARY, GENERAL_LM, LM_FILE

BACKENDS = ("whisper", "pocketsphinx", "moonshine")  # the recognisers, by the name users pick them with


@dataclass(frozen=True)
class Transcript:
    text: str
    seconds: float  # decoding time
    audio_seconds: float
    backend: str

    @property
    def real_time_factor(self) -> float:
        return self.seconds / max(self.audio_seconds, 1e-9)

    def to_dict(self) -> dict:
        return {"text": self.text, "audio_seconds": round(self.audio_seconds, 3),
                "decode_seconds": round(self.seconds, 3), "real_time_factor": round(self.real_time_factor, 4),
                "backend": self.backend}


class Recognizer(Protocol):
    """`start`, `feed`* and `finish` decode an utterance as it arrives; `transcribe` a whole one."""

    name: str
    streaming: bool  # whether `feed` decodes as audio comes (else the work is all in `finish`)

    def start(self) -> None: ...

    def feed(self, audio: np.ndarray) -> None: ...

    def finish(self) -> Transcript: ...

    def transcribe(self, audio: np.ndarray) -> Transcript: ...


@dataclass(frozen=True)
class PocketsphinxOptions:
    language_weight: float = 6.5  # first pass; the second pass and lattice get +2 and +3 (pocketsphinx's defaults)
    extra: tuple[tuple[str, object], ...] = ()  # any other pocketsphinx setting, e.g. (("fwdflat", False),)
    noise_floor: float = 0.003  # -50 dBFS of white noise, see `feed`


class PocketsphinxRecognizer:
    """Decodes with the adapted model in `folder` (lm.arpa + words.dict), or the general model if None."""

    name = "pocketsphinx"
    streaming = True

    def __init__(self, folder: Path | None = None, options: PocketsphinxOptions = PocketsphinxOptions()) -> None:
        import pocketsphinx

        if folder is not None and not (folder / LM_FILE).exists():
            raise InputError(f"{folder}: no speech language model ({LM_FILE}); retrain the intents to build it")
        lm, words = (folder / LM_FILE, folder / DICT_FILE) if folder is not None else (GENERAL_LM, DICTIONARY)
        self.decoder = pocketsphinx.Decoder(hmm=str(ACOUSTIC_MODEL), lm=str(lm), dict=str(words),
                                            samprate=SAMPLE_RATE, lw=options.language_weight,
                                            fwdflatlw=options.language_weight + 2,
                                            bestpathlw=options.language_weight + 3,
                                            loglevel="FATAL", **dict(options.extra))
        self.options = options
        self._initial_cmn = self.decoder.get_cmn()
        self._noise = np.random.default_rng(0)
        self._samples = 0
        self._decode_seconds = 0.0

    def start(self) -> None:
        """Begin an utterance that will be fed in pieces while the user speaks."""
        self.decoder.start_utt()
        self._samples, self._decode_seconds = 0, 0.0

    def _pcm(self, audio: np.ndarray) -> bytes:
        """int16 bytes with a faint noise floor mixed in: stretches of digital silence (synthetic speech, gated
        microphones, padded uploads) give degenerate log-energy features that throw the acoustic model off
        (WER 46% -> 30% on espeak-ng speech); a real microphone's own noise is louder than this floor."""
        noise = self._noise.standard_normal(audio.size).astype(np.float32) * self.options.noise_floor
        return to_int16(audio + noise).tobytes()

    def feed(self, audio: np.ndarray) -> None:
        """Decode more of the utterance."""
        began = time.perf_counter()
        self.decoder.process_raw(self._pcm(audio), False, False)
        self._samples += audio.size
        self._decode_seconds += time.perf_counter() - began

    def finish(self) -> Transcript:
        began = time.perf_counter()
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        words = [] if hypothesis is None else hypothesis.hypstr.split()
        text = " ".join(w.split("(", 1)[0] for w in words if not w.startswith(("<", "[")))
        seconds = self._decode_seconds + time.perf_counter() - began
        return Transcript(text, seconds, self._samples / SAMPLE_RATE, self.name)

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """A whole utterance in two passes: the first (no search, cheap) sets the cepstral mean from this very
        audio, so the first words are not misheard while live normalisation would still be adapting. It starts
        from the initial mean, not the last utterance's: the result depends on this audio only (and is better:
        23.6% vs 28.1% WER on the development requests)."""
        began = time.perf_counter()
        self.decoder.set_cmn(self._initial_cmn)
        self._noise = np.random.default_rng(0)
        self.decoder.start_utt()
        self.decoder.process_raw(to_int16(audio).tobytes(), True, False)
        self.decoder.end_utt()
        self.start()
        self.feed(audio)
        return replace(self.finish(), seconds=time.perf_counter() - began)


def transcribe_utterance(recognizer: Recognizer, audio: np.ndarray, limits: AudioLimits = AudioLimits()) -> Transcript:
    """Check a recorded utterance and decode it without the silence around it (as the microphone loop's
    endpointer would have passed it on): long silences are where recognisers hallucinate words."""
    check(audio, limits)
    return recognizer.transcribe(trim_silence(audio))
