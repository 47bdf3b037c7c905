"""Timers: "set a timer for 5 minutes", "how long is left", "cancel the timer" (and 设一个五分钟的计时器, 还剩多久,
取消计时器). They live in the session (so Undo and Retry take them back); whoever shows the conversation announces
the ones that are due (`due`): the web page rings and speaks, `robot voice` speaks, `robot chat` prints.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robot.language import CJK, ENGLISH, base_language
from robot.skills.numerals import with_digits
from robot.skills.registry import ActionContext, ActionResult

SECONDS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400,
           "秒": 1, "分钟": 60, "分": 60, "小时": 3600, "钟头": 3600, "天": 86400}
ENGLISH_AMOUNT = re.compile(r"(\d+(?:\.\d+)?|an?|half an?)\s*(second|sec|minute|min|hour|hr|day)s?\b")
# cn2an writes 一个半小时 as 1个0.5小时
CHINESE_AMOUNT = re.compile(r"(\d+(?:\.\d+)?|半)\s*个?\s*(半|0\.5)?\s*(秒|分钟|分|小时|钟头|天)")
MAX_SECONDS = 24 * 3600
LINES = {
    "no_duration": {ENGLISH: "For how long? Say something like 'set a timer for 5 minutes'.",
                    "zh": "要定多久？这样说：“设一个五分钟的计时器”。"},
    "too_long": {ENGLISH: "I can keep timers of up to 24 hours.", "zh": "计时器最长二十四小时。"},
    "none": {ENGLISH: "There's no timer running.", "zh": "现在没有计时器在运行。"},
    "done": {ENGLISH: "⏰ Time's up: your timer for {duration} is done!",
             "zh": "⏰ 时间到：{duration}的计时器结束了！"},
}
UNITS = {ENGLISH: (("hour", 3600), ("minute", 60), ("second", 1)), "zh": (("小时", 3600), ("分钟", 60), ("秒", 1))}


@dataclass(frozen=True)
class Timer:
    seconds: float
    ends_at: float  # time.time() when it rings
    label: str  # its duration as said ("5 minutes")


def duration_seconds(text: str) -> float | None:
    """The duration a sentence names ("an hour and a half", "90 seconds", "2 hours 30 minutes", 一个半小时)."""
    chinese = bool(CJK.search(text))
    if not chinese:  # "one second" would be read as "1 2nd"
        text = re.sub(r"\bseconds?\b", "sec", text, flags=re.IGNORECASE)
    text, total = with_digits(text), 0.0
    if chinese:
        for amount, half, unit in CHINESE_AMOUNT.findall(text):
            total += (0.5 if amount == "半" else float(amount)) * SECONDS[unit] + (SECONDS[unit] / 2 if half else 0)
        return total or None
    for amount, unit in ENGLISH_AMOUNT.findall(text):
        count = {"a": 1.0, "an": 1.0, "half a": 0.5, "half an": 0.5}.get(amount) or float(amount)
        total += count * SECONDS[unit]
        if re.search(rf"{re.escape(unit)}s? and a half", text):
            total += SECONDS[unit] / 2
    return total or None


def spoken(seconds: float, language: str) -> str:
    """A duration as said: "1 hour 30 minutes", "5 minutes", "45 seconds" (1小时30分钟)."""
    language = ENGLISH if base_language(language) != "zh" else "zh"
    left, parts = round(seconds), []
    for name, size in UNITS[language]:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{name}" if language == "zh" else f"{count} {name}{'s' if count != 1 else ''}")
    return ("" if language == "zh" else " ").join(parts) or ("0秒" if language == "zh" else "0 seconds")


def timers_of(ctx: ActionContext) -> list[Timer]:
    return ctx.session.timers if ctx.session is not None else []


def set_action(ctx: ActionContext) -> ActionResult:
    seconds = duration_seconds(ctx.text)
    if seconds is None:
        return ActionResult({}, ctx.said(LINES["no_duration"]))
    if seconds > MAX_SECONDS:
        return ActionResult({}, ctx.said(LINES["too_long"]))
    label = spoken(seconds, ctx.language)
    with _changing:
        timers_of(ctx).append(Timer(seconds, ctx.now.timestamp() + seconds, label))
    return ActionResult({"duration": label})


def left_action(ctx: ActionContext) -> ActionResult:
    running = timers_of(ctx)
    if not running:
        return ActionResult({}, ctx.said(LINES["none"]))
    latest = running[-1]
    return ActionResult({"remaining": spoken(max(0.0, latest.ends_at - ctx.now.timestamp()), ctx.language),
                         "duration": latest.label})


def cancel_action(ctx: ActionContext) -> ActionResult:
    running = timers_of(ctx)
    if not running:
        return ActionResult({}, ctx.said(LINES["none"]))
    with _changing:
        return ActionResult({"duration": running.pop().label})


_changing = threading.Lock()  # a conversation's timers are set by its turns and rung by a watcher thread


def due(timers: list[Timer], now: float | None = None) -> list[Timer]:
    """Take the timers that have rung out of the list, and return them (their announcement is the caller's)."""
    now = time.time() if now is None else now
    with _changing:
        rung = [t for t in timers if t.ends_at <= now]
        timers[:] = [t for t in timers if t.ends_at > now]
    return rung


def watch(timers: list[Timer], announce: Callable[[Timer], None], interval: float = 0.25) -> threading.Event:
    """Ring a conversation's timers from a thread of their own (`robot chat`), every `interval` seconds; returns
    the event that stops watching."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            for timer in due(timers):
                announce(timer)

    threading.Thread(target=loop, name="timers", daemon=True).start()
    return stop


def announcement(timer: Timer, language: str) -> str:
    return LINES["done"].get(base_language(language), LINES["done"][ENGLISH]).format(duration=timer.label)


def chime(rate: int = 16000) -> np.ndarray:
    """A short two-note chime (float32 at `rate`), for a timer that rings where speech is off."""
    t = np.arange(int(0.25 * rate)) / rate
    fade = np.minimum(1.0, (0.25 - t) * 20) * np.minimum(1.0, t * 200)
    notes = [0.3 * np.sin(2 * np.pi * f * t) * fade for f in (880.0, 1320.0)]
    return np.concatenate([notes[0], notes[1], np.zeros(rate // 10)]).astype(np.float32)
