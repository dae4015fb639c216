"""Writes the parity fixtures the Rust tests compare against: calibrated probabilities from Python's
onnxruntime for 50 team-written texts, each scored alone (batch of one, no padding), as `Detector::score`
runs a text that fits one window; `parity.json` from `model.onnx`, and `parity-int8.json` beside it
from the int8 graph with its own temperatures when the manifest has one (int8.py).

    python models/training/parity.py --model models/safespace-minilm-int8 --out crates/safespace/tests/fixtures/parity.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import encoder
import train
from data import CATEGORIES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/safespace-minilm-int8"))
    parser.add_argument("--suite", type=Path, default=Path("datasets/functional/suite.jsonl"))
    parser.add_argument("--out", type=Path, default=Path("crates/safespace/tests/fixtures/parity.json"))
    args = parser.parse_args()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(encoder.base_model_dir())
    manifest = json.loads((args.model / "manifest.json").read_text())
    cases = [json.loads(line) for line in args.suite.open()]
    texts = [c["text"] for c in cases[:: max(1, len(cases) // 50)]][:50]
    graphs = {args.out: ("model.onnx", manifest["calibration"]["temperatures"])}
    if "int8" in manifest:
        graphs[args.out.with_name("parity-int8.json")] = (manifest["int8"]["file"], manifest["int8"]["temperatures"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for out, (graph, temperatures) in graphs.items():
        temperatures = np.array([temperatures[c] for c in CATEGORIES])
        rows = []
        for text in texts:
            probabilities = train.onnx_probabilities(args.model / graph, tokenizer, [text], batch=1)
            calibrated = train.calibrated(probabilities, temperatures)[0]
            rows.append({"text": text, **{c: round(float(p), 6) for c, p in zip(CATEGORIES, calibrated)}})
        out.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {len(rows)} texts scored by {graph} to {out}")


if __name__ == "__main__":
    main()
