"""A Llama-architecture GGUF file (the dialogue base, SmolLM2) read once into a plain transformers model.

transformers can load GGUF itself, but for this 135M model it took 25 s of the first start's merge: it parses
the file three times (config, tokenizer, weights: 3.8 s each, mostly the 49,152-word vocabulary's metadata) and
builds its tensor-name map in 5 s. Here the file is parsed once with the `gguf` library, its tensors
dequantised with the library's own `dequantize`, renamed, and the attention's query and key rows put back in
Hugging Face's order (llama.cpp's converter interleaves each head's rotary halves); the result is the same
tensors, bit for bit (tests/test_dialogue_base.py compares them with transformers' own loader). The tokenizer is not
read: a fine-tuned model folder ships its own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

LAYER_NAMES = {  # GGUF's name in block N -> transformers' under model.layers.N
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
TOP_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def _field(reader, key: str, default=None):
    field = reader.fields.get(key)
    return default if field is None else field.contents()


def llama_config(reader):
    """The transformers LlamaConfig of a GGUF file's metadata (what transformers' own GGUF reader derives)."""
    from transformers import LlamaConfig

    arch = _field(reader, "general.architecture")
    if arch != "llama":
        raise ValueError(f"not a Llama-architecture GGUF file ({arch})")
    names = {t.name for t in reader.tensors}
    embedding = next(t for t in reader.tensors if t.name == "token_embd.weight")
    heads = _field(reader, "llama.attention.head_count")
    return LlamaConfig(
        vocab_size=int(embedding.shape[1]), hidden_size=_field(reader, "llama.embedding_length"),
        intermediate_size=_field(reader, "llama.feed_forward_length"),
        num_hidden_layers=_field(reader, "llama.block_count"), num_attention_heads=heads,
        num_key_value_heads=_field(reader, "llama.attention.head_count_kv", heads),
        max_position_embeddings=_field(reader, "llama.context_length"),
        rms_norm_eps=float(_field(reader, "llama.attention.layer_norm_rms_epsilon")),
        rope_parameters={"rope_theta": float(_field(reader, "llama.rope.freq_base", 10000.0)), "rope_type": "default"},
        bos_token_id=_field(reader, "tokenizer.ggml.bos_token_id"),
        eos_token_id=_field(reader, "tokenizer.ggml.eos_token_id"),
        pad_token_id=_field(reader, "tokenizer.ggml.padding_token_id"),
        tie_word_embeddings="output.weight" not in names)


def unpermute(weights: np.ndarray, heads: int) -> np.ndarray:
    """Query/key rows from llama.cpp's order (each head's rotary halves interleaved) back to Hugging Face's."""
    half = weights.shape[0] // heads // 2
    return weights.reshape(heads, half, 2, *weights.shape[1:]).swapaxes(2, 1).reshape(weights.shape)


def hf_name(gguf_name: str) -> str:
    stem, _, kind = gguf_name.rpartition(".")
    if stem.startswith("blk."):
        _, layer, part = stem.split(".", 2)
        return f"model.layers.{layer}.{LAYER_NAMES[part]}.{kind}"
    return f"{TOP_NAMES[stem]}.{kind}"


def load_llama_gguf(path: Path):
    """A LlamaForCausalLM (fp32, eval mode) with the weights of a GGUF file."""
    from gguf import GGUFReader, dequantize
    from transformers import LlamaForCausalLM

    reader = GGUFReader(path)
    config = llama_config(reader)
    state = {}
    for tensor in reader.tensors:
        weights = dequantize(tensor.data, tensor.tensor_type)
        if ".attn_q." in tensor.name:
            weights = unpermute(weights, config.num_attention_heads)
        elif ".attn_k." in tensor.name:
            weights = unpermute(weights, config.num_key_value_heads)
        state[hf_name(tensor.name)] = torch.from_numpy(np.array(weights, dtype=np.float32))  # F32 ones map the file
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model.load_state_dict(state, assign=True, strict=False)  # lm_head is tied to the embedding (absent here)
    model.tie_weights()
    missing = {name for name, p in model.named_parameters() if p.is_meta}
    if missing:
        raise ValueError(f"GGUF file lacks {sorted(missing)[:3]}")
    model.model.rotary_emb = type(model.model.rotary_emb)(config=config)  # its buffers were made on "meta"
    return model.eval()
