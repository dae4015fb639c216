"""Evaluations of the exported model that go into the model card.

    HF_HUB_OFFLINE=1 python models/training/evaluate.py functional --model models/safespace-minilm-int8
    HF_HUB_OFFLINE=1 python models/training/evaluate.py cross-source --data ../shared/data
    python models/training/evaluate.py detector --data ../shared/data   # after `cargo build --release`

`functional` scores the team's functional suite (datasets/functional/suite.jsonl, never trained on) with
the int8 model through onnxruntime, applies the manifest's calibration and thresholds, and writes per-tag
accuracy to functional.json beside the model.

`detector` scores the public test splits (the 10 % hash split, never trained on, never read when
writing rules) with the built CLI (`target/release/safespace`), rules only and model+rules (the model in
--model), and writes recall and false-positive rate per source at the `peer_support` policy to
detector.json beside the model.

`cross-source` retrains the top layer and head without one source at a time and tests on that source
(cached lower-layer states make this cheap), writing cross_source.json beside the model. It keeps as
many encoder layers as the model was trained with (`training.frozen_layers` in its manifest, plus the
fine-tuned one).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

import data as datasets_module
import train
from data import CATEGORIES


def functional(args) -> None:
    from transformers import AutoTokenizer

    manifest = json.loads((args.model / "manifest.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(train.base_model_dir())
    cases = [json.loads(line) for line in (args.datasets / "functional/suite.jsonl").open()]
    probs = train.onnx_probabilities(args.model / "model.onnx", tokenizer, [c["text"] for c in cases])
    temperatures = np.array([manifest["calibration"]["temperatures"][c] for c in CATEGORIES])
    thresholds = np.array([manifest["thresholds"][c] for c in CATEGORIES])
    flagged = train.calibrated(probs, temperatures) >= thresholds
    per_tag = defaultdict(lambda: [0, 0])
    confusion = {c: [0, 0, 0, 0] for c in CATEGORIES}
    for case, row in zip(cases, flagged):
        expected = np.array([case[c] == 1 for c in CATEGORIES])
        per_tag[case["tag"]][0] += int((expected == row).all())
        per_tag[case["tag"]][1] += 1
        for i, c in enumerate(CATEGORIES):
            confusion[c][{(True, True): 0, (False, True): 1, (True, False): 2, (False, False): 3}[(bool(expected[i]), bool(row[i]))]] += 1
    f1 = {}
    for c, (tp, fp, fn, _) in confusion.items():
        precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
        f1[c] = round(2 * precision * recall / max(1e-9, precision + recall), 4)
    result = {
        "per_tag_accuracy": {t: round(k / n, 3) for t, (k, n) in sorted(per_tag.items())},
        "per_tag_counts": {t: [k, n] for t, (k, n) in sorted(per_tag.items())},
        "f1": f1,
        "macro_f1": round(float(np.mean(list(f1.values()))), 4),
    }
    (args.model / "functional.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=1))


HOLDOUTS = {
    "harassment": ["formspring"],
    "self_harm": ["sdcnl"],
    "misinformation": ["rumor"],
}


def cross_source(args) -> None:
    torch.set_num_threads(args.threads)
    table = datasets_module.load(args.data, args.datasets, args.seed)
    manifest = json.loads((args.model / "manifest.json").read_text())
    tokenizer, bert = train.load_encoder(manifest["training"]["frozen_layers"] + 1)
    states, masks = train.cache_states(table, tokenizer, bert, args.cache)
    y, known, weight = train.labels_and_weights(table)
    sources = table["source"].to_numpy()
    split = table["split"].to_numpy()
    results = {}
    for category, held_out in HOLDOUTS.items():
        c = CATEGORIES.index(category)
        for source in held_out:
            train_idx = np.flatnonzero((split == "train") & (sources != source))
            val_idx = np.flatnonzero((split == "val") & (sources != source))
            test_idx = np.flatnonzero((sources == source) & (known[:, c] > 0))
            if source == "sdcnl":
                extra = datasets_module.sdcnl(args.data, np.random.default_rng(args.seed), negatives=True)
                test_texts, test_y = list(extra["text"]), extra["self_harm"].to_numpy()
            else:
                test_texts, test_y = list(table["text"].iloc[test_idx]), y[test_idx, c]
            print(f"{category}: training without {source}", flush=True)
            model = train.train_top(bert, states, masks, y, known, weight, train_idx, val_idx, args.epochs, args.seed)
            logits = score_texts(model, bert, tokenizer, test_texts)[:, c]
            p = 1 / (1 + np.exp(-logits))
            block = train.metrics_block(p, test_y, 0.5)
            block["note"] = "threshold 0.5 on uncalibrated probabilities"
            results[f"{category}/{source}"] = block
            print(f"  {category} on unseen {source}: {block}", flush=True)
    (args.model / "cross_source.json").write_text(json.dumps(results, indent=2) + "\n")


def detector(args) -> None:
    import subprocess
    import tempfile

    table = datasets_module.load(args.data, args.datasets, args.seed)
    test = table[(table["split"] == "test") & (table["source"] != "team")].reset_index(drop=True)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for text in test["text"]:
            f.write(json.dumps({"text": text}) + "\n")
    results = {}
    for mode, flags in (("rules", ["--rules-only"]), ("model+rules", ["--model", str(args.model), "--require-model"])):
        out = subprocess.run(
            [str(args.cli), "score", "--input", f.name, "--compact", *flags],
            capture_output=True, text=True, check=True,
        ).stdout
        flagged = [set(json.loads(line)["report"].get("flagged", [])) for line in out.splitlines()]
        for (source, category), group in test.groupby(["source", test[list(CATEGORIES)].notna().idxmax(axis=1)]):
            y = group[category].to_numpy()
            pred = np.array([category in flagged[i] for i in group.index])
            entry = results.setdefault(category, {}).setdefault(source, {"n": int(len(y)), "positives": int(y.sum())})
            entry[mode] = {
                "recall": round(float(pred[y == 1].mean()), 3) if (y == 1).any() else None,
                "false_positive_rate": round(float(pred[y == 0].mean()), 3) if (y == 0).any() else None,
            }
    (args.model / "detector.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def score_texts(model, bert, tokenizer, texts, batch=128):
    """Top-model logits for texts that are not in the cache (frozen layers run on the fly)."""
    model.eval()
    out = []
    with torch.no_grad():
        for begin in range(0, len(texts), batch):
            enc = tokenizer(texts[begin : begin + batch], truncation=True, max_length=train.TRAIN_TOKENS, padding=True, return_tensors="pt")
            hidden = train.frozen_states(bert, enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
            out.append(model(hidden, enc["attention_mask"]).numpy())
    return np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["functional", "cross-source", "detector"])
    parser.add_argument("--cli", type=Path, default=Path("target/release/safespace"))
    parser.add_argument("--model", type=Path, default=Path("models/safespace-minilm-int8"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--cache", type=Path, default=Path("models/training/.cache"))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    {"functional": functional, "cross-source": cross_source, "detector": detector}[args.what](args)


if __name__ == "__main__":
    main()
