"""Streaming replies from the dialogue model.

The engine is transformers with torch's dynamic int8 quantisation of the linear layers, chosen by measurement
(`benchmarks/dialogue_engines.py`, benchmarks/RESULTS.md): on 2 cores it decodes SmolLM2-135M faster than
CTranslate2 int8 (47 against 35 tokens/s) and, with the persona's key/value cache computed once and copied for
each reply, reaches the first token after a long context as soon.

A model folder with an adapter (or only a base) is merged into a whole model once, into
`$ROBOT_HOME/cache/dialogue/<key>/` (a progress bar says so), and reused on every later start; quantising
takes a second at load.

Temperature, top-p, repetition penalty (on the reply's own tokens), a stop at the end of the robot's turn,
hard caps on reply and context length (never past the positions the model was trained on); special tokens
never reach the user.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import RepetitionPenaltyLogitsProcessor

from robot.atomic import write_folder_atomically
from robot.dialogue.base import read_base_file
from robot.dialogue.chat_format import ChatFormat
from robot.errors import InputError
from robot.paths import cache_home, file_sha256

MAX_EVAL_CONTEXT = 512  # tokens of context when scoring held-out dialogues
TOP_K_CEILING = 256  # top-p sampling looks at the 256 likeliest tokens at most
ENGINE_VERSION = 4  # part of the cache key: bump when the engine folder's recipe changes
PREFIXES_KEPT = 4  # system prompts whose key/value cache is kept (one per persona in use)


@dataclass(frozen=True)
class GenerationConfig:
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.2
    max_new_tokens: int = 60
    max_context_tokens: int = 384
    seed: int | None = None


def engine_key(folder: Path) -> str:
    """What the merged folder depends on: the adapter's weights (none for a base used as it is), its base,
    the recipe."""
    adapter = folder / "adapter_model.safetensors"
    base = read_base_file(folder)
    parts = f"{file_sha256(adapter) if adapter.exists() else ''}:{base.sha256 if base else ''}:{ENGINE_VERSION}"
    return hashlib.sha256(parts.encode()).hexdigest()[:20]


def load_torch_model(folder: Path):
    """The transformers model of a folder: a whole model, an adapter merged into its base, or (a folder with
    only `base.json`, a tokenizer and a persona) the base itself, as the benchmark's zero-shot baseline."""
    from transformers import AutoModelForCausalLM

    base = read_base_file(folder)
    if base is None:
        return AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True).eval()
    from robot.dialogue.base import load_base

    model, _ = load_base(base)
    if not (folder / "adapter_config.json").exists():
        return model
    from peft import PeftModel

    return PeftModel.from_pretrained(model, folder).merge_and_unload().eval()


def merged_folder(folder: Path, progress: bool = True) -> Path:
    """A whole-model folder for `folder`: itself, or its adapter merged into its base once into the cache."""
    if read_base_file(folder) is None:
        return folder
    dest = cache_home() / "dialogue" / engine_key(folder)
    if not (dest / "model.safetensors").exists():
        from tqdm import tqdm

        def write(tmp: Path) -> None:
            with tqdm(total=2, desc="preparing the dialogue model (once)", disable=not progress) as bar:
                model = load_torch_model(folder)
                bar.update()
                model.save_pretrained(tmp, safe_serialization=True)
                bar.update()

        write_folder_atomically(dest, write)
    return dest


