"""Audio in any common form -> 16 kHz mono float32, checked; and float -> int16 for the recogniser.

Files are read with libsndfile (WAV, FLAC, OGG/Vorbis/Opus, MP3 and more), arrays come from browsers and
sound cards at their own rates. Resampling uses a polyphase Kaiser-windowed FIR (scipy's resample_poly):
a naive decimation would fold 8-24 kHz energy of a 48 kHz recording down into the speech band.
"""

from __future__ import annotations

import io
import math
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile

from robot.errors import InputError
from robot.userfiles import read_limited

SAMPLE_RATE = 16000
RATES = (4000, 384000)  # sample rates accepted; a header claiming 1 Hz or 2 GHz is refused before any work


class AudioError(InputError):
    """Audio we cannot use: unreadable, empty, silent, too short or too long."""


@dataclass(frozen=True)
class AudioLimits:
    min_seconds: float = 0.2
    max_seconds: float = 30.0
    silence_dbfs: float = -55.0  # a peak below this is treated as silence

    @property
    def max_file_bytes(self) -> int:
        """The largest file a recording within these limits needs: 32-bit float stereo at 48 kHz (what
        browsers and phones record at most), plus room for the header."""
        return int(self.max_seconds * 48000 * 2 * 4) + 64 * 1024


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling of a 1-D float signal (anti-aliasing filter included)."""
    if rate == target:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly  # 0.6 s to import: only where audio is resampled

    ratio = Fraction(target, rate).limit_denominator(1000)
    return resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


class StreamResampler:
    """`resample` for a live stream in blocks, continuous across them: each block is resampled together with
    a margin of its neighbours (overlap-save), so the output equals resampling the whole stream at once,
    without the clicks that resampling each block on its own leaves at block edges. Lags by the margin and
    at most one resampling period (under 25 ms at 44.1 kHz)."""

    def __init__(self, rate: int, target: int = SAMPLE_RATE) -> None:
        ratio = Fraction(target, rate).limit_denominator(1000)
        self.up, self.down = ratio.numerator, ratio.denominator
        half_filter = 10 * max(self.up, self.down) / self.up + 1  # resample_poly's filter, in input samples
        self.margin = self.down * math.ceil(half_filter / self.down)
        self._buffer = np.zeros(self.margin, np.float32)

    def __call__(self, block: np.ndarray) -> np.ndarray:
        if self.up == self.down:
            return block.astype(np.float32, copy=False)
        self._buffer = np.concatenate([self._buffer, block.astype(np.float32, copy=False)])
        end = (self._buffer.size - self.margin) // self.down * self.down  # a whole number of output samples
        if end <= self.margin:
            return np.empty(0, np.float32)
        from scipy.signal import resample_poly

        out = resample_poly(self._buffer[:end + self.margin], self.up, self.down)
        emitted = out[self.margin * self.up // self.down:end * self.up // self.down].astype(np.float32)
        self._buffer = self._buffer[end - self.margin:]
        return emitted


def to_float(samples: np.ndarray) -> np.ndarray:
    """Integer PCM -> float32 in [-1, 1]; float input is kept (clipped)."""
    samples = np.asarray(samples)
    if samples.dtype.kind in "iu":
        info = np.iinfo(samples.dtype)
        middle = (info.max + 1) / 2 if samples.dtype.kind == "u" else 0
        return ((samples.astype(np.float32) - middle) / (info.max + 1 - middle)).astype(np.float32)
    if samples.dtype.kind != "f":
        raise AudioError(f"unsupported sample type {samples.dtype}")
    return np.clip(np.nan_to_num(samples.astype(np.float32)), -1.0, 1.0)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float [-1, 1] -> int16 with rounding (truncation would add a DC bias and distortion)."""
    return np.round(np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def downmix(samples: np.ndarray) -> np.ndarray:
    """Samples shaped (n,) or (n, channels) (channels first too), any dtype -> mono float32 in [-1, 1]."""
    samples = np.asarray(samples)
    if samples.ndim == 2:
        channels_last = samples.shape[1] <= 8 or samples.shape[0] > samples.shape[1]
        return to_float(samples).mean(axis=1 if channels_last else 0)
    if samples.ndim != 1:
        raise AudioError(f"audio must be 1-D or (samples, channels), got shape {samples.shape}")
    return to_float(samples)


def from_array(rate: int, samples: np.ndarray, limits: AudioLimits | None = AudioLimits()) -> np.ndarray:
    """Samples shaped (n,) or (n, channels), any dtype and rate -> checked 16 kHz mono float32."""
    samples = downmix(samples)
    before_work(rate, samples.shape[0], limits)
    if samples.size == 0:
        raise AudioError("the audio is empty")
    audio = resample(samples, rate)
    if limits is not None:
        check(audio, limits)
    return audio


def before_work(rate: int, frames: int, limits: AudioLimits | None) -> None:
    """The rate and length a header (or an array) claims, checked before decoding and resampling: a small file
    claiming a rate of 1 Hz would otherwise be resampled into gigabytes."""
    if not RATES[0] <= rate <= RATES[1]:
        raise AudioError(f"unsupported sample rate {rate} Hz (from {RATES[0]:,} to {RATES[1]:,})")
    if limits is not None and frames / rate > limits.max_seconds:
        raise AudioError(f"the audio is too long ({frames / rate:.1f} s; at most {limits.max_seconds:g} s)")


def load(source: str | Path | bytes, limits: AudioLimits | None = AudioLimits()) -> np.ndarray:
    """A file (path or its bytes) -> checked 16 kHz mono float32. A path is read as bytes first, to at most
    `limits.max_file_bytes` (regular files only: robot/userfiles.py)."""
    name = "the audio" if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes):
        try:
            source = read_limited(source, (limits or AudioLimits()).max_file_bytes)
        except InputError as error:
            raise AudioError(f"{name}: {'no such file' if error.detail == 'file not found' else error.detail}") \
                from None
    if not source:
        raise AudioError(f"{name}: the file is empty")
    try:
        with decoder_notes_hidden():
            header = soundfile.info(io.BytesIO(source))
            before_work(header.samplerate, header.frames, limits)
            data, rate = soundfile.read(io.BytesIO(source), dtype="float32", always_2d=True)
    except AudioError as error:
        raise AudioError(f"{name}: {error}") from None
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        reason = getattr(error, "error_string", None) or error  # libsndfile's words, without the stream object
        if "does not exist" in str(reason):  # what it says of damaged MP3 data read from memory
            reason = "damaged, or a format libsndfile cannot read"
        raise AudioError(f"{name}: not a readable audio file ({reason})") from None
    try:
        return from_array(rate, data, limits)
    except AudioError as error:
        raise AudioError(f"{name}: {error}") from None


