"""Reading and writing intent files: the native YAML format, and CSV/TSV/JSONL example tables.

Every reader returns an `IntentData` and raises `InputError` naming file, line and field on bad input.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import yaml

from robot.errors import InputError
from robot.intents.classic_json import parse_classic_json, to_classic_json
from robot.intents.rasa import is_rasa, rasa_from_doc, to_rasa
from robot.intents.schema import OOS_LABELS, Entity, Faq, Intent, IntentData, Slot
from robot.intents.yamllines import yaml_with_lines
from robot.language import check_language
from robot.userfiles import read_limited

INTENT_KEYS = {"examples", "responses", "action", "context_in", "context_out", "description", "webhook", "slots",
               "builtin"}
ENTITY_KEYS = {"regex", "lookup", "synonyms"}
SLOT_KEYS = {"entity", "ask"}
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl")
YAML_SUFFIXES = (".yaml", ".yml")
FAQ_SUFFIXES = (".md",)
INPUT_SUFFIXES = (*YAML_SUFFIXES, ".json", *TABLE_SUFFIXES, *FAQ_SUFFIXES)
OUTPUT_FORMATS = ("native", "rasa", "json", "csv", "tsv", "jsonl")


MAX_FILE_BYTES = 50 * 1024 * 1024  # an intents file larger than this is refused (reading stops one byte past it)


def read_text(path: Path) -> str:
    """An intents file's text: a regular file of at most MAX_FILE_BYTES, UTF-8 (robot/userfiles.py)."""
    raw = read_limited(path, MAX_FILE_BYTES)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from None


def load_intents(path: str | Path) -> IntentData:
    """Read any supported intents file, by its suffix. Whatever the file holds, the only error is InputError."""
    path = Path(path)
    suffix = path.suffix.lower()
    parse = {**dict.fromkeys(YAML_SUFFIXES, parse_yaml), ".json": parse_classic_json, ".md": parse_faq_markdown,
             **{s: lambda text, source, s=s: parse_table(text, s, source) for s in TABLE_SUFFIXES}}.get(suffix)
    if parse is None:
        raise InputError(f"unsupported file type {path.suffix!r} (use {', '.join(INPUT_SUFFIXES)})", path=path)
    text = read_text(path)
    try:
        return parse(text, source=str(path))
    except RecursionError:
        raise InputError("nested too deeply", path=path) from None
    except csv.Error as exc:
        raise InputError(f"not a readable table ({exc})", path=path) from None


def load_many(paths: list[str | Path], language: str | None = None) -> IntentData:
    """Several files merged into one data set, in order; `language` (checked) overrides what they declare."""
    parts = [load_intents(p) for p in paths]
    declared = {p.language for p in parts if p.language}
    if language is None and len(declared) > 1:
        raise InputError(f"the files declare different languages ({', '.join(sorted(declared))}): train one model "
                         "per language, or choose one with --language")
    merged = IntentData(intents=[], source=", ".join(p.source for p in parts),
                        language=language or next(iter(declared), None))
    by_name: dict[str, Intent] = {}
    for part in parts:
        for intent in part.intents:
            if intent.name in by_name:
                by_name[intent.name].examples.extend(intent.examples)
                by_name[intent.name].responses.extend(intent.responses)
            else:
                by_name[intent.name] = intent
                merged.intents.append(intent)
        merged.entities.extend(part.entities)
        merged.oos_examples.extend(part.oos_examples)
        merged.faq.extend(part.faq)
    if len(parts) == 1:
        merged.source, merged.lines = parts[0].source, parts[0].lines
    return merged


def _strings(value: Any, field: str, source: str, lines: dict, path: tuple) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError("must be a list", path=source, line=lines.get(path), field=field)
    out = []
    for k, item in enumerate(value):
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            item = str(item)
        if isinstance(item, bool):
            raise InputError("must be text: quote it (YAML reads yes/no/on/off as true/false)", path=source,
                             line=lines.get((*path, k)), field=f"{field}[{k}]")
        if not isinstance(item, str):
            raise InputError("must be text", path=source, line=lines.get((*path, k)), field=f"{field}[{k}]")
        out.append(item)
    return out


