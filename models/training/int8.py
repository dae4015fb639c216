"""The int8 graph: the shipped model with int8 arithmetic, for ONNX Runtime on CPUs with fast integer
products (AVX-512 VNNI, AVX-VNNI, ARM dot-product instructions).

`model.onnx` stores int8 weights but computes in fp32, so every runtime (ONNX Runtime, tract native and
in the browser) scores a text alike. `model-int8.onnx` quantizes the activations too, with fixed scales
(the min/max seen over 16 training texts per source) and one weight scale per output column, for every
weight product except the feed-forward down projection: its input (the GELU output, with outliers about
15 times the typical channel's peak) carries almost all of the accuracy lost when it is quantized too
(benches/README.md, "Int8 arithmetic"). About 1.7 times as fast in ONNX Runtime on a VNNI CPU; its
probabilities differ from the fp32 graph's by about 0.01 on average, so it gets its own temperatures,
fitted on the pooled validation split as train.py fits the main graph's. It runs only where it was
asked for (`ModelArithmetic::Int8`, CLI `--model-arithmetic int8`).

    .venv/bin/python models/training/int8.py --data ../shared/data --model models/safespace-minilm-int8

writes `model-int8.onnx` into the model folder and its section (`int8`: file, temperatures, validation
ROC-AUC of both graphs) and sha256 into `manifest.json`. train.py runs the same step last.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

import data as datasets_module
from data import CATEGORIES
from quantize import fold_weights, quantize_activations

FILE = "model-int8.onnx"
# The weight products computed in int8: all but the feed-forward down projection (node names).
INT8_PRODUCTS = r"/(query|key|value|attention/output/dense|intermediate/dense)/MatMul"
CALIBRATION_TEXTS_PER_SOURCE = 16


def calibration_texts(train_rows) -> list[str]:
    """16 training texts per source (a fixed sample): what the activation scales are fitted on."""
    return [t for _, rows in train_rows.groupby("source") for t in rows.text.sample(min(len(rows), CALIBRATION_TEXTS_PER_SOURCE), random_state=0)]


def calibration_ids(train_rows, tokenizer, max_length: int) -> list[np.ndarray]:
    """Token ids ([1, n]) of `calibration_texts`, from a Hugging Face tokenizer."""
    return [tokenizer(t, truncation=True, max_length=max_length, return_tensors="np")["input_ids"].astype(np.int64) for t in calibration_texts(train_rows)]


def add_int8_graph(model_dir: Path, table, tokenizer, cache: Path) -> dict:
    """Writes `model_dir/model-int8.onnx` from `model_dir/model.onnx`, fits its temperatures on the
    table's validation split, adds both to `model_dir/manifest.json` and returns the manifest section.
    `model.onnx`'s validation ROC-AUC, beside the int8 graph's, is read from `metrics.json` (train.py
    measured it on the same rows)."""
    import train

    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    folded = cache / "model-folded-fp32.onnx"
    fold_weights(model_dir / "model.onnx", folded)
    graph = model_dir / FILE
    quantize_activations(folded, graph, calibration_ids(table[table.split == "train"], tokenizer, manifest["max_length"]), INT8_PRODUCTS)

    y, known = datasets_module.labels(table)
    val = np.flatnonzero((table.split == "val").to_numpy() & known.any(1))
    texts = list(table.text.iloc[val])
    p_int8 = train.onnx_probabilities(graph, tokenizer, texts)
    main_roc_auc = json.loads((model_dir / "metrics.json").read_text())["quantization"]
    temperatures, roc_auc = {}, {}
    for c, name in enumerate(CATEGORIES):
        rows = known[val, c] > 0
        yv = y[val][rows, c]
        p = np.clip(p_int8[rows, c], 1e-7, 1 - 1e-7)
        temperatures[name] = round(train.fit_temperature(np.log(p / (1 - p)), yv), 4)
        roc_auc[name] = {"model.onnx": main_roc_auc[name]["int8_roc_auc"], FILE: round(float(roc_auc_score(yv, p_int8[rows, c])), 4)}
    section = {
        "file": FILE,
        "int8_products": INT8_PRODUCTS,
        "calibration_texts_per_source": CALIBRATION_TEXTS_PER_SOURCE,
        "temperatures": temperatures,
        "validation_roc_auc": roc_auc,
    }
    manifest["int8"] = section
    manifest["sha256"][FILE] = hashlib.sha256(graph.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    datasets_module.add_table_arguments(parser, Path(__file__).resolve().parents[2])
    parser.add_argument("--model", type=Path, default=Path("models/safespace-minilm-int8"))
    args = parser.parse_args()
    from transformers import AutoTokenizer

    import encoder

    manifest = json.loads((args.model / "manifest.json").read_text())
    table = datasets_module.read_offensive(
        datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache), manifest["training"]["offensive"]
    )
    section = add_int8_graph(args.model, table, AutoTokenizer.from_pretrained(encoder.base_model_dir()), args.cache)
    print(json.dumps(section, indent=1))


if __name__ == "__main__":
    main()
