"""Training throughput of the dialogue presets on whatever device this runs on: tokens/s and model FLOPs
utilisation (MFU: the model's training FLOPs per second over the device's peak bf16 FLOPs).

    python benchmarks/train_throughput.py [--preset tiny] [--batch-size 16] [--block-size 256] [--steps 10]
    python benchmarks/train_throughput.py --preset base --batch-size 64 --block-size 1024 --compile   # GPU

FLOPs per token follow the PaLM appendix: 6 N (N = non-embedding parameters + the tied output layer)
+ 12 L T d for attention. The CPU has no known peak: give --peak-tflops to get an MFU there.
"""

from __future__ import annotations

import argparse
import time

import torch

from robot.dialogue.data import masked_loss
from robot.dialogue.model import PRESETS, build_model, count_parameters

PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0, "4090": 165.0}


class VocabOnly:
    """What `build_model` needs of a tokenizer, for a random-token benchmark."""

    def __init__(self, size: int) -> None:
        self.size, self.pad_token_id = size, 0

    def __len__(self) -> int:
        return self.size

    def convert_tokens_to_ids(self, token: str) -> int:
        return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny", choices=list(PRESETS))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--block-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--peak-tflops", type=float, default=0.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
    preset = PRESETS[args.preset]
    model = build_model(args.preset, VocabOnly(preset.vocab)).to(device)
    params = count_parameters(model)
    flops_per_token = 6 * params + 12 * preset.layers * args.block_size * preset.hidden
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=cuda)
    step_fn = torch.compile(model) if args.compile else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else torch.autocast("cpu", enabled=False)
    x = torch.randint(0, preset.vocab, (args.batch_size, args.block_size + 1), device=device)
    mask = torch.ones(args.batch_size, args.block_size, dtype=torch.bool, device=device)

    def step() -> None:
        with autocast:
            loss = masked_loss(step_fn(input_ids=x[:, :-1]).logits, x[:, 1:], mask)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(3):  # warm-up (and compilation)
        step()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    tokens_per_s = args.steps * args.batch_size * args.block_size / seconds
    achieved = tokens_per_s * flops_per_token / 1e12
    name = torch.cuda.get_device_name() if cuda else f"CPU, {args.threads} threads"
    peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if cuda and k in name), 0.0)
    mfu = f"{100 * achieved / peak:.1f}%" if peak else "n/a (no known peak)"
    print("| device | preset | params | batch x block | tokens/s | TFLOP/s | MFU |\n|---|---|---|---|---|---|---|")
    print(f"| {name} | {args.preset} | {params / 1e6:.1f}M | {args.batch_size} x {args.block_size} | "
          f"{tokens_per_s:,.0f} | {achieved:.3f} | {mfu} |")


if __name__ == "__main__":
    main()
