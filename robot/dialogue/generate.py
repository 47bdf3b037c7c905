"""Streaming replies from the dialogue model.

The engine is CTranslate2 with int8 weights, chosen by measurement (`benchmarks/dialogue_engines.py`,
benchmarks/RESULTS.md, 2026-12-07): on 2 cores of an AVX2-only CPU it decoded SmolLM2-135M at 35 tokens/s where
transformers with torch's dynamic int8 did 13, and read held-out chat better (1.36 bits a character against 1.40;
float32 1.32). Torch's per-tensor activation scale could not keep the MLP's down projection in int8 (1.67 bits a
character: its input has outlier channels); CTranslate2 scales the activations row by row.

The persona is the engine's static prompt: its key/value state is read once and reused by every reply. A
conversation is read ahead: when a turn is over, the persona and the latest turns (leaving room for a message of
`MESSAGE_ROOM` tokens) become a static prompt too, read in the background while the user reads the reply and
types, so that the next message waits only for itself: in a 30-turn conversation the first token came 145 / 171
ms (p50 / p90) after the message, against 558 / 705 ms when the conversation is read after it
(`benchmarks/dialogue.py`, 2026-12-07). CTranslate2 keeps the state of every static prompt for the life of its
generator (about 45 MB at a full context) and cannot drop one, so after `OPENINGS_KEPT` openings a fresh
generator (0.4 s, loaded in the background) replaces the old, which goes when its last reply is done. The engine
reads one thing at a time, so the reading waits `READ_AHEAD_DELAY` after the turn and does not start while a reply
is generated: a message sent at once (by a script) would wait for it.

A model folder (an adapter on its base, a base alone, or a whole model) is converted once into
`$ROBOT_HOME/cache/dialogue/<key>/` (a progress bar says so) and reused on every later start: float32 on disk,
about 520 MB for SmolLM2-135M, int8 at load. Only the two used last are kept (the active model and the one a
rollback returns to).

Temperature, top-p among the 256 likeliest tokens, a repetition penalty (CTranslate2's: on the tokens generated
so far), a stop at the end of the robot's turn, hard caps on reply and context length (never past the positions
the model was trained on); special tokens are suppressed and never reach the user, and so is the end of a reply
that would say one of the conversation's `RECENT_REPLIES` latest again whole: the model copied its own replies
(40 of 174 held-out turns of one conversation; RESULTS.md, 2026-12-08).
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from robot.atomic import write_folder_atomically
from robot.dialogue.base import read_base_file
from robot.dialogue.chat_format import ChatFormat
from robot.errors import InputError
from robot.paths import cache_home, file_sha256, keep_newest

MAX_EVAL_CONTEXT = 512  # tokens of context when scoring held-out dialogues
TOP_K_CEILING = 256  # top-p sampling looks at the 256 likeliest tokens at most
ENGINE_VERSION = 5  # part of the cache key: bump when the engine folder's recipe changes
ENGINES_KEPT = 2  # converted models kept in the cache (about 520 MB each)
ENGINE_FACTS = "robot.json"  # what the engine folder knows of its model that CTranslate2 does not say
OPENINGS_KEPT = 4  # conversation openings a generator keeps read (about 45 MB each at a full context)
READ_AHEAD_AFTER = 2  # turns of a session before its conversation is read ahead
READ_AHEAD_DELAY = 0.5  # seconds after a turn before its conversation is read (a person takes longer to answer)
MESSAGE_ROOM = 48  # message tokens a conversation read ahead leaves room for (a longer one reads it again)
RECENT_REPLIES = 8  # the conversation's latest replies the next one may not repeat word for word


@dataclass(frozen=True)
class GenerationConfig:
    temperature: float = 0.4  # 0.7 answered 41 of 50 held-out task requests honestly, 0.4 46 (RESULTS.md)
    top_p: float = 0.9
    repetition_penalty: float = 1.2
    max_new_tokens: int = 60
    max_context_tokens: int = 384
    seed: int | None = None
    candidates: int = 1  # replies sampled side by side and reranked (`rerank`); 1: the one sampled streams
    generic_weight: float = 0.5  # how much a reply likely after any message at all is marked down (`rerank`)


def engine_key(folder: Path) -> str:
    """What the converted model depends on: the weights (an adapter's or a whole model's; none for a base used
    as it is), the base, the vocabulary, the recipe."""
    adapter = folder / "adapter_model.safetensors"
    weights = adapter if adapter.exists() else folder / "model.safetensors"
    base = read_base_file(folder)
    parts = [file_sha256(f) if f.exists() else "" for f in (weights, folder / "tokenizer.json")]
    return hashlib.sha256(f"{':'.join(parts)}:{base.sha256 if base else ''}:{ENGINE_VERSION}".encode()).hexdigest()[:20]


def load_torch_model(folder: Path):
    """The transformers model of a folder: a whole model, an adapter merged into its base, or (a folder with
    only `base.json`, a tokenizer and a persona) the base itself, as the benchmark's zero-shot baseline."""
    from transformers import AutoModelForCausalLM

    base = read_base_file(folder)
    if base is None:
        return AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True).eval()
    from robot.dialogue.base import load_base_model

    model = load_base_model(base)
    if not (folder / "adapter_config.json").exists():
        return model
    from peft import PeftModel

    return PeftModel.from_pretrained(model, folder).merge_and_unload().eval()


