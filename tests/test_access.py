"""Who may use the web app: accounts from a file or the environment, a refusal to serve the network without
them, and the endpoints that change the robot on the API only for signed-in clients."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest
from gradio_client import Client

from robot.errors import InputError
from robot.web.access import Access, check_exposure, is_loopback, read_access
from tests.conftest import free_port

CHANGES = {"/train", "/validate", "/activate", "/models_activate", "/rollback", "/dialogue_activate",
           "/dialogue_rollback", "/correct"}


def test_accounts_from_a_file_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("ROBOT_AUTH", raising=False)
    monkeypatch.delenv("ROBOT_AUTH_FILE", raising=False)
    assert read_access() == Access()
    accounts = tmp_path / "accounts"
    accounts.write_text("# who may sign in\nada:s3cret:with:colons\n\nbob:pw\n")
    assert read_access(accounts).accounts == (("ada", "s3cret:with:colons"), ("bob", "pw"))
    monkeypatch.setenv("ROBOT_AUTH_FILE", str(accounts))
    assert len(read_access().accounts) == 2
    monkeypatch.delenv("ROBOT_AUTH_FILE")
    monkeypatch.setenv("ROBOT_AUTH", "eve:pw")
    assert read_access().accounts == (("eve", "pw"),)
    for text, error in [("ada\n", "line 1: expected user:password"), ("ada:\n", "line 1"), ("# none\n", "no accounts")]:
        accounts.write_text(text)
        with pytest.raises(InputError, match=error):
            read_access(accounts)
    with pytest.raises(InputError, match="cannot read the accounts file"):
        read_access(tmp_path / "missing")


def test_only_loopback_is_served_without_accounts():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.0.5")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.org")
    check_exposure("127.0.0.1", Access())
    check_exposure("0.0.0.0", Access((("ada", "pw"),)))
    with pytest.raises(InputError, match="refusing to serve on 0.0.0.0 without accounts"):
        check_exposure("0.0.0.0", Access())


def test_serve_on_the_network_without_accounts_exits_at_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOT_AUTH")}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "robot.cli", "serve", "--host", "0.0.0.0"], capture_output=True,
                            text=True, timeout=120, env={**env, "ROBOT_HOME": str(tmp_path)})
    assert result.returncode == 2 and "refusing to serve on 0.0.0.0 without accounts" in result.stderr
    assert "Traceback" not in result.stderr and time.perf_counter() - started < 60  # before loading any model


def api_names(url: str, auth: tuple[str, str] | None = None) -> set[str]:
    return set(Client(url, auth=auth, verbose=False).view_api(print_info=False, return_format="dict")[
        "named_endpoints"])


def test_changing_endpoints_need_accounts(robot, web_app, tmp_path):
    from robot.lifecycle import ModelRegistry
    from robot.web.app import launch

    public = api_names(web_app)
    assert "/respond" in public and "/chat" in public and not public & CHANGES  # no accounts: page only
    port = free_port()
    app = launch(robot, port=port, block=False, registry=ModelRegistry("intents", home=tmp_path),
                 access=Access((("ada", "pw"),)))
    try:
        url = f"http://127.0.0.1:{port}/"
        assert httpx.get(url + "config").status_code == 401  # nothing without signing in
        with pytest.raises(Exception, match="(?i)login|auth|401"):
            Client(url, verbose=False)
        with pytest.raises(Exception, match="(?i)login|auth|401|incorrect"):
            Client(url, auth=("ada", "wrong"), verbose=False)
        assert api_names(url, ("ada", "pw")) >= CHANGES
        assert Client(url, auth=("ada", "pw"), verbose=False).predict("hello", api_name="/respond")["intent"]
    finally:
        app.close()


def test_json_endpoint_keeps_sessions_and_asks_for_accounts_when_there_are(robot, web_app, tmp_path):
    from robot.lifecycle import ModelRegistry
    from robot.web.app import launch

    first = httpx.post(web_app + "api/respond", json={"message": "my name is Ada"}, timeout=60).json()
    assert first["intent"] == "remember_name" and first["session"]
    again = httpx.post(web_app + "api/respond", json={"message": "what's my name?", "session": first["session"]},
                       timeout=60).json()
    assert "Ada" in again["text"] and again["session"] == first["session"]
    assert httpx.post(web_app + "api/respond", json={"text": "no message"}, timeout=60).status_code == 422
    port = free_port()
    app = launch(robot, port=port, block=False, registry=ModelRegistry("intents", home=tmp_path),
                 access=Access((("ada", "pw"),)))
    try:
        url = f"http://127.0.0.1:{port}/api/respond"
        assert httpx.post(url, json={"message": "hello"}, timeout=60).status_code == 401
        assert httpx.post(url, json={"message": "hello"}, auth=("ada", "wrong"), timeout=60).status_code == 401
        assert httpx.post(url, json={"message": "hello"}, auth=("ada", "pw"), timeout=60).json()["intent"] == "greet"
    finally:
        app.close()


def serve_env(home) -> dict[str, str]:
    """The environment of a `robot serve` process under test: its own home, no accounts, no dialogue model."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("ROBOT_AUTH")}, "ROBOT_HOME": str(home),
            "ROBOT_DIALOGUE": "off"}


