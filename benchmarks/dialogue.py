"""Dialogue model benchmark: bits per character on held-out corpora (self_dialogue test, ccc_chitchat
test, topical_chat, never trained on), and generation speed on the CPU (tokens/s, time to first token).

    python benchmarks/dialogue.py [--model models/dialogue] [--baseline DIR ...] [--limit 300] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from robot.dialogue.corpus import read_corpus
from robot.dialogue.evaluate import repetition_rate
from robot.dialogue.generate import DialogueModel, GenerationConfig
from robot.paths import SHIPPED_MODELS

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dialogue"
HELD_OUT = {"self_dialogue test": DATA / "self_dialogue" / "test.jsonl",
            "ccc_chitchat test": DATA / "ccc_chitchat" / "test.jsonl",
            "topical_chat test_freq (unseen)": DATA / "topical_chat" / "test_freq.jsonl"}
COMMAND = ("robot train dialogue --corpus assets/dialogue/self_dialogue.train.jsonl.xz "
           "assets/dialogue/ccc_chitchat.train.jsonl.xz --val-corpus ../shared/data/dialogue/self_dialogue/valid.jsonl "
           "--preset tiny --steps 650 --batch-size 16 --block-size 256 --lr 2e-3 --eval-every 200 --max-minutes 26 "
           "--out models/dialogue")
CARD_PROMPTS = ["hi! how are you today?", "what music do you like?", "do you have any pets?",
                "i just got back from a long walk", "what's your favourite movie?", "do you like sports?",
                "i'm cooking pasta tonight", "have you ever been to the beach?", "what do you do for fun?",
                "tell me something interesting"]
PROMPTS = ["what music do you like?", "do you have any pets?", "i watched a great movie last night",
           "what's your favourite food?", "tell me about your weekend", "do you like sports?"]


def speed(model: DialogueModel, replies: int) -> tuple[float, float, list[str]]:
    """Decoding tokens/s (after the first token, which is timed on its own), median time to first token."""
    first, tokens, seconds, texts = [], 0, 0.0, []
    for k in range(replies):
        start = time.perf_counter()
        pieces = []
        for piece in model.stream(PROMPTS[k % len(PROMPTS)], config=GenerationConfig(max_new_tokens=60, seed=k)):
            if not pieces:
                first_at = time.perf_counter()
                first.append(first_at - start)
            pieces.append(piece)
        text = "".join(pieces)
        texts.append(text)
        if pieces:
            seconds += time.perf_counter() - first_at
            tokens += len(model.encode(text))  # the tokens after the first, plus the end-of-turn token
    return tokens / seconds, statistics.median(first) * 1000, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SHIPPED_MODELS / "dialogue")
    parser.add_argument("--baseline", type=Path, nargs="*", default=[], help="more model folders to compare")
    parser.add_argument("--limit", type=int, default=300, help="dialogues per held-out set")
    parser.add_argument("--replies", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write-card", action="store_true", help="write the model card (README.md) of --model")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sets = {name: read_corpus([path]).dialogues[: args.limit] for name, path in HELD_OUT.items()}
    print(f"\ndialogue benchmark: {args.limit} dialogues per set, {args.threads} torch threads")
    print(f"| {'model':<28} | {'held-out set':<32} | {'bits/char':>9} | {'chars':>9} |")
    print(f"|{'-' * 30}|{'-' * 34}|{'-' * 11}|{'-' * 11}|")
    models, scores = {}, {}
    for folder in [args.model, *args.baseline]:
        model = models[folder] = DialogueModel(folder)
        for name, dialogues in sets.items():
            result = model.bits_per_char(dialogues)
            scores[(folder, name)] = result["bits_per_char"]
            print(f"| {folder.name:<28} | {name:<32} | {result['bits_per_char']:>9.3f} | {result['n_chars']:>9,} |")
    tokens_per_s, first_ms, texts = speed(models[args.model], args.replies)
    print(f"\ngeneration ({args.model.name}): {tokens_per_s:.0f} tokens/s after the first (target >= 150), first token "
          f"{first_ms:.1f} ms median (target <= 60), repetition rate {repetition_rate(texts):.1%}")
    samples = list(zip(PROMPTS, texts))
    for prompt, text in samples[:3]:
        print(f"  > {prompt}\n  < {text}")
    if args.write_card:
        write_card(args.model, {name: scores[(args.model, name)] for name in sets}, args.limit,
                   tokens_per_s, first_ms, [(p, models[args.model].reply(p, config=GenerationConfig(seed=k)))
                                            for k, p in enumerate(CARD_PROMPTS)])


def write_card(folder: Path, held_out: dict[str, float], limit: int, tokens_per_s: float, first_ms: float,
               samples: list[tuple[str, str]]) -> None:
    metrics = json.loads((folder / "metrics.json").read_text())
    config = metrics["config"]
    vocab = json.loads((folder / "config.json").read_text())["vocab_size"]
    rows = "\n".join(f"| {name} | {bpc:.3f} |" for name, bpc in held_out.items())
    exchanges = "\n".join(f"- **user:** {p}\n  **robot:** {r}" for p, r in samples)
    (folder / "README.md").write_text(f"""# Dialogue model

