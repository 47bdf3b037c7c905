"""The reply voices side by side (issue #27): for each, the time to load it, to synthesise a reply of about ten
words (first audio and the whole reply, at one thread by default), and how well Whisper understands it (the
round-trip word error rate on the same replies, prepared for speech as the robot says them).

    python benchmarks/voices.py [--threads 1] [--voices hibari joe en-us]
"""

from __future__ import annotations

import argparse
import os
import time

from report import percentile, print_table, scratch

os.environ.setdefault("ROBOT_HOME", scratch("robot-voices-"))

import torch  # noqa: E402

from robot.intents.compose import builtin_intents  # noqa: E402
from robot.speech.neural_voice import NEURAL_VOICES, neural_voice  # noqa: E402
from robot.speech.recognizers import transcribe_utterance  # noqa: E402
from robot.speech.spoken_text import for_speech  # noqa: E402
from robot.speech.tts import Voice, synthesize, synthesize_stream  # noqa: E402
from robot.speech.wer import word_error_rate  # noqa: E402
from robot.speech.whisper import WhisperOptions, WhisperRecognizer  # noqa: E402

REPLY_WORDS = (8, 12)
EXTRA = ["It's 14:50.", "10 miles is 16.09 kilometers.", "Today is Friday 25 December 2026.", "That's 15%.",
         "Christmas is in 23 days."]  # replies with numbers, as the robot's actions fill them


def replies() -> list[str]:
    data = builtin_intents("en")
    said = [r for i in data.intents for r in i.responses if REPLY_WORDS[0] <= len(r.split()) <= REPLY_WORDS[1]
            and "{" not in r]
    return said + EXTRA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--voices", nargs="+", default=[*NEURAL_VOICES, "en-us"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = replies()
    hearing = WhisperRecognizer(WhisperOptions(model="base", threads=args.threads), None)
    rows = []
    for name in args.voices:
        began = time.perf_counter()
        if name in NEURAL_VOICES:
            neural_voice(name)
        loaded = time.perf_counter() - began
        synthesize("Warming up.", Voice(name))
        first, whole, heard, seconds = [], [], [], 0.0
        for text in texts:
            began = time.perf_counter()
            stream = synthesize_stream(text, Voice(name))
            pieces = [next(stream)]
            first.append(time.perf_counter() - began)
            pieces += list(stream)
            whole.append(time.perf_counter() - began)
            audio = torch.cat([torch.from_numpy(p) for p in pieces]).numpy()
            seconds += audio.size / 16000
            heard.append(transcribe_utterance(hearing, audio).text)
        wer = word_error_rate([for_speech(t) for t in texts], heard)
        rows += [(f"{name}: load", f"{loaded:.2f} s", ""),
                 (f"{name}: {len(texts)} replies of {REPLY_WORDS[0]}-{REPLY_WORDS[1]} words, first audio p50",
                  f"{1000 * percentile(first, 50):.0f} ms", ""),
                 (f"{name}: whole reply p50 ({seconds / sum(whole):.0f}x real time)",
                  f"{1000 * percentile(whole, 50):.0f} ms", "<= 100 ms (default voice)"),
                 (f"{name}: round-trip WER (Whisper base)", f"{wer:.1%}", "")]
    print(f"\nreply voices, {args.threads} thread(s), {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    print_table(rows)


if __name__ == "__main__":
    main()
