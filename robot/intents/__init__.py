"""Intents: the data model and its formats, the sentence encoder, the classifier, training and evaluation."""
