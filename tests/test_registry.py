"""Model versions: atomic writes, activation, rollback, and failures that never touch the active model."""

from __future__ import annotations

import json
import os

import pytest

from robot.atomic import write_folder_atomically
from robot.errors import InputError
from robot.lifecycle import DEFAULT_VERSION, ModelRegistry


def fake_model(folder, accuracy=0.9):
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "metrics.json"):
        (folder / name).write_text(json.dumps({"in_scope_accuracy": accuracy}))
    (folder / "model.safetensors").write_bytes(b"x")
    (folder / "README.md").write_text("card")


@pytest.fixture
def registry(tmp_path):
    shipped = tmp_path / "shipped"
    fake_model(shipped)
    return ModelRegistry("intents", home=tmp_path / "home", shipped=shipped)


def test_activate_and_rollback(registry):
    assert registry.active_name() == DEFAULT_VERSION
    first = registry.add(fake_model)
    assert registry.active_name() == DEFAULT_VERSION  # adding does not activate
    registry.activate(first)
    second = registry.add(lambda f: fake_model(f, 0.95))
    registry.activate(second)
    assert registry.active_path().name == second
    assert [v.name for v in registry.list() if v.active] == [second]
    assert registry.rollback() == first and registry.rollback() == DEFAULT_VERSION
    with pytest.raises(InputError, match="nothing to roll back"):
        registry.rollback()


def test_a_failed_write_leaves_no_version_and_the_active_one_alone(registry):
    good = registry.add(fake_model)
    registry.activate(good)

    def crash(folder):
        fake_model(folder)
        raise RuntimeError("killed mid-training")

    with pytest.raises(RuntimeError):
        registry.add(crash)
    assert [v.name for v in registry.list()] == [DEFAULT_VERSION, good]
    assert registry.active_name() == good


def test_incomplete_or_unknown_versions_cannot_be_activated(registry, tmp_path):
    broken = registry.versions_dir / "broken"
    broken.mkdir(parents=True)
    (broken / "config.json").write_text("{}")
    with pytest.raises(InputError, match="missing"):
        registry.activate("broken")
    with pytest.raises(InputError, match="no model version"):
        registry.activate("nope")
    with pytest.raises(InputError, match="invalid version name"):
        registry.activate("../escape")


def test_write_folder_atomically_replaces_only_on_success(tmp_path):
    dest = tmp_path / "model"
    write_folder_atomically(dest, fake_model)
    with pytest.raises(ValueError):
        write_folder_atomically(dest, lambda f: (f.mkdir(), (_ for _ in ()).throw(ValueError("boom"))))
    assert (dest / "model.safetensors").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_replacing_a_folder_never_leaves_a_moment_without_it(tmp_path):
    """A reader polling the folder while it is replaced again and again always finds a complete model."""
    import threading

    dest = tmp_path / "model"
    write_folder_atomically(dest, fake_model)
    missing, done = [], threading.Event()

    def read() -> None:
        while not done.is_set():
            if not (dest / "model.safetensors").exists():
                missing.append(1)

    reader = threading.Thread(target=read)
    reader.start()
    for k in range(200):
        write_folder_atomically(dest, lambda f, k=k: fake_model(f, k / 200))
    done.set()
    reader.join()
    assert not missing and json.loads((dest / "metrics.json").read_text())["in_scope_accuracy"] == 199 / 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_leftovers_of_a_killed_training_are_removed_by_the_next(registry):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    registry.versions_dir.mkdir(parents=True)
    killed = registry.versions_dir / f".20261129-101500.tmp-{gone}-0123abcd"
    running = registry.versions_dir / f".20261129-101600.tmp-{os.getpid()}-4567cdef"
    fake_model(killed)
    fake_model(running)
    registry.add(fake_model)
    assert not killed.exists() and running.exists()  # a live writer's folder stays


def test_a_corrupt_active_file_is_reported_not_read_as_default(registry):
    version = registry.add(fake_model)
    registry.activate(version)
    for text in ("{not json", '["a list"]', '{"active": 3}', "\udcff"):
        registry.state_file.write_text(text, errors="surrogateescape")
        with pytest.raises(InputError, match="active"):
            registry.active_name()
    registry.state_file.unlink()
    assert registry.active_name() == DEFAULT_VERSION  # nothing written yet: the default
