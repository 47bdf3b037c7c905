"""Safe arithmetic from spoken or typed questions ("what is 12 times 7?", "十二乘以七"), parsed by hand, never
eval'd."""

from __future__ import annotations

import math
import re

from robot.language import CJK
from robot.skills.numerals import with_digits

_OPERATOR_WORDS = [
    (r"\bto the power of\b|\bpower\b|\*\*", "^"), (r"\bsquared\b", "^2"), (r"\bcubed\b", "^3"),
    (r"\bmultiplied by\b|\btimes\b|×", "*"), (r"\bdivided by\b|\bover\b|÷", "/"),
    (r"\bplus\b|\badd\b", "+"), (r"\bminus\b|\bsubtract\b|\bnegative\b", "-"), (r"\bmod(?:ulo)?\b", "%"),
    (r"(?<=\d)\s*x\s*(?=[\d(])", "*"),
]
_CHINESE_OPERATORS = [  # after the numerals are digits: 二的三次方 -> 2的3次方 -> 2^3
    (r"的\s*(\d+(?:\.\d+)?)\s*次方", r"^\1"), (r"的平方", "^2"), (r"的立方", "^3"),
    (r"乘以|乘", "*"), (r"除以", "/"), (r"加上|加", "+"), (r"减去|减", "-"), (r"[（]", "("), (r"[）]", ")"),
]
_N = r"(\d+(?:\.\d+)?)"
_PERCENT = r"\s*(?:%|percent|per cent)"
_PERCENTAGES = [(re.compile(pattern), expression) for pattern, expression in (  # rewritten as arithmetic first
    (rf"what (?:percent|percentage) of {_N} is {_N}", r"(\2/\1*100)"),  # a percentage: see _ASKS_PERCENT
    (rf"{_N} is what (?:percent|percentage) of {_N}", r"(\1/\2*100)"),
    (rf"(?:add|plus) {_N}{_PERCENT} (?:to|on) {_N}", r"(\2*(1+\1/100))"),
    (rf"(?:increase|raise) {_N} by {_N}{_PERCENT}", r"(\1*(1+\2/100))"),
    (rf"(?:decrease|reduce|lower) {_N} by {_N}{_PERCENT}", r"(\1*(1-\2/100))"),
    (rf"(?:take|subtract|minus) {_N}{_PERCENT} (?:off|from) {_N}", r"(\2*(1-\1/100))"),
    (rf"{_N}{_PERCENT} off {_N}", r"(\2*(1-\1/100))"),
    (rf"{_N} (?:plus|\+) {_N}{_PERCENT}", r"(\1*(1+\2/100))"),
    (rf"{_N} (?:minus|-) {_N}{_PERCENT}", r"(\1*(1-\2/100))"),
    (rf"{_N}{_PERCENT} of {_N}", r"(\1/100*\2)"),
    (rf"{_N}\s*是\s*{_N}\s*的百分之几", r"(\1/\2*100)"),
    (rf"{_N}\s*(?:加上|加|增加)\s*{_N}%", r"(\1*(1+\2/100))"),
    (rf"{_N}\s*(?:减去|减|减少)\s*{_N}%", r"(\1*(1-\2/100))"),
    (rf"{_N}\s*的\s*{_N}%", r"(\2/100*\1)"),
)]
_ASKS_PERCENT = re.compile(r"what (?:percent|percentage)|百分之几|百分比是多少")
_THOUSANDS_SEPARATOR = re.compile(r"(?<=\d),(?=\d{3}\b)")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|\.\d+|[-+*/^%()]|[^\s\d\-+*/^%()]+")
_NUMBER = re.compile(r"\.?\d")
_BINARY = re.compile(r"[+*/^%]|(?<=[\d)])-")
MAX_MAGNITUDE = 1e100


class CalculationError(ValueError):
    """The text holds no expression we can compute safely."""


