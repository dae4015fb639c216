"""The cheap training configuration that leave-one-source-out uses for every row and every reference:
the lower five layers of all-MiniLM-L6-v2 run once over every text and their token states are cached
(64 tokens, float16, on disk); the sixth layer, mean pooling and the head are trained on those states
for one pass over the draws they are given. Twenty full fine-tunings do not fit on two cores; this
does (minutes per held-out source).
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch

from encoder import Head, attention_bias, mean_pool, seed_everything

TOKENS = 64
CHECKPOINT_BATCHES = 50  # batches of 128 texts between checkpoints of the state cache
BATCH = 32


def frozen_layers(bert) -> int:
    """All layers but the last are frozen; the last one is trained."""
    return len(bert.encoder.layer) - 1


def frozen_states(bert, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
    """Token states after the frozen lower layers (no gradient)."""
    with torch.no_grad():
        hidden = bert.embeddings(input_ids=ids, token_type_ids=types)
        bias = attention_bias(mask)
        for layer in bert.encoder.layer[: frozen_layers(bert)]:
            out = layer(hidden, attention_mask=bias)
            hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def text_ids(texts: list[str]) -> list[str]:
    """A short hash per text, to find its row in an earlier cache."""
    return [hashlib.sha256(t.encode()).hexdigest()[:20] for t in texts]


def cache_states(texts: list[str], tokenizer, bert, cache: Path):
    """Token states of `texts` after the frozen layers, [n, TOKENS, 384] float16 (memory-mapped), and
    their attention masks. Computed once per distinct list of texts; rows of texts that an earlier
    cache in `cache` already holds are copied from it, so a table that gained a few rows costs only
    those rows. An interrupted computation (about an hour of two cores for all sources) resumes where
    its last checkpoint left it."""
    ids = text_ids(texts)
    key = hashlib.sha256(f"{frozen_layers(bert)}\n{TOKENS}\n".encode() + "\n".join(ids).encode()).hexdigest()[:16]
    states_path, mask_path, ids_path = cache / f"states-{key}.npy", cache / f"mask-{key}.npy", cache / f"ids-{key}.json"
    if states_path.exists() and mask_path.exists():
        return np.load(states_path, mmap_mode="r"), np.load(mask_path)
    enc = tokenizer(texts, truncation=True, max_length=TOKENS, padding="max_length", return_tensors="np")
    partial, order_path, done_path = cache / f"states-{key}.partial.npy", cache / f"order-{key}.npy", cache / f"done-{key}.txt"
    if partial.exists() and order_path.exists() and done_path.exists():
        states, order, done = np.load(partial, mmap_mode="r+"), np.load(order_path), int(done_path.read_text())
        print(f"  resuming the state cache at {done}/{len(order)} texts", flush=True)
    else:
        states = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float16, shape=(len(texts), TOKENS, bert.config.hidden_size))
        missing = _copy_earlier(ids, states, cache)
        order, done = missing[np.argsort(enc["attention_mask"][missing].sum(1), kind="stable")], 0
        np.save(order_path, order)
    started = time.time()
    for begin in range(done, len(order), 128):
        idx = np.sort(order[begin : begin + 128])
        length = int(enc["attention_mask"][idx].sum(1).max())
        tensors = [torch.tensor(enc[k][idx, :length]) for k in ("input_ids", "attention_mask", "token_type_ids")]
        states[idx, :length] = frozen_states(bert, *tensors).numpy().astype(np.float16)
        if (begin // 128) % CHECKPOINT_BATCHES == CHECKPOINT_BATCHES - 1:  # rows up to here are on disk
            states.flush()
            done_path.write_text(str(begin + 128))
        if begin % 12800 == 0:
            print(f"  cached {begin}/{len(order)} texts in {time.time() - started:.0f}s", flush=True)
    states.flush()
    del states
    partial.rename(states_path)
    np.save(mask_path, enc["attention_mask"])
    ids_path.write_text(json.dumps(ids))
    order_path.unlink()
    done_path.unlink(missing_ok=True)
    return np.load(states_path, mmap_mode="r"), enc["attention_mask"]


def _copy_earlier(ids: list[str], states, cache: Path) -> np.ndarray:
    """Copies into `states` the rows that earlier caches hold, the largest first; returns the rows
    still missing."""
    missing = np.arange(len(ids))
    for earlier in sorted(cache.glob("ids-*.json"), key=lambda p: p.stat().st_size, reverse=True):
        earlier_states = earlier.with_name(earlier.name.replace("ids-", "states-")).with_suffix(".npy")
        if not len(missing) or not earlier_states.exists():
            continue
        row_of = {text_id: row for row, text_id in enumerate(json.loads(earlier.read_text()))}
        old = np.load(earlier_states, mmap_mode="r")
        found = np.array([row_of.get(ids[i], -1) for i in missing], dtype=np.int64)
        have, source_rows = missing[found >= 0], found[found >= 0]
        for begin in range(0, len(have), 4096):
            states[have[begin : begin + 4096]] = old[source_rows[begin : begin + 4096]]
        if len(have):
            print(f"  {len(have)} of {len(ids)} texts' states copied from {earlier.name}", flush=True)
        missing = missing[found < 0]
    return missing


class StackedStates:
    """Two caches of token states (`cache_states`) read as one, the rows of `second` after those of
    `first`, as `train_top` and `predict_top` read states: `[row indices, token slice]`."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    def __len__(self) -> int:
        return len(self.first) + len(self.second)

    def __getitem__(self, key):
        rows, tokens = key
        rows = np.asarray(rows)
        in_first = rows < len(self.first)
        stacked = np.concatenate([np.asarray(self.first[rows[in_first], tokens]), np.asarray(self.second[rows[~in_first] - len(self.first), tokens])])
        out = np.empty_like(stacked)
        out[np.r_[np.flatnonzero(in_first), np.flatnonzero(~in_first)]] = stacked
        return out


