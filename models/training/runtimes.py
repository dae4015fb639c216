"""What each way of running the model's arithmetic costs and buys: the shipped graph (int8 weights, fp32
arithmetic), its fp32 form, activations quantized on the fly (`quantize_dynamic`, what an earlier
release shipped), and activations quantized with fixed scales calibrated once (static int8), for all
weight products and for each kind of layer alone.

Per graph it prints, as a Markdown table:
- p50 latency in ONNX Runtime, one thread, one 260–300-character validation post at a time;
- the largest probability difference between ONNX Runtime and tract on the parity fixture's texts
  (crates/safespace/tests/fixtures/parity.json), and between ONNX Runtime's optimized session and the
  same graph run unoptimized (its fused integer kernels against the graph as written);
- the mean and largest difference from the fp32 graph, and the ROC-AUC change per category, on a
  sample of pooled validation (up to 800 texts with a known label per category).

    .venv/bin/pip install tract==0.23.9
    .venv/bin/python models/training/runtimes.py --data ../shared/data   # about 10 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import tract
from onnxruntime.quantization import QuantType, quantize_dynamic
from sklearn.metrics import roc_auc_score
from tokenizers import Tokenizer

import data
from data import CATEGORIES
from int8 import calibration_texts
from quantize import fold_weights, model_inputs, quantize_activations

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models/safespace-minilm-int8"

# Which weight products get static int8 activations (regular expressions over node names).
STATIC = {
    "static int8, every weight product": ".",
    "static int8, Q/K/V only": r"/(query|key|value)/MatMul",
    "static int8, attention output only": r"attention/output/dense/MatMul",
    "static int8, feed-forward up only": r"intermediate/dense/MatMul",
    "static int8, feed-forward down only": r"layer\.\d+/output/dense/MatMul",
    "static int8, all but feed-forward down": r"/(query|key|value|attention/output/dense|intermediate/dense)/MatMul",
}


def session(path: Path, optimized: bool = True) -> ort.InferenceSession:
    """A one-thread ONNX Runtime session over `path`, with or without its graph optimizations."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    if not optimized:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def tract_runner(path: Path):
    """A function running token ids ([1, n]) through the graph at `path` in tract."""
    model = tract.onnx().load(str(path))
    for i in range(3):
        model.set_input_fact(i, "1,S,i64")  # a symbolic batch stops tract at the classifier's Flatten
    plan = model.into_model().into_runnable()
    return lambda ids: plan.run(list(model_inputs(ids).values()))[0].to_numpy()


def graphs(cache: Path, calibration: list[np.ndarray]) -> dict[str, Path]:
    """Every graph measured, by name, written into `cache`; "fp32" is the reference."""
    folded = cache / "model-folded-fp32.onnx"
    fold_weights(MODEL / "model.onnx", folded)
    dynamic = cache / "model-dynamic-int8.onnx"
    quantize_dynamic(str(folded), str(dynamic), weight_type=QuantType.QInt8)
    model = onnx.load(str(dynamic))
    del model.graph.value_info[:]  # symbolic-shape leftovers stop tract
    onnx.save(model, str(dynamic))
    out = {"fp32": folded, "shipped (int8 weights, fp32 arithmetic)": MODEL / "model.onnx", "dynamic int8": dynamic}
    for number, (name, layers) in enumerate(STATIC.items()):
        out[name] = cache / f"model-static-int8-{number}.onnx"
        quantize_activations(folded, out[name], calibration, layers)
    return out


@dataclass
class Inputs:
    """Token ids ([1, n] each) of what is measured, and the validation rows they come from."""

    calibration: list[np.ndarray]  # 16 training texts per source
    validation: pd.DataFrame  # up to 800 rows with a known label per category
    validation_ids: list[np.ndarray]
    posts: list[np.ndarray]  # 64 validation posts of 260-300 characters, for timing
    parity: list[np.ndarray]  # the parity fixture's texts


def inputs(args) -> Inputs:
    """The texts measured, from the table and the parity fixture."""
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tokenizer.enable_truncation(128)

    def ids(text: str) -> np.ndarray:
        return np.array([tokenizer.encode(text).ids], dtype=np.int64)

    table = data.cached_table(args.data, args.datasets, args.seed, args.cache)
    train, validation = table[table.split == "train"], table[table.split == "val"]
    rows = set()
    for category in CATEGORIES:
        known = validation[validation[category].notna()]
        rows |= set(known.sample(min(len(known), 800), random_state=0).index)
    sample = validation.loc[sorted(rows)]
    return Inputs(
        calibration=[ids(t) for t in calibration_texts(train)],
        validation=sample,
        validation_ids=[ids(t) for t in sample.text],
        posts=[ids(t) for t in validation.text if 260 <= len(t) <= 300][:64],
        parity=[ids(case["text"]) for case in json.loads((ROOT / "crates/safespace/tests/fixtures/parity.json").read_text())],
    )


def measure(path: Path, texts: Inputs) -> tuple[float, float, float, np.ndarray]:
    """p50 ms, the ONNX Runtime vs tract gap, the fused vs as-written gap, and the validation scores."""
    fast, plain, run_tract = session(path), session(path, optimized=False), tract_runner(path)
    latencies = []
    for x in texts.posts:
        start = time.perf_counter()
        fast.run(None, model_inputs(x))
        latencies.append((time.perf_counter() - start) * 1e3)
    parity = [(x, fast.run(None, model_inputs(x))[0]) for x in texts.parity]
    runtime_gap = max(np.abs(p - run_tract(x)).max() for x, p in parity)
    fused_gap = max(np.abs(p - plain.run(None, model_inputs(x))[0]).max() for x, p in parity)
    scores = np.concatenate([fast.run(None, model_inputs(x))[0] for x in texts.validation_ids])
    return float(np.median(latencies)), runtime_gap, fused_gap, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    data.add_table_arguments(parser, ROOT)
    args = parser.parse_args()
    texts = inputs(args)
    print(f"{len(texts.calibration)} calibration texts, {len(texts.validation)} validation texts, "
          f"{len(texts.posts)} posts timed, {len(texts.parity)} parity texts\n")
    print("| graph | p50 ms | ORT vs tract, max | ORT fused vs as written, max | vs fp32 mean / max | ROC-AUC change " + " / ".join(CATEGORIES) + " |")
    print("|---|---|---|---|---|---|")
    measured = graphs(args.cache, texts.calibration)
    fp32 = measure(measured.pop("fp32"), texts)
    reference = fp32[3]
    rows = chain([("fp32", fp32)], ((name, measure(path, texts)) for name, path in measured.items()))
    for name, (p50, runtime_gap, fused_gap, scores) in rows:
        auc_change = []
        for k, category in enumerate(CATEGORIES):
            known = texts.validation[category].notna().to_numpy()
            labels = texts.validation[category].to_numpy()[known]
            auc_change.append(roc_auc_score(labels, scores[known, k]) - roc_auc_score(labels, reference[known, k]))
        gap = np.abs(scores - reference)
        print(
            f"| {name} | {p50:.1f} | {runtime_gap:.1e} | {fused_gap:.1e} | {gap.mean():.4f} / {gap.max():.3f} | "
            + " / ".join(f"{d:+.4f}" for d in auc_change) + " |",
            flush=True,
        )


if __name__ == "__main__":
    main()
