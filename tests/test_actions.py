"""The built-in actions: safe arithmetic and percentages, date and time, the per-session name memory, unit
conversion, timers and dates, in English and Chinese."""

from __future__ import annotations

from datetime import datetime

import pytest

from robot.brain import Session
from robot.skills.arithmetic import CalculationError, calculate
from robot.skills.registry import ActionContext, actions
from robot.skills.timers import due

ACTIONS = actions()


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
    # percentages
    ("what is 15% of 80", "12"), ("15 percent of 80", "12"), ("what percent of 60 is 12", "20%"),
    ("12 is what percentage of 60", "20%"), ("add 20% to 50", "60"), ("50 plus 20%", "60"), ("80 minus 25%", "60"),
    ("increase 200 by 10%", "220"), ("take 25% off 80", "60"), ("八十的百分之十五是多少", "12"),
    ("十二是六十的百分之几", "20%"), ("五十加上百分之二十", "60"),
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


def run(action: str, text: str, language: str = "en", session: Session | None = None,
        now: datetime = datetime(2026, 12, 2, 17, 0)) -> dict | str:
    result = ACTIONS[action].run(ActionContext(text, {}, {}, now=now, language=language, session=session))
    return result.reply if result.reply is not None else result.slots


@pytest.mark.parametrize(("text", "language", "amount", "result", "target"), [
    ("how many kilometers is 10 miles", "en", "10", "16.09", "kilometers"),
    ("100 fahrenheit in celsius", "en", "100", "37.78", "celsius"),
    ("convert 5 pounds to kilograms", "en", "5", "2.268", "kilograms"),
    ("how many seconds are in an hour", "en", "1", "3600", "seconds"),
    ("how many feet are in a mile?", "en", "1", "5280", "feet"),
    ("60 mph in km/h", "en", "60", "96.56", "km/h"),
    ("ten miles to kilometres please", "en", "10", "16.09", "kilometres"),
    ("what's 20 degrees celsius in fahrenheit", "en", "20", "68", "fahrenheit"),
    ("10英里是多少公里", "zh", "10", "16.09", "公里"), ("100华氏度是多少摄氏度", "zh", "100", "37.78", "摄氏度"),
    ("五公斤等于多少磅", "zh", "5", "11.02", "磅"), ("一斤等于多少克", "zh", "1", "500", "克"),
])
def test_units_convert(text, language, amount, result, target):
    slots = run("convert_units", text, language)
    assert (slots["amount"], slots["result"], slots["to_unit"]) == (amount, result, target)


def test_units_say_what_they_cannot_convert():
    assert "different things" in run("convert_units", "3 meters in seconds")
    assert "couldn't convert" in run("convert_units", "what is the meaning of life")
    assert "换算不了" in run("convert_units", "今天天气怎么样", "zh")


def test_timers_set_count_down_cancel_and_ring():
    session, start = Session(), datetime(2026, 12, 2, 17, 0, 0)
    assert run("timer_left", "how long is left", session=session) == "There's no timer running."
    assert run("timer_set", "set a timer for an hour and a half", session=session, now=start) == \
        {"duration": "1 hour 30 minutes"}
    assert run("timer_set", "set a timer for 90 seconds", session=session, now=start) == \
        {"duration": "1 minute 30 seconds"}
    later = start.replace(second=30)
    assert run("timer_left", "how long is left", session=session, now=later) == \
        {"remaining": "1 minute", "duration": "1 minute 30 seconds"}
    rung = due(session.timers, start.timestamp() + 91)
    assert [t.label for t in rung] == ["1 minute 30 seconds"] and len(session.timers) == 1
    assert run("timer_cancel", "cancel the timer", session=session) == {"duration": "1 hour 30 minutes"}
    assert session.timers == []
    assert run("timer_set", "设一个一个半小时的计时器", "zh", session) == {"duration": "1小时30分钟"}
    assert "24" in run("timer_set", "set a timer for 3 days", session=session)
    assert "how long" in run("timer_set", "set a timer", session=session).lower()


@pytest.mark.parametrize(("action", "text", "language", "slots"), [
    ("day_of_date", "what day is 25 December", "en", {"date": "Friday 25 December 2026", "weekday": "Friday"}),
    ("day_of_date", "what day was 1 January 2000", "en", {"date": "Saturday 1 January 2000", "weekday": "Saturday"}),
    ("day_of_date", "what day is july 4th", "en", {"date": "Sunday 4 July 2027", "weekday": "Sunday"}),
    ("day_of_date", "12月25日是星期几", "zh", {"date": "2026年12月25日", "weekday": "星期五"}),
    ("days_until", "how many days until Christmas", "en",
     {"days": "23", "date": "Friday 25 December 2026", "occasion": "Christmas"}),
    ("days_until", "how long until new year's eve", "en",
     {"days": "29", "date": "Thursday 31 December 2026", "occasion": "New Year's Eve"}),
    ("days_until", "离圣诞节还有几天", "zh", {"days": "23", "date": "2026年12月25日", "occasion": "圣诞节"}),
    ("days_until", "days until 2 December", "en", {"days": "0", "date": "Wednesday 2 December 2026",
                                                   "occasion": "Wednesday 2 December 2026"}),
])
def test_dates(action, text, language, slots):
    assert run(action, text, language) == slots


def test_a_date_it_cannot_find_is_said():
    assert "Which date" in run("days_until", "how many days until my birthday")
