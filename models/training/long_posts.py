"""Long posts: how the model's windows are combined, measured.

The Rust side cuts a text longer than one window (126 tokens between [CLS] and [SEP]) into
overlapping, sentence-aware windows and takes, per category, the maximum of their calibrated
probabilities. This script scores every window of long posts the model never trained on, as the
Rust side cuts them (`windows.window_spans` mirrors `crates/safespace/src/model/window.rs`), and compares
ways of combining them:

- **posts**: ROC-AUC of self-harm on the test split (the 10 % hash split) of the two long-post tests
  of leave-one-source-out, RMHD (r/suicidewatch against the other mental-health subreddits) and
  SDCNL (r/SuicideWatch against r/depression), for every combination, on all posts and on the posts
  of more than one window;
- **needles**: short self-harm positives of the test split (30-200 characters), each put after the
  first sentence end past the middle of a long negative post (RMHD's test split, over 1,200
  characters, self-harm 0), against the same negative posts alone: the share of each at or above
  the `peer_support` threshold (0.45), model alone, and the ROC-AUC between them;
- **engine** (with the model's own windows): a check that `window_spans` cuts texts as the Rust side
  does (20 posts of over 2,000 characters), then the built CLI's default engine on RMHD's test split,
  by post length (the share of negatives and of r/suicidewatch posts it flags as self-harm), and on
  the needles (the share of needles in posts, needles alone and posts alone it flags).

`recipe` asks whether training on crisis statements inside long posts helps: the recipe (with the
later windows of RMHD's negative training posts, `windows.later_negative_windows`, since model 0.2.3)
in leave-one-source-out's cheap configuration, with and without `--needles` needle windows of the
training split (`windows.needle_windows`), each scored on the post and needle tests with the 62-token
windows that configuration reads.

    HF_HUB_OFFLINE=1 .venv/bin/python models/training/long_posts.py --data ../shared/data [--window-tokens 62]
    HF_HUB_OFFLINE=1 .venv/bin/python models/training/long_posts.py recipe --data ../shared/data [--train-seed 11] [--needles 3000]

Write long-posts-<window tokens>.json and long-posts-needles-<needles>-seed<N>.json to --cache. About
3 minutes on 2 cores, and about 6 for `recipe` once leave-one-source-out's state cache is built
(about 25 when `recipe` builds it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import data as datasets_module
from data import CATEGORIES
from windows import MAX_MODEL_BYTES, needle_material, needle_windows, sentence_ends, text_windows

SELF_HARM = CATEGORIES.index("self_harm")
# The `peer_support` preset's self-harm threshold (crates/safespace/src/policy.rs).
THRESHOLD = 0.45
NEEDLES = 150
class WindowScorer:
    """Calibrated probabilities of every window of a text, from the model folder's `model.onnx`."""

    def __init__(self, model: Path, window_tokens: int | None, threads: int):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        manifest = json.loads((model / "manifest.json").read_text())
        self.temperatures = np.array([manifest["calibration"]["temperatures"][c] for c in CATEGORIES])
        self.tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls, self.sep = self.tokenizer.token_to_id("[CLS]"), self.tokenizer.token_to_id("[SEP]")
        self.ends = sentence_ends(self.tokenizer.token_to_id)
        self.size = window_tokens or manifest["max_length"] - 2
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(model / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def __call__(self, text: str) -> np.ndarray:
        """`[windows, categories]`."""
        from train import calibrated

        rows = []
        for window in text_windows(lambda t: self.tokenizer.encode(t, add_special_tokens=False).ids, text, self.size, self.ends):
            x = np.array([[self.cls, *window, self.sep]], dtype=np.int64)
            p = self.session.run(None, {"input_ids": x, "attention_mask": np.ones_like(x), "token_type_ids": np.zeros_like(x)})[0][0]
            rows.append(calibrated(p, self.temperatures))
        return np.array(rows)


def combinations(p: np.ndarray) -> dict[str, float]:
    """One self-harm probability per way of combining a text's windows (`max` is what ships)."""
    v = np.clip(p[:, SELF_HARM], 1e-7, 1 - 1e-7)
    logits = np.log(v / (1 - v))
    return {
        "max": float(v.max()),
        "first window": float(v[0]),
        "mean": float(v.mean()),
        "mean of the top two": float(np.sort(v)[-2:].mean()),
        "mean logit": float(1 / (1 + np.exp(-logits.mean()))),
    }


def long_post_tests(data: Path) -> dict[str, pd.DataFrame]:
    """RMHD's and SDCNL's leave-one-source-out tests (`data.HELD_OUT_TESTS`), their test split only."""
    tests = {}
    for source in ("rmhd", "sdcnl"):
        frame = datasets_module.HELD_OUT_TESTS[source](data)
        tests[source] = frame[[datasets_module.split_of(datasets_module.dedup_key(t)) == "test" for t in frame["text"]]]
    return tests


def posts(tests: dict[str, pd.DataFrame], score) -> dict:
    """ROC-AUC of each combination of `score`'s windows on the `long_post_tests`, on all posts and on
    those of more than one window."""
    out = {}
    for source, frame in tests.items():
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


def needle_test(args, table) -> tuple[list[str], list[str], list[str]]:
    """`(needles in posts, needles, posts)`: `NEEDLES` short self-harm positives of the test split
    (30-200 characters), each put after the first sentence end past the middle of a long negative
    post of RMHD's test split (over 1,200 characters, self-harm 0), and those posts alone."""
    hay, positives = needle_material(table, "test")
    rng = np.random.default_rng(args.seed)
    inserted, chosen = [], list(positives["text"].sample(min(NEEDLES, len(positives)), random_state=args.seed))
    for needle in chosen:
        post = hay[rng.integers(len(hay))]
        cut = post.find(". ", len(post) // 2)
        cut = len(post) // 2 if cut < 0 else cut + 2
        inserted.append(post[:cut] + needle + " " + post[cut:])
    return inserted, chosen, hay


def needles(test: tuple[list[str], list[str], list[str]], score) -> dict:
    """The `needle_test` `test`: per combination of `score`'s windows, the shares of the needles in
    posts and of the posts alone at or above `THRESHOLD`, and the ROC-AUC between the two."""
    inserted_texts, needle_texts, hay = test
    inserted, alone = {}, {}
    for text in inserted_texts:
        for name, value in combinations(score(text)).items():
            inserted.setdefault(name, []).append(value)
    needle_alone = [score(needle)[:, SELF_HARM].max() for needle in needle_texts]
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
    """The largest gap, over 20 long posts and one text of over 64 KiB (more than
    `windows.MAX_WINDOWS` windows, a two-byte character across the cut), between the maximum of
    `score`'s windows and the Rust side's model probability (the built CLI's full engine), every
    category: whether `text_windows` cuts texts as the Rust side does. Fails beyond 1e-3."""
    from evaluate import cli_reports

    texts = list(table[table["text"].str.len() > 2000]["text"].head(20))
    joined = " ".join(table[table["text"].str.len() > 1000]["text"].head(200))
    head = joined.encode()[: MAX_MODEL_BYTES - 1].decode(errors="ignore")
    texts.append(head + " " * (MAX_MODEL_BYTES - 1 - len(head.encode())) + "\u00e9 " + joined)
    reports = cli_reports(args, texts, "--engine", "full", "--model", str(args.model), "--require-model")
    gap = max(abs(score(t)[:, i].max() - r["engine"]["model_scores"][c]) for t, r in zip(texts, reports) for i, c in enumerate(CATEGORIES))
    assert gap <= 1e-3, f"windows differ from the Rust side's: a gap of {gap:.2e}"
    return round(float(gap), 7)


def engine(args, table, rmhd_test: pd.DataFrame, needle: tuple[list[str], list[str], list[str]]) -> dict:
    """The built CLI's default engine: on RMHD's test split by post length, the share of the
    self-harm negatives (as `data.rmhd` labels them) and of the r/suicidewatch posts (`rmhd_test`'s
    positives) it flags as self-harm; and on the `needle_test` `needle`, the share of each of its
    three groups it flags."""
    from evaluate import cli_reports

    test = table[(table["split"] == "test") & (table["source"] == "rmhd")]
    by_length = {"negatives": list(test[test["self_harm"] == 0]["text"]),
                 "r/suicidewatch": list(rmhd_test[rmhd_test["self_harm"] == 1]["text"])}
    needle_groups = dict(zip(("needle in post", "needle alone", "post alone"), needle))
    groups = {**by_length, **needle_groups}
    reports = iter(cli_reports(args, [t for group in groups.values() for t in group], "--model", str(args.model)))
    flagged = {group: np.array(["self_harm" in next(reports).get("flagged", []) for _ in texts]) for group, texts in groups.items()}
    out = {}
    for group, texts in by_length.items():
        lengths = np.array([len(t) for t in texts])
        for low, high in ((0, 600), (600, 1200), (1200, None)):
            rows = (lengths >= low) & (lengths < (high or np.inf))
            name = f"{low}-{high} characters" if high else f"over {low} characters"
            out.setdefault(name, {})[f"{group} flagged ({int(rows.sum())})"] = round(float(flagged[group][rows].mean()), 3)
    out["needle test"] = {f"{group} flagged ({len(texts)})": round(float(flagged[group].mean()), 3) for group, texts in needle_groups.items()}
    print("engine", json.dumps(out), flush=True)
    return out


class CheapWindowScorer:
    """Probabilities of every window of a text (`windows.window_spans` of the cheap configuration's 62
    tokens) from a model trained in that configuration (`top_layer.train_top`), uncalibrated."""

    def __init__(self, model, bert, tokenizer):
        import top_layer

        self.model, self.bert, self.tokenizer = model.eval(), bert, tokenizer
        self.ends = sentence_ends(tokenizer.convert_tokens_to_ids)
        self.size = top_layer.TOKENS - 2

    def __call__(self, text: str) -> np.ndarray:
        import torch

        import top_layer

        windows = text_windows(lambda t: self.tokenizer(t, add_special_tokens=False, verbose=False)["input_ids"], text, self.size, self.ends)
        x, mask = np.zeros((2, len(windows), max(map(len, windows)) + 2), np.int64)
        for row, window in enumerate(windows):
            x[row, : len(window) + 2] = [self.tokenizer.cls_token_id, *window, self.tokenizer.sep_token_id]
            mask[row, : len(window) + 2] = 1
        ids_, mask = torch.tensor(x), torch.tensor(mask)
        with torch.no_grad():
            logits = self.model(top_layer.frozen_states(self.bert, ids_, mask, torch.zeros_like(ids_)), mask).numpy()
        return 1 / (1 + np.exp(-logits))


def recipe(args) -> dict:
    """The recipe (with the later windows of RMHD's negative posts, `windows.with_later_windows`) with
    and without `--needles` needle windows (`windows.needle_windows`) in training, in leave-one-source-
    out's cheap configuration (the sixth layer and the head on cached states of 64 tokens, `--draws`
    draws, `--train-seed`): the validation split's ROC-AUC per category (first 64 tokens) and the post
    and needle tables, windows of 62 tokens. The needle test draws from the test split, the needle
    windows from the training split."""
    import evaluate
    import top_layer

    recipe_rows, tokenizer, bert, recipe_states, recipe_masks = evaluate.cheap_configuration(args)
    table = recipe_rows[~recipe_rows["later_window"]]
    needle_rows = needle_windows(table, tokenizer, top_layer.TOKENS - 2, args.needles, args.seed)
    needle_states, needle_masks = top_layer.cache_states(list(needle_rows["text"]), tokenizer, bert, args.cache)
    rows = pd.concat([recipe_rows.assign(needle=False), needle_rows.assign(needle=True)], ignore_index=True)
    states, masks = top_layer.StackedStates(recipe_states, needle_states), np.concatenate([recipe_masks, needle_masks])
    tests, needle = long_post_tests(args.data), needle_test(args, table)
    y, known = datasets_module.labels(datasets_module.read_offensive(rows, "excluded"))
    val = np.flatnonzero((rows["split"] == "val").to_numpy() & known.any(1))
    train_rows = (rows["split"] == "train").to_numpy() & known.any(1)
    arms = {"v2": train_rows & ~rows["needle"].to_numpy(), "v2 + needle windows": train_rows}
    results = {"later windows": int(rows["later_window"].sum()), "needle windows": len(needle_rows), "train seed": args.train_seed}
    for name, arm_rows in arms.items():
        draws = evaluate.v2_draws(rows, np.flatnonzero(arm_rows), args.draws, args.train_seed)
        model = top_layer.train_top(bert, states, masks, y, known, draws, args.train_seed)
        p_val = top_layer.predict_top(model, states, masks, val)
        score = CheapWindowScorer(model, bert, tokenizer)
        results[name] = {
            "validation_roc_auc": {c: round(float(roc_auc_score(y[val, i][known[val, i] > 0], p_val[known[val, i] > 0, i])), 4)
                                   for i, c in enumerate(CATEGORIES)},
            "posts": posts(tests, score),
            "needles": needles(needle, score),
        }
        print(name, json.dumps(results[name]["validation_roc_auc"]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=["shipped", "recipe"], default="shipped")
    datasets_module.add_table_arguments(parser, Path(__file__).resolve().parents[2])
    parser.add_argument("--model", type=Path, default=Path("models/safespace-minilm-int8"))
    parser.add_argument("--cli", type=Path, default=Path("target/release/safespace"))
    parser.add_argument("--window-tokens", type=int, help="shipped: tokens per window (default: the model's, 126)")
    parser.add_argument("--draws", type=int, default=10_000, help="recipe: training rows drawn per model")
    parser.add_argument("--train-seed", type=int, default=7, help="recipe: seed of the draws and initialisation")
    parser.add_argument("--needles", type=int, default=3000, help="recipe: needle windows the second arm trains on")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.what == "recipe":
        results = recipe(args)
        name = f"long-posts-needles-{args.needles}-seed{args.train_seed}"
    else:
        table = datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache)
        tests = long_post_tests(args.data)
        score, needle = WindowScorer(args.model, args.window_tokens, args.threads), needle_test(args, table)
        results = {"window_tokens": score.size, "posts": posts(tests, score), "needles": needles(needle, score)}
        if args.window_tokens is None:
            results["largest gap to the Rust side's windows"] = check_windows(args, table, score)
            results["engine"] = engine(args, table, tests["rmhd"], needle)
        name = f"long-posts-{score.size}"
    (args.cache / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
