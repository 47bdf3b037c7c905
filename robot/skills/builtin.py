"""The built-in actions: code that runs when an intent fires and fills its response templates' slots (or, when it
cannot run, says so in the intents' language)."""

from __future__ import annotations

from robot.language import ENGLISH
from robot.skills import dates, timers, units
from robot.skills.arithmetic import CalculationError, calculate
from robot.skills.registry import Action, ActionContext, ActionResult

MEMORY_SLOTS = ("user_name",)  # remembered per session, usable in any template
PERSONA_SLOTS = ("robot_name",)  # from the persona, usable in any template
CANNOT = {  # what an action says when it cannot run, by language (English where the model's language has none)
    "calculate": {ENGLISH: "I couldn't work that out ({reason}). Try something like 'what is 12 times 7' or "
                           "'15% of 80'.",
                  "zh": "这个我算不出来。试试这样问：“十二乘以七等于多少”或“八十的百分之十五是多少”。"},
    "remember_name": {ENGLISH: "I didn't catch your name. Say it like this: 'my name is Sam'.",
                      "zh": "我没听清你的名字。这样说：“我叫小明”。"},
    "recall_name": {ENGLISH: "I don't know your name yet. Tell me with 'my name is …'.",
                    "zh": "我还不知道你的名字。告诉我：“我叫……”。"},
}


def _cannot(ctx: ActionContext, action: str, **details: str) -> ActionResult:
    return ActionResult({}, ctx.said(CANNOT[action], **details))


def _time(ctx: ActionContext) -> ActionResult:
    return ActionResult({"time": ctx.now.strftime("%H:%M")})


def _date(ctx: ActionContext) -> ActionResult:
    return ActionResult({"date": f"{ctx.now:%A} {ctx.now.day} {ctx.now:%B %Y}", "weekday": f"{ctx.now:%A}",
                         "year": str(ctx.now.year), "month": str(ctx.now.month), "day": str(ctx.now.day)})


def _calculate(ctx: ActionContext) -> ActionResult:
    try:
        expression, result = calculate(ctx.text)
    except CalculationError as exc:
        return _cannot(ctx, "calculate", reason=str(exc))
    return ActionResult({"expression": expression, "result": result})


def _remember_name(ctx: ActionContext) -> ActionResult:
    name = ctx.entities.get("name")
    if not name:
        return _cannot(ctx, "remember_name")
    ctx.memory["user_name"] = name
    return ActionResult({"user_name": name})


def _recall_name(ctx: ActionContext) -> ActionResult:
    name = ctx.memory.get("user_name")
    if not name:
        return _cannot(ctx, "recall_name")
    return ActionResult({"user_name": name})


def _capabilities(ctx: ActionContext) -> ActionResult:
    return ActionResult(dict(ctx.capabilities))


BUILTIN_ACTIONS = (
    Action("time", ("time",), _time, "the current local time"),
    Action("date", ("date", "weekday", "year", "month", "day"), _date, "today's date and weekday (English), and "
           "its numbers"),
    Action("calculate", ("expression", "result"), _calculate, "safe arithmetic and percentages on the message"),
    Action("remember_name", ("user_name",), _remember_name, "stores the `name` entity for the session"),
    Action("recall_name", ("user_name",), _recall_name, "the name remembered in this session"),
    Action("convert_units", ("amount", "from_unit", "result", "to_unit"), units.convert_action,
           "unit conversion (length, mass, temperature, volume, speed, time) with pint"),
    Action("timer_set", ("duration",), timers.set_action, "starts a timer for the duration in the message"),
    Action("timer_left", ("remaining", "duration"), timers.left_action, "the time left on the latest timer"),
    Action("timer_cancel", ("duration",), timers.cancel_action, "cancels the latest timer"),
    Action("day_of_date", ("date", "weekday"), dates.day_of_action, "the weekday of a date in the message"),
    Action("days_until", ("days", "date", "occasion"), dates.days_until_action,
           "days from today until a date or a named day (Christmas, New Year...)"),
    Action("capabilities", ("skills", "example", "help"), _capabilities, "what the model in use can do, from its "
           "intents' descriptions (else their first examples)"),
)
