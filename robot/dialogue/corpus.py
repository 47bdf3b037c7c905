"""Dialogue corpora: JSONL (`{"id": ..., "turns": [...]}` a line), YAML (groups of turn lists, as in
`assets/dialogue/robo_persona.yaml`) or plain text of alternating lines (a blank line between dialogues).
Malformed entries are counted and reported; the run goes on. `FILE@N` reads a file N times: a small
hand-written set weighs as much as it should next to corpora of millions of words; `FILE@0.05` keeps the
first 5% of a file's dialogues.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from robot.errors import InputError
from robot.userfiles import decompress_limited, read_limited

MAX_CORPUS_BYTES = 1 << 30  # a corpus file (unpacked, for .xz) larger than this is refused


@dataclass
class Corpus:
    dialogues: list[list[str]]  # conversations between two people: each side is learned as the robot's
    malformed: int = 0
    sources: list[str] = field(default_factory=list)
    scripted: list[list[str]] = field(default_factory=list)  # written for the robot (YAML): user, robot, ...

    @property
    def n_turns(self) -> int:
        return sum(len(d) for d in self.dialogues + self.scripted)


def _open_text(path: Path) -> str:
    raw = read_limited(path, MAX_CORPUS_BYTES)
    if path.suffix == ".xz":
        raw = decompress_limited(raw, MAX_CORPUS_BYTES, path)
    return raw.decode("utf-8", errors="replace")


def read_corpus(paths: list[str | Path]) -> Corpus:
    """All dialogues of the files; a file that yields none is bad input (exit 2)."""
    corpus = Corpus([])
    for spec in map(str, paths):
        weighted = re.fullmatch(r"(.+)@(\d+(?:\.\d+)?)", spec)
        path, weight = (Path(weighted.group(1)), float(weighted.group(2))) if weighted else (Path(spec), 1.0)
        scripted = path.suffix in (".yaml", ".yml")
        found, malformed = _read_file(path, scripted)
        if not found:
            raise InputError("no dialogues found (JSONL lines need a 'turns' list of at least 2 strings, YAML "
                             "lists of turns; text files alternating lines, a blank line between dialogues)",
                             path=path)
        found = found[:max(1, round(len(found) * weight))] if weight < 1 else found * int(weight)
        (corpus.scripted if scripted else corpus.dialogues).extend(found)
        corpus.malformed += malformed
        corpus.sources.append(spec)
    return corpus


def _read_file(path: Path, scripted: bool) -> tuple[list[list[str]], int]:
    """(dialogues, malformed entries) of one file: JSONL, YAML (`scripted`) or alternating-line text."""
    text = _open_text(path)
    if ".jsonl" in path.suffixes:
        entries = []
        for line in filter(str.strip, text.splitlines()):
            try:
                entries.append(json.loads(line).get("turns"))
            except (json.JSONDecodeError, AttributeError):
                entries.append(None)
    elif scripted:
        from robot.intents.yamllines import yaml_with_lines  # no aliases, bounded nesting

        groups = yaml_with_lines(text, str(path))[0] or {}
        entries = [turns for group in (groups.values() if isinstance(groups, dict) else [groups])
                   for turns in (group if isinstance(group, list) else [])]
    else:
        blocks = [[line for line in block.splitlines() if line.strip()] for block in text.split("\n\n")]
        entries = [block for block in blocks if block]
    found = [[" ".join(t.split()) for t in turns] for turns in entries
             if isinstance(turns, list) and len(turns) >= 2 and all(isinstance(t, str) and t.strip() for t in turns)]
    return found, len(entries) - len(found)
