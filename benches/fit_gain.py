"""What `safespace fit` gains a community, measured on public sets the tier never saw.

    cargo build --release -p safespace-cli
    .venv/bin/python models/training/lexical.py loso --data ../shared/data   # tiers trained without each source
    .venv/bin/python benches/fit_gain.py --data ../shared/data [--sources conda formspring ...]

For each source: its labeled rows (its category only) become a community's file; `safespace fit`
starts from the lexical tier trained without that source (`--base`, from `lexical.py loso`), fits on
every other record and holds out the rest (`--holdout 0.5`), and reports the fast engine's ROC-AUC
and F1 on the held-out half before and after. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "models" / "training"))

import data as datasets_module  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    datasets_module.add_table_arguments(parser, ROOT)
    parser.add_argument("--cli", type=Path, default=ROOT / "target/release/safespace")
    parser.add_argument("--sources", nargs="+", default=["conda", "formspring", "olid", "edos", "rmhd", "constraint"])
    args = parser.parse_args()

    table = datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache)
    print("| source (category) | records fitted / held out | ROC-AUC before → after | F1 before → after | fit time |")
    print("|---|---|---|---|---|")
    for source in args.sources:
        category = datasets_module.SOURCES[source].category
        _, texts, labels = datasets_module.held_out_test(args.data, table, source, category)
        with tempfile.TemporaryDirectory() as work:
            records = Path(work) / f"{source}.jsonl"
            with records.open("w") as f:
                f.writelines(json.dumps({"text": t, category: int(l)}) + "\n" for t, l in zip(texts, labels))
            out = Path(work) / "tier"
            base = args.cache / "lexical-loso" / "tiers" / source
            start = time.perf_counter()
            subprocess.run([str(args.cli), "fit", "--input", str(records), "--out", str(out), "--base", str(base),
                            "--label-columns", category, "--holdout", "0.5"], check=True, capture_output=True)
            seconds = time.perf_counter() - start
            manifest = json.loads((out / "manifest.json").read_text())
        m = manifest["holdout"]["categories"][category]
        before, after = m["before"], m["after"]
        print(f"| {source} ({category}) | {manifest['trained_on']['records']:,} / {manifest['holdout']['records']:,} | "
              f"{before['roc_auc']:.3f} → {after['roc_auc']:.3f} | {before['f1']:.3f} → {after['f1']:.3f} | {seconds:.1f} s |",
              flush=True)


if __name__ == "__main__":
    main()
