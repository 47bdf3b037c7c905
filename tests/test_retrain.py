"""Retraining while the robot runs: one training at a time, kill -9 mid-training, chat during a swap,
feedback corrections."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from robot.brain import Brain, Persona, Robot, Session
from robot.feedback import FeedbackStore
from robot.lifecycle import TRAINING_NICENESS, ModelRegistry, TrainingBusy, activate, training_lock
from robot.paths import DEFAULT_INTENTS, SHIPPED_MODELS
from robot.service import train_version

PLANT_CARE = """
  plant_care:
    examples: [how often should i water my cactus, my plant is dying, how much sun does a fern need,
      when should i repot my plant, why are my tomato leaves yellow, should i fertilise my roses]
    responses: ["Plants like routine: water when the soil is dry."]
"""


def test_two_trainings_at_once_are_refused(tmp_path):
    with training_lock(home=tmp_path), pytest.raises(TrainingBusy, match="already running"), \
            training_lock(home=tmp_path):
        pass
    with training_lock(home=tmp_path):  # released after the first one ends
        pass


def test_cli_refuses_while_another_process_trains(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; from robot.lifecycle import training_lock\n"
                               "with training_lock():\n print('held', flush=True); time.sleep(60)"],
                              env={**os.environ, "ROBOT_HOME": str(tmp_path)}, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = subprocess.run([sys.executable, "-m", "robot.cli", "train", "intents", "--json"], capture_output=True,
                                text=True, env={**os.environ, "ROBOT_HOME": str(tmp_path)}, timeout=300)
        assert result.returncode == 2 and "already running" in result.stderr
    finally:
        holder.kill()


def cli_training(env: dict[str, str]) -> subprocess.Popen:
    """`robot train intents` in a process of its own, once it is really training."""
    proc = subprocess.Popen([sys.executable, "-m", "robot.cli", "train", "intents", "--data", str(DEFAULT_INTENTS)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "training head" in line or "calibrating" in line:
            break
    return proc


def test_kill_9_during_training_leaves_the_active_model_working(tmp_path):
    env = {**os.environ, "ROBOT_HOME": str(tmp_path), "OMP_NUM_THREADS": "1"}
    proc = cli_training(env)
    os.kill(proc.pid, signal.SIGKILL)  # without warning
    proc.wait()
    registry = ModelRegistry("intents", home=tmp_path)
    assert [v.name for v in registry.list()] == ["default"] and registry.active_name() == "default"
    chat = subprocess.run([sys.executable, "-m", "robot.cli", "chat", "--message", "hello", "--json"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert chat.returncode == 0 and '"intent": "greet"' in chat.stdout


def test_cli_training_runs_below_a_servers_priority(tmp_path):
    """`robot train` lowers its CPU priority, so that a server on the same machine answers first
    (benchmarks/RESULTS.md). Linux keeps one per thread: every thread of the training has it, those started
    before (numpy's BLAS threads, at the command line's imports) and after."""
    proc = cli_training({**os.environ, "ROBOT_HOME": str(tmp_path)})
    try:
        niceness = set()
        for task in Path(f"/proc/{proc.pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
                niceness.add(int((task / "stat").read_text().rsplit(")", 1)[1].split()[16]))  # field 19: nice
        assert niceness == {TRAINING_NICENESS}
    finally:
        proc.kill()
        proc.wait()


def test_chat_keeps_answering_while_a_retrain_swaps_the_model(tmp_path, encoder):
    registry = ModelRegistry("intents", home=tmp_path)
    robot = Robot(Brain.load(SHIPPED_MODELS / "intents", "default", encoder=encoder), Persona.load(), seed=0)
    data = tmp_path / "intents.yaml"
    data.write_text(DEFAULT_INTENTS.read_text().replace("\nentities:", PLANT_CARE + "entities:"))
    failures, replies = [], []
    done = threading.Event()

    def client(k: int) -> None:
        session = Session()
        while not done.is_set():
            try:
                messages = ["hello", "what is 3 plus 4", "tell me a joke", "how do i water my cactus"]
                reply = robot.respond(messages[k % 4], session)
                replies.append(reply)
                assert reply.text
            except Exception as exc:  # noqa: BLE001 - counted, then asserted to be none
                failures.append(exc)
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(10)]
    for t in threads:
        t.start()
    try:
        result = train_version([data], registry, robot)
        activate(registry, result.version, robot)
        time.sleep(1.0)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert failures == [] and len(replies) > 20
    assert robot.brain.version == result.version
    assert robot.respond("how often do i water a cactus", Session()).intent == "plant_care"


def test_feedback_is_one_row_per_reply_and_corrections_are_offered_once(tmp_path):
    store = FeedbackStore(Path(tmp_path) / "feedback.sqlite")
    store.rate("c1", 0, True, "hello", "Hi!", "greet", 0.9)
    store.rate("c1", 1, False, "what music", "Sorry", None, 0.1)
    store.rate("c1", 1, False, "what music", "Sorry", None, 0.1)  # clicked twice: still one row
    store.rate("c2", 0, False, "hello", "Hi!", "greet", 0.9)
    store.rate("c2", 0, None)  # clicked off again
    assert store.votes() == {"up": 1, "down": 1}
    store.rate("c1", 1, True, "what music", "Sorry", None, 0.1)  # changed its mind
    assert store.votes() == {"up": 2, "down": 0}
    store.correct("can you water my plants", "greet")
    store.correct("can you water my plants ", "plant_care")  # the same message corrected again
    store.correct("play some jazz", "oos")
    pending = store.pending()
    assert [(c.message, c.intent) for c in pending] == [("can you water my plants", "plant_care"),
                                                        ("play some jazz", "oos")]
    store.mark_used([c.id for c in pending])
    assert store.pending() == []


def test_feedback_is_bounded_and_corrections_rate_limited(tmp_path):
    from robot.errors import InputError
    from robot.feedback import TRIM, FeedbackLimits

    store = FeedbackStore(Path(tmp_path) / "feedback.sqlite",
                          FeedbackLimits(ratings=5, corrections=3, corrections_per_minute=4, text_chars=10))
    for turn in range(8):
        store.rate("c", turn, True, "a long message " * 10, "a long reply " * 10)
    rows = store.db.execute("SELECT turn, message, reply FROM ratings ORDER BY turn").fetchall()
    assert [r[0] for r in rows] == [3, 4, 5, 6, 7] and all(len(r[1]) == len(r[2]) == 10 for r in rows)
    for table in ("ratings", "corrections"):  # trimming walks an index on the time, not a sort of the table
        plan = store.db.execute("EXPLAIN QUERY PLAN " + TRIM.format(table=table), (5,)).fetchall()
        assert any(f"{table}_at" in row[-1] for row in plan), (table, plan)
    for k in range(4):
        store.correct(f"message {k}", "greet")
    assert [c.message for c in store.pending()] == ["message 1", "message 2", "message 3"]  # the newest 3
    with pytest.raises(InputError, match="too many corrections"):
        store.correct("one more", "greet")
    assert "one more" not in [c.message for c in store.pending()]


def test_uploads_keep_only_the_newest(tmp_path, monkeypatch):
    from robot.web import train_tab

    monkeypatch.setenv("ROBOT_HOME", str(tmp_path))
    paths = []
    for k in range(train_tab.UPLOADS_KEPT + 5):
        paths.append(train_tab.store_text(f"intents: {{}}  # {k}"))
        os.utime(paths[-1], (k, k))  # distinct ages, oldest first
    kept = sorted(train_tab.uploads_dir().iterdir())
    assert len(kept) == train_tab.UPLOADS_KEPT and paths[-1] in kept and paths[0] not in kept


def test_a_robot_follows_an_activation_made_by_another_process(tmp_path, encoder):
    """Several `robot serve` processes share one ROBOT_HOME: a version activated by one (here the CLI, in its
    own process) is loaded and swapped in by the others within seconds; rolling back follows too."""
    import shutil

    from robot.lifecycle import follow
    from robot.paths import SHIPPED_MODELS

    registry = ModelRegistry("intents", home=tmp_path)
    version = registry.add(lambda folder: shutil.copytree(SHIPPED_MODELS / "intents", folder))
    robot = Robot(Brain.load(registry.active_path(), "default", encoder=encoder), Persona.load(), seed=0)
    stop = follow([registry], robot, interval=0.2)
    env = {**os.environ, "ROBOT_HOME": str(tmp_path)}
    try:
        for command, expected in ((["activate", version], version), (["rollback"], "default")):
            result = subprocess.run([sys.executable, "-m", "robot.cli", "models", *command], env=env,
                                    capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stderr
            deadline = time.monotonic() + 30
            while robot.brain.version != expected and time.monotonic() < deadline:
                time.sleep(0.1)
            assert robot.brain.version == expected
            assert robot.respond("hello there", Session()).intent == "greet"
    finally:
        stop.set()
