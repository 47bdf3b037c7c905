"""Streaming replies from the dialogue model.

The engine is CTranslate2 (int8 on the CPU), chosen by measurement (`benchmarks/dialogue_engines.py`,
benchmarks/RESULTS.md): on 2 cores it decodes SmolLM2-135M twice as fast as transformers in fp32 and, with the
persona's system prompt cached between replies, gives the shortest first token after a long context;
transformers with torch's dynamic int8 decodes faster still but starts later.

A model folder is turned into an engine folder once, into `$ROBOT_HOME/cache/dialogue/<key>/` (an adapter
merged into its base, then converted; a progress bar says so), and reused on every later start.
Transformers keeps the scoring (bits per character), loaded only when asked for.

Temperature, top-p, repetition penalty, a stop at the end of the robot's turn, hard caps on reply and
context length (never past the positions the model was trained on); special tokens never reach the user.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from robot.dialogue.base import read_base_file
from robot.dialogue.chat_format import ChatFormat
from robot.errors import InputError
from robot.paths import cache_home
from robot.registry import write_folder_atomically

MAX_EVAL_CONTEXT = 512  # tokens of context when scoring held-out dialogues
TOP_K_CEILING = 256  # top-p sampling looks at the 256 likeliest tokens at most
ENGINE_VERSION = 3  # part of the cache key: bump when the engine folder's recipe changes


@dataclass(frozen=True)
class GenerationConfig:
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.2
    max_new_tokens: int = 60
    max_context_tokens: int = 384
    seed: int | None = None


def engine_key(folder: Path) -> str:
    """What the engine folder depends on: the folder's weights (a model or an adapter; none for a base used
    as it is), its base, the recipe."""
    digest = hashlib.sha256()
    for name in ("model.safetensors", "adapter_model.safetensors"):
        if (folder / name).exists():
            with (folder / name).open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
    base = read_base_file(folder)
    digest.update(f"{base.sha256 if base else ''}:{ENGINE_VERSION}".encode())
    return digest.hexdigest()[:20]


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


def build_engine(folder: Path, dest: Path, progress: bool = True) -> None:
    """Merge (if an adapter) and convert to CTranslate2 into `dest`, atomically."""
    from ctranslate2.converters import TransformersConverter
    from tqdm import tqdm
    from transformers import AutoTokenizer

    def write(tmp: Path) -> None:
        with tqdm(total=3, desc="preparing the dialogue model (once)", disable=not progress) as bar:
            model = load_torch_model(folder)
            bar.update()
            model.save_pretrained(tmp / "merged", safe_serialization=True)
            AutoTokenizer.from_pretrained(folder).save_pretrained(tmp / "merged")
            bar.update()
            TransformersConverter(str(tmp / "merged"), low_cpu_mem_usage=True).convert(  # float32 on disk: int8
                str(tmp / "ct2"), force=True)  # (or exact float32, for tests) is chosen when loading
            for leftover in (tmp / "merged").glob("*.safetensors"):  # the merged weights were only a step
                leftover.unlink()
            settings = json.loads((tmp / "ct2" / "config.json").read_text())
            if settings.get("bos_token") is None:  # CTranslate2 wants a name; our prompts never start with it
                settings["bos_token"] = settings["eos_token"]
                (tmp / "ct2" / "config.json").write_text(json.dumps(settings, indent=2))
            bar.update()

    write_folder_atomically(dest, write)


def engine_folder(folder: Path, progress: bool = True) -> Path:
    dest = cache_home() / "dialogue" / engine_key(folder)
    if not (dest / "ct2" / "model.bin").exists():
        build_engine(folder, dest, progress)
    return dest / "ct2"


class DialogueModel:
    def __init__(self, folder: str | Path, threads: int = 2, compute_type: str = "int8",
                 progress: bool = True) -> None:
        import ctranslate2
        from transformers import AutoTokenizer

        self.folder = Path(folder)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
        except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exceptions on a broken file
            raise InputError(f"not a dialogue model folder ({exc})", path=self.folder) from None
        base = read_base_file(self.folder)
        if base is not None:  # installed and intact, also when the engine was built on an earlier start
            base.checked_path()
        engine = engine_folder(self.folder, progress)
        self.generator = ctranslate2.Generator(str(engine), device="cpu", compute_type=compute_type,
                                               intra_threads=threads)
        merged = json.loads((engine.parent / "merged" / "config.json").read_text())  # kept without its weights
        self.positions = merged["max_position_embeddings"]
        persona = self.folder / "persona.txt"
        self.persona = persona.read_text().strip() if persona.exists() else ""
        self.format = ChatFormat.of(self.tokenizer)
        self.stop_tokens = self.tokenizer.convert_ids_to_tokens(list(self.format.stops))
        banned = [t for t in self.tokenizer.all_special_tokens if t not in self.stop_tokens]
        self.suppress = [[t] for t in banned] or None
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

    def stream(self, message: str, history: list[tuple[str, str]] = (), persona: str | None = None,
               config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        """Text pieces of the reply as they are generated."""
        import ctranslate2

        head, conversation = self.prompt(message, list(history), persona, config)
        if config.seed is not None:
            ctranslate2.set_random_seed(config.seed)
        greedy = config.temperature <= 0
        tokens = self.tokenizer.convert_ids_to_tokens
        steps = self.generator.generate_tokens(
            tokens(conversation), static_prompt=tokens(head), cache_static_prompt=True,
            max_length=config.max_new_tokens, end_token=self.stop_tokens,
            sampling_topk=1 if greedy else TOP_K_CEILING, sampling_topp=1.0 if greedy else config.top_p,
            sampling_temperature=1.0 if greedy else config.temperature,
            repetition_penalty=config.repetition_penalty, suppress_sequences=self.suppress)
        generated: list[int] = []
        shown = ""
        for step in steps:
            if step.token_id in self.format.stops:
                break
            generated.append(step.token_id)
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