A {metrics['parameters'] / 1e6:.1f}M-parameter Llama-style causal LM (`{config['preset']}` preset) trained from
scratch by `robot train dialogue`, with its own byte-level BPE tokenizer ({vocab:,} tokens).
Loadable with `AutoModelForCausalLM` / `AutoTokenizer`; weights in safetensors.

## Data
Training: `assets/dialogue/self_dialogue.train.jsonl.xz` (Self-dialogue Corpus, BSD-3-Clause,
Fainberg et al. 2018) and `assets/dialogue/ccc_chitchat.train.jsonl.xz` (BYU Chit-Chat Challenge, MIT), the
train splits of `../shared/data/dialogue`, {metrics['n_dialogues']:,} dialogues; their licenses are beside
them in `assets/dialogue/`. Validation during training: self_dialogue valid.

Each dialogue is read twice, once with each speaker as the robot; the loss is on the robot's turns only
(its words and its end-of-turn token), so the model learns to reply, never to write the user's side, and
every utterance is still a training target once. Every segment starts with the persona line
(`persona.txt`), the prefix the robot uses when it talks.

## Training
Hardware: **CPU only** ({metrics['device']}, 2 cores; no GPU was available to this project's session, so the
shipped model is the `tiny` preset trained on the CPU, as the project's plan says for that case).
{metrics['steps']} steps of {config['batch_size']} x {metrics['block_size']} tokens, {metrics['tokens_seen']:,}
tokens seen ({metrics['tokens_seen'] / 1e6:.1f}M, a fraction of one pass over the corpus), AdamW lr
{config['lr']} cosine to {config['min_lr']} after {config['warmup']} warm-up steps, in
{metrics['train_seconds'] / 60:.1f} minutes ({metrics['tokens_per_second']:,.0f} tokens/s).
Curve: `training_curve.png`.

## Held-out bits per character (responses; first {limit} dialogues of each set)
| set | bits/char |
|---|---|
{rows}

Generation on {torch.get_num_threads()} CPU thread(s): {tokens_per_s:.0f} tokens/s after the first token,
first token {first_ms:.1f} ms (median).

## Sample exchanges (sampled, temperature 0.8, top-p 0.9, repetition penalty 1.3)
{exchanges}

A model this small and this briefly trained talks in the corpus' casual register and often drifts off
topic; it is the robot's fallback for chit-chat, not a source of facts.

## Reproduce
```
{COMMAND}
python benchmarks/dialogue.py --limit 200 --threads 1 --write-card
```
""")


if __name__ == "__main__":
    main()
