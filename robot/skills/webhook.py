"""Webhooks: an intent with `webhook: URL` has its turn POSTed there as JSON

    {"intent", "text", "entities", "slots", "memory", "language", "session"}

and the answer read back: `{"reply": "..."}` is said as it is, `{"slots": {...}}` fills the intent's templates,
`{"memory": {...}}` is kept for the session. Only loopback addresses are called unless the robot was started with
the hosts it may call (`--allow-webhook HOST`); redirects are not followed (one could lead anywhere). A failure, a
timeout, a body over 64 KB or JSON of another shape is an apology to the user and one line on stderr, never a
hang or a traceback.
"""

from __future__ import annotations

import ipaddress
import json
import os
import ssl
import sys
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from robot.errors import InputError
from robot.skills.registry import ActionResult

TIMEOUT = 3.0
MAX_BODY_BYTES = 64 * 1024
LOOPBACK_NAMES = ("localhost",)


class WebhookError(Exception):
    """The webhook could not be used: said on stderr, apologised for to the user."""


@dataclass(frozen=True)
class WebhookPolicy:
    allowed_hosts: tuple[str, ...] = ()  # besides loopback (names or addresses, compared as given)
    timeout: float = TIMEOUT


def url_problem(url: str, policy: WebhookPolicy | None = None) -> str | None:
    """Why the robot will not call `url`, or None. With no policy, only the URL's form is checked."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    if policy is None:
        return None
    host = parts.hostname
    if host in LOOPBACK_NAMES or host in policy.allowed_hosts:
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return f"{host} is not loopback and not allowed (start the robot with --allow-webhook {host})"


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def client() -> httpx.Client:
    """One client for every call: its connections are kept alive (a new client per call costs milliseconds).
    Proxy settings of the environment are not followed (a loopback call must stay on this machine); the system's
    certificates are trusted, or those of $SSL_CERT_FILE."""
    global _client
    with _client_lock:
        if _client is None:
            trusted = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None)
            _client = httpx.Client(follow_redirects=False, trust_env=False, verify=trusted)
        return _client


def _strings(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise WebhookError(f"{what} must be a JSON object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()
            if isinstance(v, (str, int, float, bool))}


def call(url: str, payload: dict, policy: WebhookPolicy) -> tuple[ActionResult, dict[str, str]]:
    """(what the webhook gave: a reply or slots, the memory to keep); WebhookError when it could not be used."""
    if problem := url_problem(url, policy):
        raise WebhookError(problem)
    try:
        with client().stream("POST", url, json=payload, timeout=policy.timeout) as response:
            if response.status_code != 200:
                raise WebhookError(f"HTTP {response.status_code}")
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise WebhookError(f"a reply over {MAX_BODY_BYTES:,} bytes")
    except httpx.TimeoutException:
        raise WebhookError(f"no answer within {policy.timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise WebhookError(f"{type(exc).__name__}: {exc}") from None
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookError("the reply is not JSON") from None
    if not isinstance(answer, dict) or not ({"reply", "slots", "memory"} & set(answer)):
        raise WebhookError('the reply has none of "reply", "slots", "memory"')
    reply = answer.get("reply")
    if reply is not None and not isinstance(reply, str):
        raise WebhookError('"reply" must be a string')
    slots = _strings(answer.get("slots", {}), '"slots"')
    memory = _strings(answer.get("memory", {}), '"memory"')
    return ActionResult(slots, reply), memory


def log_failure(url: str, intent: str, error: WebhookError) -> None:
    print(f"warning: webhook of intent {intent!r} ({url}) failed: {error}", file=sys.stderr, flush=True)


def parse_allowed_host(text: str) -> str:
    """A host given to --allow-webhook: a name or address, without scheme, port or path."""
    host = text.strip().lower()
    if not host or any(c in host for c in "/:@ ") and not _is_ipv6(host):
        raise InputError(f"--allow-webhook takes a host name or address, not {text!r}")
    return host.strip("[]")


def _is_ipv6(text: str) -> bool:
    try:
        return ipaddress.ip_address(text.strip("[]")).version == 6
    except ValueError:
        return False
