"""Evaluations of the exported model and of the training recipe that go into the model card.

    HF_HUB_OFFLINE=1 python models/training/evaluate.py functional --model models/safespace-minilm-int8
    HF_HUB_OFFLINE=1 python models/training/evaluate.py loso --data ../shared/data [--offensive positive]
    HF_HUB_OFFLINE=1 python models/training/evaluate.py loso-beside --data ../shared/data  # after lexical.py loso and `cargo build --release`
    HF_HUB_OFFLINE=1 python models/training/evaluate.py chat --data ../shared/data
    python models/training/evaluate.py detector --data ../shared/data   # after `cargo build --release`
    python models/training/evaluate.py presets --data ../shared/data    # after `cargo build --release`
    HF_HUB_OFFLINE=1 python models/training/evaluate.py rebuild --rebuilt <train.py --out folder>
    python models/training/evaluate.py arithmetic --data ../shared/data  # after `cargo build --release`
    HF_HUB_OFFLINE=1 python models/training/evaluate.py loso-int8 --data ../shared/data

`functional` scores the team's functional suite (datasets/functional/suite.jsonl, never trained on) with
the int8 model through onnxruntime, applies the manifest's calibration and thresholds, and writes per-tag
accuracy to functional.json beside the model.

`loso` (leave-one-source-out) trains, for each category and each of its sources, the v2 recipe (the
shipped model's: its sampler, as train.py draws by default) and the v1 recipe without that source, in
the cheap configuration of top_layer.py, and tests both on all of the held-out source, with
alt-profanity-check beside them for harassment. It prints the table and keeps it in --cache
(loso-<reading>-<table>.json, named by the table's key, the later windows' texts and labels and the
sampler's default, so that results of another label mapping, window recipe or sampler are never
reused); an interrupted run resumes at the next source.

`loso-beside` repeats leave-one-source-out for the model and the lexical tier together, as the full
engine's combiner weighs them (its docstring says how), beside each alone.

`chat` measures the model's self-harm false positives on chat it never saw (CHAT_SOURCES held out),
with the v2 labels, in the same cheap configuration.

`detector` scores the public test splits (the 10 % hash split, never trained on, never read when writing
rules) with the built CLI (`target/release/safespace`), with the fast engine (rules and lexical tier)
and the default engine (the cascade, with the model in --model), and writes recall and false-positive
rate per source at the `peer_support` policy to detector.json beside the model, and the share of the
harassment sources' rows (those without a Suicide Risk Lexicon phrase) flagged as self-harm.

`presets` scores the same public test splits and the functional suite with the built CLI (the default
engine, under each preset) and prints, at each policy preset's thresholds, precision / recall /
false-positive rate per category and the suite's false positives: the README's table for choosing a
policy.

`rebuild` compares a model rebuilt by train.py (`--rebuilt`, its --out folder) with the shipped one
(--model): whether each file is byte-identical, what the manifests differ in besides the sha256, and,
on the validation split, the largest and mean gap between the two graphs' raw probabilities and each
graph's ROC-AUC ("offensive" rows excluded, as in training).

`loso-int8` repeats leave-one-source-out for the int8 graph: for each category and source, the v2
recipe trains without that source as in `loso`, is exported as one graph (top_layer.export_onnx) and
stored both as `model.onnx` is (int8 weights, fp32 arithmetic) and as `model-int8.onnx` is (int8.py's
products and calibration texts), and both score up to --texts rows of the held-out source (a fixed
random sample; 128 tokens, as the Rust side reads a window). Writes loso-int8-<reading>-<texts>-<table>.json
to --cache and prints the table as `loso` does, a column per graph.

`arithmetic` scores the same public test splits with the built CLI's full engine (the model on every
text, `peer_support`) twice, with the model's fp32 graph and with its int8 graph (int8.py), and writes
to arithmetic.json beside the model, per category, the fused scores' ROC-AUC with each, the texts each
flags and those flagged differently, and the mean and largest gap between the two graphs' calibrated
probabilities.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

import data as datasets_module
import encoder
import top_layer
import train
import windows
from data import CATEGORIES


def functional(args) -> None:
    from transformers import AutoTokenizer

    manifest = json.loads((args.model / "manifest.json").read_text())
    tokenizer = AutoTokenizer.from_pretrained(encoder.base_model_dir())
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


# The first model's recipe, the reference in every leave-one-source-out row: its eight sources, each
# capped at 3,000 rows (stratified by label), a source teaching only its own category, the team's rows
# weighted x4, class-balanced positive weights, plain passes over the rows in random order.
V1_SOURCES = ("davidson", "olid", "formspring", "suicidal_intention", "sdcnl", "constraint", "coaid", "rumor")
V1_CAP = 3000
V1_TEAM_WEIGHT = 4.0


def v1_rows(table, seed: int) -> np.ndarray:
    """Indices of the rows the v1 recipe trained on, out of the v2 table."""
    category = datasets_module.main_category(table)
    picked = []
    for source in (*V1_SOURCES, "team"):
        rows = table.index[table["source"] == source]
        if source != "team" and len(rows) > V1_CAP:
            labels = table.loc[rows, category[rows[0]]]
            share = V1_CAP / len(rows)
            rows = np.concatenate([
                group.sample(max(1, round(len(group) * share)), random_state=seed).index
                for _, group in labels.groupby(labels)
            ])
        picked.append(np.asarray(rows))
    return np.sort(np.concatenate(picked))


def v1_labels(table, y, known):
    """The v1 recipe's masks (a public source teaches only its own category) and row weights."""
    public = (table["source"] != "team").to_numpy()
    own = np.array([[c == category for c in CATEGORIES] for category in datasets_module.main_category(table)])
    known_v1 = np.where(public[:, None], known * own, known).astype(np.float32)
    weight = np.where(public, 1.0, V1_TEAM_WEIGHT).astype(np.float32)
    return known_v1, weight


