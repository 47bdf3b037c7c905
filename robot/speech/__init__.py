"""Voice: audio in (files, browser, microphone) -> 16 kHz int16 -> endpointing -> speech-to-text, and
text-to-speech for the reply. The recogniser's language model is built from the intents it has to hear."""
