"""The cascade (`--engine auto`) against the full engine (`--engine full`) and the fast engine, side by
side in one run, on everyday traffic.

    cargo build --release -p safespace-cli
    .venv/bin/python benches/cascade.py --data ../shared/data [--texts 1000] [--threads 2]

Everyday traffic: texts of the public test split (data.py's 10 % hash split, never trained on, never
used to choose the screen) in the proportion 19 negatives to 1 positive, drawn with a fixed seed; a
second corpus holds only texts of 200–400 characters (mean near 280). Each engine scores each corpus
through the release CLI (`score --input`, `--threads`); the time of loading the detector (scoring
one empty text) is subtracted. Prints posts/s, the share of texts (and of their characters) the
cascade sent to the model, and the full engine's flags the cascade lost (a text the full engine flags
in a category that the cascade does not), under the default policy.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "models" / "training"))

import data as datasets_module  # noqa: E402

ENGINES = ("full", "auto", "fast")


def everyday(table, n: int, seed: int, lengths: tuple[int, int] | None = None):
    """`n` test-split texts, 19 negatives to 1 positive (by the label of each source's category)."""
    test = table[(table["split"] == "test") & (table["source"] != "team")].copy()
    if lengths:
        test = test[test["text"].str.len().between(*lengths)]
    category = datasets_module.main_category(test)
    label = np.array([row[c] for (_, row), c in zip(test.iterrows(), category)])
    rng = np.random.default_rng(seed)
    positives = np.flatnonzero(label == 1)
    negatives = np.flatnonzero(label == 0)
    n_pos = max(1, n // 20)
    rows = np.concatenate([rng.choice(positives, n_pos, replace=False), rng.choice(negatives, n - n_pos, replace=False)])
    rng.shuffle(rows)
    return list(test["text"].iloc[rows])


def run(cli: Path, texts: list[str], engine: str, threads: int) -> tuple[list[dict], float]:
    """Reports and seconds of scoring `texts`, less the detector's start-up."""
    def timed(batch: list[str]) -> tuple[list[dict], float]:
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as f:
            f.writelines(json.dumps({"text": t}) + "\n" for t in batch)
            f.flush()
            start = time.perf_counter()
            out = subprocess.run([str(cli), "score", "--input", f.name, "--compact", "--engine", engine,
                                  "--threads", str(threads)], capture_output=True, text=True, check=True).stdout
            return [json.loads(line)["report"] for line in out.splitlines()], time.perf_counter() - start

    _, startup = timed([""])
    reports, seconds = timed(texts)
    return reports, max(seconds - startup, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    datasets_module.add_table_arguments(parser, ROOT)
    parser.add_argument("--cli", type=Path, default=ROOT / "target/release/safespace")
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    table = datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache)
    corpora = {"everyday": everyday(table, args.texts, args.seed), "everyday, 200-400 chars": everyday(table, args.texts, args.seed, (200, 400))}
    print(f"machine: {platform.processor() or platform.machine()}, {args.threads} threads; default policy (peer_support)")
    for name, texts in corpora.items():
        print(f"\n{name}: {len(texts)} texts, mean {np.mean([len(t) for t in texts]):.0f} characters")
        results = {engine: run(args.cli, texts, engine, args.threads) for engine in ENGINES}
        full_flags = [set(r["flagged"]) for r in results["full"][0]]
        chars = np.array([len(t) for t in texts])
        for engine in ENGINES:
            reports, seconds = results[engine]
            flags = [set(r["flagged"]) for r in reports]
            lost = sum(len(f - g) for f, g in zip(full_flags, flags))
            total = sum(len(f) for f in full_flags)
            read = np.array(["model" in r["engine"]["tiers"] for r in reports])
            print(f"  {engine:5s}: {len(texts) / seconds:8.1f} posts/s  sent to the model {read.mean():6.1%} "
                  f"({chars[read].sum() / chars.sum():6.1%} of characters)  full-engine flags lost {lost}/{total}")
        ratio = results["full"][1] / results["auto"][1]
        print(f"  auto / full posts/s: {ratio:.2f}x")


if __name__ == "__main__":
    main()
