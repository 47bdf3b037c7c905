"""Voice benchmark: held-out spoken requests (espeak-ng, several voices and rates, paraphrases that are not
intent examples) streamed through the endpointer and each recogniser as a microphone would deliver them, real
human recordings (benchmarks/data/human), and the reply voice.

For each backend: word error rate without and with the adaptation to the intents (pocketsphinx: general vs
adapted language model; Whisper: without vs with the intents' prompt), intent accuracy from speech vs from the
same text, real-time factor, and the latency from the end of speech to the first reply audio (the endpointer's
hang-over, whatever decoding is left after it, the intent, and the reply's first sentence spoken), with the
audio after the end of speech delivered in real time. For the web page's microphone (pieces of a quarter of a
second at 48 kHz, Stop clicked half a second after the speech ends): the time from Stop to the transcript.

    python benchmarks/voice.py [--requests benchmarks/data/voice_requests.tsv] [--threads 2]
                               [--backends whisper pocketsphinx] [--whisper-model base] [--errors]
    python benchmarks/voice.py --requests benchmarks/data/voice_dev.tsv --windows 30 25 20 15 12
    python benchmarks/voice.py --requests benchmarks/data/voice_dev.tsv --doubts 0 2 4 6 100

`--windows`: only Whisper's WER and decoding time for each encoder window (seconds) on the requests (in the
benchmark's voices and in the default reply voice) and the real recordings, cut from their silence as `robot
voice` passes them; for choosing `WhisperOptions.window_seconds` on the development requests. `--doubts`: the
same sets heard by Moonshine with Whisper for what the intent model doubts, for choosing
`VoiceOptions.doubt_below`.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from report import percentile, print_table, scratch

os.environ["ROBOT_HOME"] = scratch("robot-bench-")
os.environ["ROBOT_DIALOGUE"] = "off"  # the targets are for the intent path

import numpy as np  # noqa: E402
import torch  # noqa: E402

from robot.brain import Session  # noqa: E402
from robot.intents.annotations import plain_text  # noqa: E402
from robot.service import load_robot  # noqa: E402
from robot.speech.audio import SAMPLE_RATE, load, resample, to_int16  # noqa: E402
from robot.speech.endpoint import trim_silence  # noqa: E402
from robot.speech.recognizers import BACKENDS  # noqa: E402
from robot.speech.tts import Voice, synthesize, synthesize_stream  # noqa: E402
from robot.speech.wer import word_error_rate  # noqa: E402
from robot.speech.whisper import WhisperOptions  # noqa: E402
from robot.voice.listen import Listener  # noqa: E402
from robot.voice.recording import StreamedRecording  # noqa: E402
from robot.voice.voice_robot import VoiceOptions, VoiceRobot, make_recognizer  # noqa: E402

HERE = Path(__file__).resolve().parent
HUMAN = HERE / "data" / "human"
VOICES = [Voice("en-us", 150), Voice("en-us+f2", 165), Voice("en-us+m4", 135), Voice("en-us", 175),
          Voice("en-us+f2", 130), Voice("en-us+m4", 160)]
ROOM_NOISE = 10 ** (-60 / 20)  # a quiet room through a decent microphone: -60 dBFS
BLOCK = int(0.03 * SAMPLE_RATE)
BROWSER_RATE, PIECE = 48000, 0.25  # the web page's microphone: what browsers record at, seconds per piece
STOP_AFTER = 0.5  # seconds from the end of speech to the click on Stop: a quick user
REPLY_WORDS = (8, 12)  # "a 10-word reply": the default intents' responses of about that length


def read_tsv(path: Path) -> list[list[str]]:
    return [[f.strip() for f in line.split("\t")] for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def stream_of(speech: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """0.5 s of room, the request, 1.5 s of room; and the sample where the speech really ends."""
    lead, tail = np.zeros(SAMPLE_RATE // 2, np.float32), np.zeros(int(1.5 * SAMPLE_RATE), np.float32)
    signal = np.concatenate([lead, speech, tail])
    signal += ROOM_NOISE * np.random.default_rng(seed).standard_normal(signal.size).astype(np.float32)
    voiced = np.nonzero(np.abs(speech) > 0.01)[0]
    return signal, lead.size + int(voiced[-1])


def run(voice: VoiceRobot, streams: list[tuple[np.ndarray, int]]) -> list[dict]:
    """Each stream through a Listener in 30 ms blocks, answered and its first sentence spoken, as `robot voice`
    does (it plays that sentence while it makes the next). Up to the end of speech the blocks come as fast as
    they are taken; from there on at the pace of a microphone, so that what the recogniser does while the
    endpointer waits out its window counts as it would live. Latency: from the end of speech to the first
    reply audio, in wall-clock time."""
    results = []
    for signal, speech_end in streams:
        listener, texts, row = Listener(voice), [], {"decode": 0.0, "audio": 0.0, "early": False}
        ended = None  # the wall-clock moment the speech ended
        for start in range(0, signal.size, BLOCK):
            if start + BLOCK > speech_end:
                ended = ended or time.perf_counter() - (start - speech_end) / SAMPLE_RATE
                time.sleep(max(0.0, ended + (start + BLOCK - speech_end) / SAMPLE_RATE - time.perf_counter()))
            for heard in listener.feed(signal[start:start + BLOCK]):
                texts.append(heard.transcript.text)
                row["decode"] += heard.transcript.seconds
                row["audio"] += heard.transcript.audio_seconds
                answer = voice.answer(heard.transcript, Session())
                if answer.speech is not None:
                    next(answer.speech)
                row.update(processing=time.perf_counter() - heard.end_detected, intent=answer.reply.intent,
                           source=answer.reply.source, early=heard.early)
                if ended is not None:
                    row["latency"] = time.perf_counter() - ended
            if "latency" in row:
                break
        row["text"] = " ".join(t for t in texts if t)
        results.append(row)
    return results


def browser_rows(name: str, voice: VoiceRobot, streams: list[tuple[np.ndarray, int]],
                 references: list[str]) -> list[tuple]:
    """Each stream as the web page's microphone sends it (`StreamedRecording`): pieces up to the end of speech
    as fast as they are taken, then at a microphone's pace until Stop, `STOP_AFTER` seconds later; measured
    from Stop to the transcript."""
    guesses, waits, early, texts = ThreadPoolExecutor(1), [], [], []
    piece = int(PIECE * BROWSER_RATE)
    for signal, speech_end in streams:
        pcm, end = to_int16(resample(signal, SAMPLE_RATE, BROWSER_RATE)), speech_end * BROWSER_RATE // SAMPLE_RATE
        stop = end + int(STOP_AFTER * BROWSER_RATE)
        recording, ended = StreamedRecording(voice, guesses), None
        for start in range(0, stop - piece + 1, piece):
            if start + piece > end:  # a piece is sent once it is recorded
                ended = ended or time.perf_counter() - (start - end) / BROWSER_RATE
                time.sleep(max(0.0, ended + (start + piece - end) / BROWSER_RATE - time.perf_counter()))
            recording.add(BROWSER_RATE, pcm[start:start + piece])
        time.sleep(max(0.0, ended + STOP_AFTER - time.perf_counter()))
        clicked = time.perf_counter()
        transcript, was_early = recording.finish()
        waits.append(time.perf_counter() - clicked)
        early.append(was_early)
        texts.append(transcript.text)
    return [(f"{name}, web microphone: WER", f"{word_error_rate(references, texts):.1%}", ""),
            (f"{name}, web microphone: Stop ({STOP_AFTER:g} s after the speech) -> transcript, p50",
             f"{1000 * percentile(waits, 50):.0f} ms", ""),
            (f"{name}, web microphone: the same, p90", f"{1000 * percentile(waits, 90):.0f} ms", ""),
            ("  recordings transcribed before Stop (at their last pause)", f"{np.mean(early):.0%}", "")]


def backend_rows(name: str, robot, requests: list[tuple[str, str]], voices: list[Voice],
                 streams: list[tuple[np.ndarray, int]], whisper: WhisperOptions, errors: bool) -> list[tuple]:
    references, truth = [s for _, s in requests], [i for i, _ in requests]
    general = run(VoiceRobot(robot, VoiceOptions(backend=name, whisper=whisper, general=True, speak=False)), streams)
    adapted = run(VoiceRobot(robot, VoiceOptions(backend=name, whisper=whisper)), streams)
    hypotheses = [r["text"] for r in adapted]
    speech_accuracy = np.mean([r.get("intent") == t for r, t in zip(adapted, truth)])
    rtf = sum(r["decode"] for r in adapted) / sum(r["audio"] for r in adapted)
    intent_path = [r for r in adapted if r.get("source") in ("template", "action") and "latency" in r]
    latency = [r["latency"] for r in intent_path]
    processing = [r["processing"] for r in intent_path]
    early = np.mean([r["early"] for r in adapted])
    unadapted = "no prompt" if name == "whisper" else "general language model"
    rows = [(f"{name}: WER, {unadapted}", f"{word_error_rate(references, [r['text'] for r in general]):.1%}", ""),
            (f"{name}: WER, adapted", f"{word_error_rate(references, hypotheses):.1%}", "<= 5%")]
    for voice in sorted({v.name for v in voices}):
        picked = [k for k, v in enumerate(voices) if v.name == voice]
        wer = word_error_rate([references[k] for k in picked], [hypotheses[k] for k in picked])
        rows.append((f"  adapted WER, voice {voice} ({len(picked)} requests)", f"{wer:.1%}", ""))
    rows += [
        (f"{name}: intent accuracy from speech", f"{speech_accuracy:.1%}", "within 2 points of text"),
        (f"{name}: real-time factor (decoding)", f"{rtf:.3f}", ""),
        (f"{name}: end of speech -> first reply audio, p50", f"{1000 * percentile(latency, 50):.0f} ms", "<= 700 ms"),
        (f"{name}: end of speech -> first reply audio, p90", f"{1000 * percentile(latency, 90):.0f} ms", ""),
        ("  of which after the endpointer's decision, p50", f"{1000 * percentile(processing, 50):.0f} ms", ""),
    ]
    if name == "whisper":
        rows.append(("  requests whose transcript was started at the final pause", f"{early:.0%}", ""))
    rows += browser_rows(name, VoiceRobot(robot, VoiceOptions(backend=name, whisper=whisper, speak=False)), streams,
                         references)
    if errors:
        for (intent, sentence), r, v in zip(requests, adapted, voices):
            mark = "" if r.get("intent") == intent else f"   [intent {r.get('intent')} != {intent}]"
            if r["text"] != sentence or mark:
                print(f"{name} {v.name}@{v.words_per_minute}: {sentence!r} -> {r['text']!r}{mark}")
    return rows


def choice_sets(requests: list[tuple[str, str]], streams: list[tuple[np.ndarray, int]]) \
        -> dict[str, tuple[list[np.ndarray], list[str]]]:
    """What a recogniser's setting is chosen on, cut from their silence as `robot voice` passes them: the requests
    in the benchmark's voices, in the default reply voice (a clean neural voice), and the real recordings."""
    references = [s for _, s in requests]
    recordings = read_tsv(HUMAN / "transcripts.tsv")
    return {"requests": ([trim_silence(signal) for signal, _ in streams], references),
            "requests, default voice": ([trim_silence(stream_of(synthesize(s, Voice()), k)[0])
                                         for k, s in enumerate(references)], references),
            f"real recordings ({len(recordings)})": ([trim_silence(load(HUMAN / f)) for _, f, _ in recordings],
                                                     [t for _, _, t in recordings])}


