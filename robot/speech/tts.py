"""Text-to-speech with espeak-ng (the Debian package): small, offline, instant on a CPU.

The WAV comes back through a pipe and stays in memory; nothing is written to disk.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

from robot.errors import InputError
from robot.speech.audio import load

MAX_CHARS = 2000


class SpeechSynthesisError(InputError):
    """espeak-ng is missing or refused the text or voice."""


@dataclass(frozen=True)
class Voice:
    name: str = "en-us"  # any `espeak-ng --voices` name, with an optional variant: "en-us+f3"
    words_per_minute: int = 160
    amplitude: int = 100  # 0-200


def espeak_path() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise SpeechSynthesisError("espeak-ng is not installed: `sudo apt-get install espeak-ng` (Debian/Ubuntu) "
                                   "or `brew install espeak-ng` (macOS) gives the robot its voice")
    return path


@functools.cache
def available_voices() -> tuple[frozenset[str], frozenset[str]]:
    """(voices, variants) as `espeak-ng -v` accepts them: language codes, voice names and file names; and
    the variant names that may follow a '+'. espeak-ng itself falls back to its default voice in silence."""
    def table(option: str) -> list[list[str]]:
        out = subprocess.run([espeak_path(), option], capture_output=True, text=True, timeout=30).stdout
        return [line.split() for line in out.splitlines()[1:] if line.strip()]
    voices = {name.casefold() for row in table("--voices") for name in (row[1], row[3], row[4].split("/")[-1])}
    variants = {name.casefold() for row in table("--voices=variant") for name in (row[3], row[4].split("/")[-1])}
    return frozenset(voices), frozenset(variants)


def check_voice(voice: Voice) -> None:
    name, _, variant = voice.name.casefold().partition("+")
    voices, variants = available_voices()
    if name not in voices or (variant and variant not in variants):
        raise SpeechSynthesisError(f"unknown espeak-ng voice {voice.name!r}: see `espeak-ng --voices` "
                                   "(and `espeak-ng --voices=variant` for what may follow a '+')")
    if not 80 <= voice.words_per_minute <= 450:
        raise SpeechSynthesisError(f"rate {voice.words_per_minute} words per minute is outside 80-450")


def synthesize_wav(text: str, voice: Voice = Voice()) -> bytes:
    """The spoken text as WAV bytes (espeak-ng's 22.05 kHz mono)."""
    text = " ".join(text.split())[:MAX_CHARS]
    if not text:
        raise SpeechSynthesisError("nothing to say: the text is empty")
    check_voice(voice)
    command = [espeak_path(), "-v", voice.name, "-s", str(voice.words_per_minute), "-a", str(voice.amplitude),
               "--stdout", "--", text]
    result = subprocess.run(command, capture_output=True, timeout=60)
    if result.returncode != 0 or len(result.stdout) <= 44:
        message = result.stderr.decode(errors="replace").strip() or "no audio produced"
        raise SpeechSynthesisError(f"espeak-ng failed for voice {voice.name!r}: {message}")
    return _fix_stream_header(result.stdout)


def synthesize(text: str, voice: Voice = Voice()) -> np.ndarray:
    """The spoken text as 16 kHz mono float32, ready for the recogniser or a 16 kHz output stream."""
    return load(synthesize_wav(text, voice), limits=None)


def _fix_stream_header(wav: bytes) -> bytes:
    """espeak-ng writing to a pipe cannot seek back, so its RIFF and data sizes say 'unknown' (0x7fffffff);
    patch them so that every WAV reader (browsers included) sees the real length."""
    if wav[:4] != b"RIFF" or wav[36:40] != b"data":
        return wav
    size = len(wav) - 44
    return wav[:4] + (size + 36).to_bytes(4, "little") + wav[8:40] + size.to_bytes(4, "little") + wav[44:]

