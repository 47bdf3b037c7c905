"""The robot's one CPU thread setting is torch's (`torch.set_num_threads`: tests use 1, benchmarks say how
many); the other engines (CTranslate2 for Whisper, onnxruntime for the neural voice) follow it, so that two
of them never fight over the cores with their own defaults.

One exception: a single message's tiny torch products (the intent head, familiarity) run on one thread of
their own whose OpenMP team is that thread alone. Called from the web server's many request threads, each
thread started an OpenMP team of its own and woke it for every product: 10-15% of the server's CPU under
load, for products that take a fraction of a millisecond (benchmarks/RESULTS.md)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def cpu_threads() -> int:
    import torch

    return torch.get_num_threads()


def _one_openmp_thread() -> None:
    import torch
    from threadpoolctl import threadpool_limits

    torch.ones(1 << 16).sum()  # torch sizes a thread's OpenMP team at its first parallel op: let it, then limit
    threadpool_limits(1, user_api="openmp")  # this thread only (OpenMP's setting is per thread)


_SMALL_WORK = ThreadPoolExecutor(1, thread_name_prefix="small-torch-work", initializer=_one_openmp_thread)  # its
# thread starts with the first call


def small_work(fn: Callable[..., T], *args) -> T:
    """fn(*args) on the small-work thread (for a single message's products; batches keep every core)."""
    return _SMALL_WORK.submit(fn, *args).result()
