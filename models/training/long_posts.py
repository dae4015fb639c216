"""Long posts: how the model's windows are combined, measured.

The Rust side cuts a text longer than one window (126 tokens between [CLS] and [SEP]) into
overlapping, sentence-aware windows and takes, per category, the maximum of their calibrated
probabilities. This script scores every window of long posts the model never trained on, as the
Rust side cuts them (`windows` below mirrors `crates/safespace/src/model/window.rs`), and compares
ways of combining them:

- **posts**: ROC-AUC of self-harm on the test split (the 10 % hash split) of the two long-post tests
  of leave-one-source-out, RMHD (r/suicidewatch against the other mental-health subreddits) and
  SDCNL (r/SuicideWatch against r/depression), for every combination, on all posts and on the posts
  of more than one window;
- **needles**: short self-harm positives of the test split (30-200 characters), each put after the
  first sentence end past the middle of a long negative post (RMHD's test split, over 1,200
  characters, self-harm 0), against the same negative posts alone: the share of each at or above
  the `peer_support` threshold (0.45), model alone, and the ROC-AUC between them;
- **engine** (with the model's own windows): a check that `windows` cuts texts as the Rust side
  does (20 posts of over 2,000 characters), then the built CLI's default engine on RMHD's test split, by post length: the share of
  negatives and of r/suicidewatch posts it flags as self-harm.

    HF_HUB_OFFLINE=1 .venv/bin/python models/training/long_posts.py --data ../shared/data [--window-tokens 62]

Writes long-posts.json to --cache. About 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

import data as datasets_module
from data import CATEGORIES

SELF_HARM = CATEGORIES.index("self_harm")
# The `peer_support` preset's self-harm threshold (crates/safespace/src/policy.rs).
THRESHOLD = 0.45
NEEDLES = 150
# As in crates/safespace/src/model/mod.rs: what the tokenizer reads, and the windows kept.
MAX_MODEL_BYTES = 64 * 1024
MAX_WINDOWS = 64


def windows(ids: list[int], size: int, ends: set[int]) -> list[list[int]]:
    """`window::windows`: at most `size` tokens each, overlapping by a quarter, each ending after the
    last sentence end in its second half when there is one."""
    if len(ids) <= size:
        return [ids]
    overlap, out, start = size // 4, [], 0
    while True:
        hard_end = min(start + size, len(ids))
        if hard_end == len(ids):
            return out + [ids[start:]]
        end = next((i + 1 for i in range(hard_end - 1, start + size // 2 - 1, -1) if ids[i] in ends), hard_end)
        out.append(ids[start:end])
        start = max(end - overlap, start + 1)


class WindowScorer:
    """Calibrated probabilities of every window of a text, from the model folder's `model.onnx`."""

    def __init__(self, model: Path, window_tokens: int | None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        manifest = json.loads((model / "manifest.json").read_text())
        self.temperatures = np.array([manifest["calibration"]["temperatures"][c] for c in CATEGORIES])
        self.tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls, self.sep = self.tokenizer.token_to_id("[CLS]"), self.tokenizer.token_to_id("[SEP]")
        self.ends = {self.tokenizer.token_to_id(t) for t in ".!?"}
        self.size = window_tokens or manifest["max_length"] - 2
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        self.session = ort.InferenceSession(str(model / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def __call__(self, text: str) -> np.ndarray:
        """`[windows, categories]`."""
        head = text.encode()[:MAX_MODEL_BYTES].decode(errors="ignore")
        ids = self.tokenizer.encode(head, add_special_tokens=False).ids
        rows = []
        for window in windows(ids, self.size, self.ends)[:MAX_WINDOWS]:
            x = np.array([[self.cls, *window, self.sep]], dtype=np.int64)
            p = self.session.run(None, {"input_ids": x, "attention_mask": np.ones_like(x), "token_type_ids": np.zeros_like(x)})[0][0]
            logit = np.log(np.clip(p, 1e-7, 1 - 1e-7) / np.clip(1 - p, 1e-7, 1))
            rows.append(1 / (1 + np.exp(-logit / self.temperatures)))
        return np.array(rows)


def combinations(p: np.ndarray) -> dict[str, float]:
    """One self-harm probability per way of combining a text's windows (`max` is what ships)."""
    v = p[:, SELF_HARM]
    logits = np.log(v / (1 - v))
    return {
        "max": float(v.max()),
        "first window": float(v[0]),
        "mean": float(v.mean()),
        "mean of the top two": float(np.sort(v)[-2:].mean()),
        "mean logit": float(1 / (1 + np.exp(-logits.mean()))),
    }


def posts(args, score: WindowScorer) -> dict:
    out = {}
    for source in ("rmhd", "sdcnl"):
        frame = datasets_module.HELD_OUT_TESTS[source](args.data)
        frame = frame[[datasets_module.split_of(datasets_module.dedup_key(t)) == "test" for t in frame["text"]]]
        y = frame["self_harm"].to_numpy()
        per_text = [score(t) for t in frame["text"]]
        several = np.array([len(p) > 1 for p in per_text])
        combined = [combinations(p) for p in per_text]
        entry = {"posts": len(y), "positives": int(y.sum()), "several_windows": int(several.sum())}
        for name in combined[0]:
            s = np.array([c[name] for c in combined])
            entry[name] = {"all": round(float(roc_auc_score(y, s)), 4), "several windows": round(float(roc_auc_score(y[several], s[several])), 4)}
        out[source] = entry
        print(source, json.dumps(entry), flush=True)
    return out


def needles(args, table, score: WindowScorer) -> dict:
    test = table[table["split"] == "test"]
    hay = list(test[(test["source"] == "rmhd") & (test["self_harm"] == 0) & (test["text"].str.len() > 1200)]["text"])
    positives = test[(test["self_harm"] == 1) & test["text"].str.len().between(30, 200)]
    rng = np.random.default_rng(args.seed)
    inserted, alone, needle_alone = {}, {}, []
    for needle in positives["text"].sample(min(NEEDLES, len(positives)), random_state=args.seed):
        post = hay[rng.integers(len(hay))]
        cut = post.find(". ", len(post) // 2)
        cut = len(post) // 2 if cut < 0 else cut + 2
        for name, value in combinations(score(post[:cut] + needle + " " + post[cut:])).items():
            inserted.setdefault(name, []).append(value)
        needle_alone.append(score(needle)[:, SELF_HARM].max())
    for post in hay:
        for name, value in combinations(score(post)).items():
            alone.setdefault(name, []).append(value)
    out = {"needles": len(needle_alone), "posts": len(hay), "needles alone at or above": round(float(np.mean(np.array(needle_alone) >= THRESHOLD)), 3)}
    for name, values in inserted.items():
        out[name] = {
            "needle in post at or above": round(float(np.mean(np.array(values) >= THRESHOLD)), 3),
            "post alone at or above": round(float(np.mean(np.array(alone[name]) >= THRESHOLD)), 3),
            "roc_auc": round(float(roc_auc_score(np.r_[np.ones(len(values)), np.zeros(len(alone[name]))], np.r_[values, alone[name]])), 4),
        }
    print("needles", json.dumps(out), flush=True)
    return out


def check_windows(args, table, score: WindowScorer) -> float:
    """The largest gap, over 20 long posts, between the max of `score`'s windows and the Rust side's
    model probability (the built CLI's full engine): whether `windows` cuts texts as the Rust side
    does. Fails beyond 1e-3."""
    from evaluate import cli_reports

    texts = list(table[table["text"].str.len() > 2000]["text"].head(20))
    reports = cli_reports(args, texts, "--engine", "full", "--model", str(args.model), "--require-model")
    gap = max(abs(score(t)[:, SELF_HARM].max() - r["engine"]["model_scores"]["self_harm"]) for t, r in zip(texts, reports))
    assert gap <= 1e-3, f"windows differ from the Rust side's: a gap of {gap:.2e}"
    return round(float(gap), 7)


def engine(args, table) -> dict:
    from evaluate import cli_reports

    test = table[(table["split"] == "test") & (table["source"] == "rmhd") & table["self_harm"].notna()]
    flagged = np.array(["self_harm" in r.get("flagged", []) for r in cli_reports(args, list(test["text"]), "--model", str(args.model))])
    lengths, y = test["text"].str.len().to_numpy(), test["self_harm"].to_numpy()
    out = {}
    for low, high in ((0, 600), (600, 1200), (1200, None)):
        rows = (lengths >= low) & (lengths < (high or np.inf))
        name = f"{low}-{high} characters" if high else f"over {low} characters"
        out[name] = {f"{label} ({int((rows & (y == v)).sum())})": round(float(flagged[rows & (y == v)].mean()), 3)
                     for label, v in (("negatives flagged", 0), ("r/suicidewatch flagged", 1))}
    print("engine", json.dumps(out), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    datasets_module.add_table_arguments(parser, Path(__file__).resolve().parents[2])
    parser.add_argument("--model", type=Path, default=Path("models/safespace-minilm-int8"))
    parser.add_argument("--cli", type=Path, default=Path("target/release/safespace"))
    parser.add_argument("--window-tokens", type=int, help="tokens per window (default: the model's, 126)")
    args = parser.parse_args()
    table = datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache)
    score = WindowScorer(args.model, args.window_tokens)
    results = {"window_tokens": score.size, "posts": posts(args, score), "needles": needles(args, table, score)}
    if args.window_tokens is None:
        results["largest gap to the Rust side's windows"] = check_windows(args, table, score)
        results["engine"] = engine(args, table)
    (args.cache / f"long-posts-{score.size}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
