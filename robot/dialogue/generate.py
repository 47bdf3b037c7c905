"""Streaming replies from the dialogue model.

The engine is transformers with torch's dynamic int8 quantisation of the linear layers but the MLP's down
projections (`FLOAT_LAYERS`), chosen by measurement (`benchmarks/dialogue_engines.py`, benchmarks/RESULTS.md):
on the AVX-512 machine of 2026-11-29 it decoded SmolLM2-135M faster than CTranslate2 int8 (47 against 35 tokens/s
on 2 cores); on an AVX2-only machine (2026-12-07) CTranslate2 int8 decoded 35 tokens/s against 13 and read chat
better (1.36 against 1.40 bits a character), but caches only a fixed prompt, where this engine keeps whole
conversations (below).

Reading the prompt is most of the wait for the first token (under 1 ms per token on 2 cores; only the last
position goes through the 49,152-word output layer: 338 -> 285 ms for 359 tokens, benchmarks/RESULTS.md), and
most of a prompt was already read for the turn before: `PromptCache` keeps the key/value cache of recent prompts with
their replies (the persona's among them), and a new prompt only reads what comes after the longest prefix it
shares with one of them: in a conversation, the new message. When a conversation outgrows the context, the
oldest turns are dropped until the rest fills about half of it (as llama.cpp's context shift does), so that
the next turns again extend a cached prompt instead of each starting from the persona.

A model folder with an adapter (or only a base) is merged into a whole model once, into
`$ROBOT_HOME/cache/dialogue/<key>/` (a progress bar says so), and reused on every later start; quantising
takes a second at load. Each merged model is about 520 MB (fp32): only the two used last are kept (the active
model and the one a rollback returns to).

Temperature, top-p, repetition penalty (on the reply's own tokens), a stop at the end of the robot's turn,
hard caps on reply and context length (never past the positions the model was trained on); special tokens
never reach the user.
"""

from __future__ import annotations

import copy
import hashlib
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import RepetitionPenaltyLogitsProcessor

from robot.atomic import write_folder_atomically
from robot.dialogue.base import read_base_file
from robot.dialogue.chat_format import ChatFormat
from robot.errors import InputError
from robot.paths import cache_home, file_sha256, keep_newest

MAX_EVAL_CONTEXT = 512  # tokens of context when scoring held-out dialogues
TOP_K_CEILING = 256  # top-p sampling looks at the 256 likeliest tokens at most
ENGINE_VERSION = 4  # part of the cache key: bump when the engine folder's recipe changes
ENGINES_KEPT = 2  # merged models kept in the cache (about 520 MB each)
PROMPTS_KEPT = 8  # prompts whose key/value cache is kept: about 20 MB each at the full context (SmolLM2-135M)


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
    from robot.dialogue.base import load_base_model

    model = load_base_model(base)
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
    else:
        os.utime(dest)  # used now: the last to go
    keep_newest(dest.parent, ENGINES_KEPT)
    return dest


# Linear layers left in float32 by the int8 engine. The MLP's down projection reads SiLU(gate) * up, whose few
# outlier channels (hundreds of times the rest) set torch's per-tensor activation scale, so the other channels
# round to zero: with it in int8 the shipped model read held-out chats at 1.67 bits a character against
# 1.32 in float32, and replied as if it had not read the message; without it, 1.40, for a first token 6%
# later in the robot's loop (`benchmarks/dialogue_engines.py`; benchmarks/RESULTS.md, 2026-12-07).
FLOAT_LAYERS = ("down_proj",)