def window_rows(robot, requests: list[tuple[str, str]], streams: list[tuple[np.ndarray, int]],
                whisper: WhisperOptions, windows: list[float]) -> list[tuple]:
    """WER and decoding time p50 of Whisper, primed with the intents, for each encoder window (`choice_sets`)."""
    sets = choice_sets(requests, streams)
    rows = []
    for seconds in windows:
        recognizer = make_recognizer(VoiceOptions(backend="whisper", whisper=replace(whisper, window_seconds=seconds)),
                                     robot.brain.folder, robot.brain.data)
        recognizer.transcribe(sets["requests"][0][0])  # warm
        for name, (utterances, said) in sets.items():
            heard = [recognizer.transcribe(u) for u in utterances]
            rows.append((f"window {seconds:g} s, {name}: WER / decoding p50",
                         f"{word_error_rate(said, [t.text for t in heard]):.1%} / "
                         f"{1000 * percentile([t.seconds for t in heard], 50):.0f} ms", ""))
    return rows


def doubt_rows(robot, requests: list[tuple[str, str]], streams: list[tuple[np.ndarray, int]],
               whisper: WhisperOptions, factors: list[float]) -> list[tuple]:
    """Moonshine as `robot voice` hears with it, for each `VoiceOptions.doubt_below` (0: only what Moonshine is
    unsure of goes to Whisper): WER, the share heard again by Whisper and decoding p50 (`choice_sets`)."""
    sets = choice_sets(requests, streams)
    rows = []
    for factor in factors:
        voice = VoiceRobot(robot, VoiceOptions(backend="moonshine", whisper=whisper, doubt_below=factor, speak=False))
        voice.transcribe(sets["requests"][0][0])  # warm, Whisper built
        for name, (utterances, said) in sets.items():
            heard = [voice.transcribe(u) for u in utterances]
            again = np.mean([t.backend.endswith("+whisper") for t in heard])
            rows.append((f"doubted under {factor:g} x threshold, {name}: WER / Whisper's pass / decoding p50",
                         f"{word_error_rate(said, [t.text for t in heard]):.1%} / {again:.0%} / "
                         f"{1000 * percentile([t.seconds for t in heard], 50):.0f} ms", ""))
    return rows


