"""One registry of actions: the built-in ones first, then those of installed packages (the entry-point group
`robot.actions`), by name. An intent names one with `action:`; an intent with `webhook:` calls its URL instead
(robot/skills/webhook.py). Either gives slots for the intent's templates, or the reply itself.

A plugin is a package whose entry point in `robot.actions` is an `Action`, or a function taking an
`ActionContext` and returning an `ActionResult` (named after the entry point):

    [project.entry-points."robot.actions"]
    order_status = "my_shop.robot_actions:order_status"
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points

from robot.language import ENGLISH, base_language

ENTRY_POINTS = "robot.actions"


@dataclass
class ActionContext:
    text: str
    entities: dict[str, str]
    memory: dict[str, str]  # the session's memory: an action may add to it (kept for the session)
    now: datetime = field(default_factory=datetime.now)
    language: str = ENGLISH  # the intents' language: the one an action's own replies are in
    slots: dict[str, str] = field(default_factory=dict)  # a form's filled slots
    session: object | None = None  # the robot's Session (timers live there)
    capabilities: dict[str, str] = field(default_factory=dict)  # what the model in use can do ({skills}, {example})

    def said(self, lines: dict[str, str], **details: object) -> str:
        """A line in the context's language (English where it has none), its {details} filled in."""
        return lines.get(base_language(self.language), lines[ENGLISH]).format(**details)


@dataclass(frozen=True)
class ActionResult:
    slots: dict[str, str]
    reply: str | None = None  # when set, said instead of the intent's templates


@dataclass(frozen=True)
class Action:
    name: str
    provides: tuple[str, ...]  # the template slots it fills
    run: Callable[[ActionContext], ActionResult]
    description: str
    origin: str = "built-in"  # or the distribution that provides it


def _plugin(entry) -> Action:
    loaded, origin = entry.load(), entry.dist.name if entry.dist else "plugin"
    if isinstance(loaded, Action):
        return Action(loaded.name, loaded.provides, loaded.run, loaded.description, origin)
    if callable(loaded):
        doc = (loaded.__doc__ or "").strip().splitlines()
        return Action(entry.name, tuple(getattr(loaded, "provides", ())), loaded, doc[0] if doc else "", origin)
    raise TypeError(f"{entry.value} is neither an Action nor a function")


@functools.cache
def actions() -> dict[str, Action]:
    """Every action by name: the built-ins, then installed plugins (a plugin cannot take a built-in's name; one
    that fails to load is said once on stderr and left out)."""
    from robot.skills.builtin import BUILTIN_ACTIONS

    found = {a.name: a for a in BUILTIN_ACTIONS}
    for entry in entry_points(group=ENTRY_POINTS):
        if entry.name in found:
            print(f"warning: action plugin {entry.value} ignored: {entry.name!r} is already an action",
                  file=sys.stderr)
            continue
        try:
            found[entry.name] = _plugin(entry)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the robot
            print(f"warning: action plugin {entry.value} not loaded: {type(exc).__name__}: {exc}", file=sys.stderr)
    return found
