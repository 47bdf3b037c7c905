"""Microphones and speakers through sounddevice (PortAudio)."""

from __future__ import annotations

from robot.errors import InputError


def sounddevice_module():
    """sounddevice, or a clear error when the PortAudio library is missing."""
    try:
        import sounddevice
    except OSError as error:
        raise InputError("PortAudio is not installed, so there is no microphone or speaker: "
                         f"`sudo apt-get install libportaudio2` ({error})") from None
    return sounddevice


def list_devices() -> str:
    sd = sounddevice_module()
    return str(sd.query_devices())