def v1_draws(train_idx, y, known, draws: int, seed):
    """Passes over the rows in random order until `draws` rows, and class-balanced positive weights."""
    rng = np.random.default_rng(seed)
    passes = -(-draws // max(1, len(train_idx)))
    order = np.concatenate([rng.permutation(train_idx) for _ in range(passes)])[:draws]
    return order, class_balanced(train_idx, y, known)


def class_balanced(rows, y, known) -> np.ndarray:
    """Per category, the positive weight that balances the known negatives of `rows` (repeats
    count), within [0.5, 5]."""
    pos = (y * known)[rows].sum(0)
    neg = ((1 - y) * known)[rows].sum(0)
    return np.clip(neg / np.maximum(pos, 1), 0.5, 5.0)


# The sampler's category shares under each variant that changes them: "harassment-half" gives the
# harassment sources half of every epoch and the other two categories a quarter each;
# "harassment-from-misinformation" moves a twelfth from misinformation to harassment (self-harm keeps
# its third).
VARIANT_CATEGORY_SHARES = {
    "harassment-half": {"self_harm": 0.25, "harassment": 0.5, "misinformation": 0.25},
    "harassment-from-misinformation": {"self_harm": 1 / 3, "harassment": 5 / 12, "misinformation": 0.25},
}
# Changes to the v2 recipe that `loso --variant` measures (the v2 column only; the references are the
# main run's). "misinformation-one-sided" draws from the misinformation sources that hold only
# positives (Reddit health misinformation, COVIDLies), as 0.2.3's recipe did (`train.py --one-sided
# drawn`); the v2 recipe itself leaves them out, as train.py does by default.
VARIANTS = ("harassment-negatives", "per-category-loss", "pos-weight", "misinformation-one-sided", *VARIANT_CATEGORY_SHARES)


def variant_labels(table, y, known, variant: str):
    """The v2 labels under `variant`: with "harassment-negatives", the public harassment sources'
    unknown misinformation labels become 0. (Their self-harm labels were the "chat-negatives"
    variant until 0.2.1; data.not_self_harm_unless_risk now builds them into the table.)"""
    if variant != "harassment-negatives":
        return y, known
    c = CATEGORIES.index("misinformation")
    public_harassment = (datasets_module.main_category(table) == "harassment") & (table["source"].to_numpy() != "team")
    fill = public_harassment & (known[:, c] == 0)
    y, known = y.copy(), known.copy()
    y[fill, c], known[fill, c] = 0, 1
    return y, known


def v2_draws(table, train_idx, draws: int, seed, variant: str = ""):
    """`draws` rows from the v2 sampler (data.sampling_weights, with the category shares of
    `variant`) over the training rows, without the one-sided misinformation sources' rows as
    train.py's default leaves them out (unless `variant` is "misinformation-one-sided")."""
    rng = np.random.default_rng(seed)
    train_idx = train.sampled_rows(table, train_idx, "drawn" if variant == "misinformation-one-sided" else train.ONE_SIDED_DEFAULT)
    shares = VARIANT_CATEGORY_SHARES.get(variant, datasets_module.EVEN_CATEGORY_SHARES)
    weights = datasets_module.sampling_weights(table.iloc[train_idx], category_shares=shares)
    return rng.choice(train_idx, size=draws, p=weights)


def test_scores(model, bert, tokenizer, states, masks, rows, texts, c):
    """Probabilities of category c for the test: from the cached states of the table's `rows`, or by
    running the encoder over `texts` where the test is not in the table (rows is None)."""
    logits = top_layer.predict_top(model, states, masks, rows) if rows is not None else top_layer.score_texts(model, bert, tokenizer, texts)
    return 1 / (1 + np.exp(-logits[:, c]))


def test_block(p, labels):
    """ROC-AUC where the test has both classes; the share of positives above 0.5 where it has only
    positives (no AUC without negatives)."""
    if len(np.unique(labels)) == 2:
        return {"n": int(len(labels)), "positives": int(labels.sum()), "roc_auc": round(float(roc_auc_score(labels, p)), 4)}
    return {"n": int(len(labels)), "positives": int(labels.sum()), "recall_at_0.5": round(float((p >= 0.5).mean()), 4)}


def results_file(args, name: str, rows: pd.DataFrame) -> Path:
    """Where the per-source results `name` are kept in --cache: named by the table they were computed
    on (data.table_key), by the later windows the recipe adds to it (the texts and labels of `rows`'
    `later_window` rows, `cheap_configuration`) and by whether the v2 recipe draws from the one-sided
    misinformation sources (train.ONE_SIDED_DEFAULT), so that a changed label mapping, team set,
    window recipe or sampler starts afresh, and an edit to windows.py that leaves the windows as they
    are does not."""
    later = rows.loc[rows["later_window"], ["text", *CATEGORIES]].to_json(orient="values")
    recipe = f"one-sided:{train.ONE_SIDED_DEFAULT}"
    key = hashlib.sha256(datasets_module.table_key(args.datasets, args.seed).encode() + later.encode() + recipe.encode()).hexdigest()[:16]
    return args.cache / f"{name}-{key}.json"


def cheap_configuration(args):
    """What `loso`, `chat`, `loso-int8` and `long_posts.py recipe` train on: the recipe's rows (the
    table and its later windows of 62 tokens, `windows.with_later_windows`; the table's rows first),
    the encoder, and its lower layers' cached states of every row (top_layer.cache_states)."""
    torch.set_num_threads(args.threads)
    table = datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache)
    tokenizer, bert = encoder.load_encoder()
    rows = windows.with_later_windows(table, tokenizer, args.data, top_layer.TOKENS - 2)
    table_states, table_masks = top_layer.cache_states(list(table["text"]), tokenizer, bert, args.cache)
    window_states, window_masks = top_layer.cache_states(list(rows.loc[rows["later_window"], "text"]), tokenizer, bert, args.cache)
    states = top_layer.StackedStates(table_states, window_states)
    return rows, tokenizer, bert, states, np.concatenate([table_masks, window_masks])


