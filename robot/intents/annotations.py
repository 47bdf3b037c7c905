"""Entity annotations inside examples, in the Rasa markup that the native format shares:
`[text](entity)`, `[text](entity:value)` and `[text]{"entity": "...", "value": "..."}`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_MARKUP = re.compile(r"\[(?P<text>[^\[\]]+)\](?:\((?P<short>[^()]+)\)|(?P<json>\{[^{}]*\}))")


@dataclass(frozen=True)
class Span:
    entity: str
    value: str  # canonical value (the text itself unless the annotation maps it)
    start: int
    end: int


def parse_example(example: str) -> tuple[str, list[Span]]:
    """The plain text of an annotated example and its entity spans (character offsets in the plain text)."""
    plain, spans, cursor = [], [], 0
    length = 0
    for match in _MARKUP.finditer(example):
        before = example[cursor:match.start()]
        plain.append(before)
        length += len(before)
        text = match.group("text")
        if match.group("short"):
            entity, _, value = match.group("short").partition(":")
        else:
            try:
                spec = json.loads(match.group("json"))
            except json.JSONDecodeError:
                spec = {}
            if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
                plain.append(match.group(0))
                length += len(match.group(0))
                cursor = match.end()
                continue
            entity, value = spec["entity"], str(spec.get("value") or "")
        spans.append(Span(entity.strip(), (value or text).strip(), length, length + len(text)))
        plain.append(text)
        length += len(text)
        cursor = match.end()
    plain.append(example[cursor:])
    return "".join(plain), spans


def plain_text(example: str) -> str:
    return parse_example(example)[0] if "[" in example else example


def annotate(text: str, spans: list[Span]) -> str:
    """The inverse of `parse_example`: markup for spans, `entity:value` when the value differs."""
    out, cursor = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        surface = text[span.start:span.end]
        label = span.entity if span.value == surface else f"{span.entity}:{span.value}"
        out += [text[cursor:span.start], f"[{surface}]({label})"]
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)
