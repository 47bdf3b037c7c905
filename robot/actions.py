"""Built-in actions: code that runs when an intent fires and fills its response templates' slots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from robot.arithmetic import CalculationError, calculate

MEMORY_SLOTS = ("user_name",)  # remembered per session, usable in any template
PERSONA_SLOTS = ("robot_name",)  # from the persona, usable in any template


@dataclass
class ActionContext:
    text: str
    entities: dict[str, str]
    memory: dict[str, str]
    now: datetime = field(default_factory=datetime.now)


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
    return ActionResult({"date": f"{ctx.now:%A} {ctx.now.day} {ctx.now:%B %Y}", "weekday": f"{ctx.now:%A}"})


def _calculate(ctx: ActionContext) -> ActionResult:
    try:
        expression, result = calculate(ctx.text)
    except CalculationError as exc:
        return ActionResult({}, f"I couldn't work that out ({exc}). Try something like 'what is 12 times 7'.")
    return ActionResult({"expression": expression, "result": result})


def _remember_name(ctx: ActionContext) -> ActionResult:
    name = ctx.entities.get("name")
    if not name:
        return ActionResult({}, "I didn't catch your name. Say it like this: 'my name is Sam'.")
    ctx.memory["user_name"] = name
    return ActionResult({"user_name": name})


def _recall_name(ctx: ActionContext) -> ActionResult:
    name = ctx.memory.get("user_name")
    if not name:
        return ActionResult({}, "I don't know your name yet. Tell me with 'my name is …'.")
    return ActionResult({"user_name": name})


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("time", ("time",), _time, "the current local time"),
    Action("date", ("date", "weekday"), _date, "today's date and weekday"),
    Action("calculate", ("expression", "result"), _calculate, "safe arithmetic on the message"),
    Action("remember_name", ("user_name",), _remember_name, "stores the `name` entity for the session"),
    Action("recall_name", ("user_name",), _recall_name, "the name remembered in this session"),
)}
