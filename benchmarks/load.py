"""Load on the web API: N concurrent clients, each a session, send messages to Gradio's `/respond`
(its HTTP API through httpx) or, with `--json`, to the plain JSON endpoint `/api/respond` (httpx); prints throughput,
p50/p99 latency and errors per N. In-scope messages take the intent path; with `--dialogue` out-of-scope ones
go to the dialogue model too (the rounds begin once it is in). With `--swap`, `robot train intents` runs in
another process during the largest round (at its own lower CPU priority, or `--nice N`) and activates its new
version, which the server swaps in while it serves: no request may fail or be lost. That round lasts until the
swap has surely happened: its clients go on sending after their messages until SWAP_MARGIN seconds after the
new version is active; its row gives the seconds the retrain took.

    python benchmarks/load.py [--clients 1 10 50 100] [--messages 20] [--json] [--dialogue] [--swap [--nice N]]

The server is `robot serve` in a process of its own, as deployed; the clients (threads in this process) run
on the same machine and compete with it for the cores: a lower bound.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from report import percentile, poll, print_table, scratch

if "ROBOT_HOME" not in os.environ:
    os.environ["ROBOT_HOME"] = scratch("robot-load-")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from robot.lifecycle import FOLLOW_INTERVAL  # noqa: E402
from robot.paths import DEFAULT_INTENTS  # noqa: E402

# The server loads a version activated elsewhere within `follow`'s interval (2 s) plus its loading time
SWAP_MARGIN = 2 * FOLLOW_INTERVAL + 1.0
IN_SCOPE = ["hello there", "what time is it", "what is 12 times 7", "tell me a joke", "thank you so much"]
OUT_OF_SCOPE = ["what's your favourite movie?", "do you like the rain?"]


def gradio_turns(url: str):
    """Gradio's HTTP API, as `curl` (or gradio_client) calls the robot's `/respond`, which runs without the
    queue: one POST, a session of its own (the conversation state is the `null` input). gradio_client itself
    spent 73 ms of CPU per request on these cores, five times the server's: it measured the load generator."""
    client, session = httpx.Client(timeout=120), uuid.uuid4().hex

    def turn(message: str) -> dict:
        posted = client.post(url + "gradio_api/run/respond", json={"data": [message, None], "session_hash": session})
        return posted.raise_for_status().json()["data"][0]
    return turn


def json_turns(url: str):
    client, session = httpx.Client(timeout=120), {}

    def turn(message: str) -> dict:
        reply = client.post(url + "api/respond", json={"message": message, **session}).raise_for_status().json()
        session["session"] = reply["session"]
        return reply
    return turn


def one_client(url: str, messages: list[str], connect, ready: threading.Barrier,
               until: threading.Event) -> tuple[list[float], int]:
    """Latencies of one client's messages, and its errors: its messages, then more of them in turn until
    `until` is set. Every client is built before any sends: an httpx client costs 23 ms of CPU (its TLS
    context), and 100 of them built while the first messages were in flight made those messages the slowest 1%
    (the load generator shares the server's cores)."""
    latencies, errors = [], 0
    send = connect(url)  # an httpx client: nothing is sent yet, so nothing to count as an error
    ready.wait()
    sent = 0
    while sent < len(messages) or not until.is_set():
        message = messages[sent % len(messages)]
        sent += 1
        started = time.perf_counter()
        try:
            reply = send(message)
        except Exception:  # noqa: BLE001
            errors += 1
            continue
        if reply.get("text"):
            latencies.append(time.perf_counter() - started)
        else:  # an empty reply counts as lost
            errors += 1
    return latencies, errors


def run(url: str, clients: int, messages: list[str], connect, until: threading.Event) \
        -> tuple[float, list[float], list[float], int]:
    """(seconds from the first message sent to the last reply, every latency, the latencies of each client's
    messages after its first (which opens its session), errors)."""
    started = []
    ready = threading.Barrier(clients, action=lambda: started.append(time.perf_counter()))
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda k: one_client(url, messages[k % len(messages):] + messages[:k % len(messages)],
                                                     connect, ready, until), range(clients)))
    wall = time.perf_counter() - started[0]
    latencies = [x for lat, _ in results for x in lat]
    return wall, latencies, [x for lat, _ in results for x in lat[1:]], sum(e for _, e in results)


def robot_command(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "robot.cli", *args], **kwargs)