def test_robot_serve_answers_the_page_and_the_json_endpoint(tmp_path):
    """The command as users run it (the endpoint was once added only when the app did not block)."""
    port = free_port()
    env = serve_env(tmp_path)
    server = subprocess.Popen([sys.executable, "-m", "robot.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        said = []
        while not any("is listening on" in line for line in said) and len(said) < 100:  # said once all is up
            said.append(server.stdout.readline())
        assert "is listening on" in said[-1], said
        url = f"http://127.0.0.1:{port}/"
        reply = httpx.post(url + "api/respond", json={"message": "hello there"}, timeout=30)
        assert reply.status_code == 200 and reply.json()["intent"] == "greet"
        assert httpx.get(url, timeout=30).status_code == 200
    finally:
        server.terminate()
        server.wait(60)


def test_robot_serve_is_ready_before_its_first_request(tmp_path):
    """A full collection walked every object start-up made and held all requests for 0.2-0.5 s, twice a
    100-client round; the serving process freezes them once it is up (the app then waits, here it returns).
    What Gradio would import at its first call (pyplot: 0.25 s holding every request) is imported before, and
    the page's component signatures, which Gradio asked for at every new session, are computed."""
    code = ("import gc, gradio, sys; from robot.cli import main; "
            "gradio.Blocks.block_thread = lambda self: print('pyplot' if 'matplotlib.pyplot' in sys.modules else '', "
            "'signatures' if all('__signature__' in vars(type(b).__init__) for b in self.blocks.values()) else '', "
            "'frozen', gc.get_freeze_count(), flush=True); "
            f"main(['serve', '--port', '{free_port()}'])")
    env = serve_env(tmp_path)
    said = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300).stdout
    assert "pyplot signatures frozen" in said and int(said.split("frozen")[1]) > 100_000, said


def test_json_sessions_are_bounded():
    from robot.web.api import Sessions

    sessions = Sessions(limit=3)
    keys = [sessions.get(None)[0] for _ in range(5)]
    assert sessions.get(keys[-1])[0] == keys[-1] and sessions.get(keys[0])[0] != keys[0]  # the oldest went


def gradio_event(url: str, event: dict, session: str, headers: dict | None = None) -> dict:
    """One event sent as raw HTTP, the way a program (or another site's page) could: POST /queue/join by
    number, then its result from the event stream. Returns the final message, or the refusal of the join."""
    joined = httpx.post(url + "gradio_api/queue/join", headers=headers or {}, timeout=30,
                        json={"data": [None] * len(event["inputs"]), "fn_index": event["id"], "session_hash": session,
                              "trigger_id": None, "event_data": None})
    if joined.status_code != 200:
        return {"msg": "refused", "status": joined.status_code}
    with httpx.stream("GET", url + "gradio_api/queue/data", params={"session_hash": session}, timeout=60) as events:
        for line in events.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return message
    raise AssertionError("the event stream ended without a result")


def test_changing_handlers_run_for_the_page_only(robot, tmp_path):
    """Gradio routes every event by number and by name, private or not: a raw request once rolled the model back.
    Such requests are refused (no page secret; no Origin, or another site's); the page itself is tested in
    tests/test_web.py (upload, train, activate, feedback, corrections)."""
    from robot.lifecycle import ModelRegistry
    from robot.web.app import launch

    registry = ModelRegistry("intents", home=tmp_path)
    registry.activate(registry.add(lambda folder: shutil.copytree(registry.shipped, folder, dirs_exist_ok=True)))
    active = registry.active_name()
    port = free_port()
    app = launch(robot, port=port, block=False, registry=registry)
    url, origin = f"http://127.0.0.1:{port}/", {"origin": f"http://127.0.0.1:{port}"}
    try:
        config = httpx.get(url + "config", timeout=30).json()
        index = {d.get("api_name"): d for d in config["dependencies"]}
        load = next(d for d in config["dependencies"] if d["targets"] and d["targets"][0][1] == "load")
        for case, headers in [("no origin", {}), ("foreign origin", {"origin": "https://evil.example"}),
                              ("same origin", origin), ("rebinding", {"origin": f"http://evil.example:{port}",
                                                                     "host": f"evil.example:{port}"})]:
            done = gradio_event(url, index["rollback"], f"raw-{case}", headers)
            assert done.get("success") is not True, case
        # a session that loaded the page has its secret, but a request without the page's origin is still refused
        assert gradio_event(url, load, "loaded", origin).get("success")
        assert not gradio_event(url, index["rollback"], "loaded").get("success")
        assert not gradio_event(url, index["rollback"], "loaded", {"origin": "https://evil.example"}).get("success")
        called = httpx.post(url + "gradio_api/call/rollback", json={"data": []}, timeout=30)
        if called.status_code == 200:
            event = called.json()["event_id"]
            result = httpx.get(url + f"gradio_api/call/rollback/{event}", timeout=60).text
            assert "event: error" in result and "event: complete" not in result
        for name in ("models_activate", "activate", "train", "validate", "correct"):
            assert not gradio_event(url, index[name], f"raw-{name}", origin).get("success"), name
        assert registry.active_name() == active  # nothing was rolled back
        assert gradio_event(url, index["rollback"], "loaded", origin).get("success")  # as the page does it
        assert registry.active_name() == "default"
    finally:
        app.close()