def sources_to_run(args, results: dict):
    """`(category index, category, source, "category/source")` for each source of --categories, in
    the order of data.SOURCES, that `results` (a leave-one-source-out results file) does not hold yet."""
    for category in args.categories:
        for source in [s for s, spec in datasets_module.SOURCES.items() if spec.category == category]:
            name = f"{category}/{source}"
            if name not in results:
                yield CATEGORIES.index(category), category, source, name


def train_seed(args) -> int:
    """The seed of the draws and initialisation: --train-seed, or --seed (which the table's splits keep)."""
    return args.seed if args.train_seed is None else args.train_seed


def v2_without(table, bert, states, masks, y, known, train_rows, draws: int, seed, variant: str = ""):
    """The v2 recipe (changed by `variant`) in the cheap configuration, trained on `draws` rows drawn
    from the `train_rows` mask, as `loso` trains it without a held-out source."""
    order = v2_draws(table, np.flatnonzero(train_rows), draws, seed, variant)
    pos_weight = class_balanced(order, y, known) if variant == "pos-weight" else None
    return top_layer.train_top(bert, states, masks, y, known, order, seed, pos_weight=pos_weight,
                               per_category=variant == "per-category-loss")


def loso(args) -> None:
    """Leave-one-source-out: for each category and each of its sources, train the v2 recipe and the v1
    recipe without that source (the cheap configuration of top_layer.py for both) and test on all of
    it; alt-profanity-check scores the harassment sources beside them. Writes loso-<reading>-<table>.json
    to --cache (`results_file`) and prints the table. With --variant, only the v2 recipe so changed
    trains, into loso-<reading>-<variant>-<table>.json; with --train-seed, both recipes draw and
    initialise with that seed (the table and its splits keep --seed), into
    loso-<reading>-seed<N>-<table>.json."""
    table, tokenizer, bert, states, masks = cheap_configuration(args)
    y, known = datasets_module.labels(datasets_module.read_offensive(table, args.offensive))
    # Tests, and the v1 recipe, always leave the "offensive" rows out.
    excluded = datasets_module.read_offensive(table, "excluded")
    test_known = datasets_module.labels(excluded)[1]
    known_v1, weight_v1 = v1_labels(excluded, y, test_known)
    sources = table["source"].to_numpy()
    train_split = table["split"].to_numpy() == "train"
    train_rows = train_split & known.any(1)
    seed = train_seed(args)
    v1_train = np.intersect1d(v1_rows(excluded, seed), np.flatnonzero(train_split & test_known.any(1)))
    y2, known2 = variant_labels(table, y, known, args.variant)
    suffix = ("-" + args.variant if args.variant else "") + ("" if args.train_seed is None else f"-seed{seed}")
    out_path = results_file(args, f"loso-{args.offensive}{suffix}", table)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    v1_models = {}
    for c, category, source, name in sources_to_run(args, results):
        rows, texts, labels_ = datasets_module.held_out_test(args.data, table, source, category)
        print(f"{name}: training without it", flush=True)
        v2 = v2_without(table, bert, states, masks, y2, known2, train_rows & (sources != source), args.draws, seed, args.variant)
        entry = {"v2": test_block(test_scores(v2, bert, tokenizer, states, masks, rows, texts, c), labels_)}
        if not args.variant:
            v1_key = source if source in V1_SOURCES else "all"
            if v1_key not in v1_models:
                v1_order, v1_pos_weight = v1_draws(v1_train[sources[v1_train] != source], y, known_v1, args.draws, seed)
                v1_models[v1_key] = top_layer.train_top(bert, states, masks, y, known_v1, v1_order, seed, weight_v1, v1_pos_weight)
            entry["v1"] = test_block(test_scores(v1_models[v1_key], bert, tokenizer, states, masks, rows, texts, c), labels_)
            if category == "harassment":
                from profanity_check import predict_prob

                entry["alt-profanity-check"] = test_block(predict_prob(texts), labels_)
        results[name] = entry
        print(f"  {name}: {entry}", flush=True)
        out_path.write_text(json.dumps(results, indent=2) + "\n")
    print_loso(results)


