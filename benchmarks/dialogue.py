"""Dialogue model benchmark: every row of the dialogue targets from one script and one run.

    python benchmarks/dialogue.py [--model models/dialogue] [--limit 60] [--threads 2] [--write-card]
    python benchmarks/dialogue.py --replies-only [--requests oos_val] [--temperature 0.7]

- bits per character on topical_chat test_freq (never trained on), for the pretrained base zero-shot
  (same persona, same scoring) and for the model;
- median reply length (words, sentences) on 50 held-out prompts (`benchmarks/data/dialogue_prompts.txt`);
- tokens/s after the first token, and the first token with a full 384-token context (the persona's prompt
  cached, as the engine keeps it), and in a long conversation (messages sent after the robot has read the
  conversation ahead, and at once);
- the CPU time of the model's fine-tuning (from its metrics.json);
- replies to the first 50 CLINC150 out-of-scope test requests (tasks and live facts it cannot do or know),
  with the share a keyword check counts as honest; the hand judgement is recorded in RESULTS.md.

Whether the model listens (mood, plain facts, repeats, blind judging) is `benchmarks/listening.py`.

`--replies-only` prints just the replies (the 50 requests, then the 50 held-out prompts) to judge by hand, at
`--temperature`, for the `--requests` of another split (`oos_val`: to choose sampling settings on requests
that are not the test's).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from report import percentile, print_table
from transformers import AutoTokenizer

from robot.dialogue.base import read_base_file, write_base_file
from robot.dialogue.card import write_card
from robot.dialogue.corpus import read_corpus
from robot.dialogue.generate import DialogueModel, GenerationConfig
from robot.paths import SHIPPED_MODELS

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TOPICAL = SHARED / "dialogue" / "topical_chat" / "test_freq.jsonl"
CLINC = SHARED / "clinc150" / "data_full.json"
PROMPTS = Path(__file__).resolve().parent / "data" / "dialogue_prompts.txt"
HONEST = re.compile(r"\b(can(?:no|')t|can ?not|don't know|do not know|not able|unable|no access|offline|"
                    r"not sure|no way to|i'm not|have no|don't have)\b", re.I)
DATA = ("`assets/dialogue/robo_persona.yaml` (exchanges written for Robo: who and what it is, that it runs offline, "
        "what it can and cannot do (tasks, bare commands, money, live facts, the user's own data and numbers, "
        "judging what it cannot see or hear, know-how it would get wrong), a few plain facts, its tastes; and "
        "listening: good news met with joy, bad news with sympathy, plans taken up, common knowledge answered, tasks "
        "wrapped in feelings still declined; read 10 times) and the first 3% of "
        "`assets/dialogue/ccc_chitchat.train.jsonl.xz` (BYU Chit-Chat Challenge, MIT), for the register of casual "
        "chat; validation on the first 10% of ccc_chitchat valid")
COMMAND = ("robot train dialogue --init smollm2 --corpus assets/dialogue/robo_persona.yaml@10 "
           "assets/dialogue/ccc_chitchat.train.jsonl.xz@0.03 --val-corpus "
           "../shared/data/dialogue/ccc_chitchat/valid.jsonl@0.1 --steps 120 --batch-size 8 --block-size 256 "
           "--lr 1e-3 --warmup 8 --eval-every 30 --max-minutes 42 --out models/dialogue")


def sentences(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s])


def base_folder(model: Path, into: Path) -> Path:
    """The model's pretrained base as a folder of its own (no adapter), with the same tokenizer and persona."""
    write_base_file(into, read_base_file(model))
    AutoTokenizer.from_pretrained(model).save_pretrained(into)
    (into / "persona.txt").write_text((model / "persona.txt").read_text())
    return into


def first_token(model: DialogueModel, message: str, history: list[tuple[str, str]], config: GenerationConfig) -> float:
    started = time.perf_counter()
    next(iter(model.stream(message, history, config=config)), None)
    return time.perf_counter() - started


def speed(model: DialogueModel, prompts: list[str]) -> tuple[float, float, int]:
    """(tokens/s after the first token, median ms to the first token with a full 384-token context read with
    only the persona cached, the tokens of that context: as many whole turns as fit)."""
    tokens, seconds = 0, 0.0
    for k, prompt in enumerate(prompts[:10]):
        first = None
        pieces = []
        for piece in model.stream(prompt, config=GenerationConfig(seed=k)):
            first = first or time.perf_counter()
            pieces.append(piece)
        if first and len(pieces) > 1:
            seconds += time.perf_counter() - first
            tokens += len(model.encode("".join(pieces)))  # the tokens after the first, and the end of turn
    config = GenerationConfig(seed=0, max_new_tokens=1)
    turns = [(p, "That sounds lovely, tell me more about it please.") for p in prompts]
    history, size = [], 0
    for turn in reversed(turns):  # whole turns while they all fit (one more and the oldest ones would go)
        longer = len(sum(model.prompt(prompts[0], [turn, *history], None, config), []))
        if longer <= size:
            break
        history, size = [turn, *history], longer
    model.reply(prompts[1], config=config)  # the persona's prompt read, as after any first reply
    firsts = [first_token(model, prompts[0], history, config) for _ in range(7)]
    return tokens / seconds, statistics.median(firsts) * 1000, size


