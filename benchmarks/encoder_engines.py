"""The sentence encoder (all-MiniLM-L6-v2, three pooled layers) on three CPU engines: PyTorch, ONNX Runtime
(what the robot runs) and ONNX Runtime with int8 weights: one message's latency, batch-64 throughput over CLINC150
training sentences (length-sorted, as training encodes them) and how far the features move.

    python benchmarks/encoder_engines.py [--threads 2] [--data ../shared/data/clinc150/data_full.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from report import percentile, print_table, scratch

from robot.intents.encoder import SentenceEncoder, onnx_folder

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clinc150" / "data_full.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sentences", type=int, default=2048, help="sentences for the throughput rows")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    encoder = SentenceEncoder()
    exported = onnx_folder(encoder.sha256, encoder.config.layers) / "model.onnx"  # exported (once) on the CPU
    quantized = Path(scratch("robot-bench-onnx-")) / "int8.onnx"
    quantize_dynamic(str(exported), str(quantized), weight_type=QuantType.QInt8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
    int8 = onnxruntime.InferenceSession(str(quantized), options, providers=["CPUExecutionProvider"])

    def pytorch(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return encoder.pooled(torch.from_numpy(ids), torch.from_numpy(mask))[0].numpy()

    def session(engine) -> callable:
        return lambda ids, mask: engine.run(["pooled"], {"input_ids": ids, "attention_mask": mask})[0]

    engines = {"PyTorch (eager)": pytorch, "ONNX Runtime (the robot)": session(encoder.session),
               "ONNX Runtime, int8 weights": session(int8)}
    raw = json.loads(args.data.read_text())
    sentences = sorted({t for t, _ in raw["train"]}, key=len)
    sentences = sentences[:: max(1, len(sentences) // args.sentences)]
    messages = [t for t, _ in raw["test"][:300]]
    tokenized = [encoder.tokenizer([m], return_tensors="np") for m in messages]
    reference = np.concatenate([pytorch(b["input_ids"], b["attention_mask"]) for b in tokenized[:50]])
    rows = []
    for name, run in engines.items():
        for b in tokenized[:20]:
            run(b["input_ids"], b["attention_mask"])
        ms = []
        for b in tokenized:
            start = time.perf_counter()
            run(b["input_ids"], b["attention_mask"])
            ms.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        for i in range(0, len(sentences), 64):
            batch = encoder.tokenizer(sentences[i:i + 64], padding=True, return_tensors="np")
            run(batch["input_ids"], batch["attention_mask"])
        throughput = len(sentences) / (time.perf_counter() - start)
        features = np.concatenate([run(b["input_ids"], b["attention_mask"]) for b in tokenized[:50]])
        cosine = np.sum(features * reference, 1) / np.linalg.norm(features, axis=1) / np.linalg.norm(reference, axis=1)
        rows.append((name, f"{percentile(ms, 50):.2f} / {percentile(ms, 99):.2f} ms", f"{throughput:.0f}",
                     f"{np.abs(features - reference).max():.1e}", f"{cosine.min():.4f}"))
    print(f"\nall-MiniLM-L6-v2, 3 pooled layers, {platform.processor() or platform.machine()}, {args.threads} threads")
    print_table(rows, ("engine", "one message p50 / p99", "sentences/s, batch 64", "max |diff|",
                       "min cosine to PyTorch"))


if __name__ == "__main__":
    main()
