"""Python wheel vs the Rust CLI on the same 10,000 posts, and alt-profanity-check for harassment.

    make python-bench        # builds the CLI and the wheel into target/pyenv, then runs this script

Posts are built deterministically from the functional suite (2-5 sentences each, ~100-300 characters).
Each engine is timed end to end, as a user would run it: the CLI process (start-up, model load,
reading JSONL, writing JSONL) and, in Python, building a `Detector` and `score_batch` (also `scores`).
alt-profanity-check is the common Python baseline for abusive language (a linear model over words);
its harassment F1 on the functional suite is printed beside safespace's.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import tempfile
import time
from pathlib import Path

import safespace

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "datasets/functional/suite.jsonl"


def build_posts(n: int, seed: int = 7) -> list[str]:
    sentences = [json.loads(line)["text"] for line in SUITE.open()]
    rng = random.Random(seed)
    return [" ".join(rng.sample(sentences, rng.randint(2, 5))) for _ in range(n)]


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", type=Path, default=ROOT / "target/release/safespace")
    parser.add_argument("-n", type=int, default=10_000)
    args = parser.parse_args()
    posts = build_posts(args.n)
    mean_chars = sum(map(len, posts)) / len(posts)
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"{args.n} posts, mean {mean_chars:.0f} characters")
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.writelines(json.dumps({"text": p}) + "\n" for p in posts)
    rows = []
    for mode, rules_only in (("rules only", True), ("model+rules", False)):
        flags = ["--rules-only"] if rules_only else []
        cli = timed(lambda: subprocess.run(
            [str(args.cli), "score", "--input", f.name, "--compact", *flags],
            stdout=subprocess.DEVNULL, check=True,
        ))
        py_batch = timed(lambda: safespace.Detector(rules_only=rules_only, require_model=not rules_only).score_batch(posts))
        py_scores = timed(lambda: safespace.Detector(rules_only=rules_only, require_model=not rules_only).scores(posts))
        rows.append((mode, args.n / cli, args.n / py_batch, args.n / py_scores))
    print("\n| engine | CLI posts/s | Python score_batch posts/s | ratio | Python scores posts/s | ratio |")
    print("|---|---|---|---|---|---|")
    for mode, cli, batch, scores in rows:
        print(f"| {mode} | {cli:,.0f} | {batch:,.0f} | {batch / cli:.2f} | {scores:,.0f} | {scores / cli:.2f} |")
    harassment_baseline(posts)


def harassment_baseline(posts: list[str]) -> None:
    from profanity_check import predict_prob

    seconds = timed(lambda: predict_prob(posts))
    cases = [json.loads(line) for line in SUITE.open()]
    texts, truth = [c["text"] for c in cases], [c["harassment"] == 1 for c in cases]

    def f1(predicted: list[bool]) -> float:
        tp = sum(p and t for p, t in zip(predicted, truth))
        fp = sum(p and not t for p, t in zip(predicted, truth))
        fn = sum(t and not p for p, t in zip(predicted, truth))
        return 2 * tp / max(1, 2 * tp + fp + fn)

    print("\n| harassment path | posts/s | F1 on the functional suite |")
    print("|---|---|---|")
    print(f"| alt-profanity-check (predict_prob ≥ 0.5) | {len(posts) / seconds:,.0f} | "
          f"{f1([p >= 0.5 for p in predict_prob(texts)]):.3f} |")
    for name, rules_only in (("safespace rules only", True), ("safespace model+rules", False)):
        detector = safespace.Detector(rules_only=rules_only, require_model=not rules_only)
        seconds = timed(lambda: detector.scores(posts))
        flagged = [r.is_flagged("harassment") for r in detector.score_batch(texts)]
        print(f"| {name} | {len(posts) / seconds:,.0f} | {f1(flagged):.3f} |")


if __name__ == "__main__":
    main()
