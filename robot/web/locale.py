"""Gradio's own words on the page (Record, "Drop File Here", Clear, Submit...) in the model's language.

Gradio ships translations of them (Chinese among ~27 languages) but chooses one from the browser's
`navigator.language`, read by its script as it starts, before anything a page can add with `head=` runs. So the
page itself (`GET /`) is served with one line before Gradio's scripts that gives `navigator.language` the model's
language, read afresh at every page load (an activation changes it at the next load). English models, and
languages Gradio has no words for, leave the browser's own choice alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import gradio as gr

from robot.language import ENGLISH, base_language

GRADIO_LOCALES = {"zh": "zh-CN", "pt": "pt-BR", **{code: code for code in (
    "ca", "de", "es", "et", "eu", "fa", "fr", "he", "id", "ja", "ko", "lt", "nb", "ro", "ru", "sv", "ta", "th", "tr",
    "uk", "ur", "uz")}}


def locale_line(language: str) -> bytes:
    """The script that makes the page's `navigator.language` Gradio's name for `language` (empty for English)."""
    locale = GRADIO_LOCALES.get(base_language(language))
    if base_language(language) == ENGLISH or locale is None:
        return b""
    value = json.dumps(locale)
    return (f"<script>Object.defineProperty(navigator, 'language', {{get: () => {value}}});"
            f"Object.defineProperty(navigator, 'languages', {{get: () => [{value}]}});</script>").encode()


def serve_in_language(app: gr.Blocks, language: Callable[[], str]) -> None:
    """Serve the page with `locale_line(language())` first in its <head> (the app must be launched)."""
    page = next(route for route in app.app.router.routes
                if getattr(route, "path", None) == "/" and "GET" in getattr(route, "methods", ()))
    inner = page.app

    async def localised(scope, receive, send) -> None:
        line = locale_line(language())
        if not line:
            await inner(scope, receive, send)
            return
        started: dict = {}

        async def rewrite(message: dict) -> None:
            if message["type"] == "http.response.start":
                started.update(message)  # sent with the body: its length changes
                return
            body = message.get("body", b"")
            whole = not message.get("more_body") and bool(started)  # a page sent in one piece, as Gradio does
            if whole and b"<head>" in body:
                body = body.replace(b"<head>", b"<head>" + line, 1)
            headers = [(k, str(len(body)).encode() if whole and k.lower() == b"content-length" else v)
                       for k, v in started.get("headers", [])]
            if started:
                await send({**started, "headers": headers})
                started.clear()
            await send({**message, "body": body})

        await inner(scope, receive, rewrite)

    page.app = localised
