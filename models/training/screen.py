"""The cascade's screen thresholds, measured on pooled validation and written to the lexical tier's
screen.json, which the crate turns into `SCREEN` (crates/safespace/src/cascade.rs) at build time.

    cargo build --release -p safespace-cli
    .venv/bin/python models/training/screen.py --data ../shared/data [--keep 0.99]

The `auto` engine runs the fast engine (rules and lexical tier) on every text and the model only on
texts where a rule found evidence or, in a category the model could flag on its own under the
policy, the lexical tier's probability reaches the category's screen threshold. The validation split
of every source is scored twice by the release CLI: `--engine full` (the model on every text) and
`--engine fast` (the rules' and the lexical tier's own scores). For each preset and each category the
model could flag alone there (threshold below the ceiling of the model's combiner), among the texts the
full engine flags in that category the script picks the highest threshold that still sends at least
--keep of them to the model, counting those a rule already sends. It prints, per preset, the share of
the full engine's flags kept and the share of texts sent to the model, and writes the table to the
lexical tier's screen.json; the next build of the crate embeds it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import data as datasets_module
from data import CATEGORIES
from evaluate import PRESETS, cli_reports, suite_eval


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--datasets", type=Path, default=Path("datasets"))
    parser.add_argument("--cache", type=Path, default=Path("models/training/.cache"))
    parser.add_argument("--cli", type=Path, default=Path("target/release/safespace"))
    parser.add_argument("--lexical", type=Path, default=Path("models/safespace-lexical"))
    parser.add_argument("--model", type=Path, default=Path("models/safespace-minilm-int8"), help="the model's folder (its combiner.json)")
    parser.add_argument("--keep", type=float, default=0.99, help="share of the full engine's flags the screen must keep")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    table = datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache)
    val = table[table["split"] == "val"]
    texts = list(val["text"])
    full = cli_reports(args, texts, "--engine", "full", "--require-model")
    fast = cli_reports(args, texts, "--engine", "fast")
    fused = np.array([[r["scores"][c] for c in CATEGORIES] for r in full])
    lexical = np.array([[r["engine"]["lexical_scores"][c] for c in CATEGORIES] for r in fast])
    rule_fires = np.array([max(r["engine"]["rules_scores"].values()) > 0 for r in fast])
    thresholds = {p: np.array([suite_eval(args, p, "--engine", "fast")[c]["threshold"] for c in CATEGORIES]) for p in PRESETS}

    combiner = json.loads((args.model / "combiner.json").read_text())["categories"]
    ceilings = np.array([combiner[c]["ceiling"] for c in CATEGORIES])
    report = {"texts": len(texts), "keep": args.keep, "rule_fires": round(float(rule_fires.mean()), 4), "presets": {}}
    print(f"{len(texts)} validation texts; a rule fires on {rule_fires.mean():.1%}")
    for preset in PRESETS:
        flags = fused >= thresholds[preset]
        screen = [None] * 3
        for c in range(3):
            if thresholds[preset][c] >= ceilings[c]:
                continue  # the model cannot flag this category alone: rule evidence sends its flags
            flagged = flags[:, c]
            needed = int(np.ceil(args.keep * flagged.sum())) - int((flagged & rule_fires).sum())
            rest = np.sort(lexical[flagged & ~rule_fires, c])[::-1]
            # The highest threshold (to 0.001, rounded down) that lets `needed` of the rest through.
            screen[c] = 1.0 if needed <= 0 else float(np.floor(rest[min(needed, len(rest)) - 1] * 1000) / 1000)
        sent = rule_fires | np.any([lexical[:, c] >= s for c, s in enumerate(screen) if s is not None] or [np.zeros(len(texts), bool)], axis=0)
        kept = {c: round(float(sent[flags[:, i]].mean()), 4) if flags[:, i].any() else None for i, c in enumerate(CATEGORIES)}
        report["presets"][preset] = {"screen": dict(zip(CATEGORIES, screen)), "sent_to_model": round(float(sent.mean()), 4),
                                     "full_engine_flags": {c: int(flags[:, i].sum()) for i, c in enumerate(CATEGORIES)},
                                     "kept": kept, "kept_all": round(float(sent[flags.any(axis=1)].mean()), 4)}
        print(f"  {preset}: screen {dict(zip(CATEGORIES, screen))}, sent to the model {sent.mean():.1%}, "
              f"full-engine flags kept {kept}, all categories {report['presets'][preset]['kept_all']}")
    (args.lexical / "screen.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