def load_engine(folder: Path, quantize: bool = True, progress: bool = True,
                float_layers: tuple[str, ...] = FLOAT_LAYERS):
    """The model that generates: the merged model, its linear layers in int8 (but those whose names end with one
    of `float_layers`) unless `quantize` is off."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(merged_folder(folder, progress), use_safetensors=True).eval()
    if not quantize:
        return model
    int8 = {name: torch.ao.quantization.default_dynamic_qconfig for name, layer in model.named_modules()
            if isinstance(layer, torch.nn.Linear) and not name.endswith(float_layers)}
    with warnings.catch_warnings():  # deprecated in favour of torchao (not a dependency); torch < 2.14 has it
        warnings.simplefilter("ignore", (UserWarning, DeprecationWarning))
        return torch.ao.quantization.quantize_dynamic(model, int8, dtype=torch.qint8)


def shared_prefix(a: list[int] | tuple[int, ...], b: list[int] | tuple[int, ...]) -> int:
    n = min(len(a), len(b))
    return next((k for k in range(n) if a[k] != b[k]), n)


class PromptCache:
    """The key/value caches of the latest prompts read (with the replies generated after them), most recently
    used last; a prompt that is the beginning of another one is dropped, the longer one covers it."""

    def __init__(self, size: int = PROMPTS_KEPT) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, ...], object] = OrderedDict()
        self._lock = threading.Lock()

    def prompts(self) -> list[tuple[int, ...]]:
        with self._lock:
            return list(self._entries)

    def take(self, ids: list[int]):
        """(a copy of the cache for the longest cached beginning of `ids`, its length); (None, 0) if none. At
        least the last token of `ids` is left to read: its logits give the first token of the reply."""
        with self._lock:
            best, key = 0, None
            for cached in self._entries:
                shared = min(shared_prefix(cached, ids), len(ids) - 1)
                if shared > best:
                    best, key = shared, cached
            if key is None:
                return None, 0
            self._entries.move_to_end(key)
            cache = copy.deepcopy(self._entries[key])
        cache.crop(best - len(key))  # a negative count: the tokens after the shared beginning go
        return cache, best

    def put(self, ids: list[int], cache) -> None:
        key = tuple(ids)
        with self._lock:
            for cached in [k for k in self._entries if len(k) <= len(key) and key[:len(k)] == k]:
                del self._entries[cached]
            self._entries[key] = cache
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


@dataclass
class Candidate:
    """One of the replies sampled side by side: its tokens, log-probability, and the batch's key/value cache
    (its row `row` holds `prompt`, then this reply)."""

    tokens: list[int]
    end: int | None  # the end-of-turn token sampled; None when the reply was cut at the length cap
    score: float
    row: int
    cache: object
    prompt: list[int]

    def kept(self) -> tuple[list[int], object]:
        """(the tokens, the cache) of the prompt and this reply alone, for the prompt cache."""
        cache = copy.deepcopy(self.cache)
        cache.batch_select_indices(torch.tensor([self.row]))
        length = cache.get_seq_length()
        read = min(length, len(self.prompt) + len(self.tokens))
        if read < length:
            cache.crop(read - length)  # what was fed after this reply's end
        return (self.prompt + self.tokens)[:read], cache


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
        self.cache = PromptCache()
        self._scorer = None

    def bits_per_char(self, dialogues: list[list[str]], by_engine: bool = False) -> dict:
        """Held-out bits per character of this model on the dialogues' responses (see evaluate.py), scored in
        float32, or with `by_engine` by the engine that generates the replies."""
        from robot.dialogue.evaluate import bits_per_char, torch_scorer

        if self._scorer is None and not by_engine:
            self._scorer = load_torch_model(self.folder)
        block = min(MAX_EVAL_CONTEXT, self.positions)
        score = torch_scorer(self.model if by_engine else self._scorer)
        return bits_per_char(score, self.tokenizer, dialogues, self.persona, block)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.backend_tokenizer.decode(ids, skip_special_tokens=True)  # the Rust decoder, no wrappers

    def context_limit(self, config: GenerationConfig) -> int:
        """Prompt tokens allowed: the configured context, and never past the trained positions with the reply."""
        return max(16, min(config.max_context_tokens, self.positions - config.max_new_tokens))

    def prompt(self, message: str, history: list[tuple[str, str]], persona: str | None,
               config: GenerationConfig) -> tuple[list[int], list[int]]:
        """(system prompt, conversation): the persona turn, then the latest turns that fit in the context limit
        (see `first_turn`), then the message and the opening of the robot's turn."""
        fmt, limit = self.format, self.context_limit(config)
        persona = self.persona if persona is None else persona
        head = fmt.turn(fmt.system, self.encode(persona)[:limit // 2])
        tail = [*fmt.turn(fmt.user, self.encode(message)[-(limit // 4):]), *fmt.robot]
        budget, pairs, size = limit - len(head) - len(tail), [], 0
        for user, robot in reversed(history):  # the latest turns, as far back as could ever fit
            pairs.insert(0, fmt.turn(fmt.user, self.encode(user)) + fmt.turn(fmt.robot, self.encode(robot)))
            size += len(pairs[0])
            if size > budget:
                break
        first = self.first_turn(head, pairs, budget)
        return head, [token for pair in pairs[first:] for token in pair] + tail

    def first_turn(self, head: list[int], pairs: list[list[int]], budget: int) -> int:
        """The oldest turn kept: all of them if they fit in `budget` tokens; else, of the starts that fit, the
        oldest whose prompt a cached one begins with (the next turn of a conversation); else the start where
        the turns kept fill about half the budget, leaving room for the next turns to extend this prompt."""
        sizes = [len(pair) for pair in pairs]
        fits = next((k for k in range(len(pairs) + 1) if sum(sizes[k:]) <= budget), len(pairs))
        if fits == 0:
            return 0
        cached = self.cache.prompts()
        for start in range(fits, len(pairs)):
            begins = tuple(head + pairs[start])
            if any(key[:len(begins)] == begins for key in cached):
                return start
        return next((k for k in range(fits, len(pairs) + 1) if sum(sizes[k:]) <= budget // 2), len(pairs))

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
        """Token ids of the reply to a prompt, as they are generated (the stop token not included). The prompt
        and the reply so far go into the prompt cache for the next turn, also when the caller stops early."""
        rng = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
        prompt = head + conversation
        cache, known = self.cache.take(prompt)
        x, read, generated = prompt[known:], prompt[:known], []  # to read next; what the cache holds
        try:
            for _ in range(config.max_new_tokens):
                out = self.model(input_ids=torch.tensor([x]), cache=cache, use_cache=True, logits_to_keep=1)
                cache = out.cache
                read += x
                token = self._pick(out.logits[0, -1].float(), generated, config, rng)
                if token in self.format.stops:
                    break
                yield token
                generated.append(token)
                x = [token]
        except GeneratorExit:  # the caller stopped reading: what was read is still worth keeping
            self.cache.put(read, cache)
            raise
        self.cache.put(read, cache)

    @torch.inference_mode()
    def sample(self, head: list[int], conversation: list[int], config: GenerationConfig) -> list[Candidate]:
        """`config.candidates` replies sampled side by side from one reading of the prompt, each with its
        log-probability under the model (before temperature and penalties), the end of turn included."""
        rng = torch.Generator().manual_seed(config.seed) if config.seed is not None else None
        prompt, n = head + conversation, config.candidates
        cache, known = self.cache.take(prompt)
        out = self.model(input_ids=torch.tensor([prompt[known:]]), cache=cache, use_cache=True, logits_to_keep=1)
        cache, logits = out.cache, out.logits[:, -1].float().expand(n, -1)
        cache.batch_repeat_interleave(n)
        replies: list[list[int]] = [[] for _ in range(n)]
        scores, ends = [0.0] * n, [None] * n
        for _ in range(config.max_new_tokens):
            picked, log_probs = list(ends), logits.log_softmax(-1)  # a finished row is fed its end again
            for row in (r for r in range(n) if ends[r] is None):
                token = picked[row] = self._pick(logits[row].clone(), replies[row], config, rng)
                scores[row] += float(log_probs[row, token])
                if token in self.format.stops:
                    ends[row] = token
                else:
                    replies[row].append(token)
            if None not in ends:
                break
            out = self.model(input_ids=torch.tensor(picked)[:, None], cache=cache, use_cache=True, logits_to_keep=1)
            cache, logits = out.cache, out.logits[:, -1].float()
        return [Candidate(reply, end, score, row, cache, prompt) for row, (reply, end, score) in
                enumerate(zip(replies, ends, scores))]

    @torch.inference_mode()
    def generic_scores(self, head: list[int], candidates: list[Candidate]) -> list[float]:
        """log P(reply | the persona alone, no message): high for replies that would do after anything."""
        context = [*head, *self.format.robot]
        cache, known = self.cache.take(context)
        rest, stop = context[known:], self.format.stops[0]
        rows = [rest + c.tokens + [stop if c.end is None else c.end] for c in candidates]
        width = max(map(len, rows))
        if cache is not None:
            cache.batch_repeat_interleave(len(rows))
        logits = self.model(input_ids=torch.tensor([r + [stop] * (width - len(r)) for r in rows]), cache=cache,
                            use_cache=True).logits.float().log_softmax(-1)  # padding after a row: never seen by it
        return [float(sum(logits[k, len(rest) - 1 + i, t] for i, t in enumerate(row[len(rest):])))
                for k, row in enumerate(rows)]

    def rerank(self, head: list[int], candidates: list[Candidate], recent: list[str],
               config: GenerationConfig) -> Candidate:
        """The candidate that fits this message best: the highest log P(reply | conversation) - lambda log
        P(reply | persona alone) per token (mutual information, after Li et al. 2016: it marks down the generic
        "glad to hear that" that follows any message), never an empty reply or one of the conversation's
        recent replies while another candidate is neither."""
        generic = self.generic_scores(head, candidates)
        said = {" ".join(r.lower().split()) for r in recent}

        def score(k: int) -> tuple[bool, bool, float]:
            c = candidates[k]
            text = " ".join(self.decode(c.tokens).lower().split())
            return bool(text), text not in said, (c.score - config.generic_weight * generic[k]) / (len(c.tokens) + 1)

        return candidates[max(range(len(candidates)), key=score)]

    def stream(self, message: str, history: list[tuple[str, str]] = (), persona: str | None = None,
               config: GenerationConfig = GenerationConfig()) -> Iterator[str]:
        """Text pieces of the reply as they are generated; with several candidates, the chosen reply whole."""
        head, conversation = self.prompt(message, list(history), persona, config)
        if config.candidates > 1 and config.temperature > 0:  # greedy decoding would sample the same reply n times
            best = self.rerank(head, self.sample(head, conversation, config), [r for _, r in history[-8:]], config)
            self.cache.put(*best.kept())  # the next turn reads on from the reply that was given
            text = self.decode(best.tokens).rstrip("\ufffd")
            if text:
                yield text
            return
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
        for piece in self.model.stream(text, session.history, self.persona, self.config):
            if not produced:
                piece = piece.lstrip()
            if piece:
                produced = True
                yield piece
        if not produced:
            yield self.empty_reply
