"""Feedback from the chat, stored locally in SQLite: thumbs up/down on replies (one row per reply, changed
or removed as the user clicks), and corrections ("this should have been intent X", one per message) that
the Train tab offers back as new training examples. Bounded: the oldest rows go past the limits, texts are
cut, and corrections (which feed training) are rate-limited."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from robot.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (conversation TEXT, turn INTEGER, at REAL, message TEXT, reply TEXT,
                                    intent TEXT, confidence REAL, liked INTEGER, PRIMARY KEY (conversation, turn));
CREATE TABLE IF NOT EXISTS corrections (id INTEGER PRIMARY KEY, at REAL, message TEXT, intent TEXT,
                                        used INTEGER DEFAULT 0);
CREATE INDEX IF NOT EXISTS ratings_at ON ratings (at);  -- trimming to the newest: 30 -> 1.3 ms a rating at 50,000 rows
CREATE INDEX IF NOT EXISTS corrections_at ON corrections (at);
"""
# Every row but the newest `?` of a table, through its index on `at` (tests check the plan).
TRIM = "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY at DESC LIMIT -1 OFFSET ?)"


@dataclass(frozen=True)
class Correction:
    id: int
    message: str
    intent: str


@dataclass(frozen=True)
class FeedbackLimits:
    ratings: int = 50_000  # rows kept; the oldest go first
    corrections: int = 10_000
    corrections_per_minute: int = 30  # for the whole store: a flood cannot fill the next training
    text_chars: int = 1_000  # of a message or reply stored


class FeedbackStore:
    def __init__(self, path: Path, limits: FeedbackLimits = FeedbackLimits()) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self.db.executescript(SCHEMA)
        self.lock = threading.Lock()
        self.limits = limits
        self._recent: deque[float] = deque()  # times of the corrections of the last minute

    def _trim(self, table: str, keep: int) -> None:
        self.db.execute(TRIM.format(table=table), (keep,))

    def rate(self, conversation: str, turn: int, liked: bool | None, message: str = "", reply: str = "",
             intent: str | None = None, confidence: float = 0.0) -> None:
        """Like (True) or dislike (False) the reply of one turn, replacing an earlier rating; None removes it."""
        with self.lock, self.db:
            if liked is None:
                self.db.execute("DELETE FROM ratings WHERE conversation = ? AND turn = ?", (conversation, turn))
                return
            cut = self.limits.text_chars
            self.db.execute("INSERT OR REPLACE INTO ratings VALUES (?,?,?,?,?,?,?,?)",
                            (conversation, turn, time.time(), message[:cut], reply[:cut], intent, confidence,
                             int(liked)))
            self._trim("ratings", self.limits.ratings)

    def correct(self, message: str, intent: str) -> None:
        """Store a correction; a later one for the same message replaces it while it is still pending."""
        message = message.strip()[:self.limits.text_chars]
        now = time.monotonic()
        with self.lock, self.db:
            while self._recent and now - self._recent[0] > 60:
                self._recent.popleft()
            if len(self._recent) >= self.limits.corrections_per_minute:
                raise InputError("too many corrections in the last minute; try again shortly")
            self._recent.append(now)
            self.db.execute("DELETE FROM corrections WHERE message = ? AND used = 0", (message,))
            self.db.execute("INSERT INTO corrections (at, message, intent) VALUES (?,?,?)",
                            (time.time(), message, intent))
            self._trim("corrections", self.limits.corrections)

    def pending(self) -> list[Correction]:
        with self.lock:
            rows = self.db.execute("SELECT id, message, intent FROM corrections WHERE used = 0 ORDER BY id").fetchall()
        return [Correction(*row) for row in rows]

    def mark_used(self, ids: list[int]) -> None:
        with self.lock, self.db:
            self.db.executemany("UPDATE corrections SET used = 1 WHERE id = ?", [(i,) for i in ids])

    def votes(self) -> dict[str, int]:
        with self.lock:
            up, down = self.db.execute(
                "SELECT COALESCE(SUM(liked), 0), COALESCE(SUM(1 - liked), 0) FROM ratings").fetchone()
        return {"up": up, "down": down}