def human_rows(robot, backends: list[str], whisper: WhisperOptions) -> list[tuple]:
    """WER on each source of real recordings, every backend adapted to the default intents as `robot voice` hears
    (these are not requests to the robot: the adaptation is measured where it does not help)."""
    recordings = read_tsv(HUMAN / "transcripts.tsv")
    rows = []
    for name in backends:
        voice = VoiceRobot(robot, VoiceOptions(backend=name, whisper=whisper, speak=False))
        for source in dict.fromkeys(s for s, _, _ in recordings):
            picked = [(file, text) for s, file, text in recordings if s == source]
            heard = [voice.transcribe(load(HUMAN / file)).text for file, _ in picked]
            rows.append((f"{name}: WER, real recordings, {source} ({len(picked)})",
                         f"{word_error_rate([t for _, t in picked], heard):.1%}", "reported"))
    return rows


def reply_voice_rows(robot, voice: Voice) -> list[tuple]:
    """Time to the first audio of a reply of about ten words with the default voice (the loop plays the
    first sentence while it makes the rest), and all of it."""
    replies = [r for i in robot.brain.data.intents for r in i.responses
               if REPLY_WORDS[0] <= len(r.split()) <= REPLY_WORDS[1] and "{" not in r]
    synthesize("Warming up.", voice)
    first, whole = [], []
    for reply in replies:
        began = time.perf_counter()
        stream = synthesize_stream(reply, voice)
        next(stream)
        first.append(time.perf_counter() - began)
        list(stream)
        whole.append(time.perf_counter() - began)
    return [(f"voice {voice.name}: first reply audio, {len(replies)} replies of {REPLY_WORDS[0]}-{REPLY_WORDS[1]} "
             "words, p50", f"{1000 * percentile(first, 50):.0f} ms", "<= 250 ms"),
            (f"voice {voice.name}: whole reply audio, p50", f"{1000 * percentile(whole, 50):.0f} ms", "")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=Path, default=HERE / "data" / "voice_requests.tsv")
    parser.add_argument("--threads", type=int, default=2, help="torch and CTranslate2 threads (default 2)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--whisper-model", default=WhisperOptions.model)
    parser.add_argument("--errors", action="store_true", help="print every misrecognised request")
    parser.add_argument("--windows", type=float, nargs="+", help="only Whisper's WER and decoding time for each "
                        "encoder window, in seconds")
    parser.add_argument("--doubts", type=float, nargs="+", help="only Moonshine's WER, Whisper's share and decoding "
                        "time for each doubt factor (VoiceOptions.doubt_below)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    whisper = WhisperOptions(model=args.whisper_model, threads=args.threads)

    robot = load_robot(seed=0)
    requests = [(intent, sentence) for intent, sentence in read_tsv(args.requests)]
    examples = {plain_text(e).casefold() for i in robot.brain.data.intents for e in i.examples}
    leaked = [s for _, s in requests if s.casefold() in examples]
    assert not leaked, f"held-out requests that are intent examples: {leaked}"
    voices = [VOICES[k % len(VOICES)] for k in range(len(requests))]
    began = time.perf_counter()
    streams = [stream_of(synthesize(s, v), k) for k, ((_, s), v) in enumerate(zip(requests, voices))]
    print(f"{len(requests)} requests, {len({v.name for v in voices})} voices, "
          f"{min(v.words_per_minute for v in voices)}-{max(v.words_per_minute for v in voices)} wpm, "
          f"synthesised in {time.perf_counter() - began:.1f} s")

    if args.windows:
        print_table(window_rows(robot, requests, streams, whisper, args.windows))
        return
    if args.doubts:
        print_table(doubt_rows(robot, requests, streams, whisper, args.doubts))
        return
    text_accuracy = np.mean([robot.respond(s, Session()).intent == i for i, s in requests])
    rows = [("intent accuracy from text", f"{text_accuracy:.1%}", "")]
    for name in args.backends:
        rows += backend_rows(name, robot, requests, voices, streams, whisper, args.errors)
    rows += human_rows(robot, args.backends, whisper)
    rows += reply_voice_rows(robot, Voice())
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {args.threads} threads, "
          f"Whisper {args.whisper_model}, {time.strftime('%Y-%m-%d')}")
    print_table(rows)


if __name__ == "__main__":
    main()
