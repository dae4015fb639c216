"""The combiner of a learned tier (`combiner.json` beside the tier, read by
crates/safespace/src/fusion.rs), fitted on pooled validation.

    cargo build --release -p safespace-cli
    .venv/bin/python models/training/fusion.py --data ../shared/data --tier model    # the full engine
    .venv/bin/python models/training/fusion.py --data ../shared/data --tier lexical  # the fast engine

The engine scores a category `max(rules, ceiling × combined)`, where `combined = σ(bias + learned ×
logit(p) + lexical × logit(q) + rules × r + damping × ln(d) + Σ contexts[k])` over the tier's
calibrated probability `p`, for the model the lexical tier's `q` beside it (the lexical tier's own
combiner has no such term), the rules' score `r`, the rule files' hand-set damping `d` and an
indicator per context kind that lowers the category in the text. The validation split of every source
(data.py's hash split; never trained on, never read when writing rules) and the functional suite are
scored by the release CLI with the tier's engine, whose reports carry every input
(`engine.rules_scores`, `engine.<tier>_scores`, `engine.lexical_scores`, `engine.fusion.damping`,
`engine.fusion.contexts`).

Per category the script fits the logistic regression by L-BFGS-B on the log-loss, every source
weighing the same, with an L2 pull (--l2) and the documented signs as bounds: the tiers and the rules
raise; the damping's weight is at least 1, so the rule files' damping `d` multiplies the odds by `d`
or less and every context they mark keeps lowering; a context kind's own weight is never above 0. A
context kind gets a weight of its own only where it occurs in at least --min-kind texts of the
category, else it acts through the damping alone. Then it picks the ceiling on a grid in steps of
0.01 (coarser steps can skip the one ceiling that lets the tier flag alone within budget: 0.2.2's
self-harm lay between 0.45 and 0.50): the largest whose fused false-positive rate on pooled
validation stays at or under --max-fpr at the `peer_support` threshold and whose combiner alone
flags there at most --max-suite-fpr of the functional suite's cases not labelled with the category
(its hard negatives: recovery, negation, idiom, true health advice; and the other categories'
positives). Self-harm gets 1 %: a flag shows crisis resources and a miss costs the most, and without
any budget (the suite's rules were written against it) the model never flags self-harm alone,
leaving the default engine at the rules' recall (0.33 on pooled validation). Harassment and
misinformation get none: a flag holds or warns a post. Misinformation may not flag alone at all
(--alone names the categories that may; the others' ceiling stays at or below their `peer_support`
threshold): out of source its score ranks at 0.73 ROC-AUC (leave-one-source-out), and pooled
validation measures its false positives only on the sources that annotate misinformation, not on
chat or forum text (what flagging alone cost 0.2.2 on everyday posts: the model card, "Fusion").
Lower thresholds (`strict`) let the tier flag more, at the cost of more
of the suite's hard negatives: the grid records how many under any preset.
The model's combiner weighs the lexical tier beside it in the categories --beside names (default
harassment and misinformation), where the two together rank held-out sources better than either
(`evaluate.py loso-beside`); self-harm's has weight 0 there, because the lexical tier reads its topic
words in recovery stories and negations, so the suite's budget would hold its ceiling at 0.46 and
its recall at 0.60 instead of 0.73 (model 0.2.4).
Every figure it prints for pooled validation is out of fold (5 folds: each fifth scored by a combiner
fitted on the rest), beside the rules alone, the tier alone (and for the model the lexical tier alone
and the combiner fitted the other way, with or without it), the hand-set fusion it replaces (`max(rules, weight × p × d)`),
and the functional suite per category at `peer_support`. The weights
and the ceiling go to combiner.json in the tier's folder (embedded in the crate), the measurements to
fusion.json beside it.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.metrics import roc_auc_score

import data as datasets_module
from data import CATEGORIES
from evaluate import PRESETS, cli_reports, suite_eval

TIERS = {
    "model": {"flags": lambda args: ["--engine", "full", "--model", str(args.model), "--require-model"], "scores": "model_scores",
              "beside": "lexical_scores", "hand_weights": [0.45, 0.7, 0.45]},
    "lexical": {"flags": lambda args: ["--engine", "fast"], "scores": "lexical_scores", "beside": None,
                "hand_weights": [0.45, 0.7, 0.6]},
}
CEILINGS = np.round(np.arange(0.3, 1.001, 0.01), 2)
LOGIT_FLOOR, DAMPING_FLOOR = 1e-4, 1e-3  # as in fusion.rs
DAMPING_MIN = 1.0  # the least weight of ln(damping), as build/combiners.rs checks
FOLDS = 5


class Inputs:
    """The combiner's inputs for a list of texts, per category: the tier's probability, the lexical
    tier's beside the model's (`q`, None for the lexical tier), the rules' score, the damping and the
    context kinds that lower the category."""

    def __init__(self, reports: list[dict], tier: str):
        key, beside = TIERS[tier]["scores"], TIERS[tier]["beside"]
        self.p = np.array([[r["engine"][key][c] for c in CATEGORIES] for r in reports])
        self.q = np.array([[r["engine"][beside][c] for c in CATEGORIES] for r in reports]) if beside else None
        self.rules = np.array([[r["engine"]["rules_scores"][c] for c in CATEGORIES] for r in reports])
        fusion = [r["engine"]["fusion"] for r in reports]
        self.damping = np.array([[f["damping"][c] for c in CATEGORIES] for f in fusion])
        self.kinds = [[set(f.get("contexts", {}).get(c, [])) for c in CATEGORIES] for f in fusion]

    def tiers(self, beside: bool = True) -> int:
        """The tier columns `design` starts with: 2 where the lexical tier's stands beside the model's."""
        return 2 if beside and self.q is not None else 1

    def design(self, c: int, kinds: list[str], rows=slice(None), beside: bool = True) -> np.ndarray:
        """Columns: logit(p), logit(q) (where `tiers(beside)` is 2), r, ln(d), then one indicator per
        kind in `kinds`."""
        kind_rows = np.array(self.kinds, dtype=object)[rows, c] if len(kinds) else []
        tiers = [logit(self.p[rows, c])] + ([logit(self.q[rows, c])] if self.tiers(beside) == 2 else [])
        columns = tiers + [self.rules[rows, c], np.log(np.clip(self.damping[rows, c], DAMPING_FLOOR, 1))]
        columns += [np.array([k in row for row in kind_rows], dtype=float) for k in kinds]
        return np.column_stack(columns)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, LOGIT_FLOOR, 1 - LOGIT_FLOOR)
    return np.log(p / (1 - p))


def fit(x: np.ndarray, y: np.ndarray, row_weight: np.ndarray, l2: float, tiers: int = 1) -> np.ndarray:
    """Bias and weights of the logistic regression over `design`'s columns (the first `tiers` of them
    the tiers' logits) with the fusion's signs: the tiers' and the rules' weights ≥ 0, the damping's ≥ 1 (the rule files' damping `d` multiplies the odds by `d` at least,
    so every context they mark keeps lowering), the context kinds' ≤ 0; the log-loss averaged with
    `row_weight` plus `l2 / n` × the squared weights (the bias is free)."""
    n, k = x.shape
    row_weight = row_weight / row_weight.mean()

    def loss(w):
        z = w[0] + x @ w[1:]
        log_loss = np.mean(row_weight * (np.logaddexp(0, z) - y * z))
        grad_z = row_weight * (1 / (1 + np.exp(-z)) - y) / n
        penalty = l2 / n * np.sum(w[1:] ** 2)
        grad = np.concatenate([[grad_z.sum()], x.T @ grad_z + 2 * l2 / n * w[1:]])
        return log_loss + penalty, grad

    bounds = [(None, None)] + [(0, None)] * (tiers + 1) + [(DAMPING_MIN, None)] + [(None, 0)] * (k - tiers - 2)
    start = np.zeros(k + 1)
    start[1] = start[tiers + 2] = 1.0
    return minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds).x


def combine(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(w[0] + x @ w[1:])))


def rates(flagged: np.ndarray, y: np.ndarray) -> dict:
    return {"recall": round(float(flagged[y == 1].mean()), 4), "false_positive_rate": round(float(flagged[y == 0].mean()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--cache", type=Path, default=Path("models/training/.cache"))
    parser.add_argument("--tier", choices=sorted(TIERS), default="model", help="the learned tier whose combiner to fit")
    parser.add_argument("--model", type=Path, default=Path("models/safespace-minilm-int8"))
    parser.add_argument("--lexical", type=Path, default=Path("models/safespace-lexical"))
    parser.add_argument("--cli", type=Path, default=Path("target/release/safespace"))
    parser.add_argument("--max-fpr", type=float, default=0.03, help="the fused false-positive rate a ceiling may reach")
    parser.add_argument("--max-suite-fpr", nargs="*", default=["self_harm=0.01"], metavar="CATEGORY=SHARE",
                        help="per category, the share of the functional suite's negatives that the combiner alone may flag at peer_support (others: 0)")
    parser.add_argument("--alone", nargs="*", default=["self_harm", "harassment"], choices=CATEGORIES,
                        help="categories the tier may flag without rule evidence at peer_support (others: ceiling at most its threshold)")
    parser.add_argument("--beside", nargs="*", default=["harassment", "misinformation"], choices=CATEGORIES,
                        help="model tier: categories whose combiner weighs the lexical tier beside the model (others: weight 0)")
    parser.add_argument("--l2", type=float, default=1.0, help="L2 pull on the weights (in texts' worth of log-loss)")
    parser.add_argument("--min-kind", type=int, default=20, help="texts a context kind needs for a weight of its own")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    table = datasets_module.read_offensive(datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache), "excluded")
    y_all, known = datasets_module.labels(table)
    val = np.flatnonzero((table["split"].to_numpy() == "val") & known.any(1))
    sources = table["source"].to_numpy()[val]
    flags = TIERS[args.tier]["flags"](args)
    pooled = Inputs(cli_reports(args, [table["text"].iloc[i] for i in val], *flags), args.tier)
    cases = [json.loads(line) for line in (args.datasets / "functional/suite.jsonl").open()]
    suite = Inputs(cli_reports(args, [case["text"] for case in cases], *flags), args.tier)
    thresholds = {preset: np.array([suite_eval(args, preset, *flags)[c]["threshold"] for c in CATEGORIES]) for preset in PRESETS}
    peer_support = thresholds["peer_support"]
    hand = np.array(TIERS[args.tier]["hand_weights"])

    combiner = {"tier": args.tier, "categories": {}}
    max_suite_fpr = {c: 0.0 for c in CATEGORIES} | {c: float(v) for c, v in (item.split("=") for item in args.max_suite_fpr)}
    report = {"tier": args.tier, "texts": len(val), "max_fpr": args.max_fpr, "max_suite_fpr": max_suite_fpr,
              "l2": args.l2, "min_kind": args.min_kind,
              "thresholds": dict(zip(CATEGORIES, peer_support.tolist())), "categories": {}}
    for c, name in enumerate(CATEGORIES):
        rows = np.flatnonzero(known[val, c] > 0)
        y, t = y_all[val][rows, c], peer_support[c]
        counts = Counter(kind for i in rows for kind in pooled.kinds[i][c])
        kinds = sorted(k for k, n in counts.items() if n >= args.min_kind)
        beside = name in args.beside
        x, tiers = pooled.design(c, kinds, rows, beside), pooled.tiers(beside)
        # Every source weighs the same in the fit, as in training: the team's stance-matched
        # negatives count as much as a large public set.
        _, source_index, source_size = np.unique(sources[rows], return_inverse=True, return_counts=True)
        row_weight = 1.0 / source_size[source_index]
        folds = np.random.default_rng(args.seed).permutation(len(rows)) % FOLDS

        def out_of_fold_combined(x, tiers):
            out = np.zeros(len(rows))
            for f in range(FOLDS):
                train = folds != f
                out[~train] = combine(fit(x[train], y[train], row_weight[train], args.l2, tiers), x[~train])
            return out

        out_of_fold = out_of_fold_combined(x, tiers)
        w = fit(x, y, row_weight, args.l2, tiers)
        # w: bias, the tiers' weights (learned, then lexical where it stands beside), rules, damping, kinds
        bias, tier_weights, rules_weight, damping_weight, kind_weights = w[0], w[1:1 + tiers], w[1 + tiers], w[2 + tiers], w[3 + tiers:]
        r, p, d = pooled.rules[rows, c], pooled.p[rows, c], pooled.damping[rows, c]
        suite_x = suite.design(c, kinds, beside=beside)
        suite_negative = np.array([case[name] != 1 for case in cases])
        suite_combined = combine(w, suite_x)

        def suite_false_positives(ceiling, presets):
            """The suite's negatives for the category that the combiner alone flags under `presets`."""
            alone = [(ceiling * suite_combined >= thresholds[p][c]) & (suite.rules[:, c] < thresholds[p][c]) for p in presets]
            return int(np.sum(suite_negative & np.any(alone, axis=0)))

        grid = []
        for ceiling in CEILINGS if name in args.alone else CEILINGS[CEILINGS <= t]:
            flagged = np.maximum(r, ceiling * out_of_fold) >= t
            grid.append({"ceiling": float(ceiling), **rates(flagged, y),
                         "suite_false_positives": suite_false_positives(ceiling, ["peer_support"]),
                         "suite_false_positives_any_preset": suite_false_positives(ceiling, PRESETS)})
        suite_budget = int(max_suite_fpr[name] * suite_negative.sum())
        within = [g for g in grid if g["false_positive_rate"] <= args.max_fpr and g["suite_false_positives"] <= suite_budget]
        if not within:
            print(f"  warning: no ceiling meets the bounds; {name} takes the lowest, {grid[0]['ceiling']}")
            within = grid[:1]
        ceiling = max(g["ceiling"] for g in within)
        largest_logit = bias + tier_weights.sum() * np.log((1 - LOGIT_FLOOR) / LOGIT_FLOOR) + rules_weight
        if largest_logit > 15:
            print(f"  warning: {name}'s logit reaches {largest_logit:.1f} > 15; build/combiners.rs will refuse it")
        weights = {"bias": bias, "learned": tier_weights[0]}
        if pooled.q is not None:  # the model's combiner: the lexical tier's weight, 0 outside --beside
            weights["lexical"] = tier_weights[1] if tiers == 2 else 0.0
        weights |= {"rules": rules_weight, "damping": damping_weight}
        combiner["categories"][name] = {k: round(float(v), 5) for k, v in weights.items()} | {
            "contexts": {k: round(float(v), 5) for k, v in zip(kinds, kind_weights) if v < 0},
            "ceiling": ceiling,
        }

        scorers = {
            "rules": r, "tier": p, "hand fusion": np.maximum(r, hand[c] * p * d),
            "combined": out_of_fold, "learned fusion": np.maximum(r, ceiling * out_of_fold),
        }
        if pooled.q is not None:
            # What weighing the lexical tier beside the model (--beside) does, measured both ways.
            scorers["lexical"] = pooled.q[rows, c]
            other = "combined without lexical" if beside else "combined with lexical"
            scorers[other] = out_of_fold_combined(pooled.design(c, kinds, rows, not beside), pooled.tiers(not beside))
        suite_scorers = {
            "rules": suite.rules[:, c], "tier": suite.p[:, c],
            "hand fusion": np.maximum(suite.rules[:, c], hand[c] * suite.p[:, c] * suite.damping[:, c]),
            "learned fusion": np.maximum(suite.rules[:, c], ceiling * suite_combined),
        }
        suite_y = np.array([case[name] == 1 for case in cases])
        measured = {"n": int(len(rows)), "positives": int(y.sum()), "kind_counts": dict(sorted(counts.items())),
                    "suite_negatives": int(suite_negative.sum()), "suite_budget": suite_budget,
                    "grid": grid, "pooled_validation": {}, "functional_suite": {}}
        for label, score in scorers.items():
            measured["pooled_validation"][label] = {"roc_auc": round(float(roc_auc_score(y, score)), 4), **rates(score >= t, y)}
        for label, score in suite_scorers.items():
            flagged = score >= t
            measured["functional_suite"][label] = {"correct": int(np.sum(flagged == suite_y)), "cases": len(cases),
                                                   "false_positives": int(np.sum(flagged & ~suite_y)),
                                                   "missed": int(np.sum(~flagged & suite_y))}
        report["categories"][name] = measured
        print(f"{name}: n {len(rows)}, positives {int(y.sum())}, kinds with weights {kinds}")
        print(f"  weights {combiner['categories'][name]}")
        for g in grid:
            print(f"  ceiling {g['ceiling']:.2f}: recall {g['recall']:.4f}  FPR {g['false_positive_rate']:.4f}  "
                  f"suite false positives {g['suite_false_positives']} (any preset {g['suite_false_positives_any_preset']})")
        print(f"  chosen ceiling {ceiling} (suite budget {suite_budget} of {int(suite_negative.sum())} negatives)")
        for label, m in measured["pooled_validation"].items():
            s = measured["functional_suite"].get(label)
            suite_cell = f"; suite {s['correct']}/{s['cases']} (false positives {s['false_positives']}, missed {s['missed']})" if s else ""
            print(f"  {label:15s} ROC-AUC {m['roc_auc']:.4f}  recall {m['recall']:.4f}  FPR {m['false_positive_rate']:.4f}{suite_cell}")
    folder = args.model if args.tier == "model" else args.lexical
    (folder / "combiner.json").write_text(json.dumps(combiner, indent=2) + "\n")
    (folder / "fusion.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