def loso_beside(args) -> None:
    """The model and the lexical tier together out of source, as the full engine fuses them: for each
    category and source, the v2 recipe trained without it (as `loso`: the cheap configuration, --seed
    or --train-seed; its held-out probabilities kept in --cache/loso-scores-<table>/) and the lexical
    tier trained without it (`lexical.py loso`'s tier in --cache/lexical-loso/tiers/, scored by the
    built CLI), each alone and summed as the model's combiner sums them, `learned × logit(p) + lexical
    × logit(q)`, with the shipped combiner's weights and with equal ones (the rules and contexts,
    which both tiers share, left out; the model's probabilities uncalibrated). Prints the table and
    writes loso-beside-<table>.json to --cache."""
    from fusion import logit  # here: fusion.py imports this module

    table, tokenizer, bert, states, masks = cheap_configuration(args)
    y, known = datasets_module.labels(datasets_module.read_offensive(table, args.offensive))
    sources = table["source"].to_numpy()
    train_rows = (table["split"].to_numpy() == "train") & known.any(1)
    seed = train_seed(args)
    suffix = "" if args.train_seed is None else f"-seed{seed}"
    out_path = results_file(args, f"loso-beside{suffix}", table)
    scores_dir = results_file(args, f"loso-scores{suffix}", table).with_suffix("")
    scores_dir.mkdir(exist_ok=True)
    weights = json.loads((args.model / "combiner.json").read_text())["categories"]
    results = {}
    for c, category, source, name in sources_to_run(args, results):
        rows, texts, labels_ = datasets_module.held_out_test(args.data, table, source, category)
        kept = scores_dir / f"{category}-{source}.npy"
        if not kept.exists():
            print(f"{name}: training without it", flush=True)
            model = v2_without(table, bert, states, masks, y, known, train_rows & (sources != source), args.draws, seed)
            np.save(kept, test_scores(model, bert, tokenizer, states, masks, rows, texts, c))
        p = np.load(kept)
        tier = args.cache / "lexical-loso" / "tiers" / source
        q = np.array([r["engine"]["lexical_scores"][category] for r in cli_reports(args, texts, "--engine", "fast", "--lexical", str(tier))])
        w = weights[category]
        results[name] = {"v2": test_block(p, labels_), "lexical": test_block(q, labels_)}
        if len(np.unique(labels_)) == 2:  # a sum of logits has no threshold to count positives at
            results[name] |= {"v2+lexical": test_block(w["learned"] * logit(p) + w["lexical"] * logit(q), labels_),
                              "v2+lexical equal": test_block(logit(p) + logit(q), labels_)}
        print(f"  {name}: {results[name]}", flush=True)
    out_path.write_text(json.dumps(results, indent=2) + "\n")
    print_loso(results, refs=("v2", "lexical", "v2+lexical", "v2+lexical equal"))


