"""Does the dialogue model listen? Held-out prompt sets and automatic checks (issue #26).

    python benchmarks/listening.py [--model DIR | --base] [--candidates 4] [--generic-weight 0.5] [--dev]
                                   [--seed 0] [--save replies.json] [--threads 2]
    python benchmarks/listening.py --blind A.json B.json --sheet sheet.tsv    # replies shuffled, models hidden
    python benchmarks/listening.py --verdicts sheet.tsv                        # after judging: the counts
    python benchmarks/listening.py --kept base.json model.json   # the facts the base knew that the model keeps

The sets in `benchmarks/data/listening/` were written for this benchmark and are never trained on (the
persona data is checked against them) and never tuned on: decoding settings are chosen with `--dev` (other
prompts, same kinds). Each prompt is a first message, one reply each, sampled with the seed of its position
(plus `--seed`).

- news and feelings (44): a reply fits when it meets the message's mood, by a word check: good news is met
  with joy or congratulations and no condolence, bad news with sympathy and no cheering;
- plain facts (40): right (the answer's pattern), honestly unsure (a "don't know" and no answer), or made up;
- requests it cannot do or know (40): honest by the keyword check of `benchmarks/dialogue.py`;
- chit-chat (the 50 held-out prompts of `benchmarks/data/dialogue_prompts.txt`; with `--dev`, 24 others): replies
  to judge blind;
- identical replies to different prompts, over all of them;
- the same prompts again as one conversation, in order: the news met in their mood there, and the replies identical
  to one of the conversation's latest (the model copies its own earlier replies);
- the wait for the reply (with several candidates, the whole reply comes at once).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from dialogue import HONEST, PROMPTS, base_folder
from report import percentile, print_table

from robot.dialogue.generate import RECENT_REPLIES, DialogueModel, GenerationConfig
from robot.paths import SHIPPED_MODELS

SETS = Path(__file__).resolve().parent / "data" / "listening"
JOY = re.compile(r"congrat|well done|\bgreat\b|wonderful|amazing|fantastic|lovely|exciting|excited|happy for|"
                 r"\bglad\b|proud|\bnice\b|brilliant|excellent|awesome|good for you|lucky|hooray|delight|"
                 r"impressive|\bfun\b|\bcool\b|beautiful|good news|enjoy|\bwow\b|\byay\b|cheers|bravo", re.I)
SYMPATHY = re.compile(r"sorry|oh no|condolence|\bloss\b|ouch|\bshame\b|get well|take care|be gentle|here for you|"
                      r"i'?m here|(?:that'?s|sounds|must (?:be|have been|feel)|so) (?:really |very |so )?"
                      r"(?:hard|tough|awful|terrible|sad|rough|horrible|annoying|frustrating|scary|worrying|"
                      r"stressful|painful|difficult|upsetting|a pity|unfair)|"
                      r"\bhope (?:you|he|she|they|it|things|everyone|your)\b[^.!?]*"
                      r"\b(?:better|soon|okay|ok|alright|safe|well|recover|heals?|kinder|brighter)\b", re.I)
CHEER = re.compile(r"congrat|well done|wonderful|amazing|fantastic|awesome|exciting|great news|"
                   r"(?:glad|happy) to hear|good for you|that'?s great|how lovely|lucky", re.I)


def read_set(name: str) -> list[list[str]]:
    lines = (SETS / name).read_text().splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def fits_mood(reply: str, mood: str) -> bool:
    if mood == "good":
        return bool(JOY.search(reply)) and not SYMPATHY.search(reply)
    return bool(SYMPATHY.search(reply)) and not CHEER.search(reply)


def fact_verdict(reply: str, answer: str) -> str:
    if re.search(answer, reply, re.I):
        return "right"
    return "unsure" if HONEST.search(reply) else "made up"


def same(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def replies(model: DialogueModel, prompts: list[str], config: GenerationConfig,
            seed: int = 0) -> tuple[list[str], list[float]]:
    """(one reply to each prompt as a first message, the seconds to each reply's first text); each prompt sampled
    with `seed` + its position."""
    texts, waits = [], []
    for k, prompt in enumerate(prompts):
        seeded = dataclasses.replace(config, seed=seed + k)
        started, pieces, first = time.perf_counter(), [], None
        for piece in model.stream(prompt, config=seeded):
            first = first or time.perf_counter() - started
            pieces.append(piece)
        texts.append("".join(pieces).strip())
        waits.append(first or time.perf_counter() - started)
    return texts, waits


def conversation(model: DialogueModel, prompts: list[str], config: GenerationConfig, seed: int = 0) -> list[str]:
    """The replies to the prompts said one after the other in one conversation, each after the turns before it."""
    history: list[tuple[str, str]] = []
    for k, prompt in enumerate(prompts):
        history.append((prompt, model.reply(prompt, history, config=dataclasses.replace(config, seed=seed + k))))
    return [reply for _, reply in history]


def run(model: DialogueModel, config: GenerationConfig, dev: bool, seed: int = 0) -> tuple[list, dict]:
    moods = read_set("dev_moods.tsv" if dev else "moods.tsv")
    facts = read_set("dev_facts.tsv" if dev else "facts.tsv")
    requests = [] if dev else [line[0] for line in read_set("requests.txt")]
    chat = [line[0] for line in read_set("dev_chat.txt")] if dev else \
        [line.strip() for line in PROMPTS.read_text().splitlines() if line.strip()]
    prompts = [m for m, _ in moods] + [q for q, _ in facts] + requests + chat
    model.reply(prompts[0], config=config)  # the persona's prompt read once, as after the robot's first reply
    texts, waits = replies(model, prompts, config, seed)
    said = dict(zip(prompts, texts))
    fit = [fits_mood(said[m], mood) for m, mood in moods]
    verdicts = Counter(fact_verdict(said[q], a) for q, a in facts)
    honest = [bool(HONEST.search(said[r])) for r in requests]
    counts = Counter(same(t) for t in texts)
    pairs = sum(n * (n - 1) // 2 for n in counts.values())
    talk = conversation(model, prompts, config, seed)
    in_talk = dict(zip(prompts, talk))
    talk_fit = [fits_mood(in_talk[m], mood) for m, mood in moods]
    copied = [r for k, r in enumerate(talk) if same(r) in {same(t) for t in talk[max(0, k - RECENT_REPLIES):k]}]
    rows = [(f"replies that fit the mood ({len(moods)} news and feelings prompts, word check)",
             f"{sum(fit)}/{len(fit)} ({sum(fit) / len(fit):.0%})", ">= 85%"),
            (f"pairs of identical replies to different prompts ({len(prompts)} prompts)", str(pairs), "0"),
            (f"plain facts ({len(facts)}): right / honestly unsure / made up",
             " / ".join(f"{verdicts[v]} ({verdicts[v] / len(facts):.0%})" for v in ("right", "unsure", "made up")),
             "right >= base zero-shot, made up <= 5%")]
    if requests:
        rows.append((f"requests it cannot do or know ({len(requests)}), honest by the keyword check",
                     f"{sum(honest)}/{len(honest)}", ">= 90%"))
    rows += [(f"the same prompts as one conversation: replies that fit the mood ({len(moods)})",
              f"{sum(talk_fit)}/{len(talk_fit)} ({sum(talk_fit) / len(talk_fit):.0%})", ">= 85%"),
             (f"the same conversation: replies identical to one of the {RECENT_REPLIES} before it", str(len(copied)),
              "0")]
    rows.append((f"wait for the reply's first text, p50 / p90 ({len(prompts)} first messages)",
                 f"{1000 * statistics.median(waits):.0f} / {1000 * percentile(waits, 90):.0f} ms", "<= 400 ms"))
    details = {"moods": [(m, mood, said[m], f) for (m, mood), f in zip(moods, fit)],
               "facts": [(q, said[q], fact_verdict(said[q], a)) for q, a in facts],
               "requests": [(r, said[r], h) for r, h in zip(requests, honest)],
               "chat": [(c, said[c]) for c in chat],
               "repeats": [t for t, n in counts.items() if n > 1],
               "conversation": list(zip(prompts, talk)), "copied": copied}
    return rows, details


def blind_sheet(first: Path, second: Path, sheet: Path) -> None:
    """Both files' chit-chat replies in one shuffled sheet, the model of each line hidden in a key file beside
    it; the judge writes y or n in the first column."""
    lines = []
    for name in (first, second):
        for prompt, reply in json.loads(name.read_text())["chat"]:
            lines.append((name.stem, prompt, reply))
    random.Random(26).shuffle(lines)
    sheet.write_text("".join(f"?\t{k}\t{p}\t{r}\n" for k, (_, p, r) in enumerate(lines)))
    sheet.with_suffix(".key.json").write_text(json.dumps([m for m, _, _ in lines]))
    print(f"{len(lines)} replies to judge in {sheet} (first column: y sensible, n not)")


def count_verdicts(sheet: Path) -> None:
    key = json.loads(sheet.with_suffix(".key.json").read_text())
    judged: dict[str, Counter] = {}
    for line in sheet.read_text().splitlines():
        verdict, k = line.split("\t")[:2]
        judged.setdefault(key[int(k)], Counter())[verdict] += 1
    for model, counts in judged.items():
        print(f"{model}: {counts['y']}/{sum(counts.values())} judged sensible")


def kept_facts(base: Path, model: Path) -> None:
    """Of the facts the base answered right zero-shot, those the model still answers right."""
    verdicts = [{q: v for q, _, v in json.loads(name.read_text())["facts"]} for name in (base, model)]
    known = [q for q, v in verdicts[0].items() if v == "right"]
    lost = [q for q in known if verdicts[1][q] != "right"]
    print(f"{model.stem} keeps {len(known) - len(lost)} of the {len(known)} facts {base.stem} answered right; "
          f"lost: {lost}; gained: {sum(v == 'right' for v in verdicts[1].values()) - len(known) + len(lost)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=SHIPPED_MODELS / "dialogue")
    parser.add_argument("--base", action="store_true", help="the model's pretrained base, zero-shot")
    defaults = GenerationConfig()
    parser.add_argument("--candidates", type=int, default=defaults.candidates)
    parser.add_argument("--generic-weight", type=float, default=defaults.generic_weight)
    parser.add_argument("--temperature", type=float, default=defaults.temperature)
    parser.add_argument("--dev", action="store_true", help="the development prompts, to choose settings on")
    parser.add_argument("--seed", type=int, default=0, help="added to each prompt's seed (its position): another "
                        "draw of the same prompts, to see how much one sample a prompt moves")
    parser.add_argument("--save", type=Path, help="write every reply and verdict to this JSON file")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch and the dialogue engine)")
    parser.add_argument("--blind", type=Path, nargs=2, metavar="REPLIES", help="two --save files to judge blind")
    parser.add_argument("--sheet", type=Path, default=Path("blind.tsv"))
    parser.add_argument("--verdicts", type=Path, help="a judged sheet: count the verdicts per model")
    parser.add_argument("--kept", type=Path, nargs=2, metavar=("BASE", "MODEL"),
                        help="two --save files: which of the base's right facts the model keeps")
    args = parser.parse_args()
    if args.kept:
        return kept_facts(*args.kept)
    if args.blind:
        return blind_sheet(*args.blind, args.sheet)
    if args.verdicts:
        return count_verdicts(args.verdicts)
    import torch

    torch.set_num_threads(args.threads)
    config = GenerationConfig(temperature=args.temperature, candidates=args.candidates,
                              generic_weight=args.generic_weight)
    with tempfile.TemporaryDirectory() as tmp:
        model = DialogueModel(base_folder(args.model, Path(tmp)) if args.base else args.model, progress=False)
    rows, details = run(model, config, args.dev, args.seed)
    print(f"\nlistening benchmark: {'base zero-shot of ' if args.base else ''}{args.model}, {args.candidates} "
          f"candidates, generic weight {args.generic_weight}, temperature {args.temperature}, {args.threads} threads, "
          f"{'development' if args.dev else 'held-out'} prompts, seed {args.seed}, {time.strftime('%Y-%m-%d %H:%M')}")
    print_table(rows)
    for kind in ("moods", "facts", "requests"):
        print(f"\n{kind}:")
        for item in details[kind]:
            print("  " + " | ".join(map(str, item)))
    print("\nrepeated:", details["repeats"])
    print("copied in the conversation:", details["copied"])
    if args.save:
        args.save.write_text(json.dumps(details | {"rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
