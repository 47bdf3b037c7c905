"""Unit conversion from a sentence: "how many kilometers is 10 miles", "100 fahrenheit in celsius", "10英里是多少公里".

The units and the arithmetic are pint's (temperatures with their offsets included); this module only finds the
amount, the unit it is in and the unit wanted, in English or Chinese words.
"""

from __future__ import annotations

import functools
import re

from robot.language import CJK, ENGLISH
from robot.skills.numerals import with_digits
from robot.skills.registry import ActionContext, ActionResult

CANNOT = {ENGLISH: "I couldn't convert that. Try 'how many kilometers is 10 miles' or '100 fahrenheit in celsius'.",
          "zh": "这个我换算不了。试试：“10英里是多少公里”或“100华氏度是多少摄氏度”。"}
INCOMPATIBLE = {ENGLISH: "{source} and {target} measure different things, so I can't convert between them.",
                "zh": "{source}和{target}不是同一种量，没法换算。"}
ALIASES = {  # words pint does not read as meant
    "degrees celsius": "degC", "degree celsius": "degC", "degrees c": "degC", "°c": "degC", "centigrade": "degC",
    "degrees fahrenheit": "degF", "degree fahrenheit": "degF", "degrees f": "degF", "°f": "degF",
    "kilo": "kilogram", "kilos": "kilogram", "fluid ounce": "fluid_ounce", "fluid ounces": "fluid_ounce",
    "kmh": "km/h", "kilometers an hour": "km/h", "kilometres an hour": "km/h", "miles an hour": "mph",
}
CHINESE_UNITS = {  # longest first when matched
    "公里每小时": "km/h", "千米每小时": "km/h", "英里每小时": "mph", "摄氏度": "degC", "华氏度": "degF",
    "公里": "km", "千米": "km", "英里": "mile", "厘米": "cm", "毫米": "mm", "英尺": "foot", "英寸": "inch",
    "公斤": "kg", "千克": "kg", "毫升": "mL", "加仑": "gallon", "小时": "hour", "分钟": "minute", "磅": "pound",
    "盎司": "ounce", "克": "gram", "斤": "jin", "升": "liter", "米": "meter", "秒": "second", "天": "day", "码": "yard",
    "周": "week", "度": "degC",
}
_CHINESE_UNIT = "|".join(sorted(map(re.escape, CHINESE_UNITS), key=len, reverse=True))
NUMBER = r"-?\d+(?:\.\d+)?"
WORD = r"[a-z°/][a-z°/ ]*?"
ENGLISH_PATTERNS = [  # (amount, source, target) by group name
    re.compile(rf"how (?:many|much) (?P<target>{WORD}) (?:(?:is|are|there|in|make|makes|equals?) )+"
               rf"(?:(?P<amount>{NUMBER}) ?|an? )?(?P<source>{WORD})\s*[?.!]*$"),
    re.compile(rf"(?P<amount>{NUMBER}) ?(?P<source>{WORD}) (?:to|in|into|as|in terms of) (?P<target>{WORD})\s*[?.!]*$"),
]
CHINESE_PATTERNS = [
    re.compile(rf"(?P<amount>{NUMBER})\s*(?P<source>{_CHINESE_UNIT})\s*(?:是|等于|合|换算成|换成|转换成|折合)多?少?\s*"
               rf"(?P<target>{_CHINESE_UNIT})"),
    re.compile(rf"(?P<amount>{NUMBER})\s*(?P<source>{_CHINESE_UNIT})\s*(?:有|是|等于)?多少\s*(?P<target>{_CHINESE_UNIT})"),
]


@functools.cache
def registry():
    """pint's unit registry (0.3 s to build: once, at the first conversion), with the Chinese 斤 (500 g)."""
    import pint

    units = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    units.define("jin = 500 * gram")
    return units


def unit(words: str):
    words = " ".join(words.strip().split())
    return registry().parse_units(CHINESE_UNITS.get(words) or ALIASES.get(words, words))


def find(text: str) -> tuple[float, str, str] | None:
    """(amount, the source unit's words, the target unit's words), or None."""
    patterns = CHINESE_PATTERNS if CJK.search(text) else ENGLISH_PATTERNS
    text = with_digits(text).replace(",", "")
    text = re.sub(r"^(?:please |can you |could you )?(?:what(?:'s| is) |convert |tell me )?", "", text.strip())
    text = re.sub(r"(?:,? please)?\s*[?.!]*$", "", text)
    for pattern in patterns:
        if match := pattern.search(text):
            amount = float(match.group("amount")) if match.group("amount") else 1.0
            return amount, match.group("source"), match.group("target")
    return None


def round_to(value: float, digits: int = 4) -> str:
    """A result as people say it: about four significant digits, no trailing zeros."""
    text = f"{value:.{digits}g}" if abs(value) < 10 ** digits else f"{value:,.0f}"
    return text if "e" not in text else f"{value:,.2f}"


def convert_action(ctx: ActionContext) -> ActionResult:
    import pint

    found = find(ctx.text)
    if found is None:
        return ActionResult({}, ctx.said(CANNOT))
    amount, source, target = found
    try:
        quantity = registry().Quantity(amount, unit(source)).to(unit(target))
    except pint.DimensionalityError:
        return ActionResult({}, ctx.said(INCOMPATIBLE, source=source, target=target))
    except (pint.PintError, ValueError, AttributeError, TypeError, AssertionError):
        return ActionResult({}, ctx.said(CANNOT))
    return ActionResult({"amount": f"{amount:g}", "from_unit": source, "result": round_to(quantity.magnitude),
                         "to_unit": target})
