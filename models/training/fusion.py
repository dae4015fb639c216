"""The weights of a learned tier in fusion (`MODEL_WEIGHT` and `LEXICAL_WEIGHT` in
crates/safespace/src/fusion.rs), measured on pooled validation.

    cargo build --release -p safespace-cli
    .venv/bin/python models/training/fusion.py --data ../shared/data --tier model    # the full engine
    .venv/bin/python models/training/fusion.py --data ../shared/data --tier lexical  # the fast engine

The validation split of every source (data.py's hash split; never trained on, never read when writing
rules) and the functional suite are scored by the release CLI with the tier's engine (`--engine full
--require-model` for the model, `--engine fast` for the lexical tier), whose reports carry the rules'
scores and the tier's calibrated probabilities (`engine.rules_scores`, `engine.<tier>_scores`). The
engine scores `max(rules, weight × learned)` (context damping only lowers the learned tier further), so
for each category and each weight on a grid the script prints the fused recall and false-positive
rate at the `peer_support` threshold, pooled over sources, and how many of the functional suite's
cases that are negative for the category the tier would flag on its own. It picks the largest weight
whose pooled false-positive rate stays at or under --max-fpr and that flags none of the suite's
negatives (`crates/safespace/tests/functional.rs` holds the engines to the rules' result there); on
the suite, context damping counts too: the tier × damping of a text is its fused score divided by
the weight the CLI was built with, where that score is above the rules'. The thresholds are the
policy's, read through the CLI. The table and the choice go to fusion.json in the tier's folder.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import data as datasets_module
from data import CATEGORIES
from evaluate import cli_reports, suite_eval

FUSION_RS = Path(__file__).resolve().parents[2] / "crates/safespace/src/fusion.rs"
WEIGHTS = np.round(np.arange(0.3, 1.001, 0.05), 2)


TIERS = {
    "model": {"constant": "MODEL_WEIGHT", "flags": lambda args: ["--model", str(args.model), "--require-model"]},
    "lexical": {"constant": "LEXICAL_WEIGHT", "flags": lambda args: ["--engine", "fast"]},
}


def built_weights(tier: str) -> np.ndarray:
    """The tier's weights as written in fusion.rs (the weights the release CLI was built with)."""
    constant = f"pub(crate) const {TIERS[tier]['constant']}"
    line = next(l for l in FUSION_RS.read_text().splitlines() if l.startswith(constant))
    return np.array([float(x) for x in line.split("[")[2].split("]")[0].split(",")])


def scored(args, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per text and category: the rules' score, the tier's calibrated probability, and the tier's
    probability times the context damping the engine applied (0 where the rules' score was at least
    as high)."""
    reports = cli_reports(args, texts, *TIERS[args.tier]["flags"](args))
    def table(key):
        return np.array([[r[key][c] if key == "scores" else r["engine"][key][c] for c in CATEGORIES] for r in reports])
    fused, rules, learned = table("scores"), table("rules_scores"), table(f"{args.tier}_scores")
    return rules, learned, np.where(fused > rules, fused / built_weights(args.tier), 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--cache", type=Path, default=Path("models/training/.cache"))
    parser.add_argument("--tier", choices=sorted(TIERS), default="model", help="the learned tier whose weights to measure")
    parser.add_argument("--model", type=Path, default=Path("models/safespace-minilm-int8"))
    parser.add_argument("--lexical", type=Path, default=Path("models/safespace-lexical"), help="the lexical tier's folder (fusion.json goes there)")
    parser.add_argument("--cli", type=Path, default=Path("target/release/safespace"))
    parser.add_argument("--max-fpr", type=float, default=0.03, help="the fused false-positive rate a weight may reach")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    table = datasets_module.read_offensive(datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache), "excluded")
    y, known = datasets_module.labels(table)
    val = np.flatnonzero((table["split"].to_numpy() == "val") & known.any(1))
    texts = [table["text"].iloc[i] for i in val]
    rules, learned, _ = scored(args, texts)
    cases = [json.loads(line) for line in (args.datasets / "functional/suite.jsonl").open()]
    _, _, suite = scored(args, [case["text"] for case in cases])
    thresholds = suite_eval(args, "peer_support", "--engine", "fast")
    peer_support = np.array([thresholds[c]["threshold"] for c in CATEGORIES])

    report = {"tier": args.tier, "texts": len(val), "max_fpr": args.max_fpr, "thresholds": dict(zip(CATEGORIES, peer_support.tolist())), "categories": {}}
    for c, name in enumerate(CATEGORIES):
        rows = known[val, c] > 0
        labels, r, m = y[val][rows, c], rules[rows, c], learned[rows, c]
        flagged_rules = r >= peer_support[c]
        grid = []
        for w in WEIGHTS:
            flagged = np.maximum(r, w * m) >= peer_support[c]
            suite_fp = sum(1 for case, md in zip(cases, suite[:, c]) if case[name] != 1 and w * md >= peer_support[c])
            grid.append({"weight": float(w), "recall": round(float(flagged[labels == 1].mean()), 4),
                         "false_positive_rate": round(float(flagged[labels == 0].mean()), 4),
                         "suite_false_positives": suite_fp})
        within = [g for g in grid if g["false_positive_rate"] <= args.max_fpr and g["suite_false_positives"] == 0]
        chosen = max(within, key=lambda g: g["weight"]) if within else None
        report["categories"][name] = {
            "n": int(rows.sum()), "positives": int(labels.sum()),
            "rules": {"recall": round(float(flagged_rules[labels == 1].mean()), 4),
                      "false_positive_rate": round(float(flagged_rules[labels == 0].mean()), 4)},
            "grid": grid, "chosen": chosen,
        }
        print(f"{name}: n {rows.sum()}, rules alone recall {report['categories'][name]['rules']['recall']}, "
              f"FPR {report['categories'][name]['rules']['false_positive_rate']}")
        for g in grid:
            print(f"  weight {g['weight']:.2f}: recall {g['recall']:.4f}  FPR {g['false_positive_rate']:.4f}  "
                  f"suite false positives {g['suite_false_positives']}")
        print(f"  chosen: {chosen}")
    folder = args.model if args.tier == "model" else args.lexical
    (folder / "fusion.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
