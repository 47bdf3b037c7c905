"""Audio utilities on real files of every common shape: rates, channels, sample types, formats, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from robot.speech import audio
from robot.speech.audio import SAMPLE_RATE, AudioError, AudioLimits


def tone(frequency: float, rate: int, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def peak_frequency(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[np.argmax(spectrum)])


def level_db(samples: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(samples**2)) + 1e-12)


def test_48k_stereo_is_downmixed_and_resampled_with_an_anti_aliasing_filter(tmp_path):
    wanted, alias = tone(1000, 48000), tone(13000, 48000)  # 13 kHz would fold to 3 kHz without a filter
    stereo = np.stack([wanted + alias, wanted + alias], axis=1)
    path = tmp_path / "browser.wav"
    soundfile.write(path, stereo, 48000, subtype="PCM_16")
    out = audio.load(path)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(out.size - SAMPLE_RATE) <= 1
    assert abs(peak_frequency(out) - 1000) < 5
    folded = np.abs(np.fft.rfft(out))[2990:3010].max() / np.abs(np.fft.rfft(out))[990:1010].max()
    assert folded < 0.01  # the 13 kHz tone is gone (-40 dB), not folded into the speech band


def test_44k1_browser_recording_keeps_its_duration_and_pitch():
    out = audio.from_array(44100, (tone(440, 44100, 2.0) * 32767).astype(np.int16))
    assert abs(out.size - 2 * SAMPLE_RATE) <= 2
    assert abs(peak_frequency(out) - 440) < 3


def test_8k_telephone_audio_is_upsampled(tmp_path):
    path = tmp_path / "phone.wav"
    soundfile.write(path, tone(700, 8000, 0.5), 8000, subtype="PCM_16")
    out = audio.load(path)
    assert abs(out.size - SAMPLE_RATE // 2) <= 1
    assert abs(peak_frequency(out) - 700) < 5
    assert np.abs(np.fft.rfft(out))[np.fft.rfftfreq(out.size, 1 / SAMPLE_RATE) > 4100].max() < 1  # no images


def test_float_and_integer_inputs_agree():
    signal = tone(300, SAMPLE_RATE, 0.5)
    as_int = audio.from_array(SAMPLE_RATE, np.round(signal * 32767).astype(np.int16))
    as_float64 = audio.from_array(SAMPLE_RATE, signal.astype(np.float64))
    as_uint8 = audio.from_array(SAMPLE_RATE, np.round(signal * 127 + 128).astype(np.uint8))
    assert np.allclose(as_int, as_float64, atol=1e-4)
    assert np.allclose(as_uint8, as_float64, atol=1e-2)
    assert audio.from_array(SAMPLE_RATE, np.stack([signal, signal])).shape == signal.shape  # (channels, samples)


def test_float_to_int16_rounds_instead_of_truncating():
    lsb = 1 / 32767
    assert audio.to_int16(np.array([0.6 * lsb, -0.6 * lsb, 0.4 * lsb, 1.5, -1.5])).tolist() == [1, -1, 0, 32767, -32767]
    positive = np.random.default_rng(0).uniform(0, 0.01, 100_000)
    bias = audio.to_int16(positive).mean() - (positive * 32767).mean()
    assert abs(bias) < 0.05  # truncation would lower it by half a step


@pytest.mark.parametrize("fmt", ["FLAC", "OGG", "MP3"])
def test_compressed_formats_load(tmp_path, fmt):
    path = tmp_path / f"speech.{fmt.lower()}"
    soundfile.write(path, tone(500, 22050, 1.0), 22050, format=fmt)
    out = audio.load(path.read_bytes())  # bytes, as an upload arrives
    assert abs(out.size / SAMPLE_RATE - 1.0) < 0.08  # MP3 adds encoder padding
    assert abs(peak_frequency(out) - 500) < 5


def test_silence_is_rejected(tmp_path):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(SAMPLE_RATE, np.int16), SAMPLE_RATE)
    with pytest.raises(AudioError, match="silent"):
        audio.load(path)


def test_empty_and_corrupt_files_are_clear_errors(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        audio.load(empty)
    no_frames = tmp_path / "no_frames.wav"
    soundfile.write(no_frames, np.zeros(0, np.int16), SAMPLE_RATE)
    with pytest.raises(AudioError, match="empty"):
        audio.load(no_frames)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    with pytest.raises(AudioError, match="not a readable audio file"):
        audio.load(corrupt)
    with pytest.raises(AudioError, match="no such file"):
        audio.load(tmp_path / "missing.wav")


def test_too_short_and_too_long_are_rejected_with_the_limit():
    with pytest.raises(AudioError, match="too short"):
        audio.from_array(SAMPLE_RATE, tone(200, SAMPLE_RATE, 0.1))
    with pytest.raises(AudioError, match="too long.*at most 30 s"):
        audio.from_array(SAMPLE_RATE, tone(200, SAMPLE_RATE, 31))
    longer = AudioLimits(max_seconds=60)
    assert audio.from_array(SAMPLE_RATE, tone(200, SAMPLE_RATE, 31), longer).size == 31 * SAMPLE_RATE


def test_wav_bytes_round_trip():
    signal = tone(250, SAMPLE_RATE, 0.5)
    assert np.allclose(audio.load(audio.wav_bytes(signal)), signal, atol=1e-4)


@pytest.mark.parametrize("rate", [48000, 44100, 8000, 16000])
def test_stream_resampling_in_blocks_equals_resampling_at_once(rate):
    signal = tone(440, rate, 1.0) + tone(3000, rate, 1.0, 0.2)
    resampler = audio.StreamResampler(rate)
    rng = np.random.default_rng(0)
    cuts = np.sort(rng.choice(np.arange(1, signal.size), 40, replace=False))
    streamed = np.concatenate([resampler(block) for block in np.split(signal, cuts)])
    whole = audio.resample(signal, rate)
    held_back = (resampler.down + 2 * resampler.margin) * resampler.up / resampler.down
    assert streamed.size >= whole.size - held_back  # at most 25 ms, at 44.1 kHz
    assert np.allclose(streamed, whole[:streamed.size], atol=1e-5)


@pytest.mark.parametrize("claimed", [1, 3, 2_000_000_000])
def test_a_header_claiming_an_absurd_rate_is_refused_before_decoding(tmp_path, claimed):
    """A 42 KB WAV whose header says 1 Hz once took the server to 3.3 GB through resampling."""
    import resource
    import struct
    import time

    path = tmp_path / "odd.wav"
    soundfile.write(path, np.zeros(21_000, np.int16), 8000, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    raw[24:32] = struct.pack("<II", claimed, claimed * 2)  # sample rate and byte rate of the fmt chunk
    path.write_bytes(bytes(raw))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    for source in (path, bytes(raw)):
        with pytest.raises(AudioError, match="sample rate|too long"):
            audio.load(source)
    assert time.perf_counter() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KB: no gigabytes
    with pytest.raises(AudioError, match="sample rate"):
        audio.from_array(claimed, np.zeros(21_000, np.float32))
