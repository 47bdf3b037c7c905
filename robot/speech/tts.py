"""Text-to-speech: the neural voice `hibari` for English by default, `joe` on request (`neural_voice.py`), espeak-ng
(the Debian package: small, offline, instant on a CPU, many languages) for every other voice and as the fallback
when a neural voice's wheel is not installed. Every voice reads the text prepared for speech (`spoken_text.py`).

Audio stays in memory (espeak-ng's WAV comes back through a pipe); nothing is written to disk.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from robot.errors import InputError
from robot.language import ENGLISH, base_language
from robot.speech.audio import SAMPLE_RATE, load, resample, wav_bytes
from robot.speech.neural_voice import NEURAL_VOICES, neural_voice
from robot.speech.spoken_text import for_speech
from robot.wheels import WheelMissing

MAX_CHARS = 2000
DEFAULT_VOICE = "hibari"
FALLBACK_VOICE = "en-us"  # espeak-ng, when the neural voice is not installed
ESPEAK_VOICES = {"zh": "cmn-latn-pinyin"}  # where the language code is not the voice: espeak-ng 1.51 "cmn"
# reads its own pinyin of Chinese characters as English letters and digits; this one reads them as Mandarin


class SpeechSynthesisError(InputError):
    """espeak-ng is missing or refused the text or voice."""


@dataclass(frozen=True)
class Voice:
    name: str = DEFAULT_VOICE  # a neural voice, or any `espeak-ng --voices` name with an optional variant: "en-us+f3"
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
    if not 80 <= voice.words_per_minute <= 450:
        raise SpeechSynthesisError(f"rate {voice.words_per_minute} words per minute is outside 80-450")
    if voice.name in NEURAL_VOICES:
        return
    name, _, variant = voice.name.casefold().partition("+")
    voices, variants = available_voices()
    if name not in voices or (variant and variant not in variants):
        raise SpeechSynthesisError(f"unknown voice {voice.name!r}: {', '.join(NEURAL_VOICES)} (neural) or an "
                                   "espeak-ng voice: see `espeak-ng --voices` (and `espeak-ng --voices=variant` for "
                                   "what may follow a '+')")


@functools.cache
def _neural_missing(name: str) -> str | None:
    """Why a neural voice cannot be used (its wheel is missing), said once on stderr; None when it can."""
    try:
        neural_voice(name)
    except WheelMissing as missing:
        print(f"warning: the neural voice {name!r} is not installed ({missing}); speaking with espeak-ng's "
              f"{FALLBACK_VOICE!r}", file=sys.stderr)
        return str(missing)
    return None


def speaking_voice(voice: Voice) -> Voice:
    """The voice that will really speak: a neural one whose wheel is missing falls back to espeak-ng."""
    if voice.name in NEURAL_VOICES and _neural_missing(voice.name):
        return replace(voice, name=FALLBACK_VOICE)
    return voice


def voice_for(language: str, voice: Voice = Voice()) -> Voice:
    """The voice for replies in `language`: `voice` when it can speak it (the neural voices are English; an
    espeak-ng voice was chosen by name), else espeak-ng's voice for the language at the same rate."""
    language = base_language(language)
    if language == ENGLISH or voice.name not in NEURAL_VOICES:
        return voice
    return replace(voice, name=ESPEAK_VOICES.get(language, language))


def synthesize_stream(text: str, voice: Voice = Voice(), language: str = ENGLISH) -> Iterator[np.ndarray]:
    """The spoken text (in `language`, prepared for speech) as 16 kHz mono float32, a sentence at a time with a
    neural voice (the first can play while the rest is made), in one piece with espeak-ng."""
    text = for_speech(" ".join(text.split())[:MAX_CHARS], language)
    if not text:
        raise SpeechSynthesisError("nothing to say: the text is empty")
    check_voice(voice)
    voice = speaking_voice(voice)
    if voice.name not in NEURAL_VOICES:
        yield load(_espeak_wav(text, voice), limits=None)
        return
    model = neural_voice(voice.name)
    gain = voice.amplitude / 100
    for audio in model.speak(text, length_scale=NEURAL_VOICES[voice.name].words_per_minute / voice.words_per_minute):
        yield np.clip(resample(audio * gain, model.sample_rate), -1.0, 1.0)


def synthesize(text: str, voice: Voice = Voice(), language: str = ENGLISH) -> np.ndarray:
    """The spoken text as 16 kHz mono float32, ready for the recogniser or a 16 kHz output stream."""
    return np.concatenate(list(synthesize_stream(text, voice, language)))


def synthesize_wav(text: str, voice: Voice = Voice(), language: str = ENGLISH) -> bytes:
    """The spoken text as WAV bytes (16 kHz mono)."""
    return wav_bytes(synthesize(text, voice, language), SAMPLE_RATE)


def _espeak_wav(text: str, voice: Voice) -> bytes:
    """espeak-ng's 22.05 kHz mono WAV of checked, non-empty text."""
    command = [espeak_path(), "-v", voice.name, "-s", str(voice.words_per_minute), "-a", str(voice.amplitude),
               "--stdout", "--", text]
    result = subprocess.run(command, capture_output=True, timeout=60)
    if result.returncode != 0 or len(result.stdout) <= 44:
        message = result.stderr.decode(errors="replace").strip() or "no audio produced"
        raise SpeechSynthesisError(f"espeak-ng failed for voice {voice.name!r}: {message}")
    return _fix_stream_header(result.stdout)


def _fix_stream_header(wav: bytes) -> bytes:
    """espeak-ng writing to a pipe cannot seek back, so its RIFF and data sizes say 'unknown' (0x7fffffff);
    patch them so that every WAV reader (browsers included) sees the real length."""
    if wav[:4] != b"RIFF" or wav[36:40] != b"data":
        return wav
    size = len(wav) - 44
    return wav[:4] + (size + 36).to_bytes(4, "little") + wav[8:40] + size.to_bytes(4, "little") + wav[44:]