DECODER_NOTE = re.compile(r"^(?:Note|Warning|Error): |^\[src/libmpg123/")  # what mpg123 prints while decoding
_stderr_lock = threading.Lock()


@contextmanager
def decoder_notes_hidden() -> Iterator[None]:
    """libsndfile's MP3 decoder (mpg123) writes notes such as "Illegal Audio-MPEG-Header" straight to file
    descriptor 2, ahead of the robot's own message about a bad file. While a file is decoded, descriptor 2
    goes to a temporary file; afterwards anything else written there meanwhile (another thread's lines) is
    passed on to the real stderr, the decoder's notes are not."""
    with _stderr_lock, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not DECODER_NOTE.match(line)]
            if kept:
                sys.stderr.write("".join(kept))


def check(audio: np.ndarray, limits: AudioLimits = AudioLimits()) -> None:
    seconds = audio.size / SAMPLE_RATE
    if audio.size == 0:
        raise AudioError("the audio is empty")
    if seconds < limits.min_seconds:
        raise AudioError(f"the audio is too short ({seconds:.2f} s; at least {limits.min_seconds} s)")
    if seconds > limits.max_seconds:
        raise AudioError(f"the audio is too long ({seconds:.1f} s; at most {limits.max_seconds:g} s)")
    peak = float(np.max(np.abs(audio)))
    if peak == 0 or 20 * np.log10(peak) < limits.silence_dbfs:
        raise AudioError("the audio is silent: no speech to recognise")


def wav_bytes(audio: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM WAV in memory."""
    buffer = io.BytesIO()
    soundfile.write(buffer, to_int16(audio), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
