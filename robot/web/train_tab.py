"""The Train tab: bring intents (upload or edit), validate, train in the background while the chat keeps
answering (composed with the built-in skills, or alone), read the report beside the model in use, activate with
one click."""

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
from robot.intents.bundle import conflicts_note, editable_intents, load_bundle
from robot.intents.compose import Composition
from robot.intents.formats import INPUT_SUFFIXES, load_intents, parse_native_yaml, to_native_yaml
from robot.intents.lint import composition_problems
from robot.intents.negatives import negatives_note
from robot.intents.schema import OOS_LABELS, Intent, IntentData
from robot.language import check_language
from robot.lifecycle import ModelRegistry, activate, format_value
from robot.paths import keep_newest, robot_home
from robot.service import compose_files, train_version
from robot.userfiles import read_limited
from robot.web.chat_tab import Labelled
from robot.web.guard import PageGuard
from robot.web.strings import headers, words

LANGUAGES = ("en", "zh", "ja", "ko", "fr", "de", "es", "it", "pt", "ru", "ar", "hi")  # offered; any code is accepted
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
UPLOADS_KEPT = 50  # intents files kept under $ROBOT_HOME/uploads (each trained model keeps its own copy)
PROBLEM_HEADERS = ("severity", "line", "field", "message")
COMPARE_HEADERS = ("metric", "new_model", "model_in_use")
PER_INTENT_HEADERS = ("intent", "origin", "precision", "recall", "f1", "support")
ERROR_HEADERS = ("text", "true", "predicted", "confidence")
COMPARED = ("held_out", "in_scope_accuracy", "oos_recall", "macro_f1", "n_intents", "n_examples", "threshold",
            "train_seconds")  # the metrics the report compares (each its own header)


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


def plainly(error: Exception) -> str:
    """An error about the editor's text or an upload, by line and field: the file it was copied to means
    nothing to the user."""
    if not isinstance(error, InputError):
        return str(error)
    return (f"line {error.line}: " if error.line else "") + (f"{error.field}: " if error.field else "") + error.detail


def comparison(new: dict, current: dict, language: str) -> list[list[str]]:
    rows = [[name, format_value(new.get(key)), format_value(current.get(key))]
            for name, key in zip(headers(language, *COMPARED), COMPARED)]
    entities = [(metrics.get("entities") or {}).get("micro", {}).get("f1") for metrics in (new, current)]
    if any(f1 is not None for f1 in entities):
        rows.append([*headers(language, "entities.micro.f1"), *map(format_value, entities)])
    return rows


def read_csv(path: Path, limit: int = 200) -> list[list[str]]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.reader(f))[1:limit + 1]


def per_intent_rows(folder: Path, data: IntentData, said: dict[str, str]) -> list[list[str]]:
    """The report's per-intent table with each intent's origin (the user's, or built-in), the user's first."""
    builtin = {i.name for i in data.intents if i.builtin}
    rows = [[row[0], said["builtin"] if row[0] in builtin else "" if row[0] in OOS_LABELS else said["yours"], *row[1:]]
            for row in read_csv(folder / "per_intent.csv")]
    return sorted(rows, key=lambda row: row[1] == said["builtin"])


def composition_line(metrics: dict, said: dict[str, str]) -> str:
    composed = metrics.get("composition") or {}
    if not composed:
        return ""
    key = "composed" if composed["with_builtins"] else "alone"
    return said[key].format(user=len(composed["user_intents"]), builtin=len(composed["builtin_intents"]))


def speech_note(metrics: dict, said: dict[str, str]) -> str:
    """What the speech recogniser's rebuilt language model cannot hear of the user's own words."""
    missing = metrics.get("speech", {}).get("unpronounceable", [])
    if not missing:
        return ""
    return "\n\n" + said["voice_note"].format(words=", ".join(f"`{w}`" for w in missing[:20])
                                             + (" …" if len(missing) > 20 else ""))


@dataclass(frozen=True)
class TrainTab:
    editor: gr.Code  # follows the active model's intents (the user's own part)
    trained: gr.events.Dependency  # a new version exists (the Models tab lists it)
    activated: gr.events.Dependency  # the active model changed
    labelled: Labelled  # follows the active model's language
    headed: list[tuple[gr.Dataframe, tuple[str, ...]]]  # tables and their headers' keys (robot/web/strings.py)