def parse_yaml(text: str, source: str = "<text>") -> IntentData:
    """Native or Rasa NLU YAML, told apart by Rasa's top-level `nlu:` key."""
    data, lines = yaml_with_lines(text, source)
    return rasa_from_doc(data, lines, source) if is_rasa(data) else native_from_doc(data, lines, source)


def parse_native_yaml(text: str, source: str = "<text>") -> IntentData:
    return native_from_doc(*yaml_with_lines(text, source), source)


def native_from_doc(data: Any, lines: dict[tuple, int], source: str) -> IntentData:
    if not isinstance(data, dict):
        raise InputError("expected a mapping with an 'intents' key", path=source, line=1)
    unknown = set(data) - {"version", "language", "intents", "entities", "faq"}
    if unknown:
        key = sorted(unknown)[0]
        raise InputError("unknown key (expected intents, entities, faq, language, version)", path=source,
                         line=lines.get((key,)), field=key)
    if "intents" not in data and "faq" not in data:
        raise InputError("missing field", path=source, line=1, field="intents")
    data.setdefault("intents", {})
    if not isinstance(data["intents"], dict):
        raise InputError("must be a mapping of intent names", path=source, line=lines.get(("intents",)),
                         field="intents")
    out = IntentData(intents=[], source=source, lines=lines)
    if data.get("language") is not None:
        try:
            out.language = check_language(str(data["language"]))
        except ValueError as exc:
            raise InputError(str(exc), path=source, line=lines.get(("language",)), field="language") from None
    for name, body in data["intents"].items():
        name, where = str(name), ("intents", name)
        field = f"intents.{name}"
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise InputError("must be a mapping with examples and responses", path=source,
                             line=lines.get(where), field=field)
        for key in body:
            if key not in INTENT_KEYS:
                raise InputError(f"unknown key (expected {', '.join(sorted(INTENT_KEYS))})", path=source,
                                 line=lines.get((*where, key)), field=f"{field}.{key}")
        if "examples" not in body:
            raise InputError("missing field", path=source, line=lines.get(where), field=f"{field}.examples")
        examples = _strings(body["examples"], f"{field}.examples", source, lines, (*where, "examples"))
        if name in OOS_LABELS:
            out.oos_examples.extend(examples)
            continue
        text = {key: _text(body.get(key), f"{field}.{key}", source, lines.get((*where, key)))
                for key in ("action", "description", "webhook")}
        builtin = body.get("builtin", False)
        if not isinstance(builtin, bool):
            raise InputError("must be true or false", path=source, line=lines.get((*where, "builtin")),
                             field=f"{field}.builtin")
        out.intents.append(Intent(
            name=name, examples=examples, action=text["action"], description=text["description"],
            webhook=text["webhook"], slots=_slots(body.get("slots"), f"{field}.slots", source, lines,
                                                  (*where, "slots")), builtin=builtin,
            responses=_strings(body.get("responses"), f"{field}.responses", source, lines,
                               (*where, "responses")),
            context_in=_strings(body.get("context_in"), f"{field}.context_in", source, lines,
                                (*where, "context_in")),
            context_out=_strings(body.get("context_out"), f"{field}.context_out", source, lines,
                                 (*where, "context_out")),
        ))
    out.faq = _faq(data.get("faq") or [], source, lines)
    entities = data.get("entities") or {}
    if not isinstance(entities, dict):
        raise InputError("must be a mapping of entity names", path=source, line=lines.get(("entities",)),
                         field="entities")
    for name, body in entities.items():
        where, field = ("entities", name), f"entities.{name}"
        if not isinstance(body, dict) or set(body) - ENTITY_KEYS:
            raise InputError(f"must be a mapping with keys from {', '.join(sorted(ENTITY_KEYS))}", path=source,
                             line=lines.get(where), field=field)
        synonyms = body.get("synonyms") or {}
        if not isinstance(synonyms, dict):
            raise InputError("must map canonical values to lists of variants", path=source,
                             line=lines.get((*where, "synonyms")), field=f"{field}.synonyms")
        out.entities.append(Entity(
            name=str(name),
            regex=_strings(body.get("regex"), f"{field}.regex", source, lines, (*where, "regex")),
            lookup=_strings(body.get("lookup"), f"{field}.lookup", source, lines, (*where, "lookup")),
            synonyms={str(k): _strings(v, f"{field}.synonyms.{k}", source, lines, (*where, "synonyms", k))
                      for k, v in synonyms.items()},
        ))
    return out


