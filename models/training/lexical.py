"""The lexical tier: one logistic-regression head per category over safespace's own hashed n-gram
features, trained on the same table as the model (data.py), pruned, calibrated and quantized into the
table the crate embeds (`models/safespace-lexical/`).

    make python-env && .venv/bin/pip install --no-deps --force-reinstall target/wheels/safespace-*.whl
    .venv/bin/python models/training/lexical.py train --data ../shared/data
    .venv/bin/python models/training/lexical.py loso --data ../shared/data   # leave-one-source-out

Features come from `safespace.lexical_features` (the Rust extractor the crate scores with), so training
and inference cannot disagree. Per category, on the rows whose label the source annotates (train split):

1. fit L2 logistic regression (liblinear, C=4, classes balanced) on all 2^18 features;
2. keep the `--features` buckets with the largest |weight| and fit again on those alone;
3. calibrate on the pooled validation split (Platt scaling: `p = sigmoid(a · z + b)`, fitted by
   log-loss on the decision values `z`);
4. quantize the weights to int8 (one scale per category) and fold the calibration into the scale and
   the bias, so the crate computes `p = sigmoid(bias + unit · Σ q_i x_i)`.

`train` writes `weights.bin` (format below) and `manifest.json` (pooled validation ROC-AUC before and
after pruning and quantization, the recipe, the sources) to --out. `loso` trains steps 1–3 without each
source and tests on all of it (data.held_out_test), with alt-profanity-check beside it for harassment;
it writes the table and one tier per held-out source under --cache/lexical-loso/ (for
benches/compare/loso.py, which runs the fast engine with each of them beside the peers).
`--offensive positive` trains on Davidson's and HateXplain's "offensive" rows as harassment (tests
leave them out either way; `loso` then writes under --cache/lexical-loso-positive/).

`weights.bin`, little-endian: `b"SSLX"`, version `u8` (1), categories `u8` (3), feature count `u32`
(2^18); then per category (self_harm, harassment, misinformation): `bias f32`, `unit f32`, count `u32`,
`count` LEB128 deltas of the ascending bucket indices (the first from 0), `count` int8 weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

import data as datasets_module
from data import CATEGORIES

try:
    import safespace
except ImportError:
    sys.exit("lexical.py needs the safespace wheel in this environment: "
             "make python-env && .venv/bin/pip install --no-deps --force-reinstall target/wheels/safespace-*.whl")

MAGIC, VERSION = b"SSLX", 1
N_FEATURES = safespace.lexical_features([""]).shape[1]  # 2^18
C = 4.0


@dataclass
class Head:
    """One category's pruned head: ascending bucket indices, their weights and the intercept, in the
    units of the decision value `z`."""

    buckets: np.ndarray
    weights: np.ndarray
    intercept: float

    def decision(self, features) -> np.ndarray:
        return features[:, self.buckets] @ self.weights + self.intercept


def fit(features, labels: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=300, random_state=0).fit(features, labels)


def fit_head(features, labels: np.ndarray, keep: int) -> Head:
    """Steps 1 and 2: fit on every feature, keep the `keep` strongest, fit again on those."""
    full = fit(features, labels).coef_[0]
    buckets = np.sort(np.argsort(-np.abs(full), kind="stable")[:keep])
    pruned = fit(features[:, buckets], labels)
    return Head(buckets, pruned.coef_[0], float(pruned.intercept_[0]))


def platt(z: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """`(a, b)` of `p = sigmoid(a · z + b)`, fitted by log-loss on held-out decision values."""
    model = LogisticRegression(C=1e6, solver="lbfgs").fit(z[:, None], labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def leb128(values: np.ndarray) -> bytes:
    out = bytearray()
    for value in values.tolist():
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                break
    return bytes(out)


def quantized(head: Head, a: float, b: float, levels: int) -> tuple[float, float, np.ndarray]:
    """`(bias, unit, q)`: integer weights `q` in `[-levels, levels]` (stored as int8) and the calibrated
    `p = sigmoid(bias + unit · q · x)`."""
    scale = float(np.abs(head.weights).max()) / levels
    q = np.clip(np.round(head.weights / scale), -levels, levels).astype(np.int8)
    return a * head.intercept + b, a * scale, q


def encode(categories: list[tuple[Head, float, float]], levels: int) -> bytes:
    """weights.bin (format in the module doc) from each category's head and calibration."""
    out = bytearray(MAGIC + struct.pack("<BBI", VERSION, len(categories), N_FEATURES))
    for head, a, b in categories:
        bias, unit, q = quantized(head, a, b, levels)
        deltas = np.diff(head.buckets, prepend=0)
        out += struct.pack("<ffI", bias, unit, len(q)) + leb128(deltas) + q.tobytes()
    return bytes(out)


