"""The Train and Models tabs: bring intents (upload or edit), validate, train in the background while
the chat keeps answering, read the report beside the model in use, activate with one click, roll back."""

from __future__ import annotations

import csv
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from robot.brain import Robot
from robot.errors import InputError
from robot.feedback import FeedbackStore
from robot.intents.bundle import conflicts_note
from robot.intents.encoder import EncoderConfig, shared_encoder
from robot.intents.formats import INPUT_SUFFIXES, load_intents, parse_native_yaml, to_native_yaml
from robot.intents.lint import all_problems
from robot.intents.negatives import negatives_note
from robot.intents.schema import OOS_LABELS, Intent
from robot.language import check_language
from robot.lifecycle import SUMMARY, ModelRegistry, activate, format_value, summary
from robot.paths import keep_newest, robot_home
from robot.service import train_version
from robot.userfiles import read_limited
from robot.web.guard import PageGuard

DETECT = "from the examples"
LANGUAGES = ("en", "zh", "ja", "ko", "fr", "de", "es", "it", "pt", "ru", "ar", "hi")  # offered; any code is accepted
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
UPLOADS_KEPT = 50  # intents files kept under $ROBOT_HOME/uploads (each trained model keeps its own copy)
PROBLEM_HEADERS = ["severity", "line", "field", "message"]
COMPARED = [("measured on", "held_out"), ("in-scope accuracy", "in_scope_accuracy"),
            ("out-of-scope recall", "oos_recall"), ("macro F1", "macro_f1"), ("intents", "n_intents"),
            ("examples", "n_examples"), ("out-of-scope threshold", "threshold"), ("training seconds", "train_seconds")]


def uploads_dir() -> Path:
    path = robot_home() / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_upload(suffix: str) -> Path:
    """A fresh path for an intents file; the oldest beyond the newest UPLOADS_KEPT go."""
    folder = uploads_dir()
    keep_newest(folder, UPLOADS_KEPT - 1)
    return folder / f"{uuid.uuid4().hex}{suffix}"


def store_upload(source: str | Path) -> Path:
    """Copy an uploaded file under the robot's data folder with a generated name, after checking it."""
    source = Path(source)
    suffix = source.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise InputError(f"unsupported file type {suffix!r} (accepted: {', '.join(INPUT_SUFFIXES)})")
    content = read_limited(source, MAX_UPLOAD_BYTES)
    dest = new_upload(suffix)
    dest.write_bytes(content)
    return dest


def store_text(text: str) -> Path:
    if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES:
        raise InputError(f"intents too large (the limit is {MAX_UPLOAD_BYTES} bytes)")
    dest = new_upload(".yaml")
    dest.write_text(text, encoding="utf-8")
    return dest


def comparison(new: dict, current: dict) -> list[list[str]]:
    rows = [[name, format_value(new.get(key)), format_value(current.get(key))] for name, key in COMPARED]
    for label, metrics in (("new", new), ("current", current)):
        entities = metrics.get("entities") or {}
        if entities:
            rows.append([f"entity F1 ({label})", format_value(entities["micro"]["f1"]), ""])
    return rows