def loso_int8(args) -> None:
    import tempfile

    from int8 import INT8_PRODUCTS, calibration_ids
    from quantize import quantize_activations, quantize_weights

    table, tokenizer, bert, states, masks = cheap_configuration(args)
    y, known = datasets_module.labels(datasets_module.read_offensive(table, args.offensive))
    sources = table["source"].to_numpy()
    train_rows = (table["split"].to_numpy() == "train") & known.any(1)
    calibration = calibration_ids(table[(table["split"] == "train") & ~table["later_window"]], tokenizer, train.MAX_TOKENS)
    out_path = results_file(args, f"loso-int8-{args.offensive}-{args.texts}", table)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    for c, category, source, name in sources_to_run(args, results):
        _, texts, labels_ = datasets_module.held_out_test(args.data, table, source, category)
        sample = np.sort(np.random.default_rng(args.seed).permutation(len(texts))[: args.texts])
        texts, labels_ = [texts[i] for i in sample], np.asarray(labels_)[sample]
        print(f"{name}: training without it", flush=True)
        draws = v2_draws(table, np.flatnonzero(train_rows & (sources != source)), args.draws, args.seed)
        top = top_layer.train_top(bert, states, masks, y, known, draws, args.seed)
        with tempfile.TemporaryDirectory() as scratch:
            graphs = {"fp32": Path(scratch) / "fp32.onnx", "model.onnx": Path(scratch) / "model.onnx", "model-int8.onnx": Path(scratch) / "int8.onnx"}
            top_layer.export_onnx(bert, top, graphs["fp32"])
            quantize_weights(graphs["fp32"], graphs["model.onnx"])
            quantize_activations(graphs["fp32"], graphs["model-int8.onnx"], calibration, INT8_PRODUCTS)
            entry = {g: test_block(train.onnx_probabilities(graphs[g], tokenizer, texts)[:, c], labels_) for g in ("model.onnx", "model-int8.onnx")}
        results[name] = entry
        print(f"  {name}: {entry}", flush=True)
        out_path.write_text(json.dumps(results, indent=2) + "\n")
    print_loso(results, refs=("model.onnx", "model-int8.onnx"))


