"""Crafted inputs that once got through (issue #23): files that never end, a JSON API that echoed or choked,
patterns that backtrack on their own characters, labels that are huge numbers, decoder noise ahead of our
message. Each is sent here as an attacker would, and must end in a plain refusal within bounded time."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from robot.errors import InputError
from robot.intents.entities import EntityExtractor
from robot.intents.formats import load_intents
from robot.intents.schema import Entity
from robot.intents.user_regex import MESSAGE_REGEX_SECONDS, regex_problem
from robot.userfiles import read_limited


def robot_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "robot.cli", *args], capture_output=True, text=True, timeout=timeout)


def test_devices_fifos_and_folders_are_refused_before_reading(tmp_path):
    link = tmp_path / "intents.yaml"
    link.symlink_to("/dev/zero")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it to read would wait for a writer for ever
    folder = tmp_path / "folder.json"
    folder.mkdir()
    for path in (link, fifo, folder):
        started = time.perf_counter()
        result = robot_cli("data", "validate", str(path))
        assert result.returncode == 2 and "not a regular file" in result.stderr, (path, result.stderr)
        assert time.perf_counter() - started < 60
    with pytest.raises(InputError, match="not a regular file"):
        read_limited(fifo, 10)


def test_a_read_stops_one_byte_past_the_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 11)
    assert read_limited(path, 11) == b"x" * 11
    with pytest.raises(InputError, match="too large"):
        read_limited(path, 10)


def test_audio_and_accounts_files_are_read_the_same_way(tmp_path):
    from robot.speech.audio import load
    from robot.web.access import read_access

    for reader in (load, read_access):
        with pytest.raises(InputError, match="not a regular file"):
            reader("/dev/zero")


def test_huge_number_labels_are_text_or_a_plain_error(tmp_path):
    """Labels and examples that are numbers: text in tables and YAML; intents.json wants strings (exit 2)."""
    digits = "1" * 100_000
    files = {"a.jsonl": f'{{"text": "hello there", "intent": {digits}}}\n{{"text": "bye", "intent": 7}}\n',
             "c.yaml": f"intents:\n  greet:\n    examples: [{digits}, hello]\n  {digits[:5]}:\n    examples: [hi]\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        data = load_intents(tmp_path / name)
        assert {"7", "greet"} & {i.name for i in data.intents}
        assert all(isinstance(i.name, str) and all(isinstance(e, str) for e in i.examples) for i in data.intents)
        assert robot_cli("data", "validate", str(tmp_path / name)).returncode == 0
    (tmp_path / "b.json").write_text(f'{{"intents": [{{"tag": {digits}, "patterns": ["hi"]}}]}}')
    result = robot_cli("data", "validate", str(tmp_path / "b.json"))
    assert result.returncode == 2 and "4,300 digits" in result.stderr


def test_a_table_without_its_columns_names_the_ones_it_has(tmp_path):
    path = tmp_path / "intents.csv"
    path.write_text("sentence,category\nhello,greet\n")
    with pytest.raises(InputError, match="found 'sentence', 'category'"):
        load_intents(path)


def test_many_intents_validate_and_say_what_they_skipped(tmp_path):
    """Validation once compared every intent with every other in Python; 20,000 took minutes
    (benchmarks/validate_scale.py times it). Past 2,000 intents the near-duplicate check says it was skipped."""
    path = tmp_path / "many.csv"
    path.write_text("text,intent\n" + "".join(f"please do thing number {k},intent_{k}\n" for k in range(2500)))
    result = robot_cli("data", "validate", str(path), timeout=300)
    assert result.returncode == 0 and "near-duplicate intents not checked" in result.stderr
    assert "intents.remember_name" not in result.stderr  # the built-in intents' warnings are not the user's


def test_patterns_that_backtrack_on_their_own_characters_are_refused():
    for pattern in (r"(?:x|xx)+y", r"(a|aa)+$", r"(\.|\.\.)+z", r"(?:é|éé)+y"):
        assert "backtracks without end" in (regex_problem(pattern) or ""), pattern
    for pattern in (r"my name is (?P<value>\w+)", r"(?P<value>\d{1,2}(?::\d\d)?\s?(?:am|pm)?)", r"(\d+\s?)+$",
                    r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}"):
        assert regex_problem(pattern) is None, pattern


def test_one_message_gets_one_regex_budget_for_all_patterns():
    slow = [Entity(f"slow{k}", regex=[r"(?:x|xx)+y"]) for k in range(40)]
    extractor = EntityExtractor([*slow, Entity("name", regex=[r"name is (?P<value>\w+)"])])
    started = time.perf_counter()
    found = extractor.extract("x" * 60 + " and my name is Ada")
    assert time.perf_counter() - started < MESSAGE_REGEX_SECONDS + 0.15  # not 40 x 50 ms
    assert "slow0" not in found  # a pattern out of time counts as no match


def test_decoder_notes_never_come_before_our_message(tmp_path):
    path = tmp_path / "noise.mp3"
    path.write_bytes(b"\xff\xfb\x90\x00" + bytes(range(256)) * 80)  # an MPEG frame header, then garbage
    result = robot_cli("transcribe", str(path))
    assert result.returncode == 2 and result.stderr.startswith("robot: "), result.stderr
    assert "Illegal Audio-MPEG-Header" not in result.stderr and "Note:" not in result.stderr


def test_other_output_written_while_decoding_still_reaches_stderr(capfd):
    from robot.speech.audio import decoder_notes_hidden

    with decoder_notes_hidden():
        os.write(2, b"Note: Illegal Audio-MPEG-Header 0x00000000 at offset 1.\nanother thread's line\n")
    assert capfd.readouterr().err == "another thread's line\n"


def test_the_json_api_refuses_what_is_not_a_turn_without_echoing_it(web_app):
    url = web_app + "api/respond"
    marker = "UNIQUE-MARKER-" * 4
    cases = [(b'{"message": "\\ud800"}', 422), (b"[1, 2]", 422), (b'"hello"', 422), (b"null", 422),
             (b'{"message": 5}', 422), (b'{"message": ["' + marker.encode() + b'"]}', 422),
             (b'{"message": "hi", "session": {"a": 1}}', 422), (b"\xff\xfe", 400), (b"{nope", 400),
             (b'{"message": "' + marker.encode() * 400 + b'"}', 422)]
    for body, status in cases:
        reply = httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=30)
        assert reply.status_code == status, (body[:40], reply.status_code, reply.text[:200])
        assert marker not in reply.text and len(reply.content) < 300
    assert httpx.post(url, json={"message": "hello there", "extra": 1}, timeout=30).json()["intent"] == "greet"


def test_the_json_api_stops_reading_a_body_past_its_limit(web_app):
    from robot.web.api import MAX_BODY_BYTES

    url = web_app + "api/respond"
    declared = httpx.post(url, content=b"{" + b" " * (MAX_BODY_BYTES + 10) + b"}", timeout=30)
    assert declared.status_code == 413 and len(declared.content) < 200



def test_an_endless_body_is_read_to_the_limit_only():
    import asyncio

    from starlette.requests import Request

    from robot.web.api import MAX_BODY_BYTES, Refused, read_body

    received = []

    async def receive() -> dict:  # a chunked body that never ends (no Content-Length)
        received.append(1)
        return {"type": "http.request", "body": b" " * 1024, "more_body": True}

    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/api/respond"}, receive)
    with pytest.raises(Refused) as refused:
        asyncio.run(read_body(request))
    assert refused.value.status == 413 and len(received) == MAX_BODY_BYTES // 1024 + 1


def test_the_page_guard_reads_origin_and_host(tmp_path):
    import gradio as gr

    from robot.web.access import Access
    from robot.web.guard import PageGuard, Refused

    def request(session: str = "s", **headers: str) -> gr.Request:
        return gr.Request(headers=headers, session_hash=session)

    local = {"host": "127.0.0.1:7860", "origin": "http://127.0.0.1:7860"}
    guard = PageGuard()
    secret = guard.issue(request(**local))
    guard.check(secret, request(**local))
    assert guard.issue(request(host="127.0.0.1:7860")) is None  # no Origin: not a page
    for secret_given, call in [(secret, request()), (secret, request(host=local["host"], origin="https://evil.org")),
                               (secret, request("other", **local)), (None, request(**local)),
                               (secret, request(host="evil.org:7860", origin="http://evil.org:7860"))]:
        with pytest.raises(Refused):
            guard.check(secret_given, call)
    accounts = PageGuard(Access((("ada", "pw"),)))
    accounts.check(None, request(host="robot.lan:7860"))  # a signed-in program, no page
    accounts.check(None, request(host="robot.lan:7860", origin="https://robot.lan:7860"))
    with pytest.raises(Refused, match="another site"):  # a signed-in browser on another site's page
        accounts.check(None, request(host="robot.lan:7860", origin="https://evil.org"))