def probabilities(head: Head, a: float, b: float, features, levels: int) -> np.ndarray:
    """What the crate computes from the quantized table."""
    bias, unit, q = quantized(head, a, b, levels)
    return 1 / (1 + np.exp(-(bias + unit * (features[:, head.buckets] @ q.astype(np.float64)))))


def load(args):
    """The table (the "offensive" rows read as --offensive says), labels, known mask and features of
    every row."""
    table = datasets_module.read_offensive(datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache), args.offensive)
    y, known = datasets_module.labels(table)
    started = time.time()
    features = safespace.lexical_features(list(table["text"])).tocsc()
    print(f"features of {len(table)} texts in {time.time() - started:.0f}s", flush=True)
    return table, y, known, features


def fit_category(features, y, known, split, c: int, keep: int, without: str | None = None, sources=None):
    """Category c's head trained on the train split (without the rows of source `without`) and its
    Platt calibration on the validation split (likewise without them), with the validation rows."""
    mask = known[:, c] > 0
    if without is not None:
        mask &= sources != without
    train_rows = np.flatnonzero((split == "train") & mask)
    val_rows = np.flatnonzero((split == "val") & mask)
    head = fit_head(features[train_rows], y[train_rows, c], keep)
    a, b = platt(head.decision(features[val_rows]), y[val_rows, c])
    return head, a, b, train_rows, val_rows


def write_tier(out: Path, categories: list, levels: int, about: dict) -> bytes:
    """weights.bin and manifest.json (`about` plus the weights' sha256) in the folder `out`."""
    weights = encode(categories, levels)
    out.mkdir(parents=True, exist_ok=True)
    (out / "weights.bin").write_bytes(weights)
    manifest = {**about, "weights_sha256": hashlib.sha256(weights).hexdigest()}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return weights


def train(args) -> None:
    table, y, known, features = load(args)
    split = table["split"].to_numpy()
    categories, metrics = [], {}
    for c, name in enumerate(CATEGORIES):
        started = time.time()
        head, a, b, train_rows, val_rows = fit_category(features, y, known, split, c, args.features)
        categories.append((head, a, b))
        val = features[val_rows]
        shipped = probabilities(head, a, b, val, args.levels)
        metrics[name] = {
            "train": int(len(train_rows)), "validation": int(len(val_rows)), "validation_positives": int(y[val_rows, c].sum()),
            "roc_auc_pruned": round(float(roc_auc_score(y[val_rows, c], head.decision(val))), 4),
            "roc_auc_shipped": round(float(roc_auc_score(y[val_rows, c], shipped)), 4),
            "mean_probability_negatives": round(float(shipped[y[val_rows, c] == 0].mean()), 4),
            "mean_probability_positives": round(float(shipped[y[val_rows, c] == 1].mean()), 4),
        }
        print(f"{name}: {metrics[name]} ({time.time() - started:.0f}s)", flush=True)
    weights = write_tier(args.out, categories, args.levels, {
        "name": "safespace-lexical",
        "version": args.version,
        "features": {"buckets": N_FEATURES, "kept_per_category": args.features, "weight_levels": 2 * args.levels + 1},
        "recipe": f"liblinear logistic regression, C={C}, classes balanced; top {args.features} |weights| refitted; "
                  f"Platt-calibrated on the pooled validation split; weights on {2 * args.levels + 1} levels (int8)"
                  + ("; Davidson's and HateXplain's 'offensive' rows as harassment" if args.offensive == "positive" else ""),
        "sources": {name: spec.license for name, spec in datasets_module.SOURCES.items()},
        "validation": metrics,
    })
    print(f"wrote {args.out / 'weights.bin'} ({len(weights)} bytes)")


