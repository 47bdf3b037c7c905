"""Built-in actions: code that runs when an intent fires and fills its response templates' slots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from robot.arithmetic import CalculationError, calculate
from robot.language import ENGLISH, base_language

MEMORY_SLOTS = ("user_name",)  # remembered per session, usable in any template
PERSONA_SLOTS = ("robot_name",)  # from the persona, usable in any template
# What an action says when it cannot run, by language (English where the model's language has none)
CANNOT = {
    "calculate": {ENGLISH: "I couldn't work that out ({reason}). Try something like 'what is 12 times 7'.",
                  "zh": "这个我算不出来。试试这样问：“十二乘以七等于多少”。"},
    "remember_name": {ENGLISH: "I didn't catch your name. Say it like this: 'my name is Sam'.",
                      "zh": "我没听清你的名字。这样说：“我叫小明”。"},
    "recall_name": {ENGLISH: "I don't know your name yet. Tell me with 'my name is …'.",
                    "zh": "我还不知道你的名字。告诉我：“我叫……”。"},
}


@dataclass
class ActionContext:
    text: str
    entities: dict[str, str]
    memory: dict[str, str]
    now: datetime = field(default_factory=datetime.now)
    language: str = ENGLISH  # the intents' language: the one an action's own replies are in

    def cannot(self, action: str, **details: str) -> ActionResult:
        said = CANNOT[action]
        return ActionResult({}, said.get(base_language(self.language), said[ENGLISH]).format(**details))


@dataclass(frozen=True)
class ActionResult:
    slots: dict[str, str]
    reply: str | None = None  # when set, said instead of the intent's templates (the action could not run)


@dataclass(frozen=True)
class Action:
    name: str
    provides: tuple[str, ...]
    run: Callable[[ActionContext], ActionResult]
    description: str


def _time(ctx: ActionContext) -> ActionResult:
    return ActionResult({"time": ctx.now.strftime("%H:%M")})


def _date(ctx: ActionContext) -> ActionResult:
    return ActionResult({"date": f"{ctx.now:%A} {ctx.now.day} {ctx.now:%B %Y}", "weekday": f"{ctx.now:%A}",
                         "year": str(ctx.now.year), "month": str(ctx.now.month), "day": str(ctx.now.day)})


def _calculate(ctx: ActionContext) -> ActionResult:
    try:
        expression, result = calculate(ctx.text)
    except CalculationError as exc:
        return ctx.cannot("calculate", reason=str(exc))
    return ActionResult({"expression": expression, "result": result})


def _remember_name(ctx: ActionContext) -> ActionResult:
    name = ctx.entities.get("name")
    if not name:
        return ctx.cannot("remember_name")
    ctx.memory["user_name"] = name
    return ActionResult({"user_name": name})


def _recall_name(ctx: ActionContext) -> ActionResult:
    name = ctx.memory.get("user_name")
    if not name:
        return ctx.cannot("recall_name")
    return ActionResult({"user_name": name})


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("time", ("time",), _time, "the current local time"),
    Action("date", ("date", "weekday", "year", "month", "day"), _date, "today's date and weekday (English), and "
           "its numbers"),
    Action("calculate", ("expression", "result"), _calculate, "safe arithmetic on the message"),
    Action("remember_name", ("user_name",), _remember_name, "stores the `name` entity for the session"),
    Action("recall_name", ("user_name",), _recall_name, "the name remembered in this session"),
)}