def convert(folder: Path, into: Path, progress: bool = True) -> None:
    """`folder`'s model (merged with its base) written for CTranslate2 into `into`, in float32."""
    from ctranslate2.converters import TransformersConverter
    from tqdm import tqdm
    from transformers import AutoTokenizer
    from transformers.utils import logging

    class InMemory(TransformersConverter):  # the model and tokenizer held here, not loaded again from a folder
        def load_model(self, *args, **kwargs):
            return model

        def load_tokenizer(self, *args, **kwargs):
            return tokenizer

    with tqdm(total=2, desc="preparing the dialogue model (once)", disable=not progress) as bar, \
            tempfile.TemporaryDirectory() as config:
        model, tokenizer = load_torch_model(folder), AutoTokenizer.from_pretrained(folder)
        bar.update()
        model.config.save_pretrained(config)
        gc.freeze()  # the converter collects garbage after each layer: 0.3 s each over all of this process's objects
        verbosity = logging.get_verbosity()
        logging.set_verbosity_error()  # it reads the config's deprecated `torch_dtype`: not the user's business
        try:
            InMemory(config).convert(str(into), force=True)
        finally:
            gc.unfreeze()
            logging.set_verbosity(verbosity)
        bar.update()
    settings = json.loads((into / "config.json").read_text())
    settings["bos_token"] = settings.get("bos_token") or settings["eos_token"]  # CTranslate2 wants a name
    (into / "config.json").write_text(json.dumps(settings))
    (into / ENGINE_FACTS).write_text(json.dumps({"positions": model.config.max_position_embeddings}))


def engine_folder(folder: Path, progress: bool = True) -> Path:
    """`folder`'s model converted for CTranslate2, once, into the cache."""
    dest = cache_home() / "dialogue" / engine_key(folder)
    if not (dest / ENGINE_FACTS).exists():
        write_folder_atomically(dest, lambda tmp: convert(folder, tmp, progress))
    else:
        os.utime(dest)  # used now: the last to go
    keep_newest(dest.parent, ENGINES_KEPT)
    return dest


def give_back_memory() -> None:
    """Hands the memory freed in the C allocator back to the system: glibc kept an old generator's key/value
    states for reuse, and the process grew by 1 GB over 20 conversations read ahead (RESULTS.md)."""
    with suppress(AttributeError, OSError, TypeError):  # not glibc: its allocator does what it does
        ctypes.CDLL(None).malloc_trim(0)


@dataclass
class Engine:
    """A CTranslate2 generator and the conversation openings it has been given as static prompts (it keeps
    their state until it goes)."""

    generator: object
    openings: set[tuple[int, ...]] = field(default_factory=set)


def latest_turns(newest_first: Iterable[list[int]], budget: int) -> list[int]:
    """The latest of the encoded turns (given newest first) that fit in `budget` tokens, in order."""
    kept: list[int] = []
    for turn in newest_first:
        if len(kept) + len(turn) > budget:
            break
        kept[:0] = turn
    return kept


