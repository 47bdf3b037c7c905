"""Numbers as English words, as a recogniser hears them: typed "12" is said "twelve". (Words to digits is
text2num's `alpha2digit`, in `robot.skills.arithmetic`.)"""

from __future__ import annotations

UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(value: str) -> str:
    """'42' -> 'forty two', '3.5' -> 'three point five'; digit by digit from a billion up."""
    whole, _, fraction = value.partition(".")
    words = " ".join(UNITS[int(d)] for d in whole) if len(whole) > 9 else _integer_words(int(whole))
    return words + (" point " + " ".join(UNITS[int(d)] for d in fraction) if fraction else "")


def _integer_words(n: int) -> str:
    if n < 20:
        return UNITS[n]
    if n < 100:
        return TENS[n // 10 - 2] + ("" if n % 10 == 0 else " " + UNITS[n % 10])
    for size, name in ((10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            rest = n % size
            return f"{_integer_words(n // size)} {name}" + ("" if rest == 0 else " " + _integer_words(rest))
    raise AssertionError(n)
