"""Safe YAML loading that remembers the line of every key and list item, for error messages.

Aliases (`*name`) are refused: intent files have no use for them, and a few hundred bytes of nested aliases
(a "billion laughs") expand to gigabytes, or loop for ever when recursive."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

import yaml

from robot.errors import InputError

MAX_INT_DIGITS = 4000  # below Python's limit on int <-> str conversions (4,300 digits)
MAX_DEPTH = 64  # intent files nest 4 or 5 deep; PyYAML's parser slows quadratically and recurses with depth
QUOTED_OR_COMMENT = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|#[^\n]*""")
BLOCK_PREFIX = re.compile(r"^(?:[ \t]|[-?:][ \t])*", re.M)  # indentation and "- "/"? " markers starting a line


def nesting(text: str) -> int:
    """An upper bound of how deep the YAML in `text` nests, read without parsing it: flow brackets outside
    quotes and comments, and the indentation and markers that open a line."""
    plain = QUOTED_OR_COMMENT.sub("", text)
    flow = max(accumulate(1 if c in "[{" else -1 for c in re.sub(r"[^][{}]", "", plain)), default=0)
    block = max((len(m.group(0)) for m in BLOCK_PREFIX.finditer(plain)), default=0) // 2
    return max(flow, block)


class NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing an alias where it meets one."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise InputError(f"YAML aliases (*{event.anchor}) are not supported in intent files; write the values "
                             "out", path=self.source, line=event.start_mark.line + 1)
        return super().compose_node(parent, index)

    def construct_yaml_int(self, node):
        """An integer of more digits than Python converts (4,300) is not a number anyone means: kept as text,
        like any other label or example, instead of a ValueError from int()."""
        if len(node.value) > MAX_INT_DIGITS:
            return self.construct_scalar(node)
        return super().construct_yaml_int(node)


NoAliasLoader.add_constructor("tag:yaml.org,2002:int", NoAliasLoader.construct_yaml_int)


def yaml_with_lines(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    """Safe-load YAML and record the line of every mapping key and list item, keyed by its path."""
    if nesting(text) > MAX_DEPTH:
        raise InputError(f"nested too deeply (more than {MAX_DEPTH} levels)", path=source)
    try:  # one parse: the node tree gives the lines, and the data is constructed from it (as safe_load does)
        loader = NoAliasLoader(text, source)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
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