def read_csv(path: Path, limit: int = 200) -> list[list[str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.reader(f))[1:limit + 1]


def speech_note(metrics: dict) -> str:
    """What the speech recogniser's rebuilt language model cannot hear."""
    missing = metrics.get("speech", {}).get("unpronounceable", [])
    if not missing:
        return ""
    return ("\n\n**Voice:** no pronunciation for " + ", ".join(f"`{w}`" for w in missing[:20])
            + (" …" if len(missing) > 20 else "") + ": spoken requests cannot contain these words. "
            "Spell numbers and abbreviations as they are said, or use a common word.")


@dataclass(frozen=True)
class TrainTab:
    editor: gr.Code  # follows the active model's intents
    trained: gr.events.Dependency  # a new version exists (the Models tab lists it)
    activated: gr.events.Dependency  # the active model changed


def build_train_tab(robot: Robot, registry: ModelRegistry, feedback: FeedbackStore, guard: PageGuard,
                    page: gr.State) -> TrainTab:
    """`page` holds the page's secret, which every handler here shows `guard` (robot/web/guard.py)."""
    new_version = gr.State(None)
    gr.Markdown("Bring intents as native YAML, Rasa NLU YAML, intents.json, CSV, TSV or JSONL (upload), or edit "
                "them below. Training runs in the background: the chat keeps answering with the model in use.")
    with gr.Row():
        upload = gr.File(label="Upload an intents file", file_types=list(INPUT_SUFFIXES), type="filepath",
                         elem_id="upload", scale=2)
        with gr.Column(scale=1):
            validate_btn = gr.Button("Validate", elem_id="validate")
            corrections_btn = gr.Button("Add feedback corrections", elem_id="add-corrections")
            train_btn = gr.Button("Train", variant="primary", elem_id="train")
            status = gr.Markdown(elem_id="train-status", min_height=60)  # training progress shows here
    with gr.Column(visible=False) as report:
        activate_btn = gr.Button("Activate this model", variant="primary", elem_id="activate")
        compare = gr.Dataframe(headers=["metric", "new model", "model in use"], interactive=False,
                               label="Compared with the model in use (each on its own held-out data: accuracies "
                                     "compare only where the data is the same)", elem_id="compare")
        per_intent = gr.Dataframe(headers=["intent", "precision", "recall", "f1", "support"],
                                  label="Per intent (held-out predictions)", interactive=False)
        with gr.Row():  # the charts carry their own titles
            confusion = gr.Image(type="filepath", show_label=False, elem_id="confusion")
            histogram = gr.Image(type="filepath", show_label=False, elem_id="histogram")
        errors = gr.Dataframe(headers=["text", "true", "predicted", "confidence"], label="Examples it gets wrong",
                              interactive=False, wrap=True)
    editor = gr.Code(value=to_native_yaml(robot.brain.data), language="yaml", label="Intents (native YAML)",
                     lines=18, max_lines=30, elem_id="editor", interactive=True)
    language = gr.Dropdown(choices=[(DETECT, "")] + [(code, code) for code in LANGUAGES], value="",
                           allow_custom_value=True, label="Language (overrides the intents' own `language:`)",
                           elem_id="language")
    problems = gr.Dataframe(headers=PROBLEM_HEADERS, label="Validation", interactive=False, wrap=True)

    def on_upload(secret: str | None, path, request: gr.Request):
        guard.check(secret, request)
        if not path:
            return gr.skip(), ""
        try:
            data = load_intents(store_upload(path))
        except InputError as exc:
            return gr.skip(), f"**Upload refused:** {exc.detail if exc.path else exc}"
        return to_native_yaml(data), f"Loaded {len(data.intents)} intents from {Path(path).name}."

    def parse(text: str, language: str = ""):
        data = parse_native_yaml(text, source="editor")
        if language:
            try:
                data.language = check_language(language)
            except ValueError as exc:
                raise InputError(str(exc), field="language") from None
        return data

    def on_validate(secret: str | None, text: str, language: str, request: gr.Request):
        guard.check(secret, request)
        try:
            data = parse(text, language)
        except InputError as exc:
            return [["error", exc.line, exc.field or "", exc.detail]], f"**Cannot read the intents:** {exc}"
        code = data.language_or_detected()
        found = all_problems(data, shared_encoder(EncoderConfig.for_language(code)))
        errors_n = sum(p.severity == "error" for p in found)
        rows = [[p.severity, p.line, p.field, p.message] for p in found]
        how = "" if data.language else " (from the examples' script)"
        return rows, (f"**{errors_n} errors**, {len(found) - errors_n} warnings." if found else "No problems found."
                      ) + f" Language: {code}{how}."

    def on_corrections(secret: str | None, text: str, request: gr.Request):
        guard.check(secret, request)
        pending = feedback.pending()
        if not pending:
            return gr.skip(), "No feedback corrections waiting."
        try:
            data = parse(text)
        except InputError as exc:
            return gr.skip(), f"**Cannot read the intents:** {exc}"
        for c in pending:
            if c.intent in OOS_LABELS:
                data.oos_examples.append(c.message)
                continue
            try:
                data.intent(c.intent).examples.append(c.message)
            except KeyError:
                data.intents.append(Intent(c.intent, [c.message]))
        feedback.mark_used([c.id for c in pending])
        return to_native_yaml(data), f"Added {len(pending)} corrected examples. Validate, then train."

    def on_train(secret: str | None, text: str, language: str, request: gr.Request,
                 progress=gr.Progress(track_tqdm=True)):
        guard.check(secret, request)
        hidden = (gr.Column(visible=False), None, None, None, None, None, None)
        try:
            data = parse(text, language)
            found = all_problems(data)
            if any(p.severity == "error" for p in found):
                first = next(p for p in found if p.severity == "error")
                return "**Fix the errors first:** " + f"{first.field}: {first.message}", *hidden
            progress(0, desc="training")
            result = train_version([store_text(text)], registry, robot, progress=True, language=data.language)
        except InputError as exc:
            return f"**Training refused:** {exc}", *hidden
        folder = result.folder / "report"
        notes = f"{negatives_note(result.metrics)} {conflicts_note(result.metrics)}{speech_note(result.metrics)}"
        done = (f"Trained version **{result.version}** ({result.metrics['language']}) in "
                f"{result.metrics['train_seconds']:.1f} s. Read the report below, then activate it. {notes}")
        return (done, gr.Column(visible=True), comparison(result.metrics, active_metrics(robot)),
                read_csv(folder / "per_intent.csv"), str(folder / "confusion_matrix.png"),
                str(folder / "confidence_histogram.png"), read_csv(folder / "errors.csv", 50), result.version)

    def on_activate(secret: str | None, name: str | None, request: gr.Request):
        guard.check(secret, request)
        if not name:
            return "Train a model first."
        try:
            activate(registry, name, robot)
        except InputError as exc:
            return f"**Cannot activate:** {exc}"
        return f"Version **{name}** is now active; the chat uses it from the next message."

    changes = guard.access.changes
    upload.upload(on_upload, [page, upload], [editor, status], api_visibility="private")
    validate_btn.click(on_validate, [page, editor, language], [problems, status], api_name="validate",
                       api_visibility=changes)
    corrections_btn.click(on_corrections, [page, editor], [editor, status], api_visibility="private")
    trained = train_btn.click(on_train, [page, editor, language], [status, report, compare, per_intent, confusion,
                                                                   histogram, errors, new_version], api_name="train",
                              api_visibility=changes, concurrency_limit=1, concurrency_id="train",
                              show_progress_on=[status])
    activated = activate_btn.click(on_activate, [page, new_version], status, api_name="activate",
                                   api_visibility=changes)
    return TrainTab(editor, trained, activated)


def active_metrics(robot: Robot) -> dict:
    folder = robot.brain.folder
    return json.loads((folder / "metrics.json").read_text()) if folder else {}


def version_rows(registry: ModelRegistry) -> list[list[str]]:
    return [["●" if v.active else "", v.name, *(format_value(x) for _, _, x in summary(registry.kind, v.metrics))]
            for v in registry.list()]


def versions_view(registry: ModelRegistry) -> tuple[list[list[str]], gr.Dropdown]:
    """The version table and the version choices, read afresh from the registry."""
    return version_rows(registry), gr.Dropdown(choices=[v.name for v in registry.list()], value=None)


@dataclass(frozen=True)
class ModelsTab:
    table: gr.Dataframe
    choice: gr.Dropdown
    activated: list[gr.events.Dependency]  # activation and roll back


def build_models_tab(robot: Robot, registry: ModelRegistry, guard: PageGuard, page: gr.State) -> ModelsTab:
    """Versions of one kind of model (intents or dialogue): list, activate, roll back (for the page only)."""
    kind = registry.kind
    suffix = "" if kind == "intents" else f"-{kind}"  # element ids: the intents' keep their plain names
    table = gr.Dataframe(value=lambda: version_rows(registry), label=f"{kind.capitalize()} model versions",
                         interactive=False, headers=["active", "version", *(label for label, _ in SUMMARY[kind])],
                         elem_id=f"versions{suffix}")
    with gr.Row():
        choice = gr.Dropdown(choices=[v.name for v in registry.list()], value=None, label="Version",
                             elem_id=f"version-choice{suffix}")
        activate_btn = gr.Button("Activate", elem_id=f"models-activate{suffix}")
        rollback_btn = gr.Button("Roll back", elem_id=f"rollback{suffix}")
        refresh_btn = gr.Button("Refresh")
    status = gr.Markdown(elem_id=f"models-status{suffix}")

    def on_activate(secret: str | None, name: str | None, request: gr.Request):
        guard.check(secret, request)
        try:
            activate(registry, name, robot)
        except InputError as exc:
            return f"**Cannot activate:** {exc}. Choose a version in the list.", *versions_view(registry)
        return f"Version **{name}** is active.", *versions_view(registry)

    def on_rollback(secret: str | None, request: gr.Request):
        guard.check(secret, request)
        try:
            name = registry.rollback()
            activate(registry, name, robot)
        except InputError as exc:
            return f"**Cannot roll back:** {exc}", *versions_view(registry)
        return f"Rolled back: version **{name}** is active.", *versions_view(registry)

    names = ("models_activate", "rollback") if kind == "intents" else (f"{kind}_activate", f"{kind}_rollback")
    activated = [activate_btn.click(on_activate, [page, choice], [status, table, choice], api_name=names[0],
                                    api_visibility=guard.access.changes),
                 rollback_btn.click(on_rollback, page, [status, table, choice], api_name=names[1],
                                    api_visibility=guard.access.changes)]
    refresh_btn.click(lambda: versions_view(registry), None, [table, choice], api_visibility="private")
    return ModelsTab(table, choice, activated)