def load_engine(folder: Path, quantize: bool = True, progress: bool = True):
    """The model that generates: the merged model, its linear layers in int8 unless `quantize` is off."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(merged_folder(folder, progress), use_safetensors=True).eval()
    if not quantize:
        return model
    with warnings.catch_warnings():  # deprecated in favour of torchao (not a dependency); torch < 2.14 has it
        warnings.simplefilter("ignore", (UserWarning, DeprecationWarning))
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class DialogueModel:
    def __init__(self, folder: str | Path, quantize: bool = True, progress: bool = True) -> None:
        from transformers import AutoTokenizer

        self.folder = Path(folder)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
        except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exceptions on a broken file
            raise InputError(f"not a dialogue model folder ({exc})", path=self.folder) from None
        base = read_base_file(self.folder)
        if base is not None:  # installed and intact, also when the merged model was built on an earlier start
            base.checked_path()
        self.model = load_engine(self.folder, quantize, progress)
        self.positions = self.model.config.max_position_embeddings
        persona = self.folder / "persona.txt"
        self.persona = persona.read_text().strip() if persona.exists() else ""
        self.format = ChatFormat.of(self.tokenizer)
        self.banned = [i for i in self.tokenizer.all_special_ids if i not in self.format.stops]
        self._prefixes: dict[tuple[int, ...], object] = {}
        self._lock = threading.Lock()
        self._scorer = None

    def bits_per_char(self, dialogues: list[list[str]]) -> dict:
        """Held-out bits per character of this model on the dialogues' responses (see evaluate.py)."""
        from robot.dialogue.evaluate import bits_per_char

        if self._scorer is None:
            self._scorer = load_torch_model(self.folder)
        block = min(MAX_EVAL_CONTEXT, self.positions)
        return bits_per_char(self._scorer, self.tokenizer, dialogues, self.persona, block)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.backend_tokenizer.decode(ids, skip_special_tokens=True)  # the Rust decoder, no wrappers

    def context_limit(self, config: GenerationConfig) -> int:
        """Prompt tokens allowed: the configured context, and never past the trained positions with the reply."""
        return max(16, min(config.max_context_tokens, self.positions - config.max_new_tokens))

    def prompt(self, message: str, history: list[tuple[str, str]], persona: str | None,
               config: GenerationConfig) -> tuple[list[int], list[int]]:
        """(system prompt, conversation): the persona turn, then as many of the latest turns as fit in the
        context limit, then the message and the opening of the robot's turn."""
        fmt, limit = self.format, self.context_limit(config)
        persona = self.persona if persona is None else persona
        head = fmt.turn(fmt.system, self.encode(persona)[:limit // 2])
        tail = [*fmt.turn(fmt.user, self.encode(message)[-(limit // 4):]), *fmt.robot]
        budget = limit - len(head) - len(tail)
        turns: list[int] = []
        for user, robot in reversed(history):
            pair = fmt.turn(fmt.user, self.encode(user)) + fmt.turn(fmt.robot, self.encode(robot))
            if len(pair) > budget - len(turns):
                break
            turns = pair + turns
        return head, turns + tail

    def _prefix_cache(self, head: list[int]):
        """The key/value cache after the system prompt, computed once per persona; each reply gets a copy."""
        key = tuple(head)
        with self._lock:
            cache = self._prefixes.get(key)
        if cache is None:
            cache = self.model(input_ids=torch.tensor([head]), use_cache=True).cache
            with self._lock:
                if len(self._prefixes) >= PREFIXES_KEPT:
                    self._prefixes.pop(next(iter(self._prefixes)))
                self._prefixes[key] = cache
        return copy.deepcopy(cache)

    def _pick(self, logits: torch.Tensor, generated: list[int], config: GenerationConfig,
              rng: torch.Generator | None) -> int:
        """The next token: special tokens banned, repeats of the reply penalised, then greedy or top-p."""
        logits[self.banned] = float("-inf")
        if generated and config.repetition_penalty != 1.0:
            penalty = RepetitionPenaltyLogitsProcessor(config.repetition_penalty)
            logits = penalty(torch.tensor([generated]), logits[None])[0]
        if config.temperature <= 0:
            return int(logits.argmax())
        top = torch.topk(logits / config.temperature, TOP_K_CEILING)
        probs = top.values.softmax(-1)
        probs[probs.cumsum(-1) - probs >= config.top_p] = 0  # the smallest set whose mass reaches top-p
        return int(top.indices[torch.multinomial(probs, 1, generator=rng)])

    @torch.inference_mode()
    def tokens(self, head: list[int], conversation: list[int], config: GenerationConfig) -> Iterator[int]:
        """Token ids of the reply to a prompt, as they are generated (the stop token not included)."""
        rng = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
        cache, x, generated = self._prefix_cache(head), conversation, []
        for _ in range(config.max_new_tokens):
            out = self.model(input_ids=torch.tensor([x]), cache=cache, use_cache=True)
            cache = out.cache
            token = self._pick(out.logits[0, -1].float(), generated, config, rng)
            if token in self.format.stops:
                return
            yield token
            generated.append(token)
            x = [token]

    def stream(self, message: str, history: list[tuple[str, str]] = (), persona: str | None = None,
               config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        """Text pieces of the reply as they are generated."""
        head, conversation = self.prompt(message, list(history), persona, config)
        generated: list[int] = []
        shown = ""
        for token in self.tokens(head, conversation, config):
            generated.append(token)
            text = self.decode(generated)
            if not text.endswith("\ufffd") and len(text) > len(shown):  # wait for whole UTF-8 characters
                yield text[len(shown):]
                shown = text
        text = self.decode(generated).rstrip("\ufffd")
        if len(text) > len(shown):
            yield text[len(shown):]

    def reply(self, message: str, history: list[tuple[str, str]] = (), persona: str | None = None,
              config: GenerationConfig = GenerationConfig()) -> str:
        return "".join(self.stream(message, history, persona, config)).strip()


class DialogueFallback:
    """The robot's fallback for out-of-scope turns: its own dialogue model, persona and recent history."""

    source = "dialogue"

    def __init__(self, model: DialogueModel, persona: str, config: GenerationConfig = GenerationConfig(),
                 empty_reply: str = "Hmm, tell me more?") -> None:
        self.model, self.persona, self.config, self.empty_reply = model, persona, config, empty_reply

    def stream(self, text: str, session) -> Iterator[str]:
        produced = False
        for piece in self.model.stream(text, session.history[-8:], self.persona, self.config):
            if not produced:
                piece = piece.lstrip()
            if piece:
                produced = True
                yield piece
        if not produced:
            yield self.empty_reply
