"""Wiring: data files -> a trained, registered model version; the active version -> a running Robot."""

from __future__ import annotations

import os
import shlex
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from robot.atomic import write_folder_atomically
from robot.brain import Brain, Persona, Robot
from robot.dialogue.generate import DialogueFallback, DialogueModel
from robot.errors import InputError
from robot.intents import faq
from robot.intents.annotations import plain_text
from robot.intents.bundle import save_bundle
from robot.intents.compose import Composition, alone, builtin_intents, compose
from robot.intents.encoder import EncoderConfig, SentenceEncoder, export_pending, exports_pending, shared_encoder
from robot.intents.entity_train import train_entities
from robot.intents.evaluate import write_report
from robot.intents.formats import load_many
from robot.intents.negatives import with_generic_negatives
from robot.intents.schema import IntentData, one_label_per_text, raise_first_error
from robot.intents.spoken import adapt
from robot.intents.start import Start
from robot.intents.train import TrainConfig, pick_device, train_intents
from robot.language import ENGLISH, base_language, check_language
from robot.lifecycle import ModelRegistry, activate, training_lock
from robot.paths import ASSETS, DEFAULT_PERSONA, SHIPPED_MODELS
from robot.skills.webhook import WebhookPolicy
from robot.speech import whisper
from robot.speech.language_model import SPEECH_DIR, words_of
from robot.speech.tts import Voice, synthesize, voice_for
from robot.warmup import Job, dialogue_job
from robot.wheels import WheelMissing


def load_training_data(paths: list[str | Path], language: str | None = None) \
        -> tuple[IntentData, list[tuple[str, str]]]:
    """The files' data, checked, with one label per text and a language (`language`, else the one the files
    declare, else the one their script shows); and the (example, intent) pairs that rule left out."""
    data = load_many(paths, language)
    raise_first_error(data)
    return one_label_per_text(replace(data, language=data.language_or_detected()))


@dataclass(frozen=True)
class TrainResult:
    folder: Path
    version: str | None  # the registry version, when trained into the registry
    metrics: dict


def compose_files(paths: list[str | Path], language: str | None = None, replace_builtins: bool = False,
                  encoder: SentenceEncoder | None = None, training: bool = True) -> tuple[Composition, SentenceEncoder]:
    """The user's files (none: the built-in skills alone) with the built-in skills of their language
    (robot/intents/compose.py) unless `replace_builtins`, not yet checked; and the encoder of that language. For a
    `training`, the built-ins' out-of-scope examples close to the user's are left out (every example encoded)."""
    user = load_many(paths, language) if paths else IntentData([], language=language or ENGLISH, source="built-in")
    code = user.language or (user.language_or_detected() if user.intents else ENGLISH)  # `given` keeps it undeclared
    wanted = EncoderConfig.for_language(code)
    if encoder is None or encoder.config != wanted:
        encoder = shared_encoder(wanted)
    builtins = None if replace_builtins else builtin_intents(code)
    composition = compose(user, builtins, encoder if training else None) if builtins is not None else alone(user)
    composition.data = replace(composition.data, language=code)
    return composition, encoder


