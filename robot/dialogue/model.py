"""Model presets: Llama-style causal LMs from transformers, sized for a laptop CPU up to one GPU.

`--init PATH` starts from any local Hugging Face causal-LM folder (or a GGUF file, read through
transformers) instead: the project's tokenizer is then replaced by that model's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedModel

from robot.errors import InputError


@dataclass(frozen=True)
class Preset:
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    context: int
    vocab: int


PRESETS: dict[str, Preset] = {
    "micro": Preset(hidden=64, layers=2, heads=4, kv_heads=2, intermediate=192, context=256, vocab=4096),  # tests
    "tiny": Preset(hidden=256, layers=6, heads=8, kv_heads=4, intermediate=704, context=512, vocab=8192),  # ~7M
    "small": Preset(hidden=512, layers=8, heads=8, kv_heads=4, intermediate=1408, context=1024, vocab=16384),  # ~30M
    "base": Preset(hidden=768, layers=12, heads=12, kv_heads=4, intermediate=2048, context=1024, vocab=32768),  # ~100M
}


def llama_config(preset: Preset, tokenizer) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=preset.hidden, num_hidden_layers=preset.layers,
        num_attention_heads=preset.heads, num_key_value_heads=preset.kv_heads,
        intermediate_size=preset.intermediate, max_position_embeddings=preset.context,
        tie_word_embeddings=True, rms_norm_eps=1e-5, rope_theta=10000.0,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.convert_tokens_to_ids("<|end|>"),
        bos_token_id=None,
    )


def build_model(preset_name: str, tokenizer) -> PreTrainedModel:
    if preset_name not in PRESETS:
        raise InputError(f"unknown preset {preset_name!r} (one of {', '.join(PRESETS)})")
    return LlamaForCausalLM(llama_config(PRESETS[preset_name], tokenizer))


def load_pretrained(path: str | Path) -> tuple[PreTrainedModel, object]:
    """A local causal LM folder, or a .gguf file (dequantised by transformers), with its tokenizer."""
    from transformers import AutoTokenizer

    path = Path(path)
    try:
        if path.suffix == ".gguf":
            kwargs = {"gguf_file": path.name}
            folder = str(path.parent)
            model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
            return model, AutoTokenizer.from_pretrained(folder, **kwargs)
        return (AutoModelForCausalLM.from_pretrained(str(path), use_safetensors=True),  # never unpickle
                AutoTokenizer.from_pretrained(str(path)))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load a causal language model from here ({exc})", path=path) from None


def count_parameters(model: PreTrainedModel) -> int:
    return sum(p.numel() for p in model.parameters())
