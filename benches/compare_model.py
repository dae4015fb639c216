"""Python references for the model benchmark, on the same posts as the Rust bench:

1. the shipped model's two graphs through Python onnxruntime (a plain, typical deployment): `model.onnx`
   (int8 weights, fp32 arithmetic) and `model-int8.onnx` (int8 arithmetic);
2. a BERT-base-sized fp32 classifier (12 layers, 768 wide: the class of model Detoxify ships) exported
   to ONNX with RANDOM weights — valid for speed only, its scores mean nothing.

    .venv/bin/python benches/compare_model.py            # run from the repository root

Needs onnxruntime, numpy, tokenizers; the BERT-base reference also needs torch and transformers
(models/training/requirements.txt). Prints latency percentiles at batch 1 on one thread and throughput
at batch 32 on one and two threads.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models/safespace-minilm-int8"
CACHE = ROOT / "models/training/.cache"


def corpus(length: int) -> list[str]:
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "safespace-benches", "--bench", "latency", "--", "--dump", str(length)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return [json.loads(line)["text"] for line in out.splitlines() if line.startswith("{")]


def session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def encode(tokenizer: Tokenizer, texts: list[str]) -> dict[str, np.ndarray]:
    encodings = tokenizer.encode_batch(texts)
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def measure(name: str, model: Path, tokenizer: Tokenizer, lengths=(80, 280, 2000)) -> None:
    print(f"\n{name}")
    print(f"{'bytes':>6} {'p50 ms':>8} {'p99 ms':>8} {'b32 1t/s':>10} {'b32 2t/s':>10}")
    one, two = session(model, 1), session(model, 2)
    for length in lengths:
        texts = corpus(length)[:128]
        samples = []
        for text in texts[:64]:
            feed = encode(tokenizer, [text])
            start = time.perf_counter()
            one.run(None, feed)
            samples.append((time.perf_counter() - start) * 1e3)
        samples.sort()
        rates = []
        for s in (one, two):
            start = time.perf_counter()
            for begin in range(0, len(texts), 32):
                s.run(None, encode(tokenizer, texts[begin : begin + 32]))
            rates.append(len(texts) / (time.perf_counter() - start))
        p99 = samples[int((len(samples) - 1) * 0.99)]
        print(f"{length:>6} {samples[len(samples) // 2]:>8.2f} {p99:>8.2f} {rates[0]:>10.1f} {rates[1]:>10.1f}")


def bert_base_reference() -> Path:
    """A BERT-base-sized fp32 graph with random weights (speed only), exported once into the cache."""
    path = CACHE / "bert-base-random-fp32.onnx"
    if path.exists():
        return path
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    bert = BertModel(BertConfig()).eval()  # 12 layers, 768 hidden: bert-base-uncased's shape

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert, self.head = bert, torch.nn.Linear(768, 3)

        def forward(self, input_ids, attention_mask, token_type_ids):
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            pooled = (states * attention_mask.unsqueeze(-1)).sum(1) / attention_mask.sum(1, keepdim=True)
            return torch.sigmoid(self.head(pooled))

    example = tuple(torch.ones((1, 8), dtype=torch.int64) for _ in range(3))
    CACHE.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        Classifier().eval(), example, str(path), opset_version=17, dynamo=False,
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["probabilities"],
        dynamic_axes={n: {0: "batch", 1: "sequence"} for n in ("input_ids", "attention_mask", "token_type_ids")},
    )
    return path


def main() -> None:
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tokenizer.enable_truncation(128)
    for graph in ("model.onnx", "model-int8.onnx"):
        measure(f"Python onnxruntime, safespace-minilm-int8 {graph} (same file as the Rust bench)", MODEL / graph, tokenizer)
    try:
        reference = bert_base_reference()
    except ImportError as e:
        print(f"\nBERT-base reference skipped: {e}")
        return
    measure("Python onnxruntime, BERT-base-sized fp32, RANDOM weights (speed only)", reference, tokenizer, lengths=(80, 280))


if __name__ == "__main__":
    main()
