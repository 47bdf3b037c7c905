"""Safe YAML loading that remembers the line of every key and list item, for error messages."""

from __future__ import annotations

from typing import Any

import yaml

from robot.errors import InputError


def yaml_with_lines(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    """Safe-load YAML and record the line of every mapping key and list item, keyed by its path."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"YAML syntax error: {problem}", path=source,
                         line=mark.line + 1 if mark else None) from None
    lines: dict[tuple, int] = {}

    def walk(node: yaml.Node, path: tuple) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                if key.value in seen:
                    raise InputError(f"duplicate key {key.value!r}", path=source, line=key.start_mark.line + 1,
                                     field=".".join(map(str, (*path, key.value))))
                seen.add(key.value)
                walk(value, (*path, key.value))
                lines[(*path, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for k, value in enumerate(node.value):
                walk(value, (*path, k))

    if root is not None:
        walk(root, ())
    return data, lines
