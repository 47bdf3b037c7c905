"""Number words as digits, for every skill that reads numbers: English by text2num ("one hundred and six" -> 106),
Chinese numerals by cn2an (一百二十 -> 120, 百分之十五 -> 15%)."""

from __future__ import annotations

import warnings

from text_to_num import alpha2digit

from robot.language import CJK


def with_digits(text: str) -> str:
    """`text` lower-cased, its number words as digits."""
    text = alpha2digit(text.casefold(), "en", threshold=0)
    if CJK.search(text):
        import cn2an  # 0.1 s to import: only for Chinese

        with warnings.catch_warnings():  # it warns about what it leaves as is (百分之几)
            warnings.simplefilter("ignore")
            text = cn2an.transform(text, "cn2an")
    return text
