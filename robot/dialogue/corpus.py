"""Dialogue corpora: JSONL (`{"id": ..., "turns": [...]}` a line), YAML (groups of turn lists, as in
`assets/dialogue/robo_persona.yaml`) or plain text of alternating lines (a blank line between dialogues).
Malformed entries are counted and reported; the run goes on. `FILE@N` reads a file N times: a small
hand-written set weighs as much as it should next to corpora of millions of words; `FILE@0.05` keeps the
first 5% of a file's dialogues.
"""

from __future__ import annotations

import json
import lzma
import re
from dataclasses import dataclass, field
from pathlib import Path

from robot.errors import InputError


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
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    if path.suffix == ".xz":
        raw = lzma.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def read_corpus(paths: list[str | Path]) -> Corpus:
    """All dialogues of the files; a file that yields none is bad input (exit 2)."""
    corpus = Corpus([])
    for spec in map(str, paths):
        weighted = re.fullmatch(r"(.+)@(\d+(?:\.\d+)?)", spec)
        path, weight = (Path(weighted.group(1)), float(weighted.group(2))) if weighted else (Path(spec), 1.0)
        text = _open_text(path)
        before = len(corpus.dialogues) + len(corpus.scripted)
        if ".jsonl" in path.suffixes:
            for line in text.splitlines():
                if not line.strip():
                    continue
                try:
                    turns = json.loads(line).get("turns")
                except (json.JSONDecodeError, AttributeError):
                    turns = None
                _add(corpus, turns)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            try:
                groups = yaml.safe_load(text) or {}
            except yaml.YAMLError as exc:
                raise InputError(f"YAML syntax error ({exc})", path=path) from None
            for group in groups.values() if isinstance(groups, dict) else [groups]:
                for turns in group if isinstance(group, list) else []:
                    _add(corpus, turns, corpus.scripted)
        else:
            for block in text.split("\n\n"):
                turns = [" ".join(line.split()) for line in block.splitlines() if line.strip()]
                if len(turns) >= 2:
                    corpus.dialogues.append(turns)
                elif turns:
                    corpus.malformed += 1
        if len(corpus.dialogues) + len(corpus.scripted) == before:
            raise InputError("no dialogues found (JSONL lines need a 'turns' list of at least 2 strings, YAML "
                             "lists of turns; text files alternating lines, a blank line between dialogues)",
                             path=path)
        target = corpus.scripted if path.suffix in (".yaml", ".yml") else corpus.dialogues
        start = len(target) - (len(corpus.dialogues) + len(corpus.scripted) - before)
        read = target[start:]
        target[start:] = read[:max(1, round(len(read) * weight))] if weight < 1 else read * int(weight)
        corpus.sources.append(spec)
    return corpus


def _add(corpus: Corpus, turns, into: list[list[str]] | None = None) -> None:
    """A dialogue of at least two non-empty strings, whitespace collapsed; anything else counts as malformed."""
    if isinstance(turns, list) and len(turns) >= 2 and all(isinstance(t, str) and t.strip() for t in turns):
        (corpus.dialogues if into is None else into).append([" ".join(t.split()) for t in turns])
    else:
        corpus.malformed += 1
