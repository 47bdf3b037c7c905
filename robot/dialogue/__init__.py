"""The robot's own small dialogue model: corpus, tokenizer, model presets, training, generation, evaluation."""
