"""Text prepared for speech, one step for every voice: what a reply writes with digits and symbols, said as a
person would say it ("14:50" -> "fourteen fifty", "4140" -> "four thousand one hundred and forty", "15%" ->
"fifteen percent", "Friday 25 December 2026" -> "Friday the twenty-fifth of December twenty twenty-six").

English numbers are spelled by `inflect`, Chinese ones by `cn2an` (dates, percentages and decimals included);
each voice then reads words it knows. The rules run in order, the most specific first (a time before a plain
number, a date before its day's number).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable

from robot.language import ENGLISH, base_language

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
ABBREVIATIONS = {"Dr.": "Doctor", "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "St.": "Saint", "e.g.":
                 "for example", "i.e.": "that is", "etc.": "et cetera", "vs.": "versus", "vs": "versus",
                 "approx.": "approximately", "no.": "number"}
UNITS = {  # symbol after a number -> (singular, plural)
    "km/h": ("kilometre per hour", "kilometres per hour"), "mph": ("mile per hour", "miles per hour"),
    "km": ("kilometre", "kilometres"), "cm": ("centimetre", "centimetres"), "mm": ("millimetre", "millimetres"),
    "kg": ("kilogram", "kilograms"), "g": ("gram", "grams"), "mg": ("milligram", "milligrams"),
    "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"), "oz": ("ounce", "ounces"), "ml": ("millilitre",
    "millilitres"), "mL": ("millilitre", "millilitres"), "ft": ("foot", "feet"), "°C": ("degree Celsius",
    "degrees Celsius"), "°F": ("degree Fahrenheit", "degrees Fahrenheit"), "h": ("hour", "hours"),
    "min": ("minute", "minutes"), "s": ("second", "seconds"),
}
CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
              "€": ("euro", "euros", "cent", "cents")}
OPERATORS = {"*": "times", "×": "times", "/": "divided by", "÷": "divided by", "+": "plus", "-": "minus",
             "^": "to the power of", "=": "equals"}
NUMBER = r"\d[\d,]*(?:\.\d+)?"


@functools.cache
def _inflect():
    import inflect

    return inflect.engine()


def cardinal(text: str) -> str:
    """A number written with digits (thousands separators and decimals allowed) in words."""
    return _inflect().number_to_words(text.replace(",", ""), comma="", andword="and", decimal="point")


def ordinal(number: int) -> str:
    return _inflect().ordinal(cardinal(str(number)))


def year(number: int) -> str:
    """A year as said: 2026 twenty twenty-six, 2005 two thousand and five, 1900 nineteen hundred."""
    if 2000 <= number <= 2009 or not 1100 <= number <= 2099:
        return cardinal(str(number))
    high, low = divmod(number, 100)
    return f"{cardinal(str(high))} {'hundred' if low == 0 else ('oh ' if low < 10 else '') + cardinal(str(low))}"


def _time(match: re.Match) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute == 0:
        return "midnight" if hour == 0 else f"{cardinal(str(hour))} o'clock" if hour <= 12 else \
            f"{cardinal(str(hour))} hundred"
    return f"{cardinal(str(hour))} {'oh ' if minute < 10 else ''}{cardinal(str(minute))}"


def _money(match: re.Match) -> str:
    one, many, cent, cents = CURRENCIES[match.group(1)]
    whole, fraction = match.group(2).replace(",", ""), match.group(3)
    said = f"{cardinal(whole)} {one if whole == '1' else many}"
    if fraction and int(fraction):
        said += f" and {cardinal(str(int(fraction)))} {cent if int(fraction) == 1 else cents}"
    return said


def _unit(match: re.Match) -> str:
    one, many = UNITS[match.group(2)]
    return f"{cardinal(match.group(1))} {one if match.group(1) == '1' else many}"


def _date(match: re.Match) -> str:
    day, month, when = int(match.group(1)), match.group(2), match.group(3)
    return f"the {ordinal(day)} of {month}" + (f" {year(int(when))}" if when else "")


def _month_first(match: re.Match) -> str:
    month, day, when = match.group(1), int(match.group(2)), match.group(3)
    return f"{month} {ordinal(day)}" + (f" {year(int(when))}" if when else "")


def _arithmetic(match: re.Match) -> str:
    said = re.sub(r"(?<=[\d)])\s*([*×/÷+^=-])\s*", lambda m: f" {OPERATORS[m.group(1)]} ", match.group(0))
    return re.sub(r"(?<![\w)])-\s*(?=[\d(])", "minus ", said)  # a negative number


_MONTH = "|".join(MONTHS)
ENGLISH_RULES: list[tuple[re.Pattern, str | Callable[[re.Match], str]]] = [
    (re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(ABBREVIATIONS, key=len, reverse=True))) +
                r")(?!\w)"), lambda m: ABBREVIATIONS[m.group(1)]),
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)? (" + _MONTH + r")(?:,? (\d{4}))?\b"), _date),
    (re.compile(r"\b(" + _MONTH + r") (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?\b"), _month_first),
    (re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b"), _time),
    (re.compile(r"([$£€])\s?(\d[\d,]*)(?:\.(\d{2}))?\b"), _money),
    (re.compile(rf"(?<![\w.])-?\(?{NUMBER}(?:\s*[*×/÷+^-]\s*-?\(?{NUMBER}\)?)+\s*=\s*-?{NUMBER}"), _arithmetic),
    (re.compile(rf"({NUMBER})\s?%"), lambda m: f"{cardinal(m.group(1))} percent"),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), lambda m: ordinal(int(m.group(1)))),
    (re.compile(r"(" + NUMBER + r")\s?(" + "|".join(map(re.escape, sorted(UNITS, key=len, reverse=True))) +
                r")(?![\w/])"), _unit),
    (re.compile(r"\b([A-Z])(\d)\b-?"), lambda m: f"{m.group(1)} {cardinal(m.group(2))} "),  # R2-Detour
    (re.compile(r"(?<![\w.])" + NUMBER + r"(?![\w])"), lambda m: cardinal(m.group(0).rstrip("."))),
    (re.compile(r"\s&\s"), " and "),
]
CHINESE_TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3]):([0-5]\d)(?!\d)")


def _chinese(text: str) -> str:
    import cn2an

    text = CHINESE_TIME.sub(lambda m: f"{int(m.group(1))}点" + (f"{int(m.group(2))}分" if int(m.group(2)) else "整"),
                            text)
    with warnings.catch_warnings():  # it warns about what it leaves as is
        warnings.simplefilter("ignore")
        return cn2an.transform(text, "an2cn")


def for_speech(text: str, language: str = ENGLISH) -> str:
    """`text` with its numbers, times, dates, money, units, percentages, symbols and abbreviations in words
    (English and Chinese; other languages as they are)."""
    if base_language(language) == "zh":
        return _chinese(text)
    if base_language(language) != ENGLISH:  # espeak-ng reads numbers in its other languages itself
        return text
    for pattern, said in ENGLISH_RULES:
        text = pattern.sub(said, text)
    return " ".join(text.split())
