"""robot: an offline-first robot you talk to by text or voice, retrainable on your own intents."""

__version__ = "0.1.0"
