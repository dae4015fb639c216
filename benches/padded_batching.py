"""Whether padded batches would make the model faster, and whether they change its scores.

    .venv/bin/python benches/padded_batching.py        # needs onnxruntime, numpy and tokenizers

Scores 256 posts built from the functional suite (~280 characters) one at a time and in length-sorted
padded batches of 8 and 32 on one thread, and prints throughput and the largest score difference against
batch 1. With the shipped model (int8 weights, fp32 arithmetic) batches barely change throughput and
scores differ only by float rounding; with activations quantized at run time (one int8 scale for the
whole batch tensor) a post's score depended on its neighbours, by up to 0.2. Pass another graph's path
to measure it: `padded_batching.py models/training/.cache/model-dynamic-int8.onnx`.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models/safespace-minilm-int8"


def posts(n: int = 256, length: int = 280, seed: int = 7) -> list[str]:
    sentences = [json.loads(line)["text"] for line in (ROOT / "datasets/functional/suite.jsonl").open()]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        post = ""
        while len(post) < length:
            post += rng.choice(sentences) + ". "
        out.append(post[:length])
    return out


def main() -> None:
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    path = sys.argv[1] if len(sys.argv) > 1 else str(MODEL / "model.onnx")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    texts = posts()
    encoded = [tokenizer.encode(t).ids[:128] for t in texts]

    def run(indices: list[int]) -> np.ndarray:
        width = max(len(encoded[i]) for i in indices)
        ids = np.zeros((len(indices), width), np.int64)
        mask = np.zeros_like(ids)
        for row, i in enumerate(indices):
            ids[row, : len(encoded[i])] = encoded[i]
            mask[row, : len(encoded[i])] = 1
        return session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]

    started = time.perf_counter()
    single = np.concatenate([run([i]) for i in range(len(texts))])
    base = len(texts) / (time.perf_counter() - started)
    print(f"{len(texts)} posts, mean {np.mean([len(e) for e in encoded]):.0f} tokens, 1 thread")
    print(f"batch 1: {base:.0f} posts/s")
    order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
    for size in (8, 32):
        batched = np.zeros_like(single)
        started = time.perf_counter()
        for k in range(0, len(order), size):
            chunk = order[k : k + size]
            batched[chunk] = run(chunk)
        rate = len(texts) / (time.perf_counter() - started)
        drift = np.abs(batched - single)
        print(f"batch {size}, length-sorted, padded: {rate:.0f} posts/s ({rate / base:.2f}x); "
              f"score change vs batch 1: max {drift.max():.1e}, mean {drift.mean():.1e}")


if __name__ == "__main__":
    main()
