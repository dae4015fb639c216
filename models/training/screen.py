"""The cascade's screen thresholds, measured on pooled validation and written to the lexical tier's
screen.json, which the crate turns into `SCREEN` (crates/safespace/src/cascade.rs) at build time.

    cargo build --release -p safespace-cli
    .venv/bin/python models/training/screen.py --data ../shared/data [--keep 0.99]

The `auto` engine runs the fast engine (rules and lexical tier) on every text and the model only where
it could change the verdict (cascade.rs, `left_to_model`): per category the rules have not flagged,
where the fast engine flags it through the lexical tier, or, where the model could flag it on its own
under the policy (threshold below the ceiling of the model's combiner), where a rule found evidence
of it or the lexical tier's probability reaches the category's screen threshold. The validation
split of every source is scored twice by the release CLI: `--engine full` (the model on every text)
and `--engine fast` (the rules' scores, the lexical tier's and the fast engine's fused ones). For
each preset and each category the model could flag alone there, among the texts the full engine
flags in that category the script picks the highest threshold that still keeps at least --keep of
them, counting those the cascade keeps without a screen (the rules flag the category, or the text is
sent for rule evidence or a lexical flag). It prints, per preset, the share of the full engine's flags
kept and the share of texts sent to the model, and writes the table to the lexical tier's
screen.json; the next build of the crate embeds it.
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
    fast_scores = np.array([[r["scores"][c] for c in CATEGORIES] for r in fast])
    lexical = np.array([[r["engine"]["lexical_scores"][c] for c in CATEGORIES] for r in fast])
    rules = np.array([[r["engine"]["rules_scores"][c] for c in CATEGORIES] for r in fast])
    readable = np.array([bool(text.strip()) for text in texts])
    thresholds = {p: np.array([suite_eval(args, p, "--engine", "fast")[c]["threshold"] for c in CATEGORIES]) for p in PRESETS}

    combiner = json.loads((args.model / "combiner.json").read_text())["categories"]
    ceilings = np.array([combiner[c]["ceiling"] for c in CATEGORIES])
    rule_fires = (rules > 0).any(axis=1)
    report = {"texts": len(texts), "keep": args.keep, "rule_fires": round(float(rule_fires.mean()), 4), "presets": {}}
    print(f"{len(texts)} validation texts; a rule fires on {rule_fires.mean():.1%}")
    for preset in PRESETS:
        threshold = thresholds[preset]
        flags = fused >= threshold
        alone = threshold < ceilings  # the model could flag the category without rule evidence
        open_ = rules < threshold  # categories the rules have not flagged: the model's to decide

        def sent(screen: np.ndarray) -> np.ndarray:
            """cascade.rs's `screened_in` under this preset with per-category `screen` thresholds."""
            left = open_ & ((fast_scores >= threshold) | (alone & ((rules > 0) | (lexical >= screen))))
            return readable & left.any(axis=1)

        unscreened = sent(np.full(3, np.inf))
        screen = [None] * 3
        for c in np.flatnonzero(alone):
            flagged = flags[:, c]
            kept_anyway = unscreened | ~open_[:, c]
            needed = int(np.ceil(args.keep * flagged.sum())) - int((flagged & kept_anyway).sum())
            rest = np.sort(lexical[flagged & ~kept_anyway, c])[::-1]
            # The highest threshold (to 0.001, rounded down) that lets `needed` of the rest through.
            screen[c] = 1.0 if needed <= 0 else float(np.floor(rest[min(needed, len(rest)) - 1] * 1000) / 1000)
        to_model = sent(np.array([np.inf if s is None else s for s in screen]))
        kept_flags = to_model[:, None] | ~open_  # the model reads the text, or the rules flag the category
        kept = {c: round(float(kept_flags[flags[:, i], i].mean()), 4) if flags[:, i].any() else None for i, c in enumerate(CATEGORIES)}
        report["presets"][preset] = {"screen": dict(zip(CATEGORIES, screen)), "sent_to_model": round(float(to_model.mean()), 4),
                                     "full_engine_flags": {c: int(flags[:, i].sum()) for i, c in enumerate(CATEGORIES)},
                                     "kept": kept, "kept_all": round(float((kept_flags | ~flags).all(axis=1)[flags.any(axis=1)].mean()), 4)}
        print(f"  {preset}: screen {dict(zip(CATEGORIES, screen))}, sent to the model {to_model.mean():.1%}, "
              f"full-engine flags kept {kept}, all categories {report['presets'][preset]['kept_all']}")
    (args.lexical / "screen.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
