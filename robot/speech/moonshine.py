"""Moonshine base (English) speech-to-text: the ONNX Runtime (`.ort`) files of the `moonshine-cpp` wheel, run
with onnxruntime (the wheel's own C library needs AVX-512), decoded greedily here, its tokens read with the
tokenizer of the `useful-moonshine-onnx` wheel (both MIT; both installed with `--no-deps`).

Moonshine's cost follows the audio's length, where Whisper always reads a 30 s window. It mishears speech cut
tight at both ends; a quarter of a second of silence around it helps (`padding`; 64 held-out requests trimmed to
their loud part: WER 15.7% -> 12.4%, benchmarks/RESULTS.md), and when it still gives nothing, or is unsure (the
mean probability of its tokens under `min_confidence`), Whisper decides (`fallback`).
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robot.speech.audio import SAMPLE_RATE
from robot.speech.recognizers import Recognizer, Transcript
from robot.threads import cpu_threads
from robot.wheels import WheelFile, WheelMissing, install_command

ENCODER = WheelFile("moonshine-cpp", "0.1.4", "moonshine_cpp", "models/base-en/encoder_model.ort",
                    "9d1a19e044cbf89a207723d1adb667de89a5671a1e3e611b8ebe721b2c31219c", "MIT")
DECODER = WheelFile("moonshine-cpp", "0.1.4", "moonshine_cpp", "models/base-en/decoder_model_merged.ort",
                    "370e0c1f161d68dc1c2264c1a82024fb123380da3b73f47f05531d1e8d3308c3", "MIT")
TOKENIZER = WheelFile("useful-moonshine-onnx", "20251121", "moonshine_onnx", "assets/tokenizer.json",
                      "b68b995a58b3373db6c4f46864a9db50cd1333d086150ffa2c1096581ede9c10", "MIT")
INSTALL = install_command([ENCODER, DECODER, TOKENIZER])
START, END = 1, 2  # the decoder's start and end tokens
TOKENS_PER_SECOND = 8  # at most, with some room: a loop that never ends is cut


@dataclass(frozen=True)
class MoonshineOptions:
    padding: float = 0.25  # seconds of silence before and after the audio
    min_confidence: float = 0.5  # mean token probability under which Whisper decides (with a fallback)
    threads: int = 0  # onnxruntime's threads; 0: as many as torch uses (`robot.threads`)


def installed() -> bool:
    try:
        for part in (ENCODER, DECODER, TOKENIZER):
            part.path()
    except WheelMissing:
        return False
    return True


class MoonshineModel:
    """The two sessions and the tokenizer, loaded once per process and thread setting."""

    def __init__(self, threads: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.log_severity_level = 3
        self.encoder = onnxruntime.InferenceSession(str(ENCODER.checked_path()), options,
                                                    providers=["CPUExecutionProvider"])
        self.decoder = onnxruntime.InferenceSession(str(DECODER.checked_path()), options,
                                                    providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER.checked_path()))
        self.cache_names = [i.name for i in self.decoder.get_inputs() if i.name.startswith("past_key_values.")]
        self.cache_shape = next(i.shape for i in self.decoder.get_inputs() if i.name == self.cache_names[0])
        self.lock = threading.Lock()  # one decoding at a time per session

    def decode(self, audio: np.ndarray) -> tuple[str, float]:
        """(text, mean probability of its tokens) of 16 kHz float32 audio, greedily."""
        with self.lock:
            hidden = self.encoder.run(None, {"input_values": audio[None, :].astype(np.float32)})[0]
            heads, size = self.cache_shape[1], self.cache_shape[3]
            cache = {name: np.zeros((1, heads, 0, size), np.float32) for name in self.cache_names}
            tokens, log_probability = [START], 0.0
            limit = int(audio.size / SAMPLE_RATE * TOKENS_PER_SECOND) + 8
            for step in range(limit):
                logits, *present = self.decoder.run(None, {
                    "input_ids": np.array([tokens[-1:]], np.int64), "encoder_hidden_states": hidden,
                    "use_cache_branch": np.array([step > 0]), **cache})
                scores = logits[0, -1].astype(np.float64)
                token = int(scores.argmax())
                log_probability += scores[token] - (scores.max() + math.log(np.exp(scores - scores.max()).sum()))
                if token == END:
                    break
                tokens.append(token)
                for name, value in zip(self.cache_names, present):
                    if step == 0 or ".decoder." in name:  # the encoder's part is computed once
                        cache[name] = value
        words = self.tokenizer.decode(tokens[1:]).strip()
        return words, math.exp(log_probability / max(1, len(tokens)))


@functools.cache
def model(threads: int) -> MoonshineModel:
    return MoonshineModel(threads)


class MoonshineRecognizer:
    """Whole-utterance decoding (like Whisper, `feed` only collects audio), with Whisper deciding what Moonshine
    gives nothing for or is unsure of, when a `fallback` is given. `doubt` is a judge from outside speech (the
    voice layer asks the intent model) of whether a transcript makes sense to whoever listens: doubted
    transcripts go to the fallback too."""

    name = "moonshine"
    streaming = False

    def __init__(self, options: MoonshineOptions = MoonshineOptions(),
                 fallback: Callable[[], Recognizer] | None = None, doubt: Callable[[str], bool] | None = None) -> None:
        self.options, self.fallback, self.doubt = options, fallback, doubt
        self.model = model(options.threads or cpu_threads())
        self._pieces: list[np.ndarray] = []

    def start(self) -> None:
        self._pieces = []

    def feed(self, audio: np.ndarray) -> None:
        self._pieces.append(audio)

    def finish(self) -> Transcript:
        return self.transcribe(np.concatenate(self._pieces) if self._pieces else np.zeros(1600, np.float32))

    def transcribe(self, audio: np.ndarray) -> Transcript:
        began = time.perf_counter()
        silence = np.zeros(int(self.options.padding * SAMPLE_RATE), np.float32)
        text, confidence = self.model.decode(np.concatenate([silence, audio.astype(np.float32), silence]))
        name = self.name
        if self.fallback is not None and (not text or confidence < self.options.min_confidence
                                          or (self.doubt is not None and self.doubt(text))):
            text, name = self.fallback().transcribe(audio).text, f"{self.name}+whisper"
        return Transcript(text, time.perf_counter() - began, audio.size / SAMPLE_RATE, name)
