"""A plain JSON endpoint for programs, beside the page: `POST /api/respond` with {"message": ..., "session":
optional id} answers as `robot chat --json` does, plus the session id to send back for the next turn.

No Gradio queue or event stream in the way (they cost most of a request's CPU: benchmarks/RESULTS.md), so
many more clients fit on the same cores. With accounts, it asks for them by HTTP Basic auth. Sessions are
kept for the newest MAX_SESSIONS conversations.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections import OrderedDict

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from robot.brain import MAX_INPUT_CHARS, Robot, Session
from robot.web.access import Access

MAX_SESSIONS = 10_000


class Turn(BaseModel):
    message: str = Field(max_length=MAX_INPUT_CHARS)
    session: str | None = Field(default=None, max_length=64)


class Sessions:
    """The newest conversations by id; the oldest go past `limit`."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self.limit, self._sessions, self._lock = limit, OrderedDict(), threading.Lock()

    def get(self, key: str | None) -> tuple[str, Session]:
        with self._lock:
            key = key if key in self._sessions else uuid.uuid4().hex
            session = self._sessions.pop(key, None) or Session()
            self._sessions[key] = session
            while len(self._sessions) > self.limit:
                self._sessions.popitem(last=False)
            return key, session


def signed_in(access: Access, credentials: HTTPBasicCredentials | None) -> bool:
    if not access.accounts:
        return True
    if credentials is None:
        return False
    return any(secrets.compare_digest(credentials.username, user) & secrets.compare_digest(credentials.password, pw)
               for user, pw in access.accounts)


def add_api(app: FastAPI, robot: Robot, access: Access) -> Sessions:
    sessions = Sessions()
    basic = HTTPBasic(auto_error=False)

    @app.post("/api/respond")
    def respond(turn: Turn, credentials: HTTPBasicCredentials | None = Depends(basic)) -> dict:  # noqa: B008
        if not signed_in(access, credentials):
            raise HTTPException(401, "sign in (HTTP Basic)", headers={"WWW-Authenticate": "Basic"})
        key, session = sessions.get(turn.session)
        return {**robot.respond(turn.message, session).to_dict(), "session": key}

    return sessions