# Chat-like harassment sources whose rows `chat` holds out as self-harm negatives.
CHAT_SOURCES = ("conda", "formspring", "olid")


def chat(args) -> None:
    """Self-harm on chat the model never saw: for each of CHAT_SOURCES, the v2 recipe trains without
    that source in the cheap configuration, and its self-harm
    probabilities on every row of the source (as negatives: such chat is about others; the rows with a
    Suicide Risk Lexicon phrase, about 0.2 %, are counted too) are compared with those of the self-harm
    positives of the test split: ROC-AUC, and the share of chat rows at or above the score that keeps
    90 % of the positives. Writes loso-chat-<table>.json to --cache."""
    table, tokenizer, bert, states, masks = cheap_configuration(args)
    y, known = datasets_module.labels(datasets_module.read_offensive(table, "excluded"))
    sources, split = table["source"].to_numpy(), table["split"].to_numpy()
    c = CATEGORIES.index("self_harm")
    positives = np.flatnonzero((split == "test") & (known[:, c] > 0) & (y[:, c] == 1))
    out_path = results_file(args, "loso-chat", table)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    for held in CHAT_SOURCES:
        name = f"v2/{held}"
        if name in results:
            continue
        draws = v2_draws(table, np.flatnonzero((split == "train") & known.any(1) & (sources != held)), args.draws, args.seed)
        model = top_layer.train_top(bert, states, masks, y, known, draws, args.seed)
        p_chat, p_pos = (test_scores(model, bert, tokenizer, states, masks, rows, None, c)
                         for rows in (np.flatnonzero(sources == held), positives))
        labels_ = np.r_[np.zeros(len(p_chat)), np.ones(len(p_pos))]
        results[name] = {"chat_rows": len(p_chat), "roc_auc": round(float(roc_auc_score(labels_, np.r_[p_chat, p_pos])), 4),
                         "chat_above_90pct_recall": round(float((p_chat >= np.quantile(p_pos, 0.10)).mean()), 4)}
        print(f"  {name}: {results[name]}", flush=True)
        out_path.write_text(json.dumps(results, indent=2) + "\n")


def print_loso(results: dict, refs=("v2", "v1", "alt-profanity-check")) -> None:
    """The LOSO table, one row per held-out source and a column per model in `refs`, and the macro
    ROC-AUC per category."""
    print(f"{'held-out source':36s}" + "".join(f"{r:>22s}" for r in refs))
    for name, entry in results.items():
        cells = [entry.get(r, {}) for r in refs]
        print(f"{name:36s}" + "".join(f"{cell.get('roc_auc', cell.get('recall_at_0.5', '')):>22}" for cell in cells))
    for category in CATEGORIES:
        for r in refs:
            aucs = [e[r]["roc_auc"] for n, e in results.items() if n.startswith(category) and "roc_auc" in e.get(r, {})]
            if aucs:
                print(f"macro ROC-AUC {category} {r}: {np.mean(aucs):.4f} over {len(aucs)} sources")


PRESETS = ("general", "peer_support", "strict")


