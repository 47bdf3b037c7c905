"""The robot's one CPU thread setting is torch's (`torch.set_num_threads`: tests use 1, benchmarks say how
many); the other engines (CTranslate2 for the dialogue model and Whisper, onnxruntime for the neural voice)
follow it, so that two of them never fight over the cores with their own defaults.

Chat messages arrive on the web server's many request threads; the work each needs from a model goes
through a `Batcher`: one worker thread runs what queued up meanwhile as one batch (the encoder, the intent
heads). The intent heads' worker has an OpenMP team of one, itself: from many request threads each thread
started an OpenMP team of its own and woke it for every tiny product, 10-15% of the server's CPU under load
(benchmarks/RESULTS.md); the rest of the process, the dialogue model included, keeps its threads.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

X = TypeVar("X")
Y = TypeVar("Y")


def cpu_threads() -> int:
    import torch

    return torch.get_num_threads()


def one_openmp_thread() -> None:
    """Make the calling thread's OpenMP team itself alone (OpenMP's setting is per thread)."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.ones(1 << 16).sum()  # torch sizes a thread's OpenMP team at its first parallel op: let it, then limit
    threadpool_limits(1, user_api="openmp")


class Batcher(Generic[X, Y]):
    """Calls from many threads, run in batches on one worker thread: whatever queued up while the worker was
    busy (up to `max_batch` items) goes through `run` in one call, and a lone call waits for nothing. Each
    caller gets its own result, or the error of its batch. The worker starts with the first call."""

    def __init__(self, run: Callable[[list[X]], list[Y]], name: str, max_batch: int = 32,
                 initializer: Callable[[], None] | None = None) -> None:
        self.run, self.name, self.max_batch, self.initializer = run, name, max_batch, initializer
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.worker: threading.Thread | None = None
        self.lock = threading.Lock()

    def __call__(self, item: X) -> Y:
        with self.lock:
            if self.worker is None:
                self.worker = threading.Thread(target=self._work, name=self.name, daemon=True)
                self.worker.start()
        done: Future = Future()
        self.queue.put((item, done))
        return done.result()

    def _work(self) -> None:
        if self.initializer is not None:
            self.initializer()
        while True:
            batch = [self.queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                results = self.run([item for item, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - each caller gets the error, and the worker goes on
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for (_, done), result in zip(batch, results):
                done.set_result(result)
