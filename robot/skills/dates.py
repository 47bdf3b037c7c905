"""Dates in a sentence: "what day is 25 December", "how many days until Christmas" (12月25日是星期几, 离圣诞节还有几天).

English dates are read by dateutil's parser (fuzzy: the words around them are skipped), Chinese ones by a pattern
after cn2an turns the numerals into digits; named days come from a table. A date without a year is the next one
from today (today included).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from robot.language import CJK, ENGLISH, base_language
from robot.skills.numerals import with_digits
from robot.skills.registry import ActionContext, ActionResult

OCCASIONS = {  # name (as said) -> (month, day)
    "christmas eve": (12, 24), "christmas": (12, 25), "xmas": (12, 25), "boxing day": (12, 26),
    "new year's eve": (12, 31), "new years eve": (12, 31), "new year's day": (1, 1), "new year": (1, 1),
    "new years": (1, 1), "valentine's day": (2, 14), "valentines day": (2, 14), "halloween": (10, 31),
    "平安夜": (12, 24), "圣诞节": (12, 25), "圣诞": (12, 25), "元旦": (1, 1), "新年": (1, 1), "情人节": (2, 14),
    "万圣节": (10, 31), "跨年夜": (12, 31),
}
WEEKDAYS_ZH = "一二三四五六日"
CHINESE_DATE = re.compile(r"(?:(\d{4})\s*年)?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
CANNOT = {ENGLISH: "Which date? Try 'what day is 25 December' or 'how many days until Christmas'.",
          "zh": "哪一天？试试：“12月25日是星期几”或“离圣诞节还有几天”。"}


def next_occurrence(month: int, day: int, today: date) -> date:
    for year in (today.year, today.year + 1, today.year + 4):  # 29 February: the next leap year at the latest
        try:
            when = date(year, month, day)
        except ValueError:
            continue
        if when >= today:
            return when
    raise ValueError(f"no date {month}/{day}")


def find_date(text: str, today: date) -> tuple[date, str | None] | None:
    """(the date a sentence names, the occasion's name if it named one), or None."""
    lowered = text.casefold()
    for name in sorted(OCCASIONS, key=len, reverse=True):
        if name in lowered:
            return next_occurrence(*OCCASIONS[name], today), name
    if CJK.search(text):
        match = CHINESE_DATE.search(with_digits(text))
        if not match:
            return None
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            return (date(year, month, day) if year else next_occurrence(month, day, today)), None
        except ValueError:
            return None
    from dateutil import parser

    if not re.search(r"\d|january|february|march|april|may|june|july|august|september|october|november|december",
                     lowered):
        return None
    try:
        parsed, skipped = parser.parse(text, fuzzy_with_tokens=True, default=datetime(today.year, 1, 1))
    except (ValueError, OverflowError):
        return None
    explicit_year = re.search(r"\b\d{4}\b", text)
    when = parsed.date()
    return (when if explicit_year else next_occurrence(when.month, when.day, today)), None


def spoken_date(when: date, language: str) -> tuple[str, str]:
    """(the date, its weekday) as said in `language`."""
    if base_language(language) == "zh":
        return f"{when.year}年{when.month}月{when.day}日", f"星期{WEEKDAYS_ZH[when.weekday()]}"
    return f"{when:%A} {when.day} {when:%B %Y}", f"{when:%A}"


def day_of_action(ctx: ActionContext) -> ActionResult:
    found = find_date(ctx.text, ctx.now.date())
    if found is None:
        return ActionResult({}, ctx.said(CANNOT))
    full, weekday = spoken_date(found[0], ctx.language)
    return ActionResult({"date": full, "weekday": weekday})


def days_until_action(ctx: ActionContext) -> ActionResult:
    today = ctx.now.date()
    found = find_date(ctx.text, today)
    if found is None:
        return ActionResult({}, ctx.said(CANNOT))
    when, occasion = found
    full, _ = spoken_date(when, ctx.language)
    name = full if occasion is None else occasion if base_language(ctx.language) == "zh" else \
        " ".join(word[:1].upper() + word[1:] for word in occasion.split())
    return ActionResult({"days": str((when - today).days), "date": full, "occasion": name})
