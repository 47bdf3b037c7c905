"""`robot voice` against a real ALSA device: a `type file` PCM whose capture side reads raw 16 kHz speech
(the virtual microphone) and whose playback side writes what the robot says to a file (the speaker).

PortAudio reads ALSA's configuration once, when sounddevice is imported, so each test runs the loop in a
fresh process with ALSA_CONFIG_PATH pointing at the test's configuration."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from robot.speech.audio import SAMPLE_RATE, resample, to_int16
from robot.speech.tts import Voice, synthesize

ALSA = """
</usr/share/alsa/alsa.conf>
pcm.!default {{
    type asym
    capture.pcm "robotmic"
    playback.pcm "robotspeaker"
}}
pcm.robotmic {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{microphone}"
    format "raw"
}}
pcm.robotspeaker {{
    type file
    slave.pcm "null"
    file "{speaker}"
    format "raw"
}}
"""


@pytest.fixture()
def virtual_audio(tmp_path):
    if not os.path.exists("/usr/share/alsa/alsa.conf"):
        pytest.skip("no ALSA configuration on this machine")
    microphone, speaker = tmp_path / "microphone.raw", tmp_path / "speaker.raw"
    config = tmp_path / "asound.conf"
    config.write_text(ALSA.format(microphone=microphone, speaker=speaker))
    return config, microphone, speaker


def speak_into(path, text: str, seconds_after: float = 2.0, rate: int = SAMPLE_RATE) -> float:
    """Raw S16_LE mono at `rate`: a quiet room, the request, a quiet room. Returns the length in seconds."""
    speech = synthesize(text, Voice("en-us", 150))
    room = np.random.default_rng(0).standard_normal(int((1.0 + seconds_after) * SAMPLE_RATE) + speech.size) * 0.003
    room[SAMPLE_RATE:SAMPLE_RATE + speech.size] += speech
    signal = resample(room.astype(np.float32), SAMPLE_RATE, rate)
    path.write_bytes(to_int16(signal).tobytes())
    return signal.size / rate


def run_robot_voice(config, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "ALSA_CONFIG_PATH": str(config), "ROBOT_DIALOGUE": "off"}
    return subprocess.run([sys.executable, "-m", "robot.cli", "voice", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("rate", [16000, 48000])
def test_microphone_loop_hears_a_request_and_speaks_the_reply(virtual_audio, rate):
    config, microphone, speaker = virtual_audio
    seconds = speak_into(microphone, "what's the weather like", rate=rate)
    result = run_robot_voice(config, "--max-turns", "1", "--max-seconds", str(seconds), "--sample-rate", str(rate))
    assert result.returncode == 0, result.stderr
    assert "you> what's the weather like" in result.stdout
    assert "offline" in result.stdout.lower() or "forecast" in result.stdout.lower()  # the weather replies
    played = np.frombuffer(speaker.read_bytes(), dtype=np.float32)
    assert played.size > SAMPLE_RATE // 2 and np.abs(played).max() > 0.1  # the reply was spoken


def test_list_devices_shows_the_virtual_devices(virtual_audio):
    config, _, _ = virtual_audio
    result = run_robot_voice(config, "--list-devices")
    assert result.returncode == 0, result.stderr
    assert "robotmic" in result.stdout and "robotspeaker" in result.stdout


def test_a_missing_device_is_a_clear_error(virtual_audio):
    config, microphone, _ = virtual_audio
    speak_into(microphone, "hello")
    result = run_robot_voice(config, "--input-device", "no such microphone", "--max-seconds", "1")
    assert result.returncode == 2
    assert "cannot open input device no such microphone" in result.stderr and "Traceback" not in result.stderr



def test_ctrl_c_stops_the_loop_cleanly(virtual_audio):
    config, microphone, _ = virtual_audio
    speak_into(microphone, "hello")
    env = {**os.environ, "ALSA_CONFIG_PATH": str(config), "ROBOT_DIALOGUE": "off"}
    # Ctrl-C as a terminal sends it, whatever the test runner inherited: a suite started in the background by a
    # shell without job control ignores SIGINT, and an ignored signal stays ignored in every child.
    script = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
              "from robot.cli import main; sys.exit(main(['voice']))")
    process = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("Listening")  # the microphone is open
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Stopped." in out and "Traceback" not in err


def test_missing_portaudio_is_a_clear_error():
    script = ("import ctypes.util, sys; ctypes.util.find_library = lambda name: None; "
              "from robot.cli import main; sys.exit(main(['voice', '--list-devices']))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "PortAudio is not installed" in result.stderr and "libportaudio2" in result.stderr


ROOM = to_int16(np.random.default_rng(0).standard_normal(1600).astype(np.float32) * 0.003).tobytes()  # 0.1 s


def paced_microphone(fifo, block: Callable[[int], bytes], done: threading.Event) -> None:
    """A microphone at a real one's pace: a thread writes `block(n)` (the n-th tenth of a second) into a named
    pipe that ALSA's `file` device reads, every 0.1 s, until `done`."""

    def write() -> None:
        written = 0
        while not done.is_set():
            try:
                with fifo.open("wb") as pipe:  # PortAudio opens and closes devices to probe them: reopen
                    while not done.is_set():
                        written += 1
                        pipe.write(block(written))
                        pipe.flush()
                        time.sleep(0.1)
            except BrokenPipeError:
                continue

    threading.Thread(target=write, daemon=True).start()