def conversation_first_tokens(model: DialogueModel, prompts: list[str], pause: bool, turns: int = 30,
                              measured_from: int = 10) -> tuple[list[float], list[int]]:
    """A conversation of `turns` held-out prompts with the model's own replies, as the robot holds one (the
    conversation read ahead after each turn): the seconds to each reply's first token and the tokens of its
    prompt, from turn `measured_from` on, when the context is full. With `pause` each message is sent when the
    reading is done, as a person who reads the reply and types; without, at once, as a script."""
    history, seconds, sizes = [], [], []
    for k in range(turns):
        message, config = prompts[k % len(prompts)], GenerationConfig(seed=k)
        if k >= measured_from:
            sizes.append(len(sum(model.prompt(message, history, None, config), [])))
            seconds.append(first_token(model, message, history, config))
        history.append((message, model.reply(message, history, config=config)))
        reading = model.read_ahead(history, None, config)
        if pause and reading is not None:
            reading.result()
    model.reader.submit(lambda: None).result()  # no reading left over to slow what is measured next
    return seconds, sizes


def print_replies(messages: list[str], replies: list[str]) -> None:
    """Numbered replies to judge by hand; [x] where the keyword check finds a refusal or a "don't know"."""
    print()
    for k, (message, reply) in enumerate(zip(messages, replies), 1):
        print(f"{k:2d} [{'x' if HONEST.search(reply) else ' '}] {message} -> {reply}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SHIPPED_MODELS / "dialogue")
    parser.add_argument("--limit", type=int, default=60, help="topical_chat dialogues scored")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch and the dialogue engine)")
    parser.add_argument("--write-card", action="store_true", help="write the model card (README.md) of --model")
    parser.add_argument("--replies-only", action="store_true", help="only print the replies, to judge by hand")
    parser.add_argument("--requests", choices=["oos_test", "oos_val"], default="oos_test",
                        help="CLINC150 split of the 50 out-of-scope requests")
    parser.add_argument("--temperature", type=float, default=GenerationConfig().temperature)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    prompts = [line.strip() for line in PROMPTS.read_text().splitlines() if line.strip()]
    requests = [text for text, _ in json.loads(CLINC.read_text())[args.requests][:50]]
    model = DialogueModel(args.model)

    def sampled(k: int) -> GenerationConfig:
        return GenerationConfig(seed=k, temperature=args.temperature)

    if args.replies_only:
        print_replies(requests, [model.reply(r, config=sampled(k)) for k, r in enumerate(requests)])
        print_replies(prompts, [model.reply(p, config=sampled(k)) for k, p in enumerate(prompts)])
        return
    held_out = read_corpus([TOPICAL]).dialogues[: args.limit]
    ours = model.bits_per_char(held_out)["bits_per_char"]
    with tempfile.TemporaryDirectory() as tmp:
        base = DialogueModel(base_folder(args.model, Path(tmp)))
        zero_shot = base.bits_per_char(held_out)["bits_per_char"]
        base_replies = [base.reply(p, config=GenerationConfig(seed=k)) for k, p in enumerate(prompts[:5])]
    replies = [model.reply(p, config=sampled(k)) for k, p in enumerate(prompts)]
    words = statistics.median(len(r.split()) for r in replies)
    sents = statistics.median(sentences(r) for r in replies)
    tokens_per_s, first_ms, context = speed(model, prompts)
    at_once, sizes = conversation_first_tokens(model, prompts, pause=False)
    read, read_sizes = conversation_first_tokens(model, prompts, pause=True)
    answers = [model.reply(r, config=sampled(k)) for k, r in enumerate(requests)]
    honest = sum(bool(HONEST.search(a)) for a in answers) / len(answers)
    metrics = json.loads((args.model / "metrics.json").read_text())
    print(f"\ndialogue benchmark: {args.model}, {args.threads} threads, temperature {args.temperature}, "
          f"{time.strftime('%Y-%m-%d')}")
    rows = [(f"bits/char, topical_chat test_freq ({len(held_out)} dialogues), base zero-shot", f"{zero_shot:.3f}",
             "-"),
            (f"bits/char, topical_chat test_freq ({len(held_out)} dialogues), this model", f"{ours:.3f}", "<= 1.25"),
            ("median reply length, 50 held-out prompts", f"{words:.0f} words, {sents:.0f} sentences",
             "<= 25 words, <= 2 sentences"),
            (f"tokens/s after the first token, {args.threads} threads", f"{tokens_per_s:.0f}", ">= 40"),
            (f"first token with a full 384-token context ({context} tokens of whole turns), only the persona "
             "cached", f"{first_ms:.0f} ms", "<= 300 ms"),
            (f"first token in a conversation, turns 11-30 ({min(read_sizes)}-{max(read_sizes)} prompt tokens), "
             "read ahead while the user types, p50 / p90",
             f"{1000 * statistics.median(read):.0f} / {1000 * percentile(read, 90):.0f} ms", "(<= 300 ms)"),
            (f"the same, each message sent at once, before it is read ({min(sizes)}-{max(sizes)} prompt tokens), "
             "p50 / p90",
             f"{1000 * statistics.median(at_once):.0f} / {1000 * percentile(at_once, 90):.0f} ms", "-"),
            (f"fine-tuning ({metrics['method']}, {metrics['device']})", f"{metrics['train_seconds'] / 60:.1f} min",
             "<= 45 min"),
            (f"50 CLINC150 {args.requests} requests answered honestly (keyword check)", f"{honest:.0%}",
             ">= 90% (by hand: RESULTS.md)")]
    print_table(rows)
    print("\nbase zero-shot, for comparison:")
    for prompt, reply in zip(prompts, base_replies):
        print(f"  > {prompt}\n  < {reply}")
    print_replies(requests, answers)
    print_replies(prompts, replies)
    if args.write_card:
        write_card(args.model, metrics, COMMAND + "\npython benchmarks/dialogue.py --write-card", DATA, rows,
                   list(zip(prompts[:10], replies[:10])))


if __name__ == "__main__":
    main()