def loso(args) -> None:
    """For each source, the category's head trained and calibrated without it, tested on all of it
    (decision values: ROC-AUC does not depend on calibration), and written as a whole tier (the other
    categories' heads trained on everything) to --cache/lexical-loso/tiers/<source>/ for
    benches/compare/loso.py, with the table in --cache/lexical-loso/loso.json (lexical-loso-positive/
    under `--offensive positive`)."""
    out = args.cache / ("lexical-loso" if args.offensive == "excluded" else f"lexical-loso-{args.offensive}")
    table, y, known, features = load(args)
    sources = table["source"].to_numpy()
    split = table["split"].to_numpy()
    full = [fit_category(features, y, known, split, c, args.features)[:3] for c in range(3)]
    results = {}
    for category in args.categories:
        c = CATEGORIES.index(category)
        for source in [s for s, spec in datasets_module.SOURCES.items() if spec.category == category]:
            rows, texts, labels = datasets_module.held_out_test(args.data, table, source, category)
            head, a, b, *_ = fit_category(features, y, known, split, c, args.features, without=source, sources=sources)
            test = features[rows] if rows is not None else safespace.lexical_features(texts)
            entry = {"lexical": block(head.decision(test), labels)}
            if category == "harassment":
                from profanity_check import predict_prob

                entry["alt-profanity-check"] = block(predict_prob(texts), labels)
            results[f"{category}/{source}"] = entry
            tier = [full[k] if k != c else (head, a, b) for k in range(3)]
            write_tier(out / "tiers" / source, tier, args.levels, {"name": f"loso-without-{source}", "version": "1"})
            print(f"{category}/{source}: {entry}", flush=True)
    (out / "loso.json").write_text(json.dumps(results, indent=2) + "\n")


def block(z: np.ndarray, labels: np.ndarray) -> dict:
    """ROC-AUC of decision values `z` where the test has both classes; where it has positives only,
    the share with `z >= 0` (probability 0.5 before calibration), as evaluate.py reports the model."""
    labels = np.asarray(labels, dtype=float)
    out = {"n": int(len(labels)), "positives": int(labels.sum())}
    if len(np.unique(labels)) == 2:
        out["roc_auc"] = round(float(roc_auc_score(labels, z)), 4)
    else:
        out["recall_at_0.5"] = round(float((np.asarray(z) >= 0).mean()), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["train", "loso"])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--cache", type=Path, default=Path("models/training/.cache"))
    parser.add_argument("--out", type=Path, default=Path("models/safespace-lexical"))
    parser.add_argument("--features", type=int, default=6144, help="buckets kept per category")
    parser.add_argument("--levels", type=int, default=31, help="weights are integers in [-levels, levels] (at most 127)")
    parser.add_argument("--categories", nargs="+", choices=CATEGORIES, default=list(CATEGORIES), help="loso: the categories to run")
    parser.add_argument("--version", default="0.1.2")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--offensive", choices=datasets_module.OFFENSIVE_READINGS, default="excluded",
                        help="reading of Davidson's and HateXplain's 'offensive' class")
    args = parser.parse_args()
    {"train": train, "loso": loso}[args.what](args)


if __name__ == "__main__":
    main()
