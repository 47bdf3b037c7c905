"""Safe arithmetic, date and time, and the per-session name memory."""

from __future__ import annotations

from datetime import datetime

import pytest

from robot.actions import ACTIONS, ActionContext
from robot.arithmetic import CalculationError, calculate


@pytest.mark.parametrize(("text", "result"), [
    ("what is 12 times 7", "84"), ("what's six times seven?", "42"), ("calculate (3 + 4) * 2", "14"),
    ("2 to the power of 10", "1024"), ("what is 10 divided by 4", "2.5"), ("twenty five plus 17", "42"),
    ("7 x 8", "56"), ("what is 5 squared", "25"), ("what is -3 + 5", "2"), ("9 minus 12 minus 1", "-4"),
    ("2 ^ 3 ^ 2", "512"), ("17 mod 5", "2"), ("what is 1/3", "0.3333333333"),
    # number words of any size, "and", decimals, negatives, thousands separators
    ("what's one hundred twenty times two", "240"), ("what is one hundred and twenty times two", "240"),
    ("two thousand five hundred minus one", "2499"), ("1,000 plus 1", "1001"), ("1,234,567 plus 1", "1234568"),
    ("three million divided by two thousand", "1500"), ("what is two point five times four", "10"),
    ("negative three times four", "-12"), ("zero times nine", "0"), ("what is 5 plus 5.", "10"),
    # numbers apart are never glued: the expression is the part that has an operator
    ("12 3 plus 4", "7"),
    # Chinese numerals and operator words
    ("十二乘以七", "84"), ("一百二十加三", "123"), ("请帮我算一下十二乘以七等于多少", "84"), ("三点五乘二", "7"),
    ("二的三次方", "8"), ("五的平方", "25"), ("一万零五减去二十", "9985"), ("九除以三", "3"), ("（一加二）乘三", "9"),
    ("两百加两百", "400"),
])
def test_calculate(text, result):
    assert calculate(text)[1] == result


@pytest.mark.parametrize("text", ["hello there", "1/0", "what is 2 ^ 99999", "9" * 200 + " ^ 9" * 3, "(((1+2)",
                                  "10 % 0", "one hundred", "12 3", "一百", "现在几点了"])
def test_calculate_refuses_what_it_cannot_do_safely(text):
    with pytest.raises(CalculationError):
        calculate(text)


def test_calculate_reads_only_the_arithmetic():
    assert calculate("__import__('os').system('ls') 1+1x") == ("1+1", "2")


def test_time_and_date_fill_their_slots():
    now = datetime(2026, 3, 14, 15, 9)
    ctx = ActionContext("what time is it", {}, {}, now=now)
    assert ACTIONS["time"].run(ctx).slots == {"time": "15:09"}
    assert ACTIONS["date"].run(ctx).slots == {"date": "Saturday 14 March 2026", "weekday": "Saturday",
                                              "year": "2026", "month": "3", "day": "14"}


def test_name_memory():
    memory: dict[str, str] = {}
    assert ACTIONS["recall_name"].run(ActionContext("what's my name", {}, memory)).reply is not None
    assert ACTIONS["remember_name"].run(ActionContext("call me", {}, memory)).reply is not None
    assert ACTIONS["remember_name"].run(ActionContext("call me Ada", {"name": "Ada"}, memory)).slots == \
        {"user_name": "Ada"}
    assert ACTIONS["recall_name"].run(ActionContext("who am i", {}, memory)).slots == {"user_name": "Ada"}
