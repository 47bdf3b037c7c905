"""Dialogue corpora: JSONL (`{"id": ..., "turns": [...]}` a line) or plain text of alternating lines
(a blank line between dialogues). Malformed lines are counted and reported; the run goes on.
"""

from __future__ import annotations

import json
import lzma
from dataclasses import dataclass, field
from pathlib import Path

from robot.errors import InputError


@dataclass
class Corpus:
    dialogues: list[list[str]]
    malformed: int = 0
    sources: list[str] = field(default_factory=list)

    @property
    def n_turns(self) -> int:
        return sum(len(d) for d in self.dialogues)


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
    for path in map(Path, paths):
        text = _open_text(path)
        before = len(corpus.dialogues)
        is_jsonl = ".jsonl" in path.suffixes
        if is_jsonl:
            for line in text.splitlines():
                if not line.strip():
                    continue
                try:
                    turns = json.loads(line).get("turns")
                except (json.JSONDecodeError, AttributeError):
                    turns = None
                if isinstance(turns, list) and len(turns) >= 2 and all(isinstance(t, str) and t.strip()
                                                                       for t in turns):
                    corpus.dialogues.append([" ".join(t.split()) for t in turns])
                else:
                    corpus.malformed += 1
        else:
            for block in text.split("\n\n"):
                turns = [" ".join(line.split()) for line in block.splitlines() if line.strip()]
                if len(turns) >= 2:
                    corpus.dialogues.append(turns)
                elif turns:
                    corpus.malformed += 1
        if len(corpus.dialogues) == before:
            raise InputError("no dialogues found (JSONL lines need a 'turns' list of at least 2 strings; "
                             "text files need alternating lines, a blank line between dialogues)", path=path)
        corpus.sources.append(str(path))
    return corpus