def train_intent_model(paths: list[str | Path], out: Path | None = None, device: str = "auto",
                       config: TrainConfig = TrainConfig(), encoder: SentenceEncoder | None = None,
                       registry: ModelRegistry | None = None, activate: bool = True,
                       progress: bool = False, language: str | None = None,
                       replace_builtins: bool = False) -> TrainResult:
    """Train on intent files, composed with the built-in skills unless `replace_builtins`. With `out`, write that
    folder; else add a registry version (and activate it). The data's language chooses the encoder: `encoder` is
    used when it is that one."""
    device = pick_device(device)
    composition, encoder = compose_files(paths, language, replace_builtins, encoder)
    raise_first_error(composition.data)
    data, conflicting = one_label_per_text(composition.data)
    if device != "cpu":
        encoder = shared_encoder(encoder.config, device)
    with ThreadPoolExecutor(1) as background:  # the recogniser's language model follows the intents; its
        speech = background.submit(adapt, data)  # pure-Python counting overlaps torch's training
        training_data, generic = with_generic_negatives(data, encoder)
        start = builtin_start(data.language, encoder, config, registry or ModelRegistry("intents")) \
            if config.start_from_builtins and composition.with_builtins and composition.user else None
        trained = train_intents(training_data, encoder, config, device=device, progress=progress, start=start)
        classifier, metrics, report = trained.classifier, trained.metrics, trained.report
        metrics["generic_negatives"] = generic
        metrics["conflicting_examples_left_out"] = [{"example": t, "intent": i} for t, i in conflicting]
        metrics["composition"] = composition.summary()
        tagger, metrics["entities"] = train_entities(data, encoder)
        faq_threshold = faq.calibrate(data, encoder)
        speech = speech.result()
    metrics["speech"] = speech.summary()
    yours = {w for i in composition.given.intents for e in i.examples for w in words_of(plain_text(e))}
    metrics["speech"]["unpronounceable"] = [w for w in metrics["speech"]["unpronounceable"] if w in yours]
    metrics["language"] = data.language
    metrics["faq"] = {"questions": len(data.faq), "threshold": faq_threshold} if data.faq else None
    command = "robot " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["train"] else \
        "robot train intents " + " ".join(f"--data {shlex.quote(str(p))}" for p in paths)

    def write(folder: Path) -> None:
        save_bundle(folder, classifier, data, metrics, command, tagger, given=composition.given)
        faq.save_threshold(folder, faq_threshold)
        speech.save(folder / SPEECH_DIR)
        if composition.with_builtins and not composition.user and trained.start is not None:
            trained.start.save(folder)  # the built-in skills alone: what composed trainings start from
        write_report(report, folder / "report", focus=set(composition.user) if composition.with_builtins else None)

    if out is not None:
        return TrainResult(write_folder_atomically(out, write), None, metrics)
    registry = registry or ModelRegistry("intents")
    name = registry.add(write)
    if activate:
        registry.activate(name)
    return TrainResult(registry.path(name), name, metrics)


def builtin_start(language: str, encoder: SentenceEncoder, config: TrainConfig, registry: ModelRegistry) \
        -> Start | None:
    """The heads of the built-in skills of `language` trained alone, for a composed training to start from: the
    newest such model with its folds (the shipped English one; another language's first use trains one)."""
    try:
        versions = registry.list()
    except InputError:  # an unreadable active-model file is for `robot models` to report: start from scratch
        return None
    for version in reversed(versions):
        composition = version.metrics.get("composition") or {}
        if base_language(version.metrics.get("language", ENGLISH)) == base_language(language) \
                and composition.get("with_builtins") and not composition.get("user_intents"):
            start = Start.load(version.path, encoder, config.hidden)
            if start is not None:
                return start
    return None


def train_version(paths: list[Path], registry: ModelRegistry, robot: Robot | None = None,
                  progress: bool = False, language: str | None = None, replace_builtins: bool = False) -> TrainResult:
    """Train a new (inactive) version from intent files under the training lock (the web's Train button)."""
    with training_lock("intents", registry.home):
        encoder = robot.brain.classifier.encoder if robot is not None else None
        return train_intent_model(paths, device="auto", encoder=encoder, registry=registry, activate=False,
                                  progress=progress, language=language, replace_builtins=replace_builtins)


def ensure_default_model(progress: bool = True) -> None:
    """Build the shipped default intent model from assets/ if a checkout lacks it."""
    if not (SHIPPED_MODELS / "intents" / "model.safetensors").exists():
        print("Building the default intent model (first start only)…", file=sys.stderr)
        train_intent_model([], out=SHIPPED_MODELS / "intents", device="cpu", progress=progress)  # the built-ins


def load_persona() -> Persona:
    return Persona.load(DEFAULT_PERSONA)


def load_personas() -> dict[str, Persona]:
    """The shipped personas of languages other than English, by language code."""
    return {code: Persona.load(folder / "persona.yaml") for code, folder in shipped_languages().items()}


def shipped_languages() -> dict[str, Path]:
    """Languages with a default persona besides English: assets/<code>/ (intents.yaml and persona.yaml)."""
    return {p.name: p for p in sorted(ASSETS.iterdir()) if (p / "persona.yaml").is_file()}


