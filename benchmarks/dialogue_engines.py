"""Which engine generates the dialogue model's replies fastest on this CPU, and how well each reads: CTranslate2
in int8 (the robot's engine) and float32, and transformers in fp32, with torch's dynamic int8 quantisation of the
linear layers but the MLP's down projection (the robot's engine until 2026-12-07), and of every linear layer (the
engine before that), each at 1 and 2 threads. Greedy decoding of 60 tokens after a short prompt, the first token
after a full 384-token context with nothing cached, and how well each reads: bits per character on the replies of
12 held-out chats (the BYU Chit-Chat Challenge's validation fixture of the tests).

    python benchmarks/dialogue_engines.py [--model models/dialogue]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import ctranslate2
import torch
from report import print_table

from robot.dialogue.corpus import read_corpus
from robot.dialogue.evaluate import bits_per_char, ct2_scorer, torch_scorer
from robot.dialogue.generate import DialogueModel, GenerationConfig, engine_folder, load_torch_model
from robot.paths import SHIPPED_MODELS

CT2_TYPES = {"int8": "CTranslate2 int8 (the robot's)", "float32": "CTranslate2 float32"}  # compute type: row
CHATS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dialogue" / "ccc_chitchat.valid.jsonl"


def torch_int8(model, float_layers: tuple[str, ...] = ()):
    """A copy of `model` with torch's dynamic int8 quantisation of its linear layers but those whose names end with
    one of `float_layers` (`model` itself is left as it is)."""
    int8 = {name: torch.ao.quantization.default_dynamic_qconfig for name, layer in model.named_modules()
            if isinstance(layer, torch.nn.Linear) and not name.endswith(float_layers)}
    with warnings.catch_warnings():  # deprecated in favour of torchao (not a dependency); torch < 2.14 has it
        warnings.simplefilter("ignore", (UserWarning, DeprecationWarning))
        return torch.ao.quantization.quantize_dynamic(model, int8, dtype=torch.qint8)


def timed_torch(model, prompt: list[int], long: list[int]) -> tuple[float, float]:
    """(decode tokens/s, median ms to the first token after `long`) with transformers' generate and its cache."""
    with torch.inference_mode():
        x = torch.tensor([prompt])
        model.generate(x, max_new_tokens=2, do_sample=False)  # warm-up
        started = time.perf_counter()
        out = model.generate(x, max_new_tokens=60, min_new_tokens=60, do_sample=False)
        decode = (out.shape[1] - len(prompt)) / (time.perf_counter() - started)
        firsts = []
        for _ in range(3):
            started = time.perf_counter()
            model.generate(torch.tensor([long]), max_new_tokens=1, do_sample=False)
            firsts.append(time.perf_counter() - started)
    return decode, statistics.median(firsts) * 1000


def timed_ct2(folder: Path, compute_type: str, threads: int, prompt: list[str], long: list[str]) -> tuple[float, float]:
    generator = ctranslate2.Generator(str(folder), compute_type=compute_type, intra_threads=threads)
    generator.generate_batch([prompt], max_length=2)  # warm-up
    started = time.perf_counter()
    result = generator.generate_batch([prompt], max_length=60, min_length=60, include_prompt_in_result=False)
    decode = len(result[0].sequences_ids[0]) / (time.perf_counter() - started)
    firsts = []
    for _ in range(3):  # the first token as the robot streams it (generate_batch would not time the prefill)
        started = time.perf_counter()
        next(generator.generate_tokens(long, max_length=5))
        firsts.append(time.perf_counter() - started)
    return decode, statistics.median(firsts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SHIPPED_MODELS / "dialogue")
    args = parser.parse_args()
    dialogue = DialogueModel(args.model)
    head, conversation = dialogue.prompt("what do you like to do on a rainy day?", [], None, GenerationConfig())
    prompt = head + conversation
    long = (prompt * (384 // len(prompt) + 1))[:384]
    names = dialogue.tokenizer.convert_ids_to_tokens
    chats = read_corpus([CHATS]).dialogues[:12]
    fp32 = load_torch_model(args.model)  # read once (the base's GGUF file takes seconds); torch_int8 copies it
    engines = (("transformers fp32", fp32),
               ("transformers + dynamic int8 but down_proj", torch_int8(fp32, ("down_proj",))),
               ("transformers + dynamic int8, every linear layer", torch_int8(fp32)))
    ct2 = engine_folder(args.model)
    scorers = [*((name, torch_scorer(engine)) for name, engine in engines),
               *((name, ct2_scorer(ctranslate2.Generator(str(ct2), compute_type=kind), names))
                 for kind, name in CT2_TYPES.items())]
    read = {name: f"{bits_per_char(score, dialogue.tokenizer, chats, dialogue.persona, 384)['bits_per_char']:.3f}"
            for name, score in scorers}
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, engine in engines:
            decode, first = timed_torch(engine, prompt, long)
            rows.append((f"{name}, {threads} thread(s)", f"{decode:.0f} tok/s", f"{first:.0f} ms", read[name]))
        for compute_type, name in CT2_TYPES.items():
            decode, first = timed_ct2(ct2, compute_type, threads, names(prompt), names(long))
            rows.append((f"{name}, {threads} thread(s)", f"{decode:.0f} tok/s", f"{first:.0f} ms", read[name]))
    print(f"\ndialogue engines: {args.model}, greedy, {time.strftime('%Y-%m-%d')}")
    print_table(rows, ("engine", "decoding", "first token, 384-token context",
                       f"held-out chat, bits/char ({len(chats)})"))


if __name__ == "__main__":
    main()
