"""How far apart ONNX Runtime and tract score the same texts: the shipped model, its fp32 source, and
the same graph with activations quantized on the fly (`quantize_dynamic`, what an earlier release
shipped).

Feeds the parity fixture's texts (crates/safespace/tests/fixtures/parity.json), tokenized once, to both
runtimes through their Python packages and prints, per graph, the largest difference in raw
probabilities between the runtimes and each graph's distance from fp32. It shows why the shipped model
keeps its activations in fp32: with dynamic activation quantization a last-bit float difference
between kernels moves values across int8 steps, and the browser (tract) and native (ONNX Runtime)
builds would score a text a few hundredths apart (MODEL_CARD.md, "Runtimes").

    .venv/bin/pip install tract==0.23.9
    .venv/bin/python models/training/runtimes.py   # needs models/training/.cache/model-fp32.onnx (train.py)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import tract
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models/safespace-minilm-int8"
CACHE = ROOT / "models/training/.cache"


def runners(path: Path):
    """Functions running token ids through the graph at `path` in each runtime, giving probabilities."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model = tract.onnx().load(str(path))
    for i in range(3):
        model.set_input_fact(i, "1,S,i64")  # a symbolic batch stops tract at the classifier's Flatten
    plan = model.into_model().into_runnable()

    def onnxruntime(ids):
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        return session.run(None, feed)[0]

    def tract_run(ids):
        return plan.run([ids, np.ones_like(ids), np.zeros_like(ids)])[0].to_numpy()

    return onnxruntime, tract_run


def dynamic_int8() -> Path:
    """The fp32 graph with int8 weights and activations quantized at run time."""
    path = CACHE / "model-dynamic-int8.onnx"
    quantize_dynamic(str(CACHE / "model-fp32.onnx"), str(path), weight_type=QuantType.QInt8)
    model = onnx.load(str(path))
    del model.graph.value_info[:]  # symbolic-shape leftovers stop tract
    onnx.save(model, str(path))
    return path


def main() -> None:
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tokenizer.no_truncation()
    texts = [case["text"] for case in json.loads((ROOT / "crates/safespace/tests/fixtures/parity.json").read_text())]
    inputs = [np.array([tokenizer.encode(t).ids], dtype=np.int64) for t in texts]
    graphs = {"shipped": MODEL / "model.onnx", "fp32": CACHE / "model-fp32.onnx", "dynamic int8": dynamic_int8()}
    outputs = {}
    for name, path in graphs.items():
        for runtime, run in zip(("onnxruntime", "tract"), runners(path)):
            outputs[name, runtime] = [run(ids) for ids in inputs]

    def gap(a, b):
        per_text = [float(np.abs(x - y).max()) for x, y in zip(outputs[a], outputs[b])]
        return f"max {max(per_text):.2e}, mean {np.mean(per_text):.2e}"

    print(f"{len(texts)} texts, largest probability difference per text:")
    for name in graphs:
        print(f"  {name:>12}: onnxruntime vs tract {gap((name, 'onnxruntime'), (name, 'tract'))}")
    for name in ("shipped", "dynamic int8"):
        print(f"  {name:>12}: vs fp32 (onnxruntime) {gap((name, 'onnxruntime'), ('fp32', 'onnxruntime'))}")


if __name__ == "__main__":
    main()
