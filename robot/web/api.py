"""A plain JSON endpoint for programs, beside the page: `POST /api/respond` with {"message": ..., "session":
optional id} answers as `robot chat --json` does, plus the session id to send back for the next turn.

No Gradio queue or event stream in the way (they cost most of a request's CPU: benchmarks/RESULTS.md), so
many more clients fit on the same cores. With accounts, it asks for them by HTTP Basic auth. Sessions are
kept for the newest MAX_SESSIONS conversations.

The body is read here, not by a model class: at most MAX_BODY_BYTES are read (413 past them, before reading
on), anything but an object with a text `message` is a 4xx, and no error body repeats what was sent (a 5 MB
message once came back whole in a 422, and a lone surrogate made FastAPI's own 422 handler fail with a 500).
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections import OrderedDict

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from robot.brain import MAX_INPUT_CHARS, Robot, Session
from robot.web.access import Access

MAX_SESSIONS = 10_000
MAX_BODY_BYTES = 64 * 1024  # a message of MAX_INPUT_CHARS characters, escaped, fits
MAX_SESSION_CHARS = 64


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


class Refused(Exception):
    """A request answered with `status` and a fixed `reason`, never with any of its content."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's body, refused (413) as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the body is over {limit:,} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, f"the body is over {limit:,} bytes")
    return bytes(body)


def parse_turn(body: bytes) -> tuple[str, str | None]:
    """(message, session id) of a request body, or Refused(4xx) saying what is wrong in general terms."""
    try:
        turn = json.loads(body.decode("utf-8"))  # a number of over 4,300 digits is a ValueError too
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "the body is not JSON (UTF-8)") from None
    if not isinstance(turn, dict):
        raise Refused(422, 'the body must be a JSON object: {"message": "...", "session": "..."}')
    message, session = turn.get("message"), turn.get("session")
    if not isinstance(message, str):
        raise Refused(422, '"message" must be a string')
    if len(message) > MAX_INPUT_CHARS:
        raise Refused(422, f'"message" is over {MAX_INPUT_CHARS:,} characters')
    if session is not None and (not isinstance(session, str) or len(session) > MAX_SESSION_CHARS):
        raise Refused(422, f'"session" must be a string of at most {MAX_SESSION_CHARS} characters')
    for text in (message, session or ""):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise Refused(422, "the text holds a lone surrogate (\\ud800-\\udfff): not valid Unicode") from None
    return message, session


def add_api(app: FastAPI, robot: Robot, access: Access) -> Sessions:
    sessions = Sessions()
    basic = HTTPBasic(auto_error=False)

    @app.post("/api/respond")
    async def respond(request: Request) -> JSONResponse:
        if not signed_in(access, await basic(request)):
            return JSONResponse({"detail": "sign in (HTTP Basic)"}, 401, headers={"WWW-Authenticate": "Basic"})
        try:
            message, session_id = parse_turn(await read_body(request))
        except Refused as refusal:
            return JSONResponse({"detail": refusal.reason}, refusal.status)
        key, session = sessions.get(session_id)
        reply = await run_in_threadpool(robot.respond, message, session)
        return JSONResponse({**reply.to_dict(), "session": key})

    return sessions
