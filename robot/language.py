"""The language of a set of intents: declared (`language: zh` in the native format, `--language zh`, the Train
tab's selector) or, when not declared, read from the writing system of the examples.

The script settles only what it can: Han characters without kana are Chinese, kana Japanese, Hangul Korean,
and so on; Latin letters are taken as English, the one language the English encoder reads well. French or
Spanish data must be declared. The language chooses the sentence encoder, the recogniser's language and the
voice; everything else is language-blind.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

ENGLISH = "en"

# The first word of a letter's Unicode name -> the language that script most likely means.
SCRIPTS = {"CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko", "CYRILLIC": "ru", "GREEK": "el",
           "ARABIC": "ar", "HEBREW": "he", "THAI": "th", "DEVANAGARI": "hi", "LATIN": ENGLISH}
CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")  # kana, Han, Hangul: no spaces


def check_language(code: str) -> str:
    """A language code as the models use it ('zh', 'en', 'pt-br'), lower case; ValueError otherwise."""
    code = code.strip().lower().replace("_", "-")
    if not CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a language code (two or three letters, e.g. en, zh, fr)")
    return code


def base_language(code: str) -> str:
    """'zh-cn' -> 'zh': what the recogniser and the encoder choice need."""
    return code.split("-")[0]


def detect_language(texts: list[str]) -> str:
    """The language of the script most letters are written in; kana anywhere among Han characters means
    Japanese (its sentences mix both). English when nothing else is there."""
    scripts: Counter[str] = Counter()
    for text in texts:
        for char in text:
            if char.isalpha():
                scripts[unicodedata.name(char, "UNKNOWN").split(" ")[0]] += 1
    if scripts["HIRAGANA"] + scripts["KATAKANA"] > 0.05 * sum(scripts.values()):
        return "ja"
    known = [(n, script) for script, n in scripts.items() if script in SCRIPTS]
    return SCRIPTS[max(known)[1]] if known else ENGLISH