def cli_reports(args, texts: list[str], *flags: str) -> list[dict]:
    """The built CLI's report of each text (`score --compact` with `flags`)."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as f:
        for text in texts:
            f.write(json.dumps({"text": text}) + "\n")
        f.flush()
        out = subprocess.run([str(args.cli), "score", "--input", f.name, "--compact", *flags],
                             capture_output=True, text=True, check=True).stdout
    return [json.loads(line)["report"] for line in out.splitlines()]


def cli_scores(args, texts: list[str], *flags: str) -> np.ndarray:
    """The category scores of each text from the built CLI, `[texts, categories]`."""
    return np.array([[report["scores"][c] for c in CATEGORIES] for report in cli_reports(args, texts, *flags)])


def suite_eval(args, preset: str, *flags: str) -> dict:
    """The CLI's `eval --json` of the functional suite under `preset`: per category its threshold
    (the policy's, read from the Rust side) and confusion counts."""
    import subprocess

    out = subprocess.run([str(args.cli), "eval", "--input", str(args.datasets / "functional/suite.jsonl"),
                          "--json", "--policy", preset, *flags], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["categories"]


def detector(args) -> None:
    table = datasets_module.read_offensive(datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache), args.offensive)
    table = table.assign(category=datasets_module.main_category(table))
    test = table[(table["split"] == "test") & (table["source"] != "team")].reset_index(drop=True)
    # The harassment sources' rows with no Suicide Risk Lexicon phrase: about others, so a self-harm
    # flag there is a false positive whether or not the source labels self-harm.
    about_others = test[(test["category"] == "harassment") & ~datasets_module.mentions_risk(test["text"], args.data)]
    results = {}
    for mode, flags in (("fast", ["--engine", "fast"]), ("default", ["--model", str(args.model), "--require-model"])):
        flagged = [set(report.get("flagged", [])) for report in cli_reports(args, list(test["text"]), *flags)]
        for (source, category), group in test.groupby(["source", "category"]):
            group = group[group[category].notna()]
            y = group[category].to_numpy()
            pred = np.array([category in flagged[i] for i in group.index])
            entry = results.setdefault(category, {}).setdefault(source, {"n": int(len(y)), "positives": int(y.sum())})
            entry[mode] = {
                "recall": round(float(pred[y == 1].mean()), 3) if (y == 1).any() else None,
                "false_positive_rate": round(float(pred[y == 0].mean()), 3) if (y == 0).any() else None,
            }
        for source, group in [("all", about_others), *about_others.groupby("source")]:
            entry = results.setdefault("self_harm_on_harassment_sources", {}).setdefault(source, {"n": int(len(group))})
            entry[mode] = {"flagged": round(float(np.mean(["self_harm" in flagged[i] for i in group.index])), 4)}
    (args.model / "detector.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def arithmetic(args) -> None:
    table = datasets_module.read_offensive(datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache), args.offensive)
    test = table[(table["split"] == "test") & (table["source"] != "team")].reset_index(drop=True)
    texts = list(test["text"])
    reports = {graph: cli_reports(args, texts, "--engine", "full", "--model", str(args.model), "--require-model", "--model-arithmetic", graph)
               for graph in ("fp32", "int8")}
    results = {"texts": len(texts), "engine": "full", "policy": "peer_support"}
    for name in CATEGORIES:
        known = test[name].notna().to_numpy()
        y = test[name].to_numpy()[known]
        fused = {g: np.array([r["scores"][name] for r in rs])[known] for g, rs in reports.items()}
        model = {g: np.array([r["engine"]["model_scores"][name] for r in rs]) for g, rs in reports.items()}
        flagged = {g: np.array([name in r["flagged"] for r in rs]) for g, rs in reports.items()}
        gap = np.abs(model["fp32"] - model["int8"])
        results[name] = {
            "roc_auc": {g: round(float(roc_auc_score(y, fused[g])), 4) for g in fused},
            "flagged": {g: int(f.sum()) for g, f in flagged.items()},
            "flagged_differently": int((flagged["fp32"] != flagged["int8"]).sum()),
            "model_probability_gap": {"mean": round(float(gap.mean()), 4), "largest": round(float(gap.max()), 3)},
        }
    (args.model / "arithmetic.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def presets(args) -> None:
    table = datasets_module.read_offensive(datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache), args.offensive)
    test = table[(table["split"] == "test") & (table["source"] != "team")]
    model = ("--model", str(args.model), "--require-model")
    print(f"public test splits ({len(test)} texts): precision / recall / false-positive rate; "
          f"functional suite: false positives")
    for preset in PRESETS:
        # Scored under the preset: the default (cascade) engine's screen depends on the policy.
        public = cli_scores(args, list(test["text"]), *model, "--policy", preset)
        suite = suite_eval(args, preset, *model)
        cells = []
        for c, name in enumerate(CATEGORIES):
            known = test[name].notna().to_numpy()
            y = test[name].to_numpy()[known] == 1
            flagged = public[known, c] >= suite[name]["threshold"]
            precision = (flagged & y).sum() / max(1, flagged.sum())
            cells.append(f"{name} {precision:.2f} / {flagged[y].mean():.2f} / {100 * flagged[~y].mean():.1f} % "
                         f"(suite {suite[name]['at_threshold']['fp']})")
        print(f"{preset}: " + "; ".join(cells))


def rebuild(args) -> None:
    from transformers import AutoTokenizer

    for name in ("model.onnx", "tokenizer.json"):
        same = (args.model / name).read_bytes() == (args.rebuilt / name).read_bytes()
        print(f"{name}: {'identical' if same else 'differs'}")
    shipped, rebuilt = (json.loads((m / "manifest.json").read_text()) for m in (args.model, args.rebuilt))
    for key in sorted((set(shipped) | set(rebuilt)) - {"sha256"}):
        if shipped.get(key) != rebuilt.get(key):
            print(f"manifest {key}: {shipped.get(key)} -> {rebuilt.get(key)}")
    table = datasets_module.read_offensive(datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache), "excluded")
    val = table[table["split"] == "val"].reset_index(drop=True)
    tokenizer = AutoTokenizer.from_pretrained(encoder.base_model_dir())
    a, b = (train.onnx_probabilities(m / "model.onnx", tokenizer, list(val["text"])) for m in (args.model, args.rebuilt))
    gap = np.abs(a - b)
    for c, name in enumerate(CATEGORIES):
        known = val[name].notna().to_numpy()
        y = val[name].to_numpy()[known]
        print(f"{name}: largest gap {gap[:, c].max():.2e}, mean {gap[:, c].mean():.1e} over {len(val)} texts; "
              f"ROC-AUC shipped {roc_auc_score(y, a[known, c]):.4f}, rebuilt {roc_auc_score(y, b[known, c]):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["functional", "loso", "loso-beside", "loso-int8", "chat", "detector", "presets", "rebuild", "arithmetic"])
    parser.add_argument("--cli", type=Path, default=Path("target/release/safespace"))
    parser.add_argument("--model", type=Path, default=Path("models/safespace-minilm-int8"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--cache", type=Path, default=Path("models/training/.cache"))
    parser.add_argument("--offensive", choices=datasets_module.OFFENSIVE_READINGS, default="excluded",
                        help="reading of Davidson's and HateXplain's 'offensive' class")
    parser.add_argument("--draws", type=int, default=10_000, help="loso: training rows drawn per model")
    parser.add_argument("--categories", nargs="+", choices=CATEGORIES, default=list(CATEGORIES), help="loso: the categories to run")
    parser.add_argument("--variant", choices=VARIANTS, default="", help="loso: train only the v2 recipe with this change")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--train-seed", type=int, help="loso: seed of the draws and initialisation (default: --seed)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rebuilt", type=Path, help="rebuild: the --out folder of a train.py run to compare with --model")
    parser.add_argument("--texts", type=int, default=2_000, help="loso-int8: held-out rows scored per source")
    args = parser.parse_args()
    commands = {"functional": functional, "loso": loso, "loso-beside": loso_beside, "loso-int8": loso_int8, "chat": chat, "detector": detector, "presets": presets, "rebuild": rebuild,
                "arithmetic": arithmetic}
    commands[args.what](args)


if __name__ == "__main__":
    main()
