"""Voice in the web app: uploads through the API (48 kHz stereo WAV, FLAC, MP3; broken files), and a real
Chromium whose fake microphone plays a spoken request into the Chat tab's streaming recorder."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from gradio_client import Client, handle_file
from scipy.signal import resample_poly

from robot.speech import audio
from robot.speech.tts import Voice, synthesize
from tests.test_speech import heard
from tests.test_web import BROWSER_ARGS, CHROMIUM


def spoken_request(text: str, rate: int, channels: int, lead: float = 0.5, tail: float = 1.0) -> np.ndarray:
    """The neural voice's speech in a quiet room at a browser's rate, shaped (samples, channels)."""
    speech = synthesize(text, Voice(words_per_minute=150))
    signal = np.concatenate([np.zeros(int(lead * 16000)), speech, np.zeros(int(tail * 16000))])
    signal += 0.003 * np.random.default_rng(0).standard_normal(signal.size)
    resampled = resample_poly(signal, rate // 1000, 16) if rate % 1000 == 0 else resample_poly(signal, 441, 160)
    return np.repeat(resampled[:, None], channels, axis=1).astype(np.float32)


def message_text(message: dict) -> str:
    content = message["content"]
    return content[0]["text"] if isinstance(content, list) else content


@pytest.mark.parametrize(("suffix", "rate", "channels"), [("wav", 48000, 2), ("flac", 44100, 1), ("mp3", 48000, 1)])
def test_api_upload_is_transcribed_answered_and_spoken(web_app, tmp_path, suffix, rate, channels):
    path = tmp_path / f"request.{suffix}"
    soundfile.write(path, spoken_request("are you a robot", rate, channels), rate)
    client = Client(web_app, verbose=False)
    _, history, meta, spoken = client.predict(handle_file(str(path)), [], True, "en-us", 160, api_name="/hear")
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert heard(message_text(history[0]), "are you a robot")
    assert meta.startswith("bot_challenge · ") and "bot_challenge" not in message_text(history[1])
    reply = audio.load(spoken)
    assert reply.size > 16000 // 2 and np.abs(reply).max() > 0.1


def test_api_upload_without_speech_reply_and_a_broken_file(web_app, tmp_path):
    client = Client(web_app, verbose=False)
    path = tmp_path / "request.wav"
    soundfile.write(path, spoken_request("how old are you", 16000, 1), 16000)
    _, history, meta, spoken = client.predict(handle_file(str(path)), [], False, "en-us", 160, api_name="/hear")
    assert spoken is None and meta.startswith("age · ")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt not really audio")
    _, after, _, spoken = client.predict(handle_file(str(broken)), history, True, "en-us", 160, api_name="/hear")
    assert after == history and spoken is None  # a warning in the page, no crash, no new turn


def test_api_recordings_up_to_the_voice_limit_are_accepted(web_app, tmp_path):
    """A 25 s browser recording (48 kHz stereo, 4.8 MB) is over the 2 MB intents-file cap but within the 30 s
    the voice limits promise."""
    path = tmp_path / "long.wav"
    soundfile.write(path, spoken_request("what time is it", 48000, 2, lead=1.0, tail=22.0), 48000, subtype="PCM_16")
    assert path.stat().st_size > 4_000_000
    client = Client(web_app, verbose=False)
    _, history, meta, _ = client.predict(handle_file(str(path)), [], False, "en-us", 160, api_name="/hear")
    assert heard(message_text(history[0]), "what time is it") and meta.startswith("time · ")


@pytest.mark.browser
def test_browser_records_from_the_microphone_and_hears_the_reply(web_app, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    expect = playwright.expect
    fake = tmp_path / "microphone.wav"  # Chromium plays this file, in a loop, as the microphone
    soundfile.write(fake, spoken_request("what's the weather like", 48000, 1, lead=0.5, tail=4.0), 48000,
                    subtype="PCM_16")
    args = [*BROWSER_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={fake}", "--autoplay-policy=no-user-gesture-required"]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = browser.new_context(permissions=["microphone"])
            context.add_init_script("""
                window.__audioConstraints = [];
                const media = navigator.mediaDevices, original = media.getUserMedia.bind(media);
                media.getUserMedia = (c) => {
                    window.__audioConstraints.push(JSON.stringify(c.audio));
                    return original(c);
                };
            """)
            page = context.new_page()
            page.goto(web_app)
            page.locator("#microphone button.record-button").click()
            page.wait_for_timeout(3500)  # 0.5 s of room, the request (about 1.5 s), room again
            page.locator("#microphone button.stop-button").click()
            expect(page.locator("#reply-meta")).to_contain_text("weather · ", timeout=60_000)
            # decoded at the pause, while the fake microphone went on with its seconds of silence
            expect(page.locator("#reply-meta")).to_contain_text("transcribed while you spoke")
            assert heard(page.locator("#chat [data-testid='user']").first.inner_text(), "what's the weather like")
            page.locator("#spoken-reply audio").first.wait_for(state="attached", timeout=30_000)
            page.locator("#microphone button.record-button").click()  # a second recording starts afresh
            page.wait_for_timeout(3500)
            page.locator("#microphone button.stop-button").click()
            expect(page.locator("#chat [data-testid='user']")).to_have_count(2, timeout=60_000)
            assert heard(page.locator("#chat [data-testid='user']").nth(1).inner_text(), "what's the weather like")
            constraints = page.evaluate("window.__audioConstraints")
            assert constraints and all('"echoCancellation":false' in c and '"noiseSuppression":false' in c
                                       and '"autoGainControl":false' in c for c in constraints)
        finally:
            browser.close()
