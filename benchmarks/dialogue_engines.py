"""Which engine generates the dialogue model's replies fastest on this CPU, and how well each reads: transformers
in fp32, transformers with torch's dynamic int8 quantisation of the linear layers but the MLP's down projection
(the robot's engine) and of every linear layer (the engine before 2026-12-07), and CTranslate2 (int8 and fp32;
rows only where `ctranslate2` is installed), each at 1 and 2 threads. Greedy decoding of 60 tokens after a short
prompt, the first token after a full 384-token context with nothing cached, and how well each reads: bits per
character on the replies of 12 held-out chats (the BYU Chit-Chat Challenge's validation fixture of the tests).

    python benchmarks/dialogue_engines.py [--model models/dialogue]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path

import torch
from report import print_table

from robot.dialogue.corpus import read_corpus
from robot.dialogue.evaluate import TokenScorer, bits_per_char, torch_scorer
from robot.dialogue.generate import DialogueModel, GenerationConfig, load_engine, merged_folder
from robot.paths import SHIPPED_MODELS

CT2_TYPES = ("int8", "float32")
CHATS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dialogue" / "ccc_chitchat.valid.jsonl"


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


def ct2_folder(model: Path, into: Path) -> Path:
    """The merged model converted for CTranslate2 (float32 on disk; the compute type is chosen at load)."""
    import json

    from ctranslate2.converters import TransformersConverter
    from transformers import AutoTokenizer

    merged = merged_folder(model)
    AutoTokenizer.from_pretrained(model).save_pretrained(into / "hf")
    for name in ("config.json", "model.safetensors"):
        (into / "hf" / name).symlink_to((merged / name).resolve())
    TransformersConverter(str(into / "hf")).convert(str(into / "ct2"))
    settings = json.loads((into / "ct2" / "config.json").read_text())
    settings["bos_token"] = settings.get("bos_token") or settings["eos_token"]  # CTranslate2 wants a name
    (into / "ct2" / "config.json").write_text(json.dumps(settings))
    return into / "ct2"


def ct2_scorer(folder: Path, compute_type: str, names) -> TokenScorer:
    """CTranslate2's log-probabilities of each token after the first (`score_batch`), for `bits_per_char`."""
    import ctranslate2

    generator = ctranslate2.Generator(str(folder), compute_type=compute_type)
    return lambda ids: torch.tensor(generator.score_batch([names(ids)], max_input_length=0)[0].log_probs)


def timed_ct2(folder: Path, compute_type: str, threads: int, prompt: list[str], long: list[str]) -> tuple[float, float]:
    import ctranslate2

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
    engines = (("transformers fp32", load_engine(args.model, quantize=False)),
               ("transformers + dynamic int8 (the robot's)", dialogue.model),
               ("transformers + dynamic int8, every linear layer", load_engine(args.model, float_layers=())))
    tmp = tempfile.TemporaryDirectory()
    ct2 = ct2_folder(args.model, Path(tmp.name)) if importlib.util.find_spec("ctranslate2") else None
    scorers = [*((name, torch_scorer(engine)) for name, engine in engines),
               *((f"CTranslate2 {kind}", ct2_scorer(ct2, kind, names)) for kind in CT2_TYPES if ct2)]
    read = {name: f"{bits_per_char(score, dialogue.tokenizer, chats, dialogue.persona, 384)['bits_per_char']:.3f}"
            for name, score in scorers}
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, engine in engines:
            decode, first = timed_torch(engine, prompt, long)
            rows.append((f"{name}, {threads} thread(s)", f"{decode:.0f} tok/s", f"{first:.0f} ms", read[name]))
        for compute_type in CT2_TYPES if ct2 else ():
            decode, first = timed_ct2(ct2, compute_type, threads, names(prompt), names(long))
            rows.append((f"CTranslate2 {compute_type}, {threads} thread(s)", f"{decode:.0f} tok/s",
                         f"{first:.0f} ms", read[f"CTranslate2 {compute_type}"]))
    print(f"\ndialogue engines: {args.model}, greedy, {time.strftime('%Y-%m-%d')}")
    print_table(rows, ("engine", "decoding", "first token, 384-token context",
                       f"held-out chat, bits/char ({len(chats)})"))


if __name__ == "__main__":
    main()
