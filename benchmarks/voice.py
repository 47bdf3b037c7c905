"""Voice benchmark: held-out spoken requests (espeak-ng, several voices and rates, paraphrases that are not
intent examples) streamed through the endpointer and pocketsphinx as a microphone would deliver them.

Reports word error rate with pocketsphinx's general language model vs the one adapted to the intents,
intent accuracy from speech vs from the same text, real-time factor, and the latency from the end of speech
to reply audio ready (the endpointer's hang-over plus decoding, intent and text-to-speech).

    python benchmarks/voice.py [--requests benchmarks/data/voice_requests.tsv] [--threads 1] [--errors]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ["ROBOT_HOME"] = tempfile.mkdtemp(prefix="robot-bench-")
os.environ["ROBOT_DIALOGUE"] = "off"  # the targets are for the intent path

import numpy as np  # noqa: E402
import torch  # noqa: E402
from report import percentile, print_table  # noqa: E402

from robot.brain import Session  # noqa: E402
from robot.intents.annotations import plain_text  # noqa: E402
from robot.service import load_robot  # noqa: E402
from robot.speech.audio import SAMPLE_RATE  # noqa: E402
from robot.speech.tts import Voice, synthesize  # noqa: E402
from robot.speech.wer import word_error_rate  # noqa: E402
from robot.voice.listen import Listener  # noqa: E402
from robot.voice.voice_robot import VoiceOptions, VoiceRobot  # noqa: E402

HERE = Path(__file__).resolve().parent
VOICES = [Voice("en-us", 150), Voice("en-us+f2", 165), Voice("en-us+m4", 135), Voice("en-us", 175),
          Voice("en-us+f2", 130), Voice("en-us+m4", 160)]
ROOM_NOISE = 10 ** (-60 / 20)  # a quiet room through a decent microphone: -60 dBFS
BLOCK = int(0.03 * SAMPLE_RATE)


def read_requests(path: Path) -> list[tuple[str, str]]:
    rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return [(intent.strip(), sentence.strip()) for intent, sentence in rows]


def stream_of(speech: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """0.5 s of room, the request, 1.5 s of room; and the sample where the speech really ends."""
    lead, tail = np.zeros(SAMPLE_RATE // 2, np.float32), np.zeros(int(1.5 * SAMPLE_RATE), np.float32)
    signal = np.concatenate([lead, speech, tail])
    signal += ROOM_NOISE * np.random.default_rng(seed).standard_normal(signal.size).astype(np.float32)
    voiced = np.nonzero(np.abs(speech) > 0.01)[0]
    return signal, lead.size + int(voiced[-1])


def run(voice: VoiceRobot, streams: list[tuple[np.ndarray, int]]) -> list[dict]:
    """Each stream through a Listener in 30 ms blocks, answered and spoken, as `robot voice` does."""
    results = []
    for signal, speech_end in streams:
        listener, texts, row = Listener(voice), [], {"decode": 0.0, "audio": 0.0}
        for start in range(0, signal.size, BLOCK):
            for heard in listener.feed(signal[start:start + BLOCK]):
                texts.append(heard.transcript.text)
                row["decode"] += heard.transcript.seconds
                row["audio"] += heard.transcript.audio_seconds
                answer = voice.answer(heard.transcript, Session())
                row.update(hangover=(heard.stream_position - speech_end) / SAMPLE_RATE,
                           processing=time.perf_counter() - heard.end_detected, intent=answer.reply.intent,
                           source=answer.reply.source)
        row["text"] = " ".join(t for t in texts if t)
        results.append(row)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=Path, default=HERE / "data" / "voice_requests.tsv")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--errors", action="store_true", help="print every misrecognised request")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    robot = load_robot(seed=0)
    requests = read_requests(args.requests)
    examples = {plain_text(e).casefold() for i in robot.brain.data.intents for e in i.examples}
    leaked = [s for _, s in requests if s.casefold() in examples]
    assert not leaked, f"held-out requests that are intent examples: {leaked}"
    voices = [VOICES[k % len(VOICES)] for k in range(len(requests))]
    began = time.perf_counter()
    streams = [stream_of(synthesize(s, v), k) for k, ((_, s), v) in enumerate(zip(requests, voices))]
    print(f"{len(requests)} requests, {len({v.name for v in voices})} voices, "
          f"{min(v.words_per_minute for v in voices)}-{max(v.words_per_minute for v in voices)} wpm, "
          f"synthesised in {time.perf_counter() - began:.1f} s")

    references = [s for _, s in requests]
    general = run(VoiceRobot(robot, VoiceOptions(general=True, speak=False)), streams)
    adapted = run(VoiceRobot(robot, VoiceOptions()), streams)
    hypotheses = [r["text"] for r in adapted]
    text_intents = [robot.respond(s, Session()).intent for s in references]
    truth = [i for i, _ in requests]
    text_accuracy = np.mean([p == t for p, t in zip(text_intents, truth)])
    speech_accuracy = np.mean([r.get("intent") == t for r, t in zip(adapted, truth)])
    rtf = sum(r["decode"] for r in adapted) / sum(r["audio"] for r in adapted)
    intent_path = [r for r in adapted if r.get("source") in ("template", "action")]
    latency = [r["hangover"] + r["processing"] for r in intent_path]
    processing = [r["processing"] for r in intent_path]

    rows = [
        ("WER, general language model", f"{word_error_rate(references, [r['text'] for r in general]):.1%}", ""),
        ("WER, adapted language model", f"{word_error_rate(references, hypotheses):.1%}", "<= 10%"),
    ]
    for name in sorted({v.name for v in voices}):
        picked = [k for k, v in enumerate(voices) if v.name == name]
        wer = word_error_rate([references[k] for k in picked], [hypotheses[k] for k in picked])
        rows.append((f"  adapted WER, voice {name} ({len(picked)} requests)", f"{wer:.1%}", ""))
    rows += [
        ("intent accuracy from text", f"{text_accuracy:.1%}", ""),
        ("intent accuracy from speech", f"{speech_accuracy:.1%}", "within 3 points of text"),
        ("real-time factor (decoding)", f"{rtf:.3f}", "<= 0.1"),
        ("end of speech -> reply audio ready, p50", f"{1000 * percentile(latency, 50):.0f} ms", "<= 700 ms"),
        ("end of speech -> reply audio ready, p90", f"{1000 * percentile(latency, 90):.0f} ms", ""),
        ("  of which after the endpointer's decision, p50", f"{1000 * percentile(processing, 50):.0f} ms", ""),
    ]
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {args.threads}, "
          f"{time.strftime('%Y-%m-%d')}")
    print_table(rows)
    if args.errors:
        print()
        for (intent, sentence), r, v in zip(requests, adapted, voices):
            mark = "" if r.get("intent") == intent else f"   [intent {r.get('intent')} != {intent}]"
            if r["text"] != sentence or mark:
                print(f"{v.name}@{v.words_per_minute}: {sentence!r} -> {r['text']!r}{mark}")


if __name__ == "__main__":
    main()
