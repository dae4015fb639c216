"""The fast engine against the peers on leave-one-source-out splits, side by side in one run.

    cargo build --release -p safespace-cli
    cargo build --release --manifest-path benches/compare/rustrict-peer/Cargo.toml --target-dir target/rustrict-peer
    .venv/bin/python models/training/lexical.py loso --data ../shared/data   # one lexical tier per held-out source
    .venv/bin/python benches/compare/loso.py --data ../shared/data          # .venv: models/training/requirements.txt; [--categories ...]

For each category and each of its sources (models/training/data.py; the source's own rows, or its
dedicated test for SDCNL and RMHD), on all of the held-out source: the fast engine (rules + the
lexical tier trained and calibrated without that source, `--engine fast --lexical`), the rules alone
(the same reports' `engine.rules_scores`, what `--rules-only` was before the lexical tier), and for
harassment alt-profanity-check 1.9.1 (probabilities) and rustrict 0.7.39 (`is_inappropriate`, 0/1).
ROC-AUC where the test has both classes; where it has positives only, the share flagged at the
`peer_support` threshold (the peers: the share they flag). Prints a Markdown table and the macro
ROC-AUC per category and tool.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "models" / "training"))

import data as datasets_module  # noqa: E402
from data import CATEGORIES  # noqa: E402

PEER_SUPPORT = {"self_harm": 0.45, "harassment": 0.6, "misinformation": 0.6}


def fast_engine(cli: Path, tier: Path, texts: list[str]) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as f:
        f.writelines(json.dumps({"text": t}) + "\n" for t in texts)
        f.flush()
        out = subprocess.run([str(cli), "score", "--input", f.name, "--compact", "--engine", "fast", "--lexical", str(tier)],
                             capture_output=True, text=True, check=True).stdout
    return [json.loads(line)["report"] for line in out.splitlines()]


def rustrict(texts: list[str]) -> np.ndarray:
    binary = ROOT / "target/rustrict-peer/release/rustrict-peer"
    payload = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    out = subprocess.run([str(binary)], input=payload, capture_output=True, text=True, check=True).stdout
    return np.array([float(line) for line in out.splitlines()])


def cell(scores: np.ndarray, labels: np.ndarray, threshold: float) -> str:
    if len(np.unique(labels)) == 2:
        return f"{roc_auc_score(labels, scores):.3f}"
    return f"flags {np.mean(scores >= threshold):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    datasets_module.add_table_arguments(parser, ROOT)
    parser.add_argument("--cli", type=Path, default=ROOT / "target/release/safespace")
    parser.add_argument("--categories", nargs="+", choices=CATEGORIES, default=list(CATEGORIES), help="the categories to run")
    parser.add_argument("--tiers", type=Path, help="the per-source tiers (default: --cache/lexical-loso/tiers, "
                        "what `lexical.py loso` writes; lexical-loso-positive/tiers after `--offensive positive`)")
    args = parser.parse_args()

    from profanity_check import predict_prob

    table = datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache)
    tiers = args.tiers or args.cache / "lexical-loso" / "tiers"
    tools = ("fast engine", "rules alone", "alt-profanity-check", "rustrict")
    print("| held-out source | n (positives) | " + " | ".join(tools) + " |")
    print("|---|---|" + "---|" * len(tools))
    macro: dict[tuple[str, str], list[float]] = {}
    for category in args.categories:
        for source in [s for s, spec in datasets_module.SOURCES.items() if spec.category == category]:
            _, texts, labels = datasets_module.held_out_test(args.data, table, source, category)
            labels = np.asarray(labels, dtype=float)
            reports = fast_engine(args.cli, tiers / source, texts)
            scores = {
                "fast engine": np.array([r["scores"][category] for r in reports]),
                "rules alone": np.array([r["engine"]["rules_scores"][category] for r in reports]),
            }
            if category == "harassment":
                scores["alt-profanity-check"] = predict_prob(texts)
                scores["rustrict"] = rustrict(texts)
            threshold = PEER_SUPPORT[category]
            cells = []
            for tool in tools:
                if tool not in scores:
                    cells.append("")
                    continue
                text = cell(scores[tool], labels, threshold if tool != "alt-profanity-check" else 0.5)
                cells.append(text)
                if not text.startswith("flags"):
                    macro.setdefault((category, tool), []).append(float(text))
            print(f"| {category}/{source} | {len(labels):,} ({int(labels.sum()):,}) | " + " | ".join(cells) + " |", flush=True)
    print()
    for (category, tool), aucs in macro.items():
        print(f"macro ROC-AUC {category} {tool}: {np.mean(aucs):.3f} over {len(aucs)} sources")


if __name__ == "__main__":
    main()
