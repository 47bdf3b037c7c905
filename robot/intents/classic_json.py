"""The classic `intents.json` of the PyTorch/TensorFlow chatbot tutorials:
{"intents": [{"tag", "patterns", "responses", "context_set", "context_filter"}]}.

`context_set`/`context_filter` may be a string (empty means none), a list, or missing; some forks say
`context` for `context_set`. They map to the native `context_out`/`context_in`.
"""

from __future__ import annotations

import json
from typing import Any

from robot.errors import InputError
from robot.intents.annotations import plain_text
from robot.intents.schema import OOS_LABELS, Intent, IntentData


def _contexts(value: Any, field: str, source: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v.strip()]
    raise InputError("must be a string or a list of strings", path=source, field=field)


def _texts(value: Any, field: str, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("must be a list of strings", path=source, field=field)
    return value


def parse_classic_json(text: str, source: str = "<text>") -> IntentData:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=source, line=exc.lineno) from None
    except ValueError:  # a number of more digits than Python converts (4,300)
        raise InputError("invalid JSON: a number of more than 4,300 digits", path=source) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("intents"), list):
        raise InputError('expected {"intents": [...]}', path=source, field="intents")
    out = IntentData(intents=[], source=source)
    for k, item in enumerate(doc["intents"]):
        where = f"intents[{k}]"
        if not isinstance(item, dict):
            raise InputError("must be an object", path=source, field=where)
        tag = item.get("tag")
        if not isinstance(tag, str) or not tag.strip():
            raise InputError("missing field", path=source, field=f"{where}.tag")
        if "patterns" not in item:
            raise InputError("missing field", path=source, field=f"{where}.patterns")
        patterns = _texts(item["patterns"], f"{where}.patterns", source)
        if tag in OOS_LABELS:
            out.oos_examples.extend(patterns)
            continue
        out.intents.append(Intent(
            name=tag, examples=list(patterns),
            responses=list(_texts(item.get("responses", []), f"{where}.responses", source)),
            context_in=_contexts(item.get("context_filter"), f"{where}.context_filter", source),
            context_out=_contexts(item.get("context_set", item.get("context")), f"{where}.context_set", source),
        ))
    return out


def to_classic_json(data: IntentData) -> str:
    intents = []
    for intent in data.intents:
        item: dict[str, Any] = {"tag": intent.name, "patterns": [plain_text(e) for e in intent.examples],
                                "responses": intent.responses}
        if intent.context_out:
            item["context_set"] = intent.context_out[0] if len(intent.context_out) == 1 else intent.context_out
        if intent.context_in:
            item["context_filter"] = intent.context_in[0] if len(intent.context_in) == 1 else intent.context_in
        intents.append(item)
    if data.oos_examples:
        intents.append({"tag": "oos", "patterns": [plain_text(e) for e in data.oos_examples], "responses": []})
    return json.dumps({"intents": intents}, indent=2, ensure_ascii=False) + "\n"