def use_language(registry: ModelRegistry, language: str, progress: bool = True) -> str:
    """Make an intent model in `language` active, unless the active one is: the newest version in it, else the
    shipped intents of that language trained into a new version (once, a few seconds). Returns its name."""
    language = base_language(check_language(language))
    versions = registry.list()  # versions from before languages were recorded are English
    same = [v for v in versions if base_language(v.metrics.get("language", ENGLISH)) == language]
    if any(v.active for v in same):
        return registry.active_name()
    if same:
        name = same[-1].name
    else:
        shipped = shipped_languages()
        if language not in shipped:
            raise InputError(f"no intents in {language!r} to serve: train some with `robot train intents --data "
                             f"FILE --language {language}` (shipped: en, {', '.join(shipped)})")
        print(f"Training the default {language} intents (first use only)…", file=sys.stderr)
        with training_lock("intents", registry.home):
            name = train_intent_model([], registry=registry, activate=False, progress=progress,
                                      language=language).version  # that language's built-in skills
    activate(registry, name)
    return name


def load_robot(registry: ModelRegistry | None = None, device: str = "cpu", seed: int | None = None,
               language: str | None = None, dialogue: bool = True, webhooks: WebhookPolicy = WebhookPolicy()) -> Robot:
    """The robot on the active intent model (with `language`: first made one in that language, see
    `use_language`), the dialogue model for English out-of-scope turns (with `dialogue`; else the persona's lines
    until `warmup_jobs` or `install_dialogue` brings it), and a persona per shipped language."""
    ensure_default_model()
    registry = registry or ModelRegistry("intents")
    if language is not None:
        use_language(registry, language)
    brain = Brain.load(registry.active_path(), registry.active_name(), device=device)
    persona = load_persona()
    fallback = load_dialogue_fallback(persona) if dialogue else None
    return Robot(brain, persona, fallback=fallback, seed=seed, personas=load_personas(), webhooks=webhooks)


def dialogue_wanted() -> bool:
    return os.environ.get("ROBOT_DIALOGUE", "on") != "off"


def install_dialogue(robot: Robot) -> None:
    """Give a robot loaded without it its dialogue model now (converted into the cache first, if need be)."""
    robot.fallback = load_dialogue_fallback(robot.persona) or robot.fallback


# Said once in the background, so that the first reply spoken does not wait for the voice's weights (1 s) and
# for what reads numbers aloud (inflect's import: 2 s)
VOICE_WARMUP = {ENGLISH: "R2 came 1st at 10:30, 15% ahead.", "zh": "R2在10:30排第1名，领先15%。"}


def warmup_jobs(robot: Robot, whisper_model: str | None = None, whisper_first: bool = False,
                voice: Voice | None = None) -> list[Job]:
    """The background jobs of a robot loaded without its dialogue model (robot/warmup.py): the sentence encoder's
    ONNX export (a first start, with `export_later`), that model, the named Whisper model's weights (for a
    robot that listens; `whisper_first` when every turn needs them) and the reply `voice` (for one that speaks)."""
    jobs = [Job("encoder", "the sentence encoder's ONNX export", export_pending)] if exports_pending() else []
    jobs += [dialogue_job(robot, lambda: load_dialogue_fallback(robot.persona))] if dialogue_wanted() else []
    if whisper_model in whisper.WHISPER_MODELS and whisper.installed(whisper_model):
        job = Job("whisper", f"Whisper {whisper_model}'s weights", lambda: whisper.model_folder(whisper_model))
        jobs.insert(0 if whisper_first else len(jobs), job)
    if voice is not None:  # last: its imports hold the interpreter for 2 s, which a first answer must not wait for
        language = base_language(robot.brain.language)
        jobs.append(Job("voice", "the reply voice", lambda: synthesize(
            VOICE_WARMUP.get(language, VOICE_WARMUP[ENGLISH]), voice_for(language, voice), language)))
    return jobs


def load_dialogue_fallback(persona: Persona, registry: ModelRegistry | None = None) -> DialogueFallback | None:
    """The active dialogue model as the fallback; None (canned persona lines) with ROBOT_DIALOGUE=off, or
    with one warning when its pretrained base is not installed."""
    if not dialogue_wanted():
        return None
    registry = registry or ModelRegistry("dialogue")
    try:
        return DialogueFallback(DialogueModel(registry.active_path()), persona.description)
    except WheelMissing as exc:
        print(f"warning: {exc}; out-of-scope messages get the persona's fixed replies", file=sys.stderr)
        return None