def _runs(tokens: list[str]) -> list[list[str]]:
    """Maximal stretches of numbers, operators and brackets. A word ends a stretch, and so does a number
    right after a number or a closing bracket: '12 3 plus 4' holds '12' and '3+4', never '123+4'."""
    runs: list[list[str]] = [[]]
    for token in tokens:
        is_number = bool(_NUMBER.match(token))
        if not (is_number or token in "-+*/^%()"):
            runs.append([])
        elif is_number and runs[-1] and (_NUMBER.match(runs[-1][-1]) or runs[-1][-1] == ")"):
            runs.append([token])
        else:
            runs[-1].append(token)
    return runs


def find_expression(text: str) -> str:
    """The arithmetic expression in a sentence, in symbols: 'what is one hundred and six times 7?' -> '106*7'.

    Number words (hundreds, thousands, millions, 'and', 'point') are read by text2num, Chinese numerals
    (一百二十, 三点五, 两百) by cn2an; digit groups with thousands separators ('1,000') are one number."""
    text = _THOUSANDS_SEPARATOR.sub("", with_digits(text))
    for pattern, expression in _PERCENTAGES:
        text = pattern.sub(expression, text)
    if CJK.search(text):
        for pattern, symbol in _CHINESE_OPERATORS:
            text = re.sub(pattern, f" {symbol} ", text)
    for pattern, symbol in _OPERATOR_WORDS:
        text = re.sub(pattern, f" {symbol} ", text)
    candidates = []
    for run in _runs(_TOKEN.findall(text)):
        expression = "".join(run).lstrip("+*/^%)").rstrip("+-*/^%(")
        if _NUMBER.search(expression) and _BINARY.search(expression):
            candidates.append(expression)
    if not candidates:
        raise CalculationError("no arithmetic expression found")
    return max(candidates, key=len)


class _Parser:
    """expr := term (+|- term)*; term := power (*|/|% power)*; power := unary (^ power)?;
    unary := -unary | +unary | number | ( expr )"""

    def __init__(self, expression: str) -> None:
        self.tokens = re.findall(r"\d+(?:\.\d+)?|\.\d+|[-+*/^%()]", expression)
        if "".join(self.tokens) != expression or len(self.tokens) > 200:
            raise CalculationError(f"cannot read {expression!r}")
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise CalculationError("expression ends too early")
        self.pos += 1
        return token

    def parse(self) -> float:
        value = self.expr()
        if self.peek() is not None:
            raise CalculationError(f"unexpected {self.peek()!r}")
        return value

    def expr(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = _checked(value + self.term() if self.take() == "+" else value - self.term())
        return value

    def term(self) -> float:
        value = self.power()
        while self.peek() in ("*", "/", "%"):
            op, right = self.take(), self.power()
            if op != "*" and right == 0:
                raise CalculationError("division by zero")
            value = _checked(value * right if op == "*" else value / right if op == "/" else value % right)
        return value

    def power(self) -> float:
        base = self.unary()
        if self.peek() == "^":
            self.take()
            exponent = self.power()
            if abs(exponent) > 1000 or (base == 0 and exponent < 0):
                raise CalculationError("exponent out of range")
            try:
                return _checked(math.pow(base, exponent))
            except (OverflowError, ValueError) as exc:
                raise CalculationError(str(exc)) from exc
        return base

    def unary(self) -> float:
        token = self.take()
        if token in ("-", "+"):
            value = self.unary()
            return -value if token == "-" else value
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise CalculationError("missing ')'")
            return value
        try:
            return float(token)
        except ValueError as exc:
            raise CalculationError(f"unexpected {token!r}") from exc


def _checked(value: float) -> float:
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise CalculationError("result out of range")
    return value


def evaluate(expression: str) -> float:
    return _Parser(expression).parse()


def format_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def calculate(text: str) -> tuple[str, str]:
    """(expression, result) for the arithmetic in `text`; raises CalculationError when there is none. A
    question for a percentage ("what percent of 60 is 12") has a result in percent ("20%")."""
    expression = find_expression(text)
    percent = "%" if _ASKS_PERCENT.search(text.casefold()) else ""
    said = with_digits(text)  # a percentage is shown as asked ("15% of 80"), not as its rewrite ("(15/100*80)")
    phrase = next((m.group(0) for pattern, _ in _PERCENTAGES if (m := pattern.search(said))), None)
    return phrase or expression, format_number(evaluate(expression)) + percent