def start_server(port: int) -> tuple[subprocess.Popen, float]:
    """`robot serve` on `port`, once it answers, and the seconds it took to answer a first message."""
    server = robot_command("serve", "--port", str(port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def answers() -> bool:
        if server.poll() is not None:
            raise SystemExit(f"robot serve ended: {server.stderr.read()[-2000:]}")
        httpx.post(f"http://127.0.0.1:{port}/api/respond", json={"message": "hello"}, timeout=5).raise_for_status()
        return True

    seconds = poll(answers, 300, every=0.1)
    if seconds is None:
        raise SystemExit("robot serve did not answer within 300 s")
    return server, seconds


def wait_for_dialogue(port: int) -> float:
    """Seconds until an out-of-scope message is answered by the dialogue model (the server prepares it in the
    background after it answers intents: rounds before that would measure the persona's lines)."""
    seconds = poll(lambda: httpx.post(f"http://127.0.0.1:{port}/api/respond", json={"message": OUT_OF_SCOPE[0]},
                                      timeout=60).raise_for_status().json()["source"] == "dialogue", 300, every=0.5)
    if seconds is None:
        raise SystemExit("the dialogue model was not ready within 300 s")
    return seconds


def retrain_and_swap(done: list[float], swapped: threading.Event, nice: list[str]) -> None:
    """`robot train intents` in another process (`nice`: its `--nice` option, if given): a new version,
    activated, which the server (watching the registry) loads and swaps in; `swapped` is set once it surely has
    (or the training failed: the round ends). `done` gets the seconds the training took."""
    started = time.perf_counter()
    try:
        trained = robot_command("train", "intents", "--data", str(DEFAULT_INTENTS), *nice, stdout=subprocess.DEVNULL)
        if trained.wait() == 0:
            done.append(time.perf_counter() - started)
            time.sleep(SWAP_MARGIN)
    finally:
        swapped.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50, 100])
    parser.add_argument("--messages", type=int, default=20, help="messages per client")
    parser.add_argument("--json", action="store_true", help="the plain JSON endpoint instead of Gradio's API")
    parser.add_argument("--dialogue", action="store_true", help="out-of-scope messages too (the dialogue model)")
    parser.add_argument("--swap", action="store_true", help="retrain and swap during the largest round")
    parser.add_argument("--nice", type=int, help="the retrain's CPU priority (robot train --nice; default: its own)")
    args = parser.parse_args()
    if not args.dialogue:
        os.environ["ROBOT_DIALOGUE"] = "off"
    pool = IN_SCOPE + (OUT_OF_SCOPE if args.dialogue else [])
    messages = (pool * args.messages)[:args.messages]
    port = 7900
    server, start_seconds = start_server(port)
    url = f"http://127.0.0.1:{port}/"
    rows = []
    try:
        dialogue_seconds = wait_for_dialogue(port) if args.dialogue else None
        for n in args.clients:
            retrained: list[float] = []  # the retrain's seconds, once it succeeded
            until = threading.Event()
            if args.swap and n == max(args.clients):
                nice = ["--nice", str(args.nice)] if args.nice is not None else []
                worker = threading.Thread(target=retrain_and_swap, args=(retrained, until, nice))
                worker.start()
            else:
                until.set()
            wall, latencies, later, errors = run(url, n, messages, json_turns if args.json else gradio_turns, until)
            if args.swap and n == max(args.clients):
                worker.join()
            requests = len(latencies) + errors
            retrain = f" + retrain ({retrained[0]:.0f} s) and swap" if retrained else ""
            rows.append((f"{n} client(s){retrain}", str(requests),
                         f"{requests / wall:.1f}",
                         f"{statistics.median(latencies) * 1000:.0f}" if latencies else "-",
                         f"{percentile(latencies, 99) * 1000:.0f}" if latencies else "-",
                         f"{percentile(later, 99) * 1000:.0f}" if later else "-", str(errors)))
    finally:
        server.terminate()
        server.wait(30)
    endpoint = "/api/respond" if args.json else "/respond"
    more = " (more in the swap round, until the swap)" if args.swap else ""
    print(f"\nload: {endpoint}, {len(messages)} messages per client{more}, "
          f"{'with' if args.dialogue else 'no'} dialogue, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}; the server answered its first message "
          f"{start_seconds:.1f} s after it was started"
          + (f", its chat model {dialogue_seconds:.1f} s later (the rounds began then)" if args.dialogue else ""))
    print_table(rows, ("clients", "requests", "requests/s", "p50 ms", "p99 ms", "p99 ms after each client's first",
                       "errors or empty replies"))


if __name__ == "__main__":
    main()
