"""The user's regular expressions (entity rules). They run in the `regex` engine with a time limit and without
holding the interpreter, so a pattern that backtracks badly, like `(a+)+$`, costs a message at most
REGEX_SECONDS per pattern and then counts as no match, instead of freezing the server or a training;
validation rejects such a pattern outright when it is slow on strings made to trip it.
"""

from __future__ import annotations

import regex

REGEX_SECONDS = 0.05
PROBE_SECONDS = 0.2
PROBES = [c * 40 + "!" for c in "a1 ."] + ["ab" * 30 + "!", "a1" * 30 + "!", "a " * 30 + "!"]


def compile_user_regex(pattern: str) -> regex.Pattern:
    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)


def search_user_regex(pattern: regex.Pattern, text: str, seconds: float = REGEX_SECONDS) -> regex.Match | None:
    """The first match, or None, also when the search ran out of time."""
    try:
        return pattern.search(text, timeout=seconds, concurrent=True)
    except TimeoutError:
        return None


def regex_problem(pattern: str) -> str | None:
    """Why a pattern cannot be an entity rule, or None."""
    try:
        compiled = compile_user_regex(pattern)
    except (regex.error, RecursionError, OverflowError) as exc:
        return f"invalid regular expression: {exc}"
    for probe in PROBES:
        try:
            compiled.search(probe, timeout=PROBE_SECONDS, concurrent=True)
        except TimeoutError:
            return (f"regular expression takes over {PROBE_SECONDS:g} s on {probe[:12]!r}... (nested repeats "
                    "like (a+)+ backtrack without end); rewrite it without a repeat inside a repeat")
    return None