def test_push_to_talk_records_between_two_enters(tmp_path):
    """Here the virtual microphone reads a named pipe, so the test paces it: room noise until the first Enter,
    then the request, then room noise again until the second Enter."""
    fifo, speaker = tmp_path / "microphone.fifo", tmp_path / "speaker.raw"
    os.mkfifo(fifo)
    config = tmp_path / "asound.conf"
    config.write_text(ALSA.format(microphone=fifo, speaker=speaker))
    speech = to_int16(synthesize("are you a robot", Voice("en-us", 150))).tobytes()
    talking, done = threading.Event(), threading.Event()

    def next_block(_: int) -> bytes:  # the request once, when the test says
        said = speech if talking.is_set() else b""
        talking.clear()
        return said + ROOM

    paced_microphone(fifo, next_block, done)
    env = {**os.environ, "ALSA_CONFIG_PATH": str(config), "ROBOT_DIALOGUE": "off"}
    process = subprocess.Popen([sys.executable, "-m", "robot.cli", "voice", "--push-to-talk", "--max-turns", "1"],
                               env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    watchdog = threading.Timer(180, process.kill)
    watchdog.start()
    try:
        assert process.stdout.readline().startswith("Listening")
        time.sleep(0.5)
        process.stdin.write("\n")  # Enter: start
        process.stdin.flush()
        assert process.stdout.readline().startswith("Recording")
        time.sleep(0.3)
        talking.set()
        time.sleep(2.5)  # the request and some room after it
        process.stdin.write("\n")  # Enter: stop
        process.stdin.flush()
        out, err = process.communicate(timeout=120)
    finally:
        done.set()
        watchdog.cancel()
        process.kill()
    assert process.returncode == 0, err
    assert "you> are you a robot" in out
    assert speaker.stat().st_size > 0  # the reply was played


def test_a_timer_set_by_voice_rings_by_voice(tmp_path):
    """A real-time microphone (a named pipe written at its pace, as in the push-to-talk test): the request, then
    room noise while the timer runs; it rings, said and spoken, between utterances."""
    fifo, speaker = tmp_path / "microphone.fifo", tmp_path / "speaker.raw"
    os.mkfifo(fifo)
    config = tmp_path / "asound.conf"
    config.write_text(ALSA.format(microphone=fifo, speaker=speaker))
    speech = to_int16(synthesize("set a timer for two seconds", Voice("en-us", 150))).tobytes()
    done = threading.Event()
    paced_microphone(fifo, lambda block: speech if block == 10 else ROOM, done)  # the request after a second
    env = {**os.environ, "ALSA_CONFIG_PATH": str(config), "ROBOT_DIALOGUE": "off"}
    try:
        result = subprocess.run([sys.executable, "-m", "robot.cli", "voice", "--max-seconds", "14"], env=env,
                                capture_output=True, text=True, timeout=180)
    finally:
        done.set()
    assert result.returncode == 0, result.stderr
    assert "2 seconds" in result.stdout and "Time's up: your timer for 2 seconds is done!" in result.stdout
    assert result.stdout.index("Time's up") > result.stdout.index("robo>")  # after the reply that set it
    played = np.frombuffer(speaker.read_bytes(), dtype=np.float32)
    assert played.size > 2 * SAMPLE_RATE  # the reply and the ring were both spoken


def test_a_voice_reply_is_spoken_as_it_is_written():
    """`robot voice` says the reply's first sentence before the rest of it is written (issue #27), then the rest;
    the whole reply is still there to print."""
    from robot.brain import Reply
    from robot.speech.recognizers import Transcript
    from robot.speech.tts import Voice, synthesize_stream
    from robot.voice.voice_robot import VoiceReply

    written, said = [], []

    def replies():
        for text in ["Sure", "Sure. It is ten", "Sure. It is ten o'clock"]:
            written.append(text)
            yield Reply(text, "time", 1.0, "dialogue")

    def say(text: str):
        said.append(text)
        yield from synthesize_stream(text, Voice("en-us"))

    result = VoiceReply(Transcript("what time is it", 0.1, 1.0, "whisper"), replies(), say)
    first = next(result.speech)
    assert first.size > 1000 and said == ["Sure."] and written == ["Sure", "Sure. It is ten"]  # the rest unwritten
    assert sum(1 for _ in result.speech) >= 1 and said == ["Sure.", "It is ten o'clock"]
    assert result.reply.text == "Sure. It is ten o'clock"