class TopModel(torch.nn.Module):
    """The trained part: the last transformer layer, pooling and the head, over cached states."""

    def __init__(self, layer: torch.nn.Module):
        super().__init__()
        self.layer = layer
        self.head = Head()

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self.layer(states, attention_mask=attention_bias(mask, states.dtype))
        out = out[0] if isinstance(out, tuple) else out
        return self.head(mean_pool(out, mask))


class FullModel(torch.nn.Module):
    """A cheap-configuration model as one network over token ids, as the shipped graph is: the frozen
    lower layers, then the trained top, then a sigmoid."""

    def __init__(self, bert, top: TopModel):
        super().__init__()
        self.bert, self.top = bert, top

    def forward(self, input_ids, attention_mask, token_type_ids):
        return torch.sigmoid(self.top(frozen_states(self.bert, input_ids, attention_mask, token_type_ids), attention_mask))


def export_onnx(bert, top: TopModel, path: Path) -> None:
    """Writes `top` over `bert`'s frozen layers as one fp32 ONNX graph with the shipped graph's inputs
    and output (opset 17, dynamic batch and sequence axes), which quantize.py can then quantize."""
    inputs = ("input_ids", "attention_mask", "token_type_ids")
    sample = (torch.ones((1, 8), dtype=torch.int64), torch.ones((1, 8), dtype=torch.int64), torch.zeros((1, 8), dtype=torch.int64))
    torch.onnx.export(
        FullModel(bert, top).eval(), sample, str(path), input_names=list(inputs), output_names=["probabilities"],
        dynamic_axes={name: {0: "batch", 1: "sequence"} for name in inputs} | {"probabilities": {0: "batch"}},
        opset_version=17, dynamo=False,
    )


def _batch(states, masks, idx):
    length = max(1, int(masks[idx].sum(1).max()))
    return torch.tensor(np.asarray(states[idx, :length], dtype=np.float32)), torch.tensor(masks[idx, :length])


def train_top(bert, states, masks, y, known, draws, seed, row_weight=None, pos_weight=None, per_category=False, log=print) -> TopModel:
    """One pass over `draws` (row indices, in order, repeats allowed) in batches of 32, masked binary
    cross-entropy (a row teaches only the categories it knows), optionally weighted per row and per
    positive class. The loss of a batch is the mean over its known labels, or with `per_category`
    the mean over categories of each category's mean (so labels of one category do not dilute
    another's)."""
    seed_everything(seed)
    model = TopModel(copy.deepcopy(bert.encoder.layer[frozen_layers(bert)]))
    optimizer = torch.optim.AdamW(
        [{"params": model.layer.parameters(), "lr": 3e-5}, {"params": model.head.parameters(), "lr": 1e-3}],
        weight_decay=0.01,
    )
    pos_weight = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float32)
    row_weight = np.ones(len(y), np.float32) if row_weight is None else row_weight
    model.train()
    started, total = time.time(), 0.0
    for begin in range(0, len(draws), BATCH):
        idx = np.sort(draws[begin : begin + BATCH])  # sorted reads from the memory map
        logits = model(*_batch(states, masks, idx))
        loss_each = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(y[idx]), pos_weight=pos_weight, reduction="none")
        weight = torch.tensor(known[idx] * row_weight[idx][:, None])
        if per_category:
            present = (weight.sum(0) > 0).float()
            per_c = (loss_each * weight).sum(0) / weight.sum(0).clamp(min=1.0)
            loss = (per_c * present).sum() / present.sum().clamp(min=1.0)
        else:
            loss = (loss_each * weight).sum() / weight.sum().clamp(min=1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    log(f"  {len(draws)} draws, loss {total / max(1, len(draws) // BATCH):.4f} ({time.time() - started:.0f}s)")
    return model


def predict_top(model, states, masks, indices, batch=256) -> np.ndarray:
    """Logits for cached rows."""
    model.eval()
    out = []
    with torch.no_grad():
        for begin in range(0, len(indices), batch):
            out.append(model(*_batch(states, masks, indices[begin : begin + batch])).numpy())
    return np.concatenate(out) if out else np.zeros((0, 3), np.float32)


def score_texts(model, bert, tokenizer, texts, batch=128) -> np.ndarray:
    """Logits for texts that are not in the cache (the frozen layers run on the fly)."""
    model.eval()
    out = []
    with torch.no_grad():
        for begin in range(0, len(texts), batch):
            enc = tokenizer(texts[begin : begin + batch], truncation=True, max_length=TOKENS, padding=True, return_tensors="pt")
            hidden = frozen_states(bert, enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
            out.append(model(hidden, enc["attention_mask"]).numpy())
    return np.concatenate(out)
