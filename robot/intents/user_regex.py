"""The user's regular expressions (entity rules). They run in the `regex` engine with a time limit and without
holding the interpreter, so a pattern that backtracks badly, like `(a|aa)+$`, cannot freeze the server or a
training: one message's searches share a budget of MESSAGE_REGEX_SECONDS (each at most REGEX_SECONDS), after
which the patterns left count as no match. Validation rejects a pattern that is slow on strings made to trip it,
built from the pattern's own characters (`(?:x|xx)+y` only backtracks on runs of x).
"""

from __future__ import annotations

import time
from itertools import combinations

import regex

REGEX_SECONDS = 0.05  # one pattern on one message
MESSAGE_REGEX_SECONDS = 0.1  # all patterns on one message together
PROBE_SECONDS = 0.2
SYNTAX = set("()[]{}|*+?^$\\")
CLASSES = {"d": "1", "w": "a", "s": " ", "D": "a", "W": "!", "S": "a"}  # an example of each escape's class
DEFAULT_ALPHABET = "a1 ."
RUN = 40  # characters in a trip string: (x|xx)+y needs about 2^(RUN/1.4) steps on x * RUN


def compile_user_regex(pattern: str) -> regex.Pattern:
    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)


class Budget:
    """Time left for one message's regex searches."""

    def __init__(self, seconds: float = MESSAGE_REGEX_SECONDS) -> None:
        self.deadline = time.perf_counter() + seconds

    def left(self) -> float:
        return self.deadline - time.perf_counter()


def search_user_regex(pattern: regex.Pattern, text: str, budget: Budget | None = None) -> regex.Match | None:
    """The first match, or None, also when the search ran out of time (its own, or the message's budget)."""
    seconds = min(REGEX_SECONDS, budget.left()) if budget is not None else REGEX_SECONDS
    if seconds <= 0:
        return None
    try:
        return pattern.search(text, timeout=seconds, concurrent=True)
    except TimeoutError:
        return None


def alphabet(pattern: str) -> list[str]:
    """The characters a pattern can match, roughly: its literal characters and an example of each class escape
    (\\d -> 1), in order of appearance; the defaults when it has none."""
    chars: list[str] = []
    escaped = False
    for c in pattern:
        if escaped:
            chars.append(CLASSES.get(c, c))
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == ".":
            chars.append("a")
        elif c not in SYNTAX:
            chars.append(c)
    return list(dict.fromkeys(chars)) or list(DEFAULT_ALPHABET)


def trip_strings(pattern: str) -> list[str]:
    """Long runs of the pattern's characters and of pairs of them, each ending in a character it does not
    use (or nothing), so that a search must fail after trying every way to split the run."""
    chars = alphabet(pattern)
    end = next(c for c in "!#~\x00" if c not in chars)
    runs = [c * RUN for c in chars] + [(a + b) * (RUN // 2) for a, b in combinations(chars[:12], 2)]
    return [run + tail for run in runs for tail in (end, "")]


def regex_problem(pattern: str) -> str | None:
    """Why a pattern cannot be an entity rule, or None."""
    try:
        compiled = compile_user_regex(pattern)
    except (regex.error, RecursionError, OverflowError) as exc:
        return f"invalid regular expression: {exc}"
    for probe in trip_strings(pattern):
        try:
            compiled.search(probe, timeout=PROBE_SECONDS, concurrent=True)
        except TimeoutError:
            return (f"regular expression takes over {PROBE_SECONDS:g} s on {probe[:12]!r}... (a repeat over "
                    "alternatives or repeats that can match the same text, like (a|aa)+ or (a+)+, backtracks "
                    "without end); rewrite it so that each character can be matched one way only")
    return None
