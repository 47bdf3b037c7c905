"""Rasa 3 NLU YAML: `nlu:` items keyed by intent, synonym, regex or lookup, each with an `examples`
block of `- ` lines. Entity markup stays in the examples (the native format reads the same markup).
Other top-level keys (responses, rules, stories) are ignored: they are not NLU data.
"""

from __future__ import annotations

from typing import Any

import yaml

from robot.errors import InputError
from robot.intents.schema import OOS_LABELS, Entity, Intent, IntentData
from robot.intents.yamllines import yaml_with_lines


def _block(value: Any, field: str, source: str, line: int | None) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if not isinstance(value, str):
        raise InputError("must be a block of '- ' lines", path=source, line=line, field=field)
    items = []
    for raw in value.splitlines():
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("-"):
            raise InputError(f"example line must start with '- ': {stripped!r}", path=source, line=line, field=field)
        items.append(stripped[1:].strip())
    return items


def is_rasa(doc: Any) -> bool:
    return isinstance(doc, dict) and "nlu" in doc


def parse_rasa(text: str, source: str = "<text>") -> IntentData:
    return rasa_from_doc(*yaml_with_lines(text, source), source)


def rasa_from_doc(doc: Any, lines: dict[tuple, int], source: str) -> IntentData:
    if not is_rasa(doc) or not isinstance(doc["nlu"], list):
        raise InputError("expected a Rasa NLU file with an 'nlu:' list", path=source, line=1, field="nlu")
    out = IntentData(intents=[], source=source, lines=lines)
    entities: dict[str, Entity] = {}
    synonyms: list[tuple[str, list[str]]] = []
    for k, item in enumerate(doc["nlu"]):
        line = lines.get(("nlu", k))
        kinds = [key for key in ("intent", "synonym", "regex", "lookup") if isinstance(item, dict) and key in item]
        if len(kinds) != 1:
            raise InputError("each item needs exactly one of intent, synonym, regex, lookup", path=source,
                             line=line, field=f"nlu[{k}]")
        kind, name = kinds[0], str(item[kinds[0]])
        if "examples" not in item:
            raise InputError("missing field", path=source, line=line, field=f"nlu[{k}].examples")
        examples = _block(item["examples"], f"nlu[{k}].examples", source, lines.get(("nlu", k, "examples")))
        if kind == "intent":
            if name in OOS_LABELS:
                out.oos_examples.extend(examples)
            else:
                out.intents.append(Intent(name=name, examples=examples))
        elif kind == "synonym":
            synonyms.append((name, examples))
        else:
            entity = entities.setdefault(name, Entity(name))
            (entity.regex if kind == "regex" else entity.lookup).extend(examples)
    annotated: dict[str, str] = {}  # canonical value -> entity that uses it
    for _, spans in out.annotated_examples():
        for span in spans:
            annotated.setdefault(span.value, span.entity)
    for value, variants in synonyms:  # Rasa synonyms are global; attach each to the entity that uses it
        entity = entities.setdefault(annotated.get(value, "synonyms"), Entity(annotated.get(value, "synonyms")))
        entity.synonyms[value] = variants
    out.entities = list(entities.values())
    return out


class _Block(str):
    """An examples block, written in YAML's literal style as Rasa does."""


class _RasaDumper(yaml.SafeDumper):
    pass


_RasaDumper.add_representer(_Block, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|"))


def block(items: list[str]) -> _Block:
    return _Block("".join(f"- {e}\n" for e in items))


def to_rasa(data: IntentData) -> str:
    nlu: list[dict] = [{"intent": i.name, "examples": block(i.examples)} for i in data.intents]
    if data.oos_examples:
        nlu.append({"intent": "out_of_scope", "examples": block(data.oos_examples)})
    for entity in data.entities:
        nlu += [{"synonym": value, "examples": block(variants)} for value, variants in entity.synonyms.items()]
        if entity.regex:
            nlu.append({"regex": entity.name, "examples": block(entity.regex)})
        if entity.lookup:
            nlu.append({"lookup": entity.name, "examples": block(entity.lookup)})
    return yaml.dump({"version": "3.1", "nlu": nlu}, Dumper=_RasaDumper, sort_keys=False, allow_unicode=True,
                     width=1000)
