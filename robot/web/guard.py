"""Handlers that change the robot (train, validate, activate, roll back, uploads, feedback, corrections) run only
for the page this server served, not for whoever can send it a request.

Gradio routes every event by number (`POST /gradio_api/queue/join` with `fn_index`) and by name
(`/gradio_api/call/<name>`), whatever its API visibility: a local program once rolled the model back that way.
So each such handler takes the page's own secret, and checks where the request comes from:

- Every page load is given a fresh secret, kept in the page's server-side state (a `gr.State`, which no request
  can set). A call from a session that did not load the page, or with a secret this server did not give to that
  session, is refused.
- A browser names the page's origin in `Origin` on every POST. A request from another site's page (which the
  user's browser would send, cookies included) is refused, with accounts too. Without accounts, where the
  server listens on loopback only, the Origin must be a loopback address and the Host a loopback name (a DNS
  rebinding page reaches 127.0.0.1 under its own host name).
- With accounts, Gradio asks every request to sign in first; a signed-in program (gradio_client, which sends no
  Origin and has no page state) may use the named endpoints.

What this cannot tell apart, without accounts: a program on this machine that loads the page as a browser does,
Origin header included, is the page. On a machine shared with people you do not trust, serve with accounts.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from urllib.parse import urlsplit

import gradio as gr

from robot.web.access import Access, is_loopback

PAGES_KEPT = 10_000  # page secrets remembered (the newest); an older page reloads to get a new one
PAGE_TTL = 12 * 3600  # seconds a page's secret stays valid (an idle tab's conversation lasts as long)


class Refused(gr.Error):
    """A changing handler called by something other than this server's page."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Refused: {reason}. Reload the page.", print_exception=False)


def host_name(value: str) -> str:
    """The host of a Host header ("127.0.0.1:7860", "[::1]:7860") or an origin ("http://localhost:7860")."""
    return urlsplit(value if "//" in value else f"//{value}").hostname or ""


class PageGuard:
    def __init__(self, access: Access = Access()) -> None:
        self.access = access
        self._pages: OrderedDict[str, tuple[str, float]] = OrderedDict()  # secret -> (session, issued at)
        self._lock = threading.Lock()

    def origin_problem(self, request: gr.Request | None) -> str | None:
        """Why a request does not come from this server's page, as far as its headers tell; None when it may."""
        if request is None:
            return "not an HTTP request"
        headers = request.headers
        origin, host = headers.get("origin"), headers.get("host", "")
        if origin is None:
            return None if self.access.accounts else "no Origin header (only the page may do this)"
        if urlsplit(origin).netloc != host:
            return "a request from another site's page"
        if not self.access.accounts and not (is_loopback(host_name(host)) and is_loopback(host_name(origin))):
            return "a host name other than this machine's (serving without accounts is for loopback only)"
        return None

    def issue(self, request: gr.Request) -> str | None:
        """A new page's secret (its load event), or None for a request that is not from this server's page."""
        if self.origin_problem(request) is not None:
            return None
        secret = secrets.token_urlsafe(32)
        with self._lock:
            self._pages[secret] = (request.session_hash or "", time.monotonic())
            while len(self._pages) > PAGES_KEPT:
                self._pages.popitem(last=False)
        return secret

    def check(self, secret: str | None, request: gr.Request | None) -> None:
        """Raise Refused unless the call comes from a page this server served (or, with accounts, a signed-in
        client of its own origin or none)."""
        if problem := self.origin_problem(request):
            raise Refused(problem)
        if self.access.accounts and secret is None:  # a signed-in API client: Gradio checked the account
            return
        with self._lock:
            page = self._pages.get(secret or "")
        if page is None or page[0] != (request.session_hash or "") or time.monotonic() - page[1] > PAGE_TTL:
            raise Refused("this session was not opened by the page")