def build_train_tab(robot: Robot, registry: ModelRegistry, feedback: FeedbackStore, guard: PageGuard,
                    page: gr.State) -> TrainTab:
    """`page` holds the page's secret, which every handler here shows `guard` (robot/web/guard.py)."""
    language = robot.brain.language
    said = words(language)
    new_version = gr.State(None)
    intro = gr.Markdown(said["train_intro"])
    with gr.Row():
        upload = gr.File(label=said["upload_intents"], file_types=list(INPUT_SUFFIXES), type="filepath",
                         elem_id="upload", scale=2)
        with gr.Column(scale=1):
            validate_btn = gr.Button(said["validate"], elem_id="validate")
            corrections_btn = gr.Button(said["add_corrections"], elem_id="add-corrections")
            only_mine = gr.Checkbox(False, label=said["only_mine"], elem_id="only-mine")
            train_btn = gr.Button(said["train"], variant="primary", elem_id="train")
            status = gr.Markdown(elem_id="train-status", min_height=60)  # what happened; training progress
    with gr.Column(visible=False) as report:
        activate_btn = gr.Button(said["activate_model"], variant="primary", elem_id="activate")
        compare = gr.Dataframe(headers=headers(language, *COMPARE_HEADERS), interactive=False,
                               label=said["compared"], elem_id="compare", wrap=True)
        per_intent = gr.Dataframe(headers=headers(language, *PER_INTENT_HEADERS), label=said["per_intent"],
                                  interactive=False, elem_id="per-intent")
        with gr.Row():  # the charts carry their own titles
            confusion = gr.Image(type="filepath", show_label=False, elem_id="confusion", height="auto")
            histogram = gr.Image(type="filepath", show_label=False, elem_id="histogram", height="auto")
        errors = gr.Dataframe(headers=headers(language, *ERROR_HEADERS), label=said["wrong"], interactive=False,
                              wrap=True)
    editor = gr.Code(value=editable_intents(robot.brain.folder, robot.brain.data), language="yaml",
                     label=said["editor"], lines=18, max_lines=30, elem_id="editor", interactive=True)
    choose_language = gr.Dropdown(choices=[(said["detect"], "")] + [(code, code) for code in LANGUAGES], value="",
                                  allow_custom_value=True, label=said["language_menu"], elem_id="language")
    validation_line = gr.Markdown(elem_id="validation-summary")  # apart from the training's progress
    problems = gr.Dataframe(headers=headers(language, *PROBLEM_HEADERS), label=said["validation"],
                            interactive=False, wrap=True, elem_id="problems",
                            column_widths=["90px", "70px", "24%", "auto"])

    def now_said() -> dict[str, str]:
        return words(robot.brain.language)

    def on_upload(secret: str | None, path, request: gr.Request):
        guard.check(secret, request)
        if not path:
            return gr.skip(), ""
        said = now_said()
        try:
            data = load_intents(store_upload(path))
        except InputError as exc:  # the editor must not keep the previous intents: Train would train those
            return "", said["upload_refused"].format(reason=plainly(exc))
        return to_native_yaml(data), said["loaded"].format(intents=len(data.intents), questions=len(data.faq),
                                                           name=Path(path).name)

    def parse(text: str, language: str = ""):
        data = parse_native_yaml(text, source="editor")
        if language:
            try:
                data.language = check_language(language)
            except ValueError as exc:
                raise InputError(str(exc), field="language") from None
        return data

    def compose_editor(text: str, language: str, only: bool) -> tuple[Composition, object]:
        """The editor's intents as training would compose them (an empty editor: the built-in skills alone), and
        the encoder for their language."""
        return compose_files([store_text(text)] if text.strip() else [],
                             check_language(language) if language else None, only, training=False)

    def on_validate(secret: str | None, text: str, language: str, only: bool, request: gr.Request):
        guard.check(secret, request)
        said = now_said()
        try:
            composition, encoder = compose_editor(text, language, only)
        except (InputError, ValueError) as exc:
            line, field, detail = getattr(exc, "line", None), getattr(exc, "field", ""), getattr(exc, "detail", exc)
            return [["error", line, field or "", str(detail)]], said["cannot_read"].format(reason=plainly(exc))
        found = composition_problems(composition, encoder)
        errors_n = sum(p.severity == "error" for p in found)
        rows = [[p.severity, p.line, p.field, p.message] for p in found]
        code = composition.data.language
        how = "" if composition.given.language else said["from_script"]
        summary = said["found_errors"].format(errors=errors_n, warnings=len(found) - errors_n) if found \
            else said["no_problems"]
        return rows, summary + said["data_language"].format(code=code, how=how, composition=composition_line(
            {"composition": composition.summary()}, said))

    def on_corrections(secret: str | None, text: str, request: gr.Request):
        guard.check(secret, request)
        said = now_said()
        pending = feedback.pending()
        if not pending:
            return gr.skip(), said["no_corrections"]
        try:
            data = parse(text)
        except InputError as exc:
            return gr.skip(), said["cannot_read"].format(reason=plainly(exc))
        for c in pending:
            if c.intent in OOS_LABELS:
                data.oos_examples.append(c.message)
                continue
            try:
                data.intent(c.intent).examples.append(c.message)
            except KeyError:
                data.intents.append(Intent(c.intent, [c.message]))
        feedback.mark_used([c.id for c in pending])
        return to_native_yaml(data), said["corrections_added"].format(n=len(pending))

    def on_train(secret: str | None, text: str, language: str, only: bool, request: gr.Request,
                 progress=gr.Progress(track_tqdm=True)):
        guard.check(secret, request)
        said = now_said()
        hidden = (gr.Column(visible=False), None, None, None, None, None, None)
        try:
            composition, encoder = compose_editor(text, language, only)
            found = composition_problems(composition)
            if any(p.severity == "error" for p in found):
                first = next(p for p in found if p.severity == "error")
                return said["fix_first"].format(field=first.field, message=first.message), *hidden
            progress(0, desc="training")
            result = train_version([store_text(text)] if text.strip() else [], registry, robot, progress=True,
                                   language=composition.data.language, replace_builtins=only)
        except (InputError, ValueError) as exc:
            return said["training_refused"].format(reason=plainly(exc)), *hidden
        folder = result.folder / "report"
        notes = f"{negatives_note(result.metrics)} {conflicts_note(result.metrics)}{speech_note(result.metrics, said)}"
        done = said["trained"].format(version=result.version, language=result.metrics["language"],
                                      seconds=result.metrics["train_seconds"],
                                      composition=composition_line(result.metrics, said), notes=notes)
        trained = load_bundle(result.folder)[1]
        return (done, gr.Column(visible=True), comparison(result.metrics, active_metrics(robot), robot.brain.language),
                per_intent_rows(folder, trained, said), str(folder / "confusion_matrix.png"),
                str(folder / "confidence_histogram.png"), read_csv(folder / "errors.csv", 50), result.version)

    def on_activate(secret: str | None, name: str | None, request: gr.Request):
        guard.check(secret, request)
        said = now_said()
        if not name:
            return said["train_first"], gr.skip()
        try:
            activate(registry, name, robot)
        except InputError as exc:
            return said["cannot_activate"].format(reason=exc), gr.skip()
        return words(robot.brain.language)["now_active"].format(name=name), gr.Column(visible=False)

    changes = guard.access.changes
    upload.upload(on_upload, [page, upload], [editor, status], api_visibility="private")
    validate_btn.click(on_validate, [page, editor, choose_language, only_mine], [problems, validation_line],
                       api_name="validate", api_visibility=changes)
    corrections_btn.click(on_corrections, [page, editor], [editor, status], api_visibility="private")
    trained = train_btn.click(on_train, [page, editor, choose_language, only_mine],
                              [status, report, compare, per_intent, confusion, histogram, errors, new_version],
                              api_name="train", api_visibility=changes, concurrency_limit=1, concurrency_id="train",
                              show_progress_on=[status])
    activated = activate_btn.click(on_activate, [page, new_version], [status, report], api_name="activate",
                                   api_visibility=changes)
    labelled = [(intro, {"value": "train_intro"}), (upload, {"label": "upload_intents"}),
                (validate_btn, {"value": "validate"}), (corrections_btn, {"value": "add_corrections"}),
                (only_mine, {"label": "only_mine"}), (train_btn, {"value": "train"}),
                (activate_btn, {"value": "activate_model"}), (compare, {"label": "compared"}),
                (per_intent, {"label": "per_intent"}), (errors, {"label": "wrong"}), (editor, {"label": "editor"}),
                (choose_language, {"label": "language_menu"}), (problems, {"label": "validation"})]
    headed = [(compare, COMPARE_HEADERS), (per_intent, PER_INTENT_HEADERS), (errors, ERROR_HEADERS),
              (problems, PROBLEM_HEADERS)]
    return TrainTab(editor, trained, activated, labelled, headed)


def active_metrics(robot: Robot) -> dict:
    folder = robot.brain.folder
    return json.loads((folder / "metrics.json").read_text()) if folder else {}