def _text(value: Any, field: str, source: str, line: int | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError("must be text", path=source, line=line, field=field)
    return value.strip()


def _slots(value: Any, field: str, source: str, lines: dict, path: tuple) -> dict[str, Slot]:
    """A form's slots: {name: {entity: ..., ask: ...}}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError("must map slot names to {entity: ..., ask: ...}", path=source, line=lines.get(path),
                         field=field)
    slots = {}
    for name, body in value.items():
        where = (*path, name)
        if not isinstance(body, dict) or set(body) - SLOT_KEYS or "entity" not in body:
            raise InputError("must be a mapping with entity and ask", path=source, line=lines.get(where),
                             field=f"{field}.{name}")
        slots[str(name)] = Slot(str(body["entity"]), _text(body.get("ask"), f"{field}.{name}.ask", source,
                                                           lines.get((*where, "ask"))) or "")
    return slots


def _faq(value: Any, source: str, lines: dict) -> list[Faq]:
    """`faq:` as a list of {q: ..., a: ...} (or question/answer), or a mapping of question -> answer."""
    items = list(value.items()) if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise InputError("must be a list of {q: ..., a: ...}", path=source, line=lines.get(("faq",)), field="faq")
    found = []
    for k, item in enumerate(items):
        if isinstance(item, dict):
            item = (item.get("q", item.get("question")), item.get("a", item.get("answer")))
        question, answer = item if isinstance(item, (tuple, list)) and len(item) == 2 else (None, None)
        if not isinstance(question, str) or not isinstance(answer, (str, int, float)):
            raise InputError("needs a question (q:) and an answer (a:), as text", path=source,
                             line=lines.get(("faq", k)), field=f"faq[{k}]")
        found.append(Faq(question.strip(), str(answer).strip()))
    return found


MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


def parse_faq_markdown(text: str, source: str = "<text>") -> IntentData:
    """Questions as headings (any level), each answered by the text under it, up to the next heading."""
    faq, question, answer = [], None, []
    for line in [*text.splitlines(), "# end"]:
        heading = MARKDOWN_HEADING.match(line)
        if heading is None:
            answer.append(line)
            continue
        if question is not None:
            faq.append(Faq(question, " ".join(" ".join(answer).split())))
        question, answer = heading.group(1), []
    if not faq:
        raise InputError("no questions found (write each question as a heading, its answer below it)", path=source)
    return IntentData(intents=[], faq=faq, source=source)


def parse_table(text: str, suffix: str, source: str = "<text>") -> IntentData:
    """Rows of `text` and `intent` (or `label`); the label oos/out_of_scope marks a negative example."""
    rows: list[tuple[int, dict]] = []
    if suffix == ".jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line, parse_int=str)  # a number as a label is its text (of any length)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON: {exc.msg}", path=source, line=n) from None
            if not isinstance(row, dict):
                raise InputError("each line must be a JSON object", path=source, line=n)
            rows.append((n, row))
    else:
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        columns = reader.fieldnames or []
        if {"question", "answer"} <= set(columns) and "text" not in columns:
            return IntentData(intents=[], source=source, faq=[
                Faq(row["question"].strip(), (row["answer"] or "").strip()) for row in reader
                if (row.get("question") or "").strip()])
        if columns and ("text" not in columns or not {"intent", "label"} & set(columns)):
            found = ", ".join(repr(c) for c in columns[:10]) + (" …" if len(columns) > 10 else "")
            raise InputError(f"the header needs a 'text' and an 'intent' (or 'label') column; found {found}",
                             path=source, line=1)
        rows = [(reader.line_num, row) for row in reader]
    by_name: dict[str, Intent] = {}
    out = IntentData(intents=[], source=source)
    for n, row in rows:
        label = row.get("intent", row.get("label"))
        if not isinstance(row.get("text"), str):
            raise InputError("missing text", path=source, line=n, field="text")
        if not isinstance(label, str) or not label.strip():
            raise InputError("missing intent (or label)", path=source, line=n, field="intent")
        label = label.strip()
        if label in OOS_LABELS:
            out.oos_examples.append(row["text"])
        else:
            by_name.setdefault(label, Intent(name=label, examples=[])).examples.append(row["text"])
    if not rows:
        raise InputError("no rows with text and intent", path=source)
    out.intents = list(by_name.values())
    return out


def to_native_yaml(data: IntentData) -> str:
    intents: dict[str, dict] = {}
    for i in data.intents:
        body: dict[str, Any] = {"examples": i.examples}
        if i.responses:
            body["responses"] = i.responses
        if i.action:
            body["action"] = i.action
        if i.context_in:
            body["context_in"] = i.context_in
        if i.context_out:
            body["context_out"] = i.context_out
        if i.description:
            body["description"] = i.description
        if i.webhook:
            body["webhook"] = i.webhook
        if i.slots:
            body["slots"] = {name: {"entity": slot.entity, "ask": slot.ask} for name, slot in i.slots.items()}
        if i.builtin:
            body["builtin"] = True
        intents[i.name] = body
    if data.oos_examples:
        intents["oos"] = {"examples": data.oos_examples}
    doc: dict[str, Any] = {"version": 1, **({"language": data.language} if data.language else {}),
                           "intents": intents}
    if data.faq:
        doc["faq"] = [{"q": f.question, "a": f.answer} for f in data.faq]
    if data.entities:
        doc["entities"] = {e.name: {k: v for k, v in (("regex", e.regex), ("lookup", e.lookup),
                                                       ("synonyms", e.synonyms)) if v}
                           for e in data.entities}
    return yaml.dump(doc, Dumper=QuotingDumper, sort_keys=False, allow_unicode=True, width=110)


class QuotingDumper(yaml.SafeDumper):
    """Text with an apostrophe ("what's the time") double-quoted: the page's YAML editor takes an unquoted one
    for the start of a string and colours the rest of the line (and YAML readers agree either way)."""


QuotingDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style='"' if "'" in value else None))


def to_table(data: IntentData, suffix: str) -> str:
    """Rows of text and intent; entity markup is kept in the text (a table has no other place for it)."""
    texts = [e for i in data.intents for e in i.examples] + list(data.oos_examples)
    labels = data.labelled_examples()[1]
    if suffix == ".jsonl":
        return "".join(json.dumps({"text": t, "intent": label}, ensure_ascii=False) + "\n"
                       for t, label in zip(texts, labels))
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t" if suffix == ".tsv" else ",", lineterminator="\n")
    writer.writerow(["text", "intent"])
    writer.writerows(zip(texts, labels))
    return out.getvalue()


def format_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        return "native"
    if suffix in (".json", *TABLE_SUFFIXES):
        return suffix.lstrip(".")
    raise InputError(f"unsupported output type {suffix!r} (use {', '.join(INPUT_SUFFIXES)} or --to)", path=path)


def render(data: IntentData, fmt: str) -> str:
    """The data in one of OUTPUT_FORMATS. Tables and intents.json keep examples as plain text; Rasa NLU
    files carry no responses (Rasa keeps those in domain.yml)."""
    if fmt == "native":
        return to_native_yaml(data)
    if fmt == "rasa":
        return to_rasa(data)
    if fmt == "json":
        return to_classic_json(data)
    if fmt in ("csv", "tsv", "jsonl"):
        return to_table(data, f".{fmt}")
    raise InputError(f"unknown format {fmt!r} (one of {', '.join(OUTPUT_FORMATS)})")


def save_intents(data: IntentData, path: str | Path, fmt: str | None = None) -> None:
    path = Path(path)
    path.write_text(render(data, fmt or format_for(path)), encoding="utf-8")
