"""How far apart ONNX Runtime and tract score the same texts, for the int8 model and its fp32 source.

Feeds the parity fixture's texts (crates/safespace/tests/fixtures/parity.json), tokenized once, to both
runtimes through their Python packages and prints the largest difference in raw probabilities, plus
each int8 run's distance from fp32. Then, for the text the runtimes disagree on most, it counts per
quantized activation tensor how many int8 values differ between them, which shows the difference
growing layer by layer. Explains why the browser (tract) and native (ONNX Runtime) builds can differ
by a few hundredths on single texts (MODEL_CARD.md, "Runtimes").

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
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models/safespace-minilm-int8"
FP32 = ROOT / "models/training/.cache/model-fp32.onnx"


def runners(path: Path, all_outputs: bool = False):
    """Functions running token ids through the graph at `path` in each runtime: the probabilities, or
    with `all_outputs` the list of every graph output."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model = tract.onnx().load(str(path))
    for i in range(3):
        model.set_input_fact(i, "1,S,i64")  # a symbolic batch stops tract at the classifier's Flatten
    plan = model.into_model().into_runnable()
    pick = (lambda outputs: outputs) if all_outputs else (lambda outputs: outputs[0])

    def onnxruntime(ids):
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        return pick(session.run(None, feed))

    def tract_run(ids):
        return pick([o.to_numpy() for o in plan.run([ids, np.ones_like(ids), np.zeros_like(ids)])])

    return onnxruntime, tract_run


def main() -> None:
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tokenizer.no_truncation()
    texts = [case["text"] for case in json.loads((ROOT / "crates/safespace/tests/fixtures/parity.json").read_text())]
    inputs = [np.array([tokenizer.encode(t).ids], dtype=np.int64) for t in texts]
    outputs = {}
    for name, path in (("int8", MODEL / "model.onnx"), ("fp32", FP32)):
        for runtime, run in zip(("onnxruntime", "tract"), runners(path)):
            outputs[name, runtime] = [run(ids) for ids in inputs]

    def gap(a, b):
        per_text = [float(np.abs(x - y).max()) for x, y in zip(outputs[a], outputs[b])]
        return f"max {max(per_text):.2e}, mean {np.mean(per_text):.2e}"

    print(f"{len(texts)} texts, largest probability difference per text:")
    print(f"  int8: onnxruntime vs tract  {gap(('int8', 'onnxruntime'), ('int8', 'tract'))}")
    print(f"  fp32: onnxruntime vs tract  {gap(('fp32', 'onnxruntime'), ('fp32', 'tract'))}")
    print(f"  int8 vs fp32 (onnxruntime)  {gap(('int8', 'onnxruntime'), ('fp32', 'onnxruntime'))}")
    print(f"  int8 vs fp32 (tract)        {gap(('int8', 'tract'), ('fp32', 'tract'))}")
    worst = max(range(len(texts)), key=lambda i: float(np.abs(outputs["int8", "onnxruntime"][i] - outputs["int8", "tract"][i]).max()))
    print(f"int8 activations that differ, per quantized tensor, on {texts[worst]!r}:")
    for name, differing, size in quantized_differences(inputs[worst]):
        print(f"  {differing:>5} / {size:<5} {name}")


def quantized_differences(ids: np.ndarray):
    """(tensor, differing values, size) for every DynamicQuantizeLinear output, ONNX Runtime vs tract."""
    model = onnx.load(str(MODEL / "model.onnx"))
    names = [n.output[0] for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"]
    for name in names:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.UINT8, None))
    path = Path(__file__).resolve().parent / ".cache/model-int8-activations.onnx"
    path.parent.mkdir(exist_ok=True)
    onnx.save(model, str(path))
    run_onnxruntime, run_tract = runners(path, all_outputs=True)
    for name, a, b in zip(names, run_onnxruntime(ids)[1:], run_tract(ids)[1:]):
        yield name, int((a != b).sum()), a.size


if __name__ == "__main__":
    main()
