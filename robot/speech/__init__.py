"""Speech, a leaf that knows nothing of the robot: audio in (files, browser, microphone) -> 16 kHz -> endpointing
-> speech-to-text, and text-to-speech. The recogniser's language model is built from plain sentences
(robot/intents/spoken.py makes them from the intents); robot/voice/ joins all this to the brain."""