@dataclass
class Candidate:
    """One of the replies sampled side by side, with log P(reply, end of turn | conversation) (`score`; the end
    left out when the reply was cut at the length cap) and log P(reply, end of turn | persona alone) (`generic`)."""

    tokens: list[int]
    end: int | None  # the end-of-turn token sampled; None when the reply was cut at the length cap
    score: float
    generic: float


class DialogueModel:
    def __init__(self, folder: str | Path, quantize: bool = True, progress: bool = True) -> None:
        import ctranslate2
        from transformers import AutoTokenizer

        from robot.threads import cpu_threads

        self.folder = Path(folder)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
        except Exception as exc:  # noqa: BLE001 - tokenizers raises plain Exceptions on a broken file
            raise InputError(f"not a dialogue model folder ({exc})", path=self.folder) from None
        base = read_base_file(self.folder)
        if base is not None:  # installed and intact, also when the engine was built on an earlier start
            base.checked_path()
        engine = engine_folder(self.folder, progress)
        self.load: Callable[[], object] = lambda: ctranslate2.Generator(
            str(engine), compute_type="int8" if quantize else "float32", intra_threads=cpu_threads())
        self.engine = Engine(self.load())
        self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dialogue-read-ahead")
        self.replies = 0  # replies being generated
        self.wanted: dict[str, tuple[int, ...]] = {}  # the opening last asked for, by conversation, until read
        self.lock = threading.Lock()
        self.positions = json.loads((engine / ENGINE_FACTS).read_text())["positions"]
        persona = self.folder / "persona.txt"
        self.persona = persona.read_text().strip() if persona.exists() else ""
        self.format = ChatFormat.of(self.tokenizer)
        self.names = self.tokenizer.convert_ids_to_tokens
        banned = [i for i in self.tokenizer.all_special_ids if i not in self.format.stops]
        self.suppressed = [[name] for name in self.names(banned)]
        self._scorer = None

    @property
    def generator(self):
        return self.engine.generator

    def bits_per_char(self, dialogues: list[list[str]], by_engine: bool = False) -> dict:
        """Held-out bits per character of this model on the dialogues' responses (see evaluate.py), scored in
        float32 by transformers, or with `by_engine` by the engine that generates the replies."""
        from robot.dialogue.evaluate import bits_per_char, ct2_scorer, torch_scorer

        if self._scorer is None and not by_engine:
            self._scorer = torch_scorer(load_torch_model(self.folder))
        block = min(MAX_EVAL_CONTEXT, self.positions)
        score = ct2_scorer(self.generator, self.names) if by_engine else self._scorer
        return bits_per_char(score, self.tokenizer, dialogues, self.persona, block)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.backend_tokenizer.decode(ids, skip_special_tokens=True)  # the Rust decoder, no wrappers

    def context_limit(self, config: GenerationConfig) -> int:
        """Prompt tokens allowed: the configured context, and never past the trained positions with the reply."""
        return max(16, min(config.max_context_tokens, self.positions - config.max_new_tokens))

    def head(self, persona: str | None, config: GenerationConfig) -> list[int]:
        """The persona's turn (this model's own persona unless another is given)."""
        persona = self.persona if persona is None else persona
        return self.format.turn(self.format.system, self.encode(persona)[:self.context_limit(config) // 2])

    def turns(self, history: list[tuple[str, str]]) -> Iterator[list[int]]:
        """The history's turns encoded, newest first, as they are asked for (the context holds the last few of a
        session's 50)."""
        fmt = self.format
        for user, robot in reversed(history):
            yield fmt.turn(fmt.user, self.encode(user)) + fmt.turn(fmt.robot, self.encode(robot))

    def opening(self, head: list[int], newest_first: Iterable[list[int]], config: GenerationConfig) -> list[int]:
        """The persona and the latest turns that leave room for a message of `MESSAGE_ROOM` tokens: the part of
        the next turn's prompt known before its message comes (`read_ahead`)."""
        fmt = self.format
        room = len(fmt.user) + MESSAGE_ROOM + len(fmt.end) + len(fmt.robot)
        return head + latest_turns(newest_first, self.context_limit(config) - len(head) - room)

    def prompt(self, message: str, history: list[tuple[str, str]], persona: str | None,
               config: GenerationConfig) -> tuple[list[int], list[int]]:
        """(static prompt, the rest): the persona turn, then the latest turns that fit in the context limit,
        then the message and the opening of the robot's turn. The static prompt is the persona, or the
        persona and the turns when they were read ahead and the message fits after them."""
        fmt, limit = self.format, self.context_limit(config)
        head = self.head(persona, config)
        tail = [*fmt.turn(fmt.user, self.encode(message)[-(limit // 4):]), *fmt.robot]
        opening = self.opening(head, self.turns(history), config)
        if tuple(opening) in self.engine.openings and len(opening) + len(tail) <= limit:
            return opening, tail
        return head, latest_turns(self.turns(history), limit - len(head) - len(tail)) + tail

    def read_ahead(self, history: list[tuple[str, str]], persona: str | None = None,
                   config: GenerationConfig = GenerationConfig(), conversation: str = "") -> Future | None:
        """Reads the opening of the conversation's next turn in the background (None: nothing to read), so
        that the next message waits only for itself; a later call for the same `conversation` (an id) before
        the reading began replaces it."""
        head = self.head(persona, config)
        opening = tuple(self.opening(head, self.turns(history), config))
        if len(opening) == len(head) or opening in self.engine.openings:
            return None
        with self.lock:
            self.wanted[conversation] = opening
        reading = self.reader.submit(self._read, conversation, opening)
        reading.add_done_callback(lambda done: done.exception() and print(
            f"warning: reading the conversation ahead failed: {done.exception()}", file=sys.stderr, flush=True))
        return reading

    def _read(self, conversation: str, opening: tuple[int, ...]) -> None:
        time.sleep(READ_AHEAD_DELAY)  # a message sent at once (a script's) is not kept waiting behind this reading
        with self.lock:
            if self.wanted.get(conversation) is not opening:  # the conversation went on: its later reading will do
                return
            del self.wanted[conversation]
        if self.replies:  # the engine reads one thing at a time: a reply under way would wait for this reading
            return
        if len(self.engine.openings) >= OPENINGS_KEPT:  # no static prompt can be dropped: a fresh generator
            self.engine = Engine(self.load())  # replies under way finish on the old one, which then goes
            give_back_memory()
        engine = self.engine
        engine.openings.add(opening)  # before it is read: a turn sent meanwhile queues behind this reading
        engine.generator.generate_batch([self.names(list(self.format.robot))], static_prompt=self.names(list(opening)),
                                        max_length=1, sampling_topk=1)

    @contextmanager
    def replying(self) -> Iterator[None]:
        """Counts a reply while it is generated (conversations are read ahead only while none is)."""
        with self.lock:
            self.replies += 1
        try:
            yield
        finally:
            with self.lock:
                self.replies -= 1

    def options(self, config: GenerationConfig, recent: list[str] = ()) -> dict:
        """CTranslate2's decoding options for `config` (the seed, a process-wide setting, is set here too). None of
        the `recent` replies can be said again whole: each, followed by the end of the turn, is a suppressed
        sequence (the model copies its own earlier replies, "That sounds lovely." to five news in 73 turns; its
        repetition penalty only sees the reply being generated)."""
        import ctranslate2

        if config.seed is not None:
            ctranslate2.set_random_seed(config.seed)
        greedy = config.temperature <= 0
        return {"max_length": config.max_new_tokens, "sampling_topk": 1 if greedy else TOP_K_CEILING,
                "sampling_topp": 1.0 if greedy else config.top_p,
                "sampling_temperature": 1.0 if greedy else config.temperature,
                "repetition_penalty": config.repetition_penalty, "end_token": list(self.format.stops),
                "suppress_sequences": self.suppressed + [self.names([*self.encode(reply.strip()), stop])
                                                         for reply in dict.fromkeys(recent) if reply.strip()
                                                         for stop in self.format.stops]}

    def tokens(self, head: list[int], conversation: list[int], config: GenerationConfig,
               recent: list[str] = ()) -> Iterator[int]:
        """Token ids of the reply to a prompt, as they are generated (the stop token not included), never one of
        the `recent` replies whole; the engine stops when the caller does."""
        steps = self.generator.generate_tokens(self.names(conversation), static_prompt=self.names(head),
                                               **self.options(config, recent))
        with self.replying(), closing(steps):
            for step in steps:
                if step.token_id in self.format.stops:
                    return
                yield step.token_id

    def sample(self, head: list[int], conversation: list[int], config: GenerationConfig,
               recent: list[str] = ()) -> list[Candidate]:
        """`config.candidates` replies sampled side by side, none of them one of the `recent` replies whole, each
        scored under the model (before temperature and penalties) after the conversation and after the persona
        alone."""
        n, stops = config.candidates, self.format.stops
        with self.replying():
            results = self.generator.generate_batch([self.names(conversation)] * n, static_prompt=self.names(head),
                                                    include_prompt_in_result=False, return_end_token=True,
                                                    **self.options(config, recent))
        replies = [r.sequences_ids[0] for r in results]
        ends = [reply[-1] if reply and reply[-1] in stops else None for reply in replies]
        tokens = [reply[:-1] if end is not None else reply for reply, end in zip(replies, ends)]
        after = [[*head, *conversation, *t, *([e] if e is not None else [])] for t, e in zip(tokens, ends)]
        alone = [[*head, *self.format.robot, *t, stops[0] if e is None else e] for t, e in zip(tokens, ends)]
        scored = self.generator.score_batch([self.names(row) for row in after + alone], max_input_length=0)
        return [Candidate(t, e, sum(scored[k].log_probs[len(head) + len(conversation) - 1:]),
                          sum(scored[n + k].log_probs[len(head) + len(self.format.robot) - 1:]))
                for k, (t, e) in enumerate(zip(tokens, ends))]

    def rerank(self, candidates: list[Candidate], recent: list[str], config: GenerationConfig) -> Candidate:
        """The candidate that fits this message best: the highest log P(reply | conversation) - lambda log
        P(reply | persona alone) per token (mutual information, after Li et al. 2016: it marks down the generic
        "glad to hear that" that follows any message), never an empty reply or one of the conversation's
        recent replies (in another case or spacing: `sample` bars them exactly) while another candidate is
        neither."""
        said = {" ".join(r.lower().split()) for r in recent}

        def score(c: Candidate) -> tuple[bool, bool, float]:
            text = " ".join(self.decode(c.tokens).lower().split())
            return bool(text), text not in said, (c.score - config.generic_weight * c.generic) / (len(c.tokens) + 1)

        return max(candidates, key=score)

    def stream(self, message: str, history: list[tuple[str, str]] = (), persona: str | None = None,
               config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        """Text pieces of the reply as they are generated; with several candidates, the chosen reply whole."""
        head, conversation = self.prompt(message, list(history), persona, config)
        recent = [r for _, r in list(history)[-RECENT_REPLIES:]]
        if config.candidates > 1 and config.temperature > 0:  # greedy decoding would sample the same reply n times
            best = self.rerank(self.sample(head, conversation, config, recent), recent, config)
            text = self.decode(best.tokens).rstrip("\ufffd")
            if text:
                yield text
            return
        generated: list[int] = []
        shown = ""
        for token in self.tokens(head, conversation, config, recent):
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

    def prepare(self, session) -> None:
        """Reads a conversation under way while the user reads the reply (`DialogueModel.read_ahead`); not after
        a first turn, which may be all there is (a one-off request from the API or a script)."""
        if len(session.history) >= READ_AHEAD_AFTER:
            self.model.read_ahead(session.history, self.persona, self.config, session.id)

    def stream(self, text: str, session) -> Iterator[str]:
        produced = False
        for piece in self.model.stream(text, session.history, self.persona, self.config):
            if not produced:
                piece = piece.lstrip()
            if piece:
                produced = True
                yield piece
        if not produced:
            yield self.empty_reply
